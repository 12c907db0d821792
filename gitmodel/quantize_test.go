package gitmodel

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/tensor"
	"github.com/gitcap/gitcap/tensor/safetensors"
)

// The tiny golden with quantized base weights (default skip list), against
// the F32 reference, relative to max|logit|: F16 within 1e-3 with greedy ids
// identical, BF16 and Q8 within 1e-2. NF4's bound is its measured 0.16 with
// margin, not issue 6's proposed 5e-2: NF4 rounds each weight to one of 16
// levels (≈12% RMS of its magnitude, TestQuantRoundTrip), which this
// random-weight model turns into 16% at the logits; Q8's greedy ids differ at
// a step whose top-2 logit gap is 0.013 (0.19% of max|logit|), below Q8's
// noise. A quantized checkpoint reloads to bit-identical logits.
func TestQuantizedTinyGolden(t *testing.T) {
	g := golden(t)
	ref := goldenF32(t, g, "out.logits")
	var maxAbs float64
	for _, v := range ref {
		maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
	}
	greedy := rowsOf(goldenInts(t, g, "gen.greedy.sequences"), 20)
	px := goldenF32(t, g, "inputs.pixel_values")
	for _, c := range []struct {
		f     kernels.QFormat
		bound float64
		ids   bool
	}{{kernels.QF16, 1e-3, true}, {kernels.QBF16, 1e-2, false}, {kernels.Q8, 1e-2, false}, {kernels.NF4, 0.2, false}} {
		t.Run(c.f.String(), func(t *testing.T) {
			m := loadTiny(t, nil)
			rep := m.Quantize(QuantizeOptions{Format: c.f})
			if rep.Layers != 25 || rep.BytesAfter >= rep.BytesBefore { // 26 Linears, projection kept
				t.Errorf("report %+v", rep)
			}
			o, err := m.Forward(tinyBatch(t))
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i := range ref {
				worst = math.Max(worst, math.Abs(float64(o.Logits[i]-ref[i])))
			}
			t.Logf("%v: max |logit - F32 ref| / max|logit| = %.4f (bound %g)", c.f, worst/maxAbs, c.bound)
			if worst/maxAbs > c.bound {
				t.Errorf("logit error %.4f of max|logit| > %g", worst/maxAbs, c.bound)
			}
			caps, err := m.Generate(px, 2, DefaultGenerateConfig())
			if err != nil {
				t.Fatal(err)
			}
			same := true
			for b := 0; b < 2; b++ {
				same = same && fmt.Sprint(caps[b][0].IDs) == fmt.Sprint(trimPad(greedy[b]))
			}
			t.Logf("%v: greedy ids identical: %v", c.f, same)
			if c.ids && !same {
				t.Errorf("greedy ids changed: %v", caps)
			}
			// save the quantized model and load it back: identical logits
			dir := t.TempDir()
			cfg := m.Config
			if err := cfg.Save(filepath.Join(dir, "config.json")); err != nil {
				t.Fatal(err)
			}
			if err := m.SaveWeights(filepath.Join(dir, "model.safetensors")); err != nil {
				t.Fatal(err)
			}
			back, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer back.Close()
			if len(back.Warnings) != 0 {
				t.Errorf("warnings: %v", back.Warnings)
			}
			o2, _ := back.Forward(tinyBatch(t))
			for i := range o.Logits {
				if o.Logits[i] != o2.Logits[i] {
					t.Fatalf("reloaded quantized model differs at %d: %v vs %v", i, o2.Logits[i], o.Logits[i])
				}
			}
			f, _ := safetensors.Open(filepath.Join(dir, "model.safetensors"))
			defer f.Close()
			if f.Metadata()["gitcap.quantized.output.weight"] == "" {
				t.Errorf("metadata %v", f.Metadata())
			}
		})
	}
}

// LoRA gradients flow through quantized frozen weights (QLoRA): the loss
// falls when training adapters on a Q8 or NF4 base.
func TestLoRAOnQuantizedBase(t *testing.T) {
	for _, f := range []kernels.QFormat{kernels.Q8, kernels.NF4} {
		m := loadTiny(t, nil)
		m.Quantize(QuantizeOptions{Format: f})
		a, err := LoadAdapter("testdata/tiny/lora_text")
		if err != nil {
			t.Fatal(err)
		}
		a.Writable = true
		if err := a.Apply(m); err != nil {
			t.Fatal(err)
		}
		a.Close()
		tr := NewTrainer(m, m.LoRAParams(), 0, 0)
		first, _, _ := tr.Accumulate(tinyBatch(t), 1)
		tr.Update(1e-2, 0)
		for i := 0; i < 4; i++ {
			tr.Accumulate(tinyBatch(t), 1)
			tr.Update(1e-2, 0)
		}
		last, _, _ := tr.EvalLoss(tinyBatch(t))
		if !(last < first-0.1) {
			t.Errorf("%v: loss %v → %v", f, first, last)
		}
	}
}

// The quantized model's error is the format's, not the kernels': the tiny
// model with quantized weights computes what the F32 model computes when
// its weights are replaced by their dequantized values (bit for bit on
// amd64 with AVX-512; the bound, 1e-5 of max|logit|, leaves room for other
// kernels' summation order), while either differs from
// the F32 reference by the rounding of the weights themselves (Q8 ≈ 1%, NF4
// ≈ 16% of max|logit| on this random model; TestQuantizedTinyGolden).
func TestQuantizedEqualsDequantizedF32(t *testing.T) {
	for _, f := range []kernels.QFormat{kernels.QBF16, kernels.Q8, kernels.NF4} {
		t.Run(f.String(), func(t *testing.T) {
			q := loadTiny(t, nil)
			q.Quantize(QuantizeOptions{Format: f})
			d := loadTiny(t, nil)
			ql, dl := q.Linears(), d.Linears()
			n := 0
			for i, nl := range ql {
				if nl.Linear.Q == nil {
					continue
				}
				if dl[i].Name != nl.Name {
					t.Fatalf("layer %d: %s vs %s", i, dl[i].Name, nl.Name)
				}
				w := make([]float32, nl.Linear.Out()*nl.Linear.In())
				nl.Linear.Q.Dequantize(w, 0)
				dl[i].Linear.Weight = tensor.FromFloat32(w, nl.Linear.Out(), nl.Linear.In())
				n++
			}
			if n != 25 {
				t.Fatalf("%d quantized layers, want 25", n)
			}
			oq, err := q.Forward(tinyBatch(t))
			if err != nil {
				t.Fatal(err)
			}
			od, err := d.Forward(tinyBatch(t))
			if err != nil {
				t.Fatal(err)
			}
			ref := goldenF32(t, golden(t), "out.logits")
			var worst, fromRef, maxAbs float64
			for i := range od.Logits {
				maxAbs = math.Max(maxAbs, math.Abs(float64(od.Logits[i])))
				worst = math.Max(worst, math.Abs(float64(oq.Logits[i]-od.Logits[i])))
				fromRef = math.Max(fromRef, math.Abs(float64(od.Logits[i]-ref[i])))
			}
			t.Logf("%v: max |quantized - dequantized F32| / max|logit| = %.2g; dequantized F32 - reference: %.4f", f, worst/maxAbs, fromRef/maxAbs)
			if fromRef == 0 {
				t.Errorf("the dequantized weights equal the F32 ones: nothing was compared")
			}
			if worst/maxAbs > 1e-5 {
				t.Errorf("quantized model differs from F32 on dequantized weights by %.3g of max|logit|", worst/maxAbs)
			}
		})
	}
}
