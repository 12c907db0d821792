package nn

import (
	"fmt"

	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/tensor"
)

// Linear is y = x·Wᵀ + b, as torch.nn.Linear, plus an optional low-rank
// adapter: y += Scaling · (x·Aᵀ)·Bᵀ (PEFT's LoRA, formats.md §3.5).
// x: (N, In) → y: (N, Out). Weight: (Out, In). Bias: (Out) or nil.
//
// The weight is either Weight (F32, trainable) or Q (F16, BF16, Q8 or NF4:
// frozen, dequantized on the fly inside the matmul); the rest of the model
// does not know which.
type Linear struct {
	Weight *tensor.Tensor
	Q      *kernels.QMatrix
	Bias   *tensor.Tensor
	LoRA   *LoRA
	packed *kernels.PackedB // see Pack
	// Dev, if set, computes the products with the (frozen) weight on an
	// accelerator; the bias and the adapter stay on the CPU.
	Dev LinearDevice
}

// LinearDevice computes a frozen Linear's weight products elsewhere (a
// Vulkan device: gitmodel/vkgit). Either call may fail (device lost, out of
// memory); the Linear then computes the product on the CPU, and the device
// keeps the error for its owner to report.
type LinearDevice interface {
	MatMul(y, x []float32, n int) error    // y = x·Wᵀ    (N, Out)
	MatMulT(dx, dy []float32, n int) error // dx += dy·W (N, In)
}

// LoRA is a low-rank adapter on a Linear. A: (r, In). B: (Out, r).
type LoRA struct {
	A, B    *tensor.Tensor
	Scaling float32 // alpha/r, or alpha/√r with rsLoRA
	Dropout float32 // on the adapter's input, in training mode
}

// Rank is r.
func (a *LoRA) Rank() int { return a.A.Dim(0) }

// In and Out are the input and output widths.
func (l *Linear) In() int {
	if l.Q != nil {
		return l.Q.Cols
	}
	return l.Weight.Dim(1)
}

func (l *Linear) Out() int {
	if l.Q != nil {
		return l.Q.Rows
	}
	return l.Weight.Dim(0)
}

// Quantize replaces the F32 weight by its copy in format f (which then
// stays frozen). It returns the bytes the weight now takes.
func (l *Linear) Quantize(f kernels.QFormat) int {
	if l.Q == nil {
		l.Q = kernels.Quantize(f, l.Weight.Data(), l.Out(), l.In())
		l.Weight, l.packed = nil, nil
	}
	return l.Q.Bytes()
}

// Forward computes y = x·Wᵀ + b for n rows, overwriting y.
func (l *Linear) Forward(p *kernels.Pool, y, x []float32, n int) {
	in, out := l.In(), l.Out()
	if len(x) < n*in || len(y) < n*out {
		panic(fmt.Sprintf("nn: Linear.Forward: x %d / y %d values for %d rows of %d→%d", len(x), len(y), n, in, out))
	}
	switch {
	case l.Dev != nil && l.Dev.MatMul(y[:n*out], x[:n*in], n) == nil:
	case l.Q != nil:
		kernels.QMatMul(p, y, x, n, l.Q)
	case l.packed != nil && n >= packedMinRows:
		kernels.SgemmPacked(p, n, 1, x, in, l.packed, 0, y, out)
	default:
		kernels.Sgemm(p, false, true, n, out, in, 1, x, in, l.Weight.Data(), in, 0, y, out)
	}
	if l.Bias != nil {
		b := l.Bias.Data()
		for r := 0; r < n; r++ {
			kernels.Axpy(1, b, y[r*out:(r+1)*out])
		}
	}
	if a := l.LoRA; a != nil {
		r := a.Rank()
		xa := make([]float32, n*r) // (N, r) = x·Aᵀ
		kernels.Sgemm(p, false, true, n, r, in, 1, x, in, a.A.Data(), in, 0, xa, r)
		kernels.Sgemm(p, false, true, n, out, r, a.Scaling, xa, r, a.B.Data(), r, 1, y, out)
	}
}

// LoadLinear reads "<prefix>.weight" (Out, In) and, if bias, "<prefix>.bias" (Out).
// A weight stored quantized (see QuantTensors) loads as Q.
func LoadLinear(w *Weights, in, out int, bias bool) *Linear {
	l := &Linear{}
	if q, ok := w.getQuantized(out, in); ok {
		l.Q = q
	} else {
		l.Weight = w.Get("weight", out, in)
	}
	if bias {
		l.Bias = w.GetInit("bias", InitZeros, out)
	}
	return l
}

// BackwardX adds dy·W to dx for n rows: the input gradient through the
// weight (the adapter's part is the caller's).
func (l *Linear) BackwardX(p *kernels.Pool, dx, dy []float32, n int) {
	in, out := l.In(), l.Out()
	switch {
	case l.Dev != nil && l.Dev.MatMulT(dx[:n*in], dy[:n*out], n) == nil:
	case l.Q != nil:
		kernels.QMatMulT(p, dx, dy, n, l.Q)
	default:
		kernels.Sgemm(p, false, false, n, in, out, 1, dy, out, l.Weight.Data(), in, 1, dx, in)
	}
}
