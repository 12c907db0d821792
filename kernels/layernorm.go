package kernels

// Layer normalization over the last axis, forward and backward, llm.c style:
// the forward saves mean and 1/std per row for the backward, and the
// backward accumulates into dx, dw and db. Row statistics are summed in
// float64, and so is the forward per-element work; the backward follows
// llm.c in float32 from the saved float32 mean and rstd.

import (
	"fmt"
	"math"
)

// LayerNorm normalizes each row of the n×c matrix x:
//
//	for i := 0; i < n; i++ {
//		row := x[i*c : (i+1)*c]
//		mean[i] = Σ_j row[j] / c
//		rstd[i] = 1 / sqrt(Σ_j (row[j]-mean[i])² / c + eps)   // biased variance
//		for j := range row {
//			out[i*c+j] = (row[j]-mean[i])*rstd[i]*w[j] + b[j]
//		}
//	}
//
// w == nil means all ones and b == nil all zeros; mean and rstd may be nil
// when the statistics are not needed (inference). out may be x itself. It
// panics if a non-nil slice is too short, or c < 1 with n > 0.
func LayerNorm(out, mean, rstd, x, w, b []float32, n, c int, eps float32) {
	const fn = "LayerNorm"
	checkLayerNorm(fn, n, c, x, w, mean, rstd)
	checkLen(fn, "out", out, n*c)
	if b != nil {
		checkLen(fn, "b", b, c)
	}
	layerNormWith(vecSelected(), out, mean, rstd, x, w, b, n, c, eps)
}

// layerNormWith is LayerNorm (arguments checked) with an explicit variant.
func layerNormWith(v *vecVariant, out, mean, rstd, x, w, b []float32, n, c int, eps float32) {
	for i := 0; i < n; i++ {
		xr, or := x[i*c:(i+1)*c], out[i*c:(i+1)*c]
		var m, r float64
		if w != nil && b != nil {
			m, r = v.layerNormRow(or, xr, w[:c], b[:c], eps)
		} else {
			m, r = layerNormRowGeneric(or, xr, w, b, eps)
		}
		if mean != nil {
			mean[i] = float32(m)
		}
		if rstd != nil {
			rstd[i] = float32(r)
		}
	}
}

// layerNormRowGeneric normalizes one row in float64 (w, b may be nil) and
// returns its mean and 1/std.
func layerNormRowGeneric(or, xr, w, b []float32, eps float32) (mean, rstd float64) {
	c := len(xr)
	var s float64
	for _, v := range xr {
		s += float64(v)
	}
	m := s / float64(c)
	var ss float64
	for _, v := range xr {
		d := float64(v) - m
		ss += d * d
	}
	r := 1 / math.Sqrt(ss/float64(c)+float64(eps))
	// Per element in float64 too: with a row mean far from zero against
	// its spread, x−mean in float32 would lose digits (an error of
	// ulp(mean)·rstd, 3e-6 on a test row with std 0.03).
	or = or[:c]
	for j, v := range xr {
		y := (float64(v) - m) * r
		if w != nil {
			y *= float64(w[j])
		}
		if b != nil {
			y += float64(b[j])
		}
		or[j] = float32(y)
	}
	return m, r
}

func checkLayerNorm(fn string, n, c int, x, w, mean, rstd []float32) {
	if n < 0 || c < 0 {
		panic(errDim(fn, fmt.Sprintf("negative size n=%d c=%d", n, c)))
	}
	if n > 0 && c < 1 {
		panic(errDim(fn, fmt.Sprintf("c=%d < 1", c)))
	}
	checkLen(fn, "x", x, n*c)
	if w != nil {
		checkLen(fn, "w", w, c)
	}
	if mean != nil {
		checkLen(fn, "mean", mean, n)
	}
	if rstd != nil {
		checkLen(fn, "rstd", rstd, n)
	}
}

// LayerNormBackward accumulates the gradients of LayerNorm given the
// gradient dout of its output and the mean and rstd it saved:
//
//	for i := 0; i < n; i++ {
//		norm[j] = (x[i*c+j]-mean[i]) * rstd[i]
//		g[j]    = w[j] * dout[i*c+j]
//		db[j]  += dout[i*c+j]
//		dw[j]  += norm[j] * dout[i*c+j]
//		dx[i*c+j] += rstd[i] * (g[j] - mean_j(g) - norm[j]*mean_j(g*norm))
//	}
//
// All three outputs are accumulated (+=), as in llm.c. w == nil means all
// ones; dw and db may be nil to skip them. It panics if a slice is too short.
func LayerNormBackward(dx, dw, db, dout, x, w, mean, rstd []float32, n, c int) {
	const fn = "LayerNormBackward"
	if mean == nil || rstd == nil {
		panic(errDim(fn, "mean and rstd are required"))
	}
	checkLayerNorm(fn, n, c, x, w, mean, rstd)
	checkLen(fn, "dx", dx, n*c)
	checkLen(fn, "dout", dout, n*c)
	if dw != nil {
		checkLen(fn, "dw", dw, c)
		dw = dw[:c]
	}
	if db != nil {
		checkLen(fn, "db", db, c)
		db = db[:c]
	}
	for i := 0; i < n; i++ {
		xr := x[i*c : (i+1)*c]
		dr := dout[i*c : (i+1)*c]
		dxr := dx[i*c : (i+1)*c]
		mu, rs := mean[i], rstd[i]
		// The two row means of the backward formula, in float64.
		var sg, sgn float64
		for j, v := range xr {
			g := dr[j]
			if w != nil {
				g *= w[j]
			}
			norm := (v - mu) * rs
			sg += float64(g)
			sgn += float64(g) * float64(norm)
		}
		mg := float32(sg / float64(c))
		mgn := float32(sgn / float64(c))
		for j, v := range xr {
			d := dr[j]
			norm := (v - mu) * rs
			if db != nil {
				db[j] += d
			}
			if dw != nil {
				dw[j] += norm * d
			}
			g := d
			if w != nil {
				g *= w[j]
			}
			dxr[j] += rs * (g - mg - norm*mgn)
		}
	}
}
