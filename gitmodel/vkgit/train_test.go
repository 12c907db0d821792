//go:build vulkan

package vkgit

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/nn"
	"github.com/gitcap/gitcap/tensor/safetensors"
)

// Ten LoRA AdamW steps with the frozen products on the device against
// PyTorch's trajectory (../testdata/tiny-train), with the CPU test's
// tolerances: losses 1e-4 relative, gradient norms 1e-5, adapters 1e-4
// after steps 1 and 10.
func TestTrainOnDeviceMatchesPyTorch(t *testing.T) {
	d := openDevice(t)
	m, err := gitmodel.LoadWith(tiny, gitmodel.LoadOptions{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, err := gitmodel.LoadAdapter(tiny + "/lora_text")
	if err != nil {
		t.Fatal(err)
	}
	a.Writable = true
	if err := a.Apply(m); err != nil {
		t.Fatal(err)
	}
	a.Close()
	trainable := m.LoRAParams()
	dt, err := NewTrainer(m, trainable, d)
	if err != nil {
		t.Fatal(err)
	}
	defer dt.Close()
	if dt.Layers != len(m.Linears()) {
		t.Errorf("%d frozen weights on the device, want all %d", dt.Layers, len(m.Linears()))
	}
	traj, err := safetensors.Open("../testdata/tiny-train/trajectory.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer traj.Close()
	f32 := func(name string) []float32 {
		x, err := traj.Float32s(name)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	g := openGolden(t)
	batch := g.trainBatch()
	wantLoss, wantNorm := f32("lora.loss"), f32("lora.grad_norm")
	tr := gitmodel.NewTrainer(m, trainable, 0.01, 0)
	for step := 0; step < 10; step++ {
		loss, _, err := tr.Accumulate(batch, 1)
		if err != nil {
			t.Fatal(err)
		}
		norm := tr.Update(1e-3, 0)
		if err := dt.Err(); err != nil {
			t.Fatal(err)
		}
		if math.Abs(loss-float64(wantLoss[step])) > 1e-4*math.Abs(float64(wantLoss[step])) {
			t.Errorf("step %d: loss %.7f, want %.7f", step+1, loss, wantLoss[step])
		}
		if math.Abs(norm-float64(wantNorm[step])) > 1e-5*math.Max(1, float64(wantNorm[step])) {
			t.Errorf("step %d: grad norm %.6f, want %.6f", step+1, norm, wantNorm[step])
		}
		if step == 0 || step == 9 {
			prefix := "lora.after_step" + map[int]string{0: "1", 9: "10"}[step] + "."
			for _, p := range trainable {
				if _, ok := traj.Info(prefix + p.Name); ok {
					closeTo(t, prefix+p.Name, p.Tensor.Data(), f32(prefix+p.Name), 1e-4, 0)
				}
			}
		}
	}
	if dt.Forward == 0 || dt.Backward == 0 {
		t.Errorf("device products: %d forward, %d input-gradient", dt.Forward, dt.Backward)
	}
	t.Logf("%d weights (%.1f KiB) on %s: %d forward and %d input-gradient products", dt.Layers, float64(dt.Bytes)/1024, d, dt.Forward, dt.Backward)
	// Detached, the model is back on the CPU.
	dt.Close()
	for _, nl := range m.Linears() {
		if nl.Linear.Dev != nil {
			t.Fatalf("%s still attached", nl.Name)
		}
	}
}

// A quantized base (--lora_bits 8) goes to the device as its F32 values:
// one step gives the CPU's loss and adapter gradients.
func TestTrainOnDeviceQuantized(t *testing.T) {
	d := openDevice(t)
	var losses [2]float64
	var grads [2][][]float32
	for i, dev := range []bool{false, true} {
		m, err := gitmodel.Load(tiny)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		m.Quantize(gitmodel.QuantizeOptions{Format: kernels.Q8, Skip: []string{}})
		if _, err := m.AddLoRA(loraConfig(), newRand()); err != nil {
			t.Fatal(err)
		}
		trainable := m.LoRAParams()
		if dev {
			dt, err := NewTrainer(m, trainable, d)
			if err != nil {
				t.Fatal(err)
			}
			defer dt.Close()
			if dt.Layers != len(m.Linears()) {
				t.Errorf("%d of %d quantized weights on the device", dt.Layers, len(m.Linears()))
			}
		}
		g := openGolden(t)
		tr := gitmodel.NewTrainer(m, trainable, 0.01, 0)
		loss, _, err := tr.Accumulate(g.trainBatch(), 1)
		if err != nil {
			t.Fatal(err)
		}
		losses[i] = loss
		for _, p := range trainable {
			grads[i] = append(grads[i], append([]float32(nil), tr.Grads.Of(p.Tensor)...))
		}
	}
	if math.Abs(losses[0]-losses[1]) > 1e-5*math.Abs(losses[0]) {
		t.Errorf("loss on the device %.7f, on the CPU %.7f", losses[1], losses[0])
	}
	for i := range grads[0] {
		closeTo(t, "adapter gradient", grads[1][i], grads[0][i], 1e-5, 1e-4)
	}
}

func loraConfig() *nn.AdapterConfig {
	return &nn.AdapterConfig{PeftType: "LORA", R: 2, LoraAlpha: 4,
		TargetModules: nn.TargetModules{Names: []string{"query", "value", "q_proj", "v_proj"}}}
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// trainBatch is the tiny golden's batch with its labels (the one the
// trajectories were recorded on).
func (g golden) trainBatch() gitmodel.Batch {
	return gitmodel.Batch{Pixels: g.f32("inputs.pixel_values"), B: 2, T: 7,
		IDs: g.ints("inputs.input_ids"), Mask: g.ints("inputs.attention_mask"), Labels: g.ints("inputs.labels")}
}
