package kernels

import (
	"fmt"
	"math"
	"testing"
)

// layerNorm64 is the float64 twin of LayerNorm; w or b nil mean 1 and 0.
func layerNorm64(x, w, b []float64, n, c int, eps float64) (out, mean, rstd []float64) {
	out, mean, rstd = make([]float64, n*c), make([]float64, n), make([]float64, n)
	for i := 0; i < n; i++ {
		xr := x[i*c : (i+1)*c]
		var s float64
		for _, v := range xr {
			s += v
		}
		m := s / float64(c)
		var ss float64
		for _, v := range xr {
			ss += (v - m) * (v - m)
		}
		rs := 1 / math.Sqrt(ss/float64(c)+eps)
		mean[i], rstd[i] = m, rs
		for j, v := range xr {
			y := (v - m) * rs
			if w != nil {
				y *= w[j]
			}
			if b != nil {
				y += b[j]
			}
			out[i*c+j] = y
		}
	}
	return
}

// lnInput returns rows with an offset (so the mean matters) and a spread.
func lnInput(seed uint64, n, c int) (x, w, b []float32) {
	r := newRand(seed)
	x = randSlice(r, n*c)
	for i := range x {
		x[i] = 2*x[i] + 0.7
	}
	w, b = randSlice(r, c), randSlice(r, c)
	for i := range w {
		w[i] += 1
	}
	return
}

func TestLayerNorm(t *testing.T) {
	for _, n := range []int{1, 3, 5} {
		for _, c := range oddSizes {
			for _, variant := range []string{"w,b", "nil,nil", "w,nil", "nil,b"} {
				for _, eps := range []float32{1e-5, 1e-12} {
					name := fmt.Sprintf("n=%d,c=%d,%s,eps=%g", n, c, variant, eps)
					x, w, b := lnInput(uint64(n*1000+c), n, c)
					switch variant {
					case "nil,nil":
						w, b = nil, nil
					case "w,nil":
						b = nil
					case "nil,b":
						w = nil
					}
					var w64, b64 []float64
					if w != nil {
						w64 = to64(w)
					}
					if b != nil {
						b64 = to64(b)
					}
					want, wantMean, wantRstd := layerNorm64(to64(x), w64, b64, n, c, float64(eps))
					fullO, out := guarded(n*c, nil)
					fullM, mean := guarded(n, nil)
					fullR, rstd := guarded(n, nil)
					LayerNorm(out, mean, rstd, x, w, b, n, c, eps)
					checkGuards(t, name+" out", fullO)
					checkGuards(t, name+" mean", fullM)
					checkGuards(t, name+" rstd", fullR)
					// Statistics are float64 sums rounded once; the output is
					// a few float32 operations on O(1) values, but x−mean
					// loses the relative precision of |mean| ≈ 0.7 against a
					// std ≈ 1, so allow an absolute 1e-6 of the output scale.
					compare(t, name+" mean", mean, wantMean, 1e-7, 1e-7)
					compare(t, name+" rstd", rstd, wantRstd, 0, 1e-6)
					compare(t, name+" out", out, want, 1e-6*maxAbs64(want), 1e-6)
					// Every variant (all keep the statistics and the map in
					// float64), on guarded slices.
					for _, v := range vecVariants() {
						fo, o := guarded(n*c, nil)
						fm, mn := guarded(n, nil)
						fr, rs := guarded(n, nil)
						layerNormWith(&v, o, mn, rs, x, w, b, n, c, eps)
						checkGuards(t, v.name+" "+name+" out", fo)
						checkGuards(t, v.name+" "+name+" mean", fm)
						checkGuards(t, v.name+" "+name+" rstd", fr)
						compare(t, v.name+" "+name+" mean", mn, wantMean, 1e-7, 1e-7)
						compare(t, v.name+" "+name+" rstd", rs, wantRstd, 0, 1e-6)
						compare(t, v.name+" "+name+" out", o, want, 1e-6*maxAbs64(want), 1e-6)
					}
					// In place, without saving statistics.
					LayerNorm(x, nil, nil, x, w, b, n, c, eps)
					compare(t, name+" in place", x, want, 1e-6*maxAbs64(want), 1e-6)
				}
			}
		}
	}
	mustPanic(t, "LayerNorm: len(w)=2 < 3", func() {
		LayerNorm(make([]float32, 6), nil, nil, make([]float32, 6), make([]float32, 2), nil, 2, 3, 1e-5)
	})
	mustPanic(t, "LayerNorm: len(mean)=1 < 2", func() {
		LayerNorm(make([]float32, 6), make([]float32, 1), nil, make([]float32, 6), nil, nil, 2, 3, 1e-5)
	})
}

func TestLayerNormBackward(t *testing.T) {
	for _, sh := range [][2]int{{1, 1}, {2, 3}, {3, 7}, {2, 33}, {1, 197}, {2, 255}} {
		for _, withW := range []bool{true, false} {
			n, c := sh[0], sh[1]
			name := fmt.Sprintf("n=%d,c=%d,w=%v", n, c, withW)
			x, w, b := lnInput(uint64(n*31+c), n, c)
			if !withW {
				w = nil
			}
			r := newRand(uint64(c) + 99)
			g := randSlice(r, n*c)
			const eps = 1e-5
			x64, b64, g64 := to64(x), to64(b), to64(g)
			var w64 []float64
			if w != nil {
				w64 = to64(w)
			}
			loss := func() float64 {
				out, _, _ := layerNorm64(x64, w64, b64, n, c, eps)
				return dotLoss(g64, out)
			}
			wantDx := numGrad(x64, loss)
			wantDb := numGrad(b64, loss)
			var wantDw []float64
			if w != nil {
				wantDw = numGrad(w64, loss)
			}

			out := make([]float32, n*c)
			mean, rstd := make([]float32, n), make([]float32, n)
			LayerNorm(out, mean, rstd, x, w, b, n, c, eps)
			// Start from non-zero gradients: the backward must accumulate.
			dx0, dw0, db0 := randSlice(r, n*c), randSlice(r, c), randSlice(r, c)
			fullX, dx := guarded(n*c, dx0)
			fullW, dw := guarded(c, dw0)
			fullB, db := guarded(c, db0)
			LayerNormBackward(dx, dw, db, g, x, w, mean, rstd, n, c)
			checkGuards(t, name+" dx", fullX)
			checkGuards(t, name+" dw", fullW)
			checkGuards(t, name+" db", fullB)
			compare(t, name+" dx", dx, addTo(dx0, wantDx), 1e-4*maxAbs64(wantDx)+1e-6, 1e-3)
			compare(t, name+" db", db, addTo(db0, wantDb), 1e-4*maxAbs64(wantDb)+1e-6, 1e-3)
			if w != nil {
				compare(t, name+" dw", dw, addTo(dw0, wantDw), 1e-4*maxAbs64(wantDw)+1e-6, 1e-3)
			}
			// dw and db may be nil.
			dx2 := append([]float32(nil), dx0...)
			LayerNormBackward(dx2, nil, nil, g, x, w, mean, rstd, n, c)
			compare(t, name+" dx (nil dw, db)", dx2, addTo(dx0, wantDx), 1e-4*maxAbs64(wantDx)+1e-6, 1e-3)
		}
	}
	mustPanic(t, "mean and rstd are required", func() {
		LayerNormBackward(nil, nil, nil, nil, nil, nil, nil, nil, 1, 1)
	})
}
