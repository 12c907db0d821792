package nn

import (
	"fmt"

	"github.com/gitcap/gitcap/kernels"
)

// AttnSpec describes multi-head attention over a batch. q holds B blocks of
// Tq rows, k and v hold B blocks of KVStride rows of which the first Tk are
// used (KVStride > Tk for a KV cache with spare room). Every row has
// Heads·Dh columns; head h is the column block [h·Dh, (h+1)·Dh).
type AttnSpec struct {
	B, Heads, Tq, Tk, KVStride int
	Scale                      float32
	// Mask is additive, (B, Tq, Tk), or nil.
	Mask []float32
	// Dropout on the probabilities, in training mode.
	Dropout float32
}

// Attention computes out[b] = softmax(Scale·q[b]·k[b]ᵀ + mask[b])·v[b] per
// head: (B·Tq, D). Heads run in parallel on the pool. Backward:
// kernels.AttentionBackward from the saved probabilities, or, with dropout,
// dv = Pdᵀ·dout, dP = (dout·vᵀ)∘M, dS = softmax'(dP), dq = s·dS·k, dk = s·dSᵀ·q.
func (t *Tape) Attention(q, k, v *Var, s AttnSpec) *Var {
	d := q.Cols
	if s.Heads <= 0 || d%s.Heads != 0 || k.Cols != d || v.Cols != d || q.Rows != s.B*s.Tq ||
		k.Rows < s.B*s.KVStride || v.Rows < s.B*s.KVStride || s.KVStride < s.Tk {
		panic(fmt.Sprintf("nn: Attention: q %d×%d, k %d×%d, v %d×%d for %+v", q.Rows, q.Cols, k.Rows, k.Cols, v.Rows, v.Cols, s))
	}
	dh := d / s.Heads
	dims := kernels.AttnDims{Tq: s.Tq, Tk: s.Tk, Dh: dh, Ldq: d, Ldk: d, Ldv: d, Ldo: d, Scale: s.Scale}
	y := t.out(q.Rows, d, q.g != nil || k.g != nil || v.g != nil)
	dropout := t.Train && s.Dropout > 0
	keep := y.g != nil || dropout
	nn := s.Tq * s.Tk
	var probs []float32 // (B·H, Tq, Tk), kept for backward
	var masks *dropMask
	if keep {
		probs = make([]float32, s.B*s.Heads*nn)
	}
	off := func(bh int) (qo, ko int, m []float32) {
		b, h := bh/s.Heads, bh%s.Heads
		if s.Mask != nil {
			m = s.Mask[b*nn : (b+1)*nn]
		}
		return b*s.Tq*d + h*dh, b*s.KVStride*d + h*dh, m
	}
	if dropout { // masks drawn serially so that a seed fixes them
		_, masks = t.dropout(make([]float32, len(probs)), s.Dropout)
	}
	t.Pool.Parallel(s.B*s.Heads, func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			qo, ko, m := off(bh)
			if !keep { // inference: online softmax, no probability matrix
				kernels.AttentionFused(y.Data[qo:], q.Data[qo:], k.Data[ko:], v.Data[ko:], m, dims)
				continue
			}
			p := probs[bh*nn : (bh+1)*nn]
			if !dropout {
				kernels.Attention(y.Data[qo:], p, q.Data[qo:], k.Data[ko:], v.Data[ko:], m, dims)
				continue
			}
			kernels.Attention(y.Data[qo:], p, q.Data[qo:], k.Data[ko:], v.Data[ko:], m, dims)
			// out = (P∘M)·v with the dropped probabilities
			pd := make([]float32, nn)
			for i := range pd {
				pd[i] = p[i] * masks.at(bh*nn+i)
			}
			kernels.Sgemm(nil, false, false, s.Tq, dh, s.Tk, 1, pd, s.Tk, v.Data[ko:], d, 0, y.Data[qo:], d)
		}
	})
	gq, gk, gv, gy := q.g, k.g, v.g, y.g
	qd, kd, vd := q.Data, k.Data, v.Data
	t.push(gy != nil, func() {
		if gy.v == nil {
			return
		}
		var dq, dk, dv []float32
		if gq != nil {
			dq = gq.buf()
		}
		if gk != nil {
			dk = gk.buf()
		}
		if gv != nil {
			dv = gv.buf()
		}
		// Heads of one batch row share nothing in dq; dk and dv of one batch
		// row are shared by its heads only through disjoint column blocks, so
		// every (b, h) writes a disjoint region and can run in parallel.
		t.Pool.Parallel(s.B*s.Heads, func(lo, hi int) {
			// gradients nobody needs go to per-chunk scratch buffers
			gq, gk, gv := dq, dk, dv
			if gq == nil {
				gq = make([]float32, len(qd))
			}
			if gk == nil {
				gk = make([]float32, len(kd))
			}
			if gv == nil {
				gv = make([]float32, len(vd))
			}
			for bh := lo; bh < hi; bh++ {
				qo, ko, _ := off(bh)
				p := probs[bh*nn : (bh+1)*nn]
				if !dropout {
					kernels.AttentionBackward(gq[qo:], gk[ko:], gv[ko:], gy.v[qo:], p, qd[qo:], kd[ko:], vd[ko:], dims)
					continue
				}
				attentionDropoutBack(gq[qo:], gk[ko:], gv[ko:], gy.v[qo:], p, masks, bh*nn, qd[qo:], kd[ko:], vd[ko:], dims)
			}
		})
	})
	return y
}

// attentionDropoutBack is the backward of out = (P∘M)·v, P = softmax(S),
// S = scale·q·kᵀ + mask, for one head; it accumulates into dq, dk, dv.
func attentionDropoutBack(dq, dk, dv, dout, p []float32, m *dropMask, off int, q, k, v []float32, d kernels.AttnDims) {
	tq, tk, dh := d.Tq, d.Tk, d.Dh
	pd := make([]float32, tq*tk)
	for i := range pd {
		pd[i] = p[i] * m.at(off+i)
	}
	// dv += Pdᵀ·dout   (Tk, Dh)
	kernels.Sgemm(nil, true, false, tk, dh, tq, 1, pd, tk, dout, d.Ldo, 1, dv, d.Ldv)
	// dP = (dout·vᵀ)∘M   (Tq, Tk)
	dp := make([]float32, tq*tk)
	kernels.Sgemm(nil, false, true, tq, tk, dh, 1, dout, d.Ldo, v, d.Ldv, 0, dp, tk)
	for i := range dp {
		dp[i] *= m.at(off + i)
	}
	ds := make([]float32, tq*tk)
	kernels.SoftmaxBackward(ds, p, dp, tq, tk)
	// dq += scale·dS·k ; dk += scale·dSᵀ·q
	kernels.Sgemm(nil, false, false, tq, dh, tk, d.Scale, ds, tk, k, d.Ldk, 1, dq, d.Ldq)
	kernels.Sgemm(nil, true, false, tk, dh, tq, d.Scale, ds, tk, q, d.Ldq, 1, dk, d.Ldk)
}
