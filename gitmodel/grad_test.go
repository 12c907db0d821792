package gitmodel

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/nn"
	"github.com/gitcap/gitcap/tensor"
)

func tinyBatch(t *testing.T) Batch {
	g := golden(t)
	return Batch{
		Pixels: goldenF32(t, g, "inputs.pixel_values"), B: 2, T: 7,
		IDs: goldenInts(t, g, "inputs.input_ids"), Mask: goldenInts(t, g, "inputs.attention_mask"),
		Labels: goldenInts(t, g, "inputs.labels"),
	}
}

// checkGrad applies the golden README's rule: per tensor
// max|diff| ≤ 1e-4·max(1, max|ref|).
func checkGrad(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got), len(want))
		return
	}
	worst, ref := 0.0, 0.0
	for i := range got {
		worst = math.Max(worst, math.Abs(float64(got[i])-float64(want[i])))
		ref = math.Max(ref, math.Abs(float64(want[i])))
	}
	if !(worst <= 1e-4*math.Max(1, ref)) {
		t.Errorf("%s: max |diff| %.3g (max |ref| %.3g)", name, worst, ref)
	}
}

// Every parameter's gradient of the golden loss against PyTorch's, with and
// without gradient checkpointing, serial and on a pool.
func TestGradientsMatchHF(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	for _, c := range []struct {
		ckpt bool
		pool *kernels.Pool
	}{{false, nil}, {true, nil}, {false, pool}} {
		t.Run(fmt.Sprintf("ckpt=%v/threads=%d", c.ckpt, c.pool.Workers()), func(t *testing.T) {
			m := loadTiny(t, c.pool)
			g := golden(t)
			var params []*tensor.Tensor
			for _, p := range m.Params {
				params = append(params, p.Tensor)
			}
			grads := nn.NewGrads(params...)
			tp := nn.NewTape(c.pool, grads, false, nil)
			loss, count, err := m.LossOnTape(tp, tinyBatch(t), c.ckpt)
			if err != nil {
				t.Fatal(err)
			}
			if want := float64(goldenF32(t, g, "out.loss")[0]); math.Abs(float64(loss.Data[0])-want) > 1e-5 || count != 9 {
				t.Errorf("loss %v over %d, want %v over 9", loss.Data[0], count, want)
			}
			tp.Backward(loss)
			for _, p := range m.Params {
				checkGrad(t, p.Name, grads.Of(p.Tensor), goldenF32(t, g, "grad."+p.Name))
			}
			pad := grads.Of(m.Embeddings.WordEmbeddings)[:m.Config.HiddenSize]
			for _, v := range pad {
				if v != 0 {
					t.Fatal("[PAD] embedding row got a gradient")
				}
			}
		})
	}
}

// LoRA A/B gradients with the base frozen, for both PEFT goldens.
func TestLoRAGradientsMatchPEFT(t *testing.T) {
	for _, v := range []string{"lora_text", "lora_text_vision"} {
		for _, ckpt := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/ckpt=%v", v, ckpt), func(t *testing.T) {
				m := loadTiny(t, nil)
				a, err := LoadAdapter(filepath.Join("testdata/tiny", v))
				if err != nil {
					t.Fatal(err)
				}
				defer a.Close()
				if err := a.Apply(m); err != nil {
					t.Fatal(err)
				}
				grads := nn.NewGrads()
				names := map[*tensor.Tensor]string{}
				for _, nl := range m.Linears() {
					if l := nl.Linear.LoRA; l != nil {
						grads.Add(l.A)
						grads.Add(l.B)
						names[l.A], names[l.B] = nn.PeftKey(nl.Name, "A"), nn.PeftKey(nl.Name, "B")
					}
				}
				tp := nn.NewTape(nil, grads, false, nil)
				loss, _, err := m.LossOnTape(tp, tinyBatch(t), ckpt)
				if err != nil {
					t.Fatal(err)
				}
				g := golden(t)
				if want := float64(goldenF32(t, g, v+".loss")[0]); math.Abs(float64(loss.Data[0])-want) > 1e-5 {
					t.Errorf("loss %v, want %v", loss.Data[0], want)
				}
				tp.Backward(loss)
				if len(names) == 0 {
					t.Fatal("no adapters attached")
				}
				for p, name := range names {
					checkGrad(t, name, grads.Of(p), goldenF32(t, g, v+".grad."+name))
				}
				if strings.Contains(v, "vision") != (len(names) == 16) {
					t.Errorf("%d adapter matrices", len(names))
				}
			})
		}
	}
}
