package gitmodel

import (
	"math/rand/v2"
	"runtime"

	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/nn"
	"github.com/gitcap/gitcap/optim"
)

// Trainer runs optimizer steps on a model: forward and backward of GIT's
// loss on micro-batches (gradient accumulation), then clipping and AdamW over
// the trainable tensors only.
type Trainer struct {
	Model *Model
	Grads *nn.Grads
	Opt   *optim.AdamW
	// Params are the trainable tensors, names as saved (PEFT keys for LoRA,
	// checkpoint names for full fine-tuning), values and gradients.
	Params []optim.Param
	// Checkpoint recomputes each layer in backward (gradient checkpointing).
	Checkpoint bool
	// Dropout enables the model's and the adapters' dropout (train mode).
	Dropout bool
	// RNG drives dropout; its state is part of a resumable run.
	RNG  *rand.PCG
	Pool *kernels.Pool
	last *nn.Tape // the previous micro-batch's tape, whose buffers the next one reuses
}

// NewTrainer makes the given tensors trainable. They must be writable (not
// memory-mapped): see LoadOptions.Writable and Adapter.Writable.
func NewTrainer(m *Model, trainable []nn.NamedTensor, weightDecay float64, seed uint64) *Trainer {
	t := &Trainer{Model: m, Grads: nn.NewGrads(), Opt: optim.NewAdamW(weightDecay),
		RNG: rand.NewPCG(seed, 0xda3e39cb94b95bdb), Pool: m.Pool}
	for _, p := range trainable {
		t.Grads.Add(p.Tensor)
		t.Params = append(t.Params, optim.Param{Name: p.Name, Value: p.Tensor.Data(), Grad: t.Grads.Of(p.Tensor)})
	}
	return t
}

// Accumulate adds the gradients of scale·loss(b) and returns the loss (the
// mean over b's targets, unscaled) and the number of targets.
func (t *Trainer) Accumulate(b Batch, scale float64) (float64, int, error) {
	tp := nn.NewTape(t.Pool, t.Grads, t.Dropout, t.RNG)
	tp.Reuse(t.last)
	t.last = tp
	loss, count, err := t.Model.LossOnTape(tp, b, t.Checkpoint)
	if err != nil {
		return 0, 0, err
	}
	if count > 0 {
		// The forward's activations are all live now, at their peak, and the
		// step allocates little besides (the tape recycles its buffers):
		// collecting the forward's garbage here, and the backward's after
		// it, keeps the collector's headroom (GOGC) from piling up on top of
		// that peak. Each collection takes a few milliseconds: the heap is
		// float32 buffers without pointers. The free buffers backward will
		// not need go with that garbage.
		tp.TrimFree()
		runtime.GC()
		tp.BackwardScaled(loss, float32(scale))
		runtime.GC()
	}
	return float64(loss.Data[0]), count, nil
}

// Update clips the accumulated gradients to maxGradNorm (0: no clipping),
// applies one AdamW step with learning rate lr, zeroes the gradients and
// returns the pre-clip gradient norm.
func (t *Trainer) Update(lr, maxGradNorm float64) float64 {
	norm := optim.ClipGradNorm(t.Params, maxGradNorm)
	t.Opt.Step(t.Params, lr)
	t.Grads.Zero()
	return norm
}

// EvalLoss is the loss of b in eval mode (no dropout, no gradients).
func (t *Trainer) EvalLoss(b Batch) (float64, int, error) {
	tp := nn.Inference(t.Pool)
	loss, count, err := t.Model.LossOnTape(tp, b, false)
	if err != nil {
		return 0, 0, err
	}
	return float64(loss.Data[0]), count, nil
}
