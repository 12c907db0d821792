package kernels

import (
	"fmt"
	"math"
	"testing"
)

// TestDotAxpy checks Dot (every variant's and the exported one) and Axpy
// against float64 sums. The Dot bound is Higham's γ_n·Σ|x||y| with ε = 2u.
func TestDotAxpy(t *testing.T) {
	r := newRand(5)
	for _, n := range append([]int{0, 8, 16, 64, 1000, 1023}, oddSizes...) {
		x, y := randSlice(r, n), randSlice(r, n)
		var want, sabs float64
		for i := range x {
			want += float64(x[i]) * float64(y[i])
			sabs += math.Abs(float64(x[i]) * float64(y[i]))
		}
		for _, v := range sgemmVariants() {
			got := float64(v.Dot(x, y))
			if lim := float64(n+1) / (1 << 23) * sabs; math.Abs(got-want) > lim+1e-30 {
				t.Errorf("%s Dot n=%d: got %v want %v", v.Name, n, got, want)
			}
		}
		for _, v := range vecVariants() {
			got := float64(v.dot(x, y))
			if lim := float64(n+1) / (1 << 23) * sabs; math.Abs(got-want) > lim+1e-30 {
				t.Errorf("%s dot n=%d: got %v want %v", v.name, n, got, want)
			}
			full, yy := guarded(n, y)
			v.axpy(-0.75, x, yy)
			checkGuards(t, v.name+" axpy", full)
			w := make([]float64, n)
			for i := range w {
				w[i] = float64(y[i]) - 0.75*float64(x[i])
			}
			compare(t, fmt.Sprintf("%s axpy n=%d", v.name, n), yy, w, 1e-7, 1e-6)
		}
		if got := float64(Dot(x, y)); math.Abs(got-want) > float64(n+1)/(1<<23)*sabs+1e-30 {
			t.Errorf("Dot n=%d: got %v want %v", n, got, want)
		}
		full, yy := guarded(n, y)
		Axpy(-0.75, x, yy)
		checkGuards(t, "Axpy", full)
		w := make([]float64, n)
		for i := range w {
			w[i] = float64(y[i]) - 0.75*float64(x[i])
		}
		compare(t, fmt.Sprintf("Axpy n=%d", n), yy, w, 1e-7, 1e-6)
	}
	mustPanic(t, "kernels: Dot", func() { Dot(make([]float32, 3), make([]float32, 2)) })
	mustPanic(t, "kernels: Axpy", func() { Axpy(1, make([]float32, 3), make([]float32, 4)) })
}
