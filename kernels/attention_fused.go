package kernels

// Fused scaled dot-product attention for inference (flash-attention style):
// the keys and values are visited in tiles, the softmax is kept online (a
// running maximum and sum per query row), and no Tq×Tk probability matrix
// is ever stored, only a BQ×BK tile of scores. It is built from the Sgemm
// kernels and the vector kernels of one instruction-set level.

import (
	"math"
	"sync"
)

// Tile sizes of AttentionFused: query rows per block and keys per tile. A
// 128×256 score tile is 128 KiB (L2); 256 keys cover the whole vision
// sequence (197) and a decoder cache of up to 256 positions in one tile.
// (64-row blocks measured 10% slower on the 197-token heads: every block
// packs the key and value tiles again.)
const (
	attnBQ = 128
	attnBK = 256
)

// AttentionFused computes one head of softmax(scale·Q·Kᵀ + mask)·V like
// Attention, but without the probabilities (it is the inference path; use
// Attention when AttentionBackward will need them):
//
//	for i := 0; i < Tq; i++ {
//		m, l := -Inf, 0                      // running max and sum of row i
//		o := out[i*Ldo : i*Ldo+Dh]
//		for each tile [j0, j1) of keys {
//			s[j] = Scale·q_i·k_j + mask[i*Tk+j]    for j in the tile
//			m' := max(m, max_j s[j])
//			o *= exp(m-m'); l = l·exp(m-m') + Σ_j exp(s[j]-m')
//			o += Σ_j exp(s[j]-m')·v_j; m = m'
//		}
//		o /= l                                 // a row masked with -Inf everywhere: o = 0
//	}
//
// Dimensions, leading dimensions and the mask are as for Attention. It
// panics on bad dimensions or short slices.
func AttentionFused(out, q, k, v, mask []float32, d AttnDims) {
	const fn = "AttentionFused"
	d.check(fn)
	d.checkQKV(fn, q, k, v, mask)
	checkLen(fn, "out", out, matLen(d.Tq, d.Dh, d.Ldo))
	attentionFusedWith(sgemmSelected(), vecSelected(), out, q, k, v, mask, d)
}

type attnBuf struct {
	s, m, l []float32
}

var attnBufs = sync.Pool{New: func() any { return new(attnBuf) }}

// attentionFusedWith is AttentionFused (arguments checked) with explicit
// Sgemm and vector variants.
func attentionFusedWith(sv *SgemmVariant, vv *vecVariant, out, q, k, v, mask []float32, d AttnDims) {
	if d.Tq == 0 || d.Dh == 0 {
		return
	}
	if d.Tk == 0 {
		for i := 0; i < d.Tq; i++ {
			clear(out[i*d.Ldo : i*d.Ldo+d.Dh])
		}
		return
	}
	buf := attnBufs.Get().(*attnBuf)
	defer attnBufs.Put(buf)
	bq, bk := min(attnBQ, d.Tq), min(attnBK, d.Tk)
	buf.s = grow(buf.s, bq*bk)
	buf.m = grow(buf.m, bq)
	buf.l = grow(buf.l, bq)
	negInf := float32(math.Inf(-1))
	for i0 := 0; i0 < d.Tq; i0 += attnBQ {
		nq := min(attnBQ, d.Tq-i0)
		m, l := buf.m[:nq], buf.l[:nq]
		for i := range m {
			m[i], l[i] = negInf, 0
		}
		o := out[i0*d.Ldo:]
		for j0 := 0; j0 < d.Tk; j0 += attnBK {
			nk := min(attnBK, d.Tk-j0)
			s := buf.s[:nq*nk]
			// Scores of the tile: s = Scale·Q·Kᵀ (+ mask).
			sgemmWith(sv, nil, false, true, nq, nk, d.Dh, d.Scale, q[i0*d.Ldq:], d.Ldq, bMat{f: k[j0*d.Ldk:]}, d.Ldk, 0, s, nk)
			first := j0 == 0
			for i := 0; i < nq; i++ {
				row := s[i*nk : (i+1)*nk]
				if mask != nil {
					vv.axpy(1, mask[(i0+i)*d.Tk+j0:(i0+i)*d.Tk+j0+nk], row)
				}
				mx := max(m[i], vv.maxv(row))
				if math.IsInf(float64(mx), -1) {
					// Everything so far is masked: the tile adds nothing.
					clear(row)
					continue
				}
				if !first && mx != m[i] {
					// Rescale what earlier tiles accumulated (exp(-Inf) = 0
					// when this row had nothing yet).
					f := float32(math.Exp(float64(m[i] - mx)))
					l[i] *= f
					vv.scale(o[i*d.Ldo:i*d.Ldo+d.Dh], f)
				}
				m[i] = mx
				l[i] += vv.expSub(row, row, mx)
			}
			// o (+)= P·V for the tile.
			beta := float32(1)
			if first {
				beta = 0
			}
			sgemmWith(sv, nil, false, false, nq, d.Dh, nk, 1, s, nk, bMat{f: v[j0*d.Ldv:]}, d.Ldv, beta, o, d.Ldo)
		}
		for i := 0; i < nq; i++ {
			row := o[i*d.Ldo : i*d.Ldo+d.Dh]
			if l[i] == 0 {
				clear(row)
				continue
			}
			vv.scale(row, 1/l[i])
		}
	}
}
