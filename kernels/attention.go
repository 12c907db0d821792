package kernels

// Scaled dot-product attention for one head, forward and backward, built
// from Sgemm and Softmax. Heads are addressed in place through leading
// dimensions, so head h of a [T, H*Dh] projection is q[h*Dh:] with
// Ldq = H*Dh; no transposes or copies. Parallelism is the caller's job
// (one head per Pool chunk); the kernels here run serially.

import (
	"fmt"
	"sync"
)

// AttnDims describes one attention head. Row i of Q starts at q[i*Ldq]
// (Tq×Dh), row j of K and V at k[j*Ldk] and v[j*Ldv] (Tk×Dh), row i of the
// output at out[i*Ldo] (Tq×Dh). Scale multiplies q·kᵀ, usually 1/√Dh.
type AttnDims struct {
	Tq, Tk, Dh         int
	Ldq, Ldk, Ldv, Ldo int
	Scale              float32
}

func (d AttnDims) check(fn string) {
	if d.Tq < 0 || d.Tk < 0 || d.Dh < 0 {
		panic(errDim(fn, fmt.Sprintf("negative size Tq=%d Tk=%d Dh=%d", d.Tq, d.Tk, d.Dh)))
	}
	for _, ld := range []struct {
		name string
		v    int
	}{{"Ldq", d.Ldq}, {"Ldk", d.Ldk}, {"Ldv", d.Ldv}, {"Ldo", d.Ldo}} {
		if ld.v < max(1, d.Dh) {
			panic(errDim(fn, fmt.Sprintf("%s=%d < %d", ld.name, ld.v, max(1, d.Dh))))
		}
	}
}

func (d AttnDims) checkInputs(fn string, probs, q, k, v []float32) {
	d.check(fn)
	checkLen(fn, "probs", probs, d.Tq*d.Tk)
	d.checkQKV(fn, q, k, v, nil)
}

// checkQKV checks the lengths of q, k, v and mask (each may be nil when the
// kernel does not read it).
func (d AttnDims) checkQKV(fn string, q, k, v, mask []float32) {
	checkLen(fn, "q", q, matLen(d.Tq, d.Dh, d.Ldq))
	checkLen(fn, "k", k, matLen(d.Tk, d.Dh, d.Ldk))
	if v != nil {
		checkLen(fn, "v", v, matLen(d.Tk, d.Dh, d.Ldv))
	}
	if mask != nil {
		checkLen(fn, "mask", mask, d.Tq*d.Tk)
	}
}

// checkGrads checks the lengths of a backward pass's dout, dq, dk and dv
// (laid out like out, q, k and v).
func (d AttnDims) checkGrads(fn string, dout, dq, dk, dv []float32) {
	checkLen(fn, "dout", dout, matLen(d.Tq, d.Dh, d.Ldo))
	checkLen(fn, "dq", dq, matLen(d.Tq, d.Dh, d.Ldq))
	checkLen(fn, "dk", dk, matLen(d.Tk, d.Dh, d.Ldk))
	checkLen(fn, "dv", dv, matLen(d.Tk, d.Dh, d.Ldv))
}

// Attention computes one head of softmax(scale·Q·Kᵀ + mask)·V:
//
//	for i := 0; i < Tq; i++ {
//		for j := 0; j < Tk; j++ {
//			s[i*Tk+j] = Scale * Σ_d q[i*Ldq+d]*k[j*Ldk+d] + mask[i*Tk+j]
//		}
//		probs[i*Tk:(i+1)*Tk] = softmax(s[i*Tk:(i+1)*Tk])   // see Softmax
//		for d := 0; d < Dh; d++ {
//			out[i*Ldo+d] = Σ_j probs[i*Tk+j] * v[j*Ldv+d]
//		}
//	}
//
// mask is additive, Tq×Tk, and may be nil; masked entries may be -Inf or a
// large negative finite value such as -3.4e38 (HF's finfo.min). A row that
// is masked with -Inf everywhere gets zero probabilities and a zero output.
// probs (Tq×Tk, required) keeps the probabilities for AttentionBackward.
// It panics on bad dimensions or short slices.
func Attention(out, probs, q, k, v, mask []float32, d AttnDims) {
	const fn = "Attention"
	d.checkInputs(fn, probs, q, k, v)
	checkLen(fn, "out", out, matLen(d.Tq, d.Dh, d.Ldo))
	if mask != nil {
		checkLen(fn, "mask", mask, d.Tq*d.Tk)
	}
	if d.Tq == 0 {
		return
	}
	attentionProbs(probs, q, k, mask, d)
	Sgemm(nil, false, false, d.Tq, d.Dh, d.Tk, 1, probs, max(1, d.Tk), v, d.Ldv, 0, out, d.Ldo)
}

