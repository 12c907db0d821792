package nn

import (
	"fmt"
	"sync"

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
// head: (B·Tq, D). Heads run in parallel on the pool.
//
// Backward keeps q, k, v (and the shared mask, and the dropout mask as
// bits) but not the probabilities, B·H·Tq·Tk values: each head recomputes
// them, bit for bit, with kernels.AttentionProbs. Without dropout that is
// kernels.AttentionBackwardRecompute; with dropout, dv = Pdᵀ·dout,
// dP = (dout·vᵀ)∘M, dS = softmax'(dP), dq = s·dS·k, dk = s·dSᵀ·q.
// Readers of the output that need it in backward (a LoRA on the output
// projection) rebuild it from q, k, v (remat); the probabilities that
// computes serve this backward, which runs right after theirs.
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
	// The training forward goes through the probabilities (kernels.Attention,
	// whose values backward recomputes); inference uses the fused kernel.
	withProbs := y.g != nil || dropout
	nn := s.Tq * s.Tk
	off := func(bh int) (qo, ko int, m []float32) {
		b, h := bh/s.Heads, bh%s.Heads
		if s.Mask != nil {
			m = s.Mask[b*nn : (b+1)*nn]
		}
		return b*s.Tq*d + h*dh, b*s.KVStride*d + h*dh, m
	}
	var drop *dropMask // on the probabilities, (B·H, Tq, Tk)
	if dropout {       // drawn serially so that a seed fixes it
		drop = t.drawMask(s.B*s.Heads*nn, s.Dropout)
	}
	// forward computes every head's output into out from q, k, v, keeping
	// the probabilities in probs (B·H, Tq, Tk) when it is not nil.
	forward := func(out, qd, kd, vd []float32, probs []float32) {
		t.Pool.Parallel(s.B*s.Heads, func(lo, hi int) {
			var p, pd []float32 // one head's probabilities, and dropped
			var sp *[]float32
			if withProbs {
				sp = headScratch(2 * nn)
				defer headScratchPool.Put(sp)
			}
			for bh := lo; bh < hi; bh++ {
				qo, ko, m := off(bh)
				if !withProbs { // inference: online softmax, no probability matrix
					kernels.AttentionFused(out[qo:], qd[qo:], kd[ko:], vd[ko:], m, dims)
					continue
				}
				if probs != nil {
					p = probs[bh*nn : (bh+1)*nn]
				} else {
					p = (*sp)[:nn]
				}
				kernels.Attention(out[qo:], p, qd[qo:], kd[ko:], vd[ko:], m, dims)
				if !dropout {
					continue
				}
				// out = (P∘M)·v with the dropped probabilities
				pd = (*sp)[nn : 2*nn]
				drop.mul(pd, p, bh*nn)
				kernels.Sgemm(nil, false, false, s.Tq, dh, s.Tk, 1, pd, s.Tk, vd[ko:], d, 0, out[qo:], d)
			}
		})
	}
	forward(y.Data, q.Data, k.Data, v.Data, nil)
	gq, gk, gv, gy := q.g, k.g, v.g, y.g
	var qv, kv, vv func() []float32
	var re *remat
	var probs []float32 // every head's probabilities, while a rebuilt y is in use
	if gy != nil {
		qv, kv, vv = t.save(q), t.save(k), t.save(v)
		// Readers of y rebuild it from q, k, v; the probabilities that
		// takes are kept for this backward, which runs next.
		re = &remat{n: len(y.Data), bufs: t.arena, build: func(dst []float32) {
			probs = t.arena.get(s.B * s.Heads * nn)
			forward(dst, qv(), kv(), vv(), probs)
		}}
		y.re = re
	}
	t.push(gy, gy != nil, func() {
		cached := probs
		re.done() // every reader of y has run
		probs = nil
		if cached != nil {
			defer t.arena.put(cached)
		}
		if gy.v == nil {
			return
		}
		qd, kd, vd := qv(), kv(), vv()
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
			var p []float32
			var sp *[]float32 // probabilities and dropout scratch, on first use
			if dropout {
				sp = headScratch(3 * nn)
				defer headScratchPool.Put(sp)
			}
			for bh := lo; bh < hi; bh++ {
				qo, ko, m := off(bh)
				switch {
				case cached != nil:
					p = cached[bh*nn : (bh+1)*nn]
				case !dropout:
					kernels.AttentionBackwardRecompute(gq[qo:], gk[ko:], gv[ko:], gy.v[qo:], qd[qo:], kd[ko:], vd[ko:], m, dims)
					continue
				default:
					p = (*sp)[:nn]
					kernels.AttentionProbs(p, qd[qo:], kd[ko:], m, dims)
				}
				if !dropout {
					kernels.AttentionBackward(gq[qo:], gk[ko:], gv[ko:], gy.v[qo:], p, qd[qo:], kd[ko:], vd[ko:], dims)
					continue
				}
				attentionDropoutBack(gq[qo:], gk[ko:], gv[ko:], gy.v[qo:], p, drop, bh*nn, qd[qo:], kd[ko:], vd[ko:], dims, (*sp)[nn:3*nn])
			}
		})
	})
	return y
}

// headScratchPool holds per-chunk scratch for the heads' probabilities
// (chunks run on pool workers, where the tape's arena may not be used).
var headScratchPool = sync.Pool{New: func() any { return new([]float32) }}

// headScratch returns scratch of at least n values from headScratchPool.
func headScratch(n int) *[]float32 {
	sp := headScratchPool.Get().(*[]float32)
	if cap(*sp) < n {
		*sp = make([]float32, n)
	}
	*sp = (*sp)[:cap(*sp)]
	return sp
}

// attentionDropoutBack is the backward of out = (P∘M)·v, P = softmax(S),
// S = scale·q·kᵀ + mask, for one head; it accumulates into dq, dk, dv. M is
// values [off, off+Tq·Tk) of m; scratch holds 2·Tq·Tk values.
func attentionDropoutBack(dq, dk, dv, dout, p []float32, m *dropMask, off int, q, k, v []float32, d kernels.AttnDims, scratch []float32) {
	tq, tk, dh := d.Tq, d.Tk, d.Dh
	pd := scratch[:tq*tk]
	m.mul(pd, p, off)
	// dv += Pdᵀ·dout   (Tk, Dh)
	kernels.Sgemm(nil, true, false, tk, dh, tq, 1, pd, tk, dout, d.Ldo, 1, dv, d.Ldv)
	// dP = (dout·vᵀ)∘M   (Tq, Tk)
	dp := pd // pd is spent
	kernels.Sgemm(nil, false, true, tq, tk, dh, 1, dout, d.Ldo, v, d.Ldv, 0, dp, tk)
	m.mul(dp, dp, off)
	ds := scratch[tq*tk : 2*tq*tk]
	kernels.SoftmaxBackward(ds, p, dp, tq, tk)
	// dq += scale·dS·k ; dk += scale·dSᵀ·q
	kernels.Sgemm(nil, false, false, tq, dh, tk, d.Scale, ds, tk, k, d.Ldk, 1, dq, d.Ldq)
	kernels.Sgemm(nil, true, false, tk, dh, tq, d.Scale, ds, tk, q, d.Ldq, 1, dk, d.Ldk)
}
