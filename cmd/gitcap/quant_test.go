package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gitcap quantize writes a folder that infer loads without quantizing again,
// giving exactly what --bits gives at load; --bits 16 keeps HF's greedy ids.
func TestQuantizeCommand(t *testing.T) {
	model, images := filepath.Join(tinyCLI, "model"), filepath.Join(tinyCLI, "images")
	for _, bits := range []string{"16", "8", "4"} {
		out := filepath.Join(t.TempDir(), "q"+bits)
		if _, errs, code := gitcap(t, "quantize", "--model_path", model, "--bits", bits, "--output_dir", out); code != 0 {
			t.Fatalf("quantize %s: %s", bits, errs)
		}
		st, _ := os.Stat(filepath.Join(out, "model.safetensors"))
		orig, _ := os.Stat(filepath.Join(model, "model.safetensors"))
		if st == nil || st.Size() >= orig.Size() {
			t.Errorf("%s bits: %v bytes, F32 %d", bits, st, orig.Size())
		}
		a, errs, code := gitcap(t, "infer", "--model_path", out, "--input_path", images)
		if code != 0 {
			t.Fatal(errs)
		}
		b, errs, code := gitcap(t, "infer", "--model_path", model, "--bits", bits, "--input_path", images)
		if code != 0 {
			t.Fatal(errs)
		}
		if a != b {
			t.Errorf("%s bits: quantized folder and --bits differ:\n%s\n%s", bits, a, b)
		}
		if bits == "16" { // F16 weights: same ids and captions, scores within 1e-3
			want, _ := os.ReadFile(filepath.Join(tinyCLI, "expected", "infer_greedy.jsonl"))
			w, g := readJSONL(t, string(want)), readJSONL(t, a)
			for i := range w {
				if g[i].Caption != w[i].Caption || !equalInts(g[i].TokenIDs, w[i].TokenIDs) || math.Abs(g[i].Score-w[i].Score) > 1e-3 {
					t.Errorf("F16: %+v, want %+v", g[i], w[i])
				}
			}
		}
	}
	if _, errs, code := gitcap(t, "infer", "--model_path", model, "--bits", "5", "--input_path", images); code == 0 || !strings.Contains(errs, "--bits") {
		t.Errorf("--bits 5 accepted: %s", errs)
	}
}

// --lora_bits 4 trains adapters on an NF4 base: the loss falls.
func TestTrainLoraBits(t *testing.T) {
	out := filepath.Join(t.TempDir(), "o")
	_, errs, code := gitcap(t, "train", "--model_id", filepath.Join(tinyCLI, "model"), "--dataset", filepath.Join(tinyCLI, "images"),
		"--output_dir", out, "--epochs", "8", "--batch_size", "4", "--learning_rate", "1e-2", "--target_modules", "query,value",
		"--lora_bits", "4", "--dropout", "0", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "NF4") {
		t.Errorf("no note about the NF4 base: %s", errs)
	}
	data, _ := os.ReadFile(filepath.Join(out, "logs", "train.jsonl"))
	var first, last float64
	for i, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var v float64
		if j := strings.Index(l, `"loss":`); j >= 0 {
			rest := l[j+7:]
			end := strings.IndexAny(rest, ",}")
			v = parseFloat(t, rest[:end])
		}
		if i == 0 {
			first = v
		}
		last = v
	}
	if !(last < 0.98*first) {
		t.Errorf("loss %v → %v on an NF4 base", first, last)
	}
}

func parseFloat(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		t.Fatalf("bad number %q", s)
	}
	return v
}
