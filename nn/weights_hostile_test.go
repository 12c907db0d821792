package nn

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/gitcap/gitcap/tensor/safetensors"
)

func oneTensorFile(t *testing.T) *safetensors.File {
	t.Helper()
	a, _ := safetensors.FromFloat32s("enc.w", safetensors.F32, []int64{2, 3}, make([]float32, 6))
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, []safetensors.Tensor{a}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse("m.safetensors", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A missing or misshapen tensor is an error, not a zero tensor of the size
// the (possibly hostile) config asks for: sizes that overflow int used to
// panic inside tensor.Zeros, and large ones to allocate gigabytes.
func TestWeightsMissingTensorAllocatesNothing(t *testing.T) {
	f := oneTensorFile(t)
	w := NewWeights(f, "m.safetensors").Push("enc")
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Get panicked: %v", r)
			}
		}()
		w.Get("huge", 1<<40, 1<<40) // overflows int
	}()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	l := LoadLinear(w.Push("big"), 4096, 4096, true) // 64 MiB of zeros before
	w.Get("w", 4096, 4096)                           // present, with another shape
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("loading missing tensors allocated %d bytes", grew)
	}
	if l.Weight.Rank() != 2 || l.Weight.Numel() != 0 {
		t.Errorf("placeholder weight has shape %v", l.Weight.Shape())
	}
	err := w.Err()
	if err == nil {
		t.Fatal("no error for missing tensors")
	}
	for _, want := range []string{"m.safetensors", `"enc.huge"`, `"enc.big.weight"`, `"enc.big.bias"`, `"enc.w" has shape [2 3], want [4096 4096]`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %s: %v", want, err)
		}
	}
}

// Only the first few problems are kept; the rest are counted, so a config
// asking for a million layers does not pile up a million messages.
func TestWeightsErrorsAreBounded(t *testing.T) {
	w := NewWeights(oneTensorFile(t), "m.safetensors")
	const n = 100000
	for i := 0; i < n; i++ {
		w.Pushf("layer.%d", i).Get("weight", 3)
	}
	if len(w.st.errs) > errShow {
		t.Errorf("%d errors kept", len(w.st.errs))
	}
	msg := w.Err().Error()
	if !strings.Contains(msg, `"layer.0.weight"`) || !strings.Contains(msg, fmt.Sprintf("… and %d more", n-errShow)) {
		t.Errorf("error: %s", msg)
	}
	if strings.Count(msg, "\n") != errShow {
		t.Errorf("want %d lines: %s", errShow+1, msg)
	}
}
