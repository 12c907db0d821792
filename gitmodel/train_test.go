package gitmodel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitcap/gitcap/nn"
	"github.com/gitcap/gitcap/optim"
	"github.com/gitcap/gitcap/tensor/safetensors"
)

func trajectory(t *testing.T) *safetensors.File {
	t.Helper()
	f, err := safetensors.Open("testdata/tiny-train/trajectory.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Ten AdamW steps on the same batch against PyTorch's trajectories: full
// fine-tuning, LoRA, and LoRA with linear warmup/decay and clipping.
func TestTrajectoriesMatchPyTorch(t *testing.T) {
	for _, run := range []string{"full", "lora", "lora_sched"} {
		for _, ckpt := range []bool{false, true} {
			if ckpt && run == "lora_sched" {
				continue
			}
			t.Run(run+map[bool]string{true: "/ckpt"}[ckpt], func(t *testing.T) {
				m, err := LoadWith("testdata/tiny", LoadOptions{Writable: true})
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				trainable := m.Params
				if run != "full" {
					a, err := LoadAdapter("testdata/tiny/lora_text")
					if err != nil {
						t.Fatal(err)
					}
					a.Writable = true
					if err := a.Apply(m); err != nil {
						t.Fatal(err)
					}
					a.Close() // writable copies outlive the file
					trainable = m.LoRAParams()
				}
				tr := NewTrainer(m, trainable, 0.01, 0)
				tr.Checkpoint = ckpt
				g := trajectory(t)
				wantLoss := goldenF32(t, g, run+".loss")
				wantNorm := goldenF32(t, g, run+".grad_norm")
				batch := tinyBatch(t)
				for step := 0; step < 10; step++ {
					loss, _, err := tr.Accumulate(batch, 1)
					if err != nil {
						t.Fatal(err)
					}
					lr, clip := 1e-3, 0.0
					if run == "lora_sched" {
						lr, clip = 1e-3*optim.Linear.Factor(step, 3, 10), 1.0
					}
					norm := tr.Update(lr, clip)
					if d := math.Abs(loss - float64(wantLoss[step])); d > 1e-4*math.Abs(float64(wantLoss[step])) {
						t.Errorf("step %d: loss %.7f, want %.7f", step+1, loss, wantLoss[step])
					}
					if d := math.Abs(norm - float64(wantNorm[step])); d > 1e-5*math.Max(1, float64(wantNorm[step])) {
						t.Errorf("step %d: grad norm %.6f, want %.6f", step+1, norm, wantNorm[step])
					}
					if step == 0 || step == 9 {
						checkAfter(t, g, run, step+1, trainable)
					}
				}
				final, _, _ := tr.EvalLoss(batch)
				if want := float64(goldenF32(t, g, run+".final_loss")[0]); math.Abs(final-want) > 1e-4*want {
					t.Errorf("final loss %.7f, want %.7f", final, want)
				}
			})
		}
	}
}

// checkAfter compares the stored parameters after update k (atol 1e-4; the
// key biases, whose true gradient is zero, are skipped as the README says).
func checkAfter(t *testing.T, g *safetensors.File, run string, k int, params []nn.NamedTensor) {
	t.Helper()
	prefix := run + ".after_step" + map[int]string{1: "1", 10: "10"}[k] + "."
	seen := 0
	for _, p := range params {
		name := prefix + p.Name
		if _, ok := g.Info(name); !ok {
			continue
		}
		seen++
		if strings.HasSuffix(p.Name, "key.bias") || strings.HasSuffix(p.Name, "k_proj.bias") {
			continue
		}
		closeTo(t, name, p.Tensor.Data(), goldenF32(t, g, name), 1e-4, 0)
	}
	if seen == 0 {
		t.Errorf("no stored tensors under %s", prefix)
	}
}

// A fresh adapter changes nothing until trained, and saves in PEFT's
// layout: the lora_text golden's keys, shapes and config fields.
func TestAddLoRAAndSave(t *testing.T) {
	m := loadTiny(t, nil)
	cfg := &nn.AdapterConfig{PeftType: "LORA", R: 4, LoraAlpha: 8, TargetModules: nn.TargetModules{Names: []string{"value", "query"}}}
	names, err := m.AddLoRA(cfg, newTestRand())
	if err != nil || len(names) != 4 {
		t.Fatalf("%v %v", names, err)
	}
	for _, nl := range m.Linears() {
		if l := nl.Linear.LoRA; l != nil {
			bound := float32(1 / math.Sqrt(float64(nl.Linear.In())))
			for _, v := range l.A.Data() {
				if v < -bound || v > bound {
					t.Fatalf("A value %v outside ±%v", v, bound)
				}
			}
			if l.Scaling != 2 {
				t.Errorf("scaling %v", l.Scaling)
			}
		}
	}
	o, _ := m.Forward(tinyBatch(t))
	closeTo(t, "logits with B=0", o.Logits, goldenF32(t, golden(t), "out.logits"), 1e-4, 1e-4)
	dir := t.TempDir()
	if err := m.SaveAdapter(dir, cfg); err != nil {
		t.Fatal(err)
	}
	got, _ := safetensors.Open(filepath.Join(dir, "adapter_model.safetensors"))
	defer got.Close()
	want, _ := safetensors.Open("testdata/tiny/lora_text/adapter_model.safetensors")
	defer want.Close()
	if strings.Join(got.Names(), ",") != strings.Join(want.Names(), ",") || got.Metadata()["format"] != "pt" {
		t.Errorf("keys %v, want %v", got.Names(), want.Names())
	}
	for _, n := range want.Names() {
		a, _ := got.Info(n)
		b, _ := want.Info(n)
		if a.DType != b.DType || len(a.Shape) != 2 || a.Shape[0] != b.Shape[0] || a.Shape[1] != b.Shape[1] {
			t.Errorf("%s: %v %v, want %v %v", n, a.DType, a.Shape, b.DType, b.Shape)
		}
	}
	// reload through the inference path
	a, err := LoadAdapter(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Config.R != 4 || a.Config.LoraAlpha != 8 || a.Config.PeftType != "LORA" || strings.Join(a.Config.TargetModules.Names, ",") != "query,value" {
		t.Errorf("config read back: %+v", a.Config)
	}
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// Trainer steps recycle memory: each tape takes the last one's buffers
// (Tape.Reuse). With every dropout on, losses and gradients must equal, bit
// for bit, those of fresh tapes that inherit nothing, over several steps,
// with and without checkpointing, for LoRA (every projection a target, so
// that rebuilt outputs carry adapters) and full fine-tuning.
func TestTrainerRecyclingMatchesFreshTapes(t *testing.T) {
	setup := func(full bool) (*Model, []nn.NamedTensor) {
		m, err := LoadWith("testdata/tiny", LoadOptions{Writable: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		cfg := &nn.AdapterConfig{PeftType: "LORA", R: 4, LoraAlpha: 4, LoraDropout: 0.25, TargetModules: nn.TargetModules{
			Names: []string{"q_proj", "k_proj", "v_proj", "out_proj", "fc1", "query", "key", "value", "dense"}}}
		if _, err := m.AddLoRA(cfg, newTestRand()); err != nil {
			t.Fatal(err)
		}
		for _, nl := range m.Linears() {
			if l := nl.Linear.LoRA; l != nil {
				for i := range l.B.Data() { // a nonzero B, so that every term counts
					l.B.Data()[i] = float32(i%7-3) * 0.01
				}
			}
		}
		for _, l := range m.Layers {
			l.hiddenDrop, l.attnDrop = 0.1, 0.15
		}
		trainable := m.LoRAParams()
		if full {
			trainable = append(m.Params, trainable...)
		}
		return m, trainable
	}
	for _, full := range []bool{false, true} {
		for _, ckpt := range []bool{false, true} {
			t.Run(fmt.Sprintf("full=%v/ckpt=%v", full, ckpt), func(t *testing.T) {
				ma, pa := setup(full)
				mb, pb := setup(full)
				a, b := NewTrainer(ma, pa, 0.01, 3), NewTrainer(mb, pb, 0.01, 3)
				for _, tr := range []*Trainer{a, b} {
					tr.Checkpoint, tr.Dropout = ckpt, true
				}
				batch := tinyBatch(t)
				for step := 0; step < 3; step++ {
					la, _, err := a.Accumulate(batch, 1)
					if err != nil {
						t.Fatal(err)
					}
					tp := nn.NewTape(b.Pool, b.Grads, true, b.RNG) // fresh, nothing reused
					loss, _, err := mb.LossOnTape(tp, batch, ckpt)
					if err != nil {
						t.Fatal(err)
					}
					lb := float64(loss.Data[0])
					tp.Backward(loss)
					if la != lb {
						t.Fatalf("step %d: loss %v, fresh tapes %v", step, la, lb)
					}
					for i := range a.Params {
						ga, gb := a.Params[i].Grad, b.Params[i].Grad
						for j := range ga {
							if math.Float32bits(ga[j]) != math.Float32bits(gb[j]) {
								t.Fatalf("step %d: %s[%d] = %v, fresh tapes %v", step, a.Params[i].Name, j, ga[j], gb[j])
							}
						}
					}
					a.Update(1e-2, 1)
					b.Update(1e-2, 1)
				}
			})
		}
	}
}
