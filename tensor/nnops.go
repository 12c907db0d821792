package tensor

import (
	"fmt"

	"github.com/gitcap/gitcap/kernels"
)

// Softmax normalises over the last axis: y = exp(x - max) / Σ exp(x - max).
// Rows that are entirely -Inf give zeros.
func Softmax(x *Tensor) *Tensor {
	src := x.To(F32).Contiguous()
	out := Zeros(x.shape...)
	cols := x.shape[x.axis("Softmax", -1)]
	if cols > 0 {
		kernels.Softmax(out.f32, src.Data(), out.Numel()/cols, cols)
	}
	return out
}

// LayerNorm normalises over the last axis of x [..., C]:
// y = (x - mean) / sqrt(var + eps) · w + b, with w, b of shape [C] (either may be nil).
func LayerNorm(x, w, b *Tensor, eps float32) *Tensor {
	src := x.To(F32).Contiguous()
	c := x.shape[x.axis("LayerNorm", -1)]
	var wd, bd []float32
	if w != nil {
		wd = vectorOf("LayerNorm weight", w, c)
	}
	if b != nil {
		bd = vectorOf("LayerNorm bias", b, c)
	}
	out := Zeros(x.shape...)
	n := 0
	if c > 0 {
		n = out.Numel() / c
	}
	mean, rstd := make([]float32, n), make([]float32, n)
	kernels.LayerNorm(out.f32, mean, rstd, src.Data(), wd, bd, n, c, eps)
	return out
}

func vectorOf(what string, v *Tensor, c int) []float32 {
	if v.Rank() != 1 || v.shape[0] != c {
		panic(fmt.Sprintf("tensor: %s has shape %v, want [%d]", what, v.shape, c))
	}
	return v.To(F32).Contiguous().Data()
}