// AttentionProbs computes the probabilities of Attention alone, bit for bit
// the values Attention writes to probs (backward passes that do not keep
// them recompute them with it):
//
//	probs[i*Tk:(i+1)*Tk] = softmax(Scale·q_i·Kᵀ + mask[i*Tk:(i+1)*Tk])
//
// Ldv and Ldo are not used. It panics on bad dimensions or short slices.
func AttentionProbs(probs, q, k, mask []float32, d AttnDims) {
	const fn = "AttentionProbs"
	d.check(fn)
	checkLen(fn, "probs", probs, d.Tq*d.Tk)
	d.checkQKV(fn, q, k, nil, mask)
	if d.Tq == 0 {
		return
	}
	attentionProbs(probs, q, k, mask, d)
}

// attentionProbs is AttentionProbs with the arguments checked and Tq > 0.
func attentionProbs(probs, q, k, mask []float32, d AttnDims) {
	n := d.Tq * d.Tk
	p := probs[:n]
	Sgemm(nil, false, true, d.Tq, d.Tk, d.Dh, d.Scale, q, d.Ldq, k, d.Ldk, 0, p, max(1, d.Tk))
	if mask != nil {
		mask = mask[:n]
		for i, m := range mask {
			p[i] += m
		}
	}
	Softmax(p, p, d.Tq, d.Tk)
}

var attnScratch = sync.Pool{New: func() any { return new([]float32) }}

// AttentionBackward accumulates the gradients of Attention with respect to
// q, k and v, given dout (rows at dout[i*Ldo]) and the probs saved by the
// forward pass:
//
//	dP = dout · Vᵀ                          (Tq×Tk)
//	dv += Pᵀ · dout
//	dS = SoftmaxBackward(P, dP)             // P*(dP - rowsum(dP*P))
//	dq += Scale * dS · K
//	dk += Scale * dSᵀ · Q
//
// dq, dk and dv use the leading dimensions of q, k and v. The mask gets no
// gradient. It panics on bad dimensions or short slices.
func AttentionBackward(dq, dk, dv, dout, probs, q, k, v []float32, d AttnDims) {
	const fn = "AttentionBackward"
	d.checkInputs(fn, probs, q, k, v)
	d.checkGrads(fn, dout, dq, dk, dv)
	n := d.Tq * d.Tk
	if n == 0 || d.Dh == 0 {
		return
	}
	sp := scratch(n)
	defer attnScratch.Put(sp)
	attentionBackward(dq, dk, dv, dout, probs[:n], (*sp)[:n], q, k, v, d)
}

// AttentionBackwardRecompute is AttentionBackward for a forward pass that
// did not keep the probabilities: it recomputes them from q, k and mask with
// AttentionProbs (the values Attention produced, bit for bit) in scratch
// memory, then accumulates dq, dk and dv exactly as AttentionBackward does.
// It costs one more Tq×Tk×Dh product and softmax, and saves Tq×Tk values
// per head between the passes.
func AttentionBackwardRecompute(dq, dk, dv, dout, q, k, v, mask []float32, d AttnDims) {
	const fn = "AttentionBackwardRecompute"
	d.check(fn)
	d.checkQKV(fn, q, k, v, mask)
	d.checkGrads(fn, dout, dq, dk, dv)
	n := d.Tq * d.Tk
	if n == 0 || d.Dh == 0 {
		return
	}
	sp := scratch(2 * n)
	defer attnScratch.Put(sp)
	p, dp := (*sp)[:n], (*sp)[n:2*n]
	attentionProbs(p, q, k, mask, d)
	attentionBackward(dq, dk, dv, dout, p, dp, q, k, v, d)
}

// scratch takes a buffer of at least n values from attnScratch.
func scratch(n int) *[]float32 {
	sp := attnScratch.Get().(*[]float32)
	if cap(*sp) < n {
		*sp = make([]float32, n)
	}
	return sp
}

// attentionBackward is the body of AttentionBackward: p holds the
// probabilities, dp is Tq×Tk scratch.
func attentionBackward(dq, dk, dv, dout, p, dp, q, k, v []float32, d AttnDims) {
	Sgemm(nil, false, true, d.Tq, d.Tk, d.Dh, 1, dout, d.Ldo, v, d.Ldv, 0, dp, d.Tk)
	Sgemm(nil, true, false, d.Tk, d.Dh, d.Tq, 1, p, d.Tk, dout, d.Ldo, 1, dv, d.Ldv)
	SoftmaxBackward(dp, p, dp, d.Tq, d.Tk)
	Sgemm(nil, false, false, d.Tq, d.Dh, d.Tk, d.Scale, dp, d.Tk, k, d.Ldk, 1, dq, d.Ldq)
	Sgemm(nil, true, false, d.Tk, d.Dh, d.Tq, d.Scale, dp, d.Tk, q, d.Ldq, 1, dk, d.Ldk)
}
