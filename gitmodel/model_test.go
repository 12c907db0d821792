package gitmodel

import (
	"fmt"
	"math"
	"testing"

	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/tensor/safetensors"
)

// golden opens testdata/tiny/cases.safetensors (HF transformers 4.36.2 outputs).
func golden(t *testing.T) *safetensors.File {
	t.Helper()
	f, err := safetensors.Open("testdata/tiny/cases.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func goldenF32(t *testing.T, f *safetensors.File, name string) []float32 {
	t.Helper()
	x, err := f.Float32s(name)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func goldenInts(t *testing.T, f *safetensors.File, name string) []int {
	t.Helper()
	x, err := f.Int64s(name)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int, len(x))
	for i, v := range x {
		out[i] = int(v)
	}
	return out
}

// closeTo fails unless |got-want| ≤ atol + rtol·|want| everywhere; it prints
// the first values side by side and the worst difference (llm.c's check_tensor).
func closeTo(t *testing.T, what string, got, want []float32, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst, at, bad := 0.0, 0, 0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if !(d <= atol+rtol*math.Abs(float64(want[i]))) {
			bad++
		}
		if d > worst || d != d {
			worst, at = d, i
		}
	}
	if bad > 0 {
		show := ""
		for i := 0; i < min(5, len(got)); i++ {
			show += fmt.Sprintf(" %g/%g", got[i], want[i])
		}
		t.Errorf("%s: %d of %d values off; worst |diff| %.3g at %d (%g vs %g); first got/want:%s",
			what, bad, len(got), worst, at, got[at], want[at], show)
	} else {
		t.Logf("%s: max |diff| %.3g", what, worst)
	}
}

func loadTiny(t *testing.T, pool *kernels.Pool) *Model {
	t.Helper()
	m, err := Load("testdata/tiny")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if len(m.Warnings) != 0 {
		t.Errorf("unexpected warnings: %v", m.Warnings)
	}
	m.Pool = pool
	return m
}

// The tiny model's forward pass against every stored activation.
func TestForwardMatchesHF(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	for _, p := range []*kernels.Pool{nil, pool} {
		m := loadTiny(t, p)
		g := golden(t)
		in := Batch{
			Pixels: goldenF32(t, g, "inputs.pixel_values"), B: 2, T: 7,
			IDs:    goldenInts(t, g, "inputs.input_ids"),
			Mask:   goldenInts(t, g, "inputs.attention_mask"),
			Labels: goldenInts(t, g, "inputs.labels"),
		}
		o, err := m.ForwardTrace(in)
		if err != nil {
			t.Fatal(err)
		}
		const tol = 1e-4
		for k, h := range o.VisionHidden {
			closeTo(t, fmt.Sprintf("vision_hidden_states.%d", k), h, goldenF32(t, g, fmt.Sprintf("out.vision_hidden_states.%d", k)), tol, tol)
		}
		closeTo(t, "vision_last_hidden_state", o.VisionLast, goldenF32(t, g, "out.vision_last_hidden_state"), tol, tol)
		closeTo(t, "visual_projection", o.ImageTokens, goldenF32(t, g, "out.visual_projection"), tol, tol)
		closeTo(t, "text_embeddings", o.TextEmbedding, goldenF32(t, g, "out.text_embeddings"), tol, tol)
		closeTo(t, "decoder_last_hidden_state", o.Hidden, goldenF32(t, g, "out.decoder_last_hidden_state"), tol, tol)
		closeTo(t, "logits", o.Logits, goldenF32(t, g, "out.logits"), tol, tol)
		want := float64(goldenF32(t, g, "out.loss")[0])
		if math.Abs(o.Loss-want) > 1e-5 || o.NumTargets != 9 {
			t.Errorf("loss %.9f over %d targets, want %.9f over 9", o.Loss, o.NumTargets, want)
		}
	}
}

func TestBadBatch(t *testing.T) {
	m := loadTiny(t, nil)
	g := golden(t)
	px := goldenF32(t, g, "inputs.pixel_values")
	for _, in := range []Batch{
		{Pixels: px[:10], B: 2, T: 1, IDs: []int{1, 2}},
		{Pixels: px, B: 2, T: 1, IDs: []int{1, 500}},
		{Pixels: px, B: 2, T: 1, IDs: []int{1, 2}, Labels: []int{1}},
	} {
		if _, err := m.Forward(in); err == nil {
			t.Errorf("batch %+v accepted", in.IDs)
		}
	}
}

// F16 and BF16 checkpoints load (upcast) and give logits close to F32's.
func TestHalfPrecisionCheckpoints(t *testing.T) {
	m := loadTiny(t, nil)
	g := golden(t)
	in := Batch{Pixels: goldenF32(t, g, "inputs.pixel_values"), B: 2, T: 7,
		IDs: goldenInts(t, g, "inputs.input_ids"), Mask: goldenInts(t, g, "inputs.attention_mask")}
	for _, dt := range []safetensors.DType{safetensors.F16, safetensors.BF16} {
		var ts []safetensors.Tensor
		for _, p := range m.Params {
			shape := make([]int64, p.Tensor.Rank())
			for i, d := range p.Tensor.Shape() {
				shape[i] = int64(d)
			}
			st, err := safetensors.FromFloat32s(p.Name, dt, shape, p.Tensor.Data())
			if err != nil {
				t.Fatal(err)
			}
			ts = append(ts, st)
		}
		dir := t.TempDir()
		if err := safetensors.WriteFile(dir+"/model.safetensors", ts, map[string]string{"format": "pt"}); err != nil {
			t.Fatal(err)
		}
		cfg := m.Config
		if err := cfg.Save(dir + "/config.json"); err != nil {
			t.Fatal(err)
		}
		h, err := Load(dir)
		if err != nil {
			t.Fatalf("%v: %v", dt, err)
		}
		o, err := h.Forward(in)
		if err != nil {
			t.Fatal(err)
		}
		// rounding the weights to 11 (F16) or 8 (BF16) significant bits moves
		// logits of magnitude ~7 by a few 1e-3 (F16) to a few 1e-2 (BF16)
		tol := map[safetensors.DType]float64{safetensors.F16: 2e-2, safetensors.BF16: 2e-1}[dt]
		closeTo(t, dt.String()+" logits", o.Logits, goldenF32(t, g, "out.logits"), tol, 0)
		h.Close()
	}
}
