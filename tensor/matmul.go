package tensor

import (
	"fmt"

	"github.com/gitcap/gitcap/kernels"
)

// MatMul multiplies the last two axes, broadcasting the leading (batch) axes:
// a [..., m, k] · b [..., k, n] → [..., m, n]. A transposed view (such as
// w.Transpose(0, 1) of a Linear weight) is passed to sgemm as a transpose,
// not copied. 16-bit inputs are widened to F32. p may be nil (serial).
func MatMul(p *kernels.Pool, a, b *Tensor) *Tensor {
	a, b = a.To(F32), b.To(F32)
	if a.Rank() < 2 || b.Rank() < 2 {
		panic(fmt.Sprintf("tensor: MatMul needs rank ≥ 2, have %v · %v", a.shape, b.shape))
	}
	m, k := a.shape[a.Rank()-2], a.shape[a.Rank()-1]
	k2, n := b.shape[b.Rank()-2], b.shape[b.Rank()-1]
	if k != k2 {
		panic(fmt.Sprintf("tensor: MatMul: inner dimensions differ: %v · %v", a.shape, b.shape))
	}
	batch := BroadcastShapes(a.shape[:a.Rank()-2], b.shape[:b.Rank()-2])
	ab := a.BroadcastTo(append(cloneInts(batch), m, k)...)
	bb := b.BroadcastTo(append(cloneInts(batch), k, n)...)
	ta, lda, ab := gemmOperand(ab)
	tb, ldb, bb := gemmOperand(bb)
	out := Zeros(append(cloneInts(batch), m, n)...)
	c := out.f32
	r := len(batch)
	i := 0
	eachOffset2(batch, batchView(ab, r), batchView(bb, r), func(oa, ob int) {
		kernels.Sgemm(p, ta, tb, m, n, k, 1, ab.f32[oa:], lda, bb.f32[ob:], ldb, 0, c[i*m*n:], n)
		i++
	})
	return out
}

// gemmOperand reports how sgemm should read the last two axes of x:
// row-major (unit column stride) or transposed (unit row stride); any other
// layout is copied into row-major first.
func gemmOperand(x *Tensor) (trans bool, ld int, v *Tensor) {
	r := x.Rank()
	rows, cols := x.shape[r-2], x.shape[r-1]
	rs, cs := x.strides[r-2], x.strides[r-1]
	switch {
	case (cs == 1 || cols == 1) && rs >= cols:
		return false, max(rs, 1), x
	case (rs == 1 || rows == 1) && cs >= rows:
		return true, max(cs, 1), x
	}
	c := x.Clone()
	return false, max(cols, 1), c
}

// batchView is x restricted to its leading r axes (element (0,0) of each matrix).
func batchView(x *Tensor, r int) *Tensor {
	return &Tensor{dtype: x.dtype, shape: x.shape[:r], strides: x.strides[:r], offset: x.offset, f32: x.f32}
}
