package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// Shared test helpers: seeded random inputs, gonum-style guard bands around
// output slices, and tolerance checks that print the worst element.

// oddSizes are the lengths every kernel is tested on (ggml's odd tails).
var oddSizes = []int{1, 2, 3, 5, 7, 15, 17, 31, 33, 63, 127, 197, 255}

const (
	guardLen = 17
	sentinel = float32(-12345.678)
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

// randSlice returns n values uniform in [-1, 1).
func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(2*r.Float64() - 1)
	}
	return s
}

// guarded returns a slice of n elements filled from fill (or zeros if nil)
// that sits between two guard bands of sentinels; check with checkGuards.
func guarded(n int, fill []float32) (full, s []float32) {
	full = make([]float32, n+2*guardLen)
	for i := range full {
		full[i] = sentinel
	}
	s = full[guardLen : guardLen+n : guardLen+n]
	if fill != nil {
		copy(s, fill)
	} else {
		clear(s)
	}
	return full, s
}

func checkGuards(t *testing.T, name string, full []float32) {
	t.Helper()
	n := len(full) - 2*guardLen
	for i := 0; i < guardLen; i++ {
		if full[i] != sentinel {
			t.Fatalf("%s: guard before the slice overwritten at -%d: %v", name, guardLen-i, full[i])
		}
		if full[guardLen+n+i] != sentinel {
			t.Fatalf("%s: guard after the slice overwritten at +%d: %v", name, i, full[guardLen+n+i])
		}
	}
}

// maxAbs64 is max |x| over x (at least tiny, to scale tolerances).
func maxAbs64(x []float64) float64 {
	m := 1e-30
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

// compare checks |got[i]-want[i]| <= atol + rtol*|want[i]| for all i and,
// on failure, prints the first few values side by side and the worst one.
func compare(t *testing.T, name string, got []float32, want []float64, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d != %d", name, len(got), len(want))
	}
	worst, wi := -1.0, -1
	bad := 0
	for i := range want {
		d := math.Abs(float64(got[i]) - want[i])
		lim := atol + rtol*math.Abs(want[i])
		if !(d <= lim) { // also catches NaN
			bad++
			if excess := d / lim; math.IsNaN(d) || excess > worst {
				worst, wi = excess, i
				if math.IsNaN(d) {
					worst = math.Inf(1)
				}
			}
		}
	}
	if bad == 0 {
		return
	}
	msg := fmt.Sprintf("%s: %d/%d elements out of tolerance (atol=%.3g rtol=%.3g); worst [%d] got %v want %v\n", name, bad, len(want), atol, rtol, wi, got[wi], want[wi])
	for i := 0; i < min(5, len(want)); i++ {
		msg += fmt.Sprintf("  [%d] got %-14v want %v\n", i, got[i], want[i])
	}
	t.Fatal(msg)
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// mustPanic fails unless f panics with a message containing want.
func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want %q", want)
		}
		if s := fmt.Sprint(r); !strings.Contains(s, want) {
			t.Fatalf("panic %q, want it to contain %q", s, want)
		}
	}()
	f()
}

// fdStep is the central-difference step. In float64, with O(1) inputs, the
// truncation error is O(h²) ≈ 1e-12 and the cancellation error about
// ε₆₄·|L|/h ≈ 1e-9 for the losses used here, both far below the float32
// errors of the kernels under test (≈ 1e-7 relative).
const fdStep = 1e-6

// numGrad returns dL/dx by central differences, perturbing x in place (and
// restoring it); loss reads x.
func numGrad(x []float64, loss func() float64) []float64 {
	g := make([]float64, len(x))
	for i, old := range x {
		x[i] = old + fdStep
		lp := loss()
		x[i] = old - fdStep
		lm := loss()
		x[i] = old
		g[i] = (lp - lm) / (2 * fdStep)
	}
	return g
}

// dotLoss is L = Σ g·y, the loss whose gradient with respect to y is the
// upstream gradient g.
func dotLoss(g, y []float64) float64 {
	var s float64
	for i := range y {
		s += g[i] * y[i]
	}
	return s
}

// compareGrad checks a float32 backward against a finite-difference
// gradient: 1e-3 relative, plus 1e-4 of the largest gradient component as
// an absolute floor for components that are small through cancellation.
func compareGrad(t *testing.T, name string, got []float32, want []float64) {
	t.Helper()
	compare(t, name, got, want, 1e-4*maxAbs64(want)+1e-9, 1e-3)
}

// addTo returns base + d elementwise (the expected value of an accumulating
// backward that started from base).
func addTo(base []float32, d []float64) []float64 {
	out := make([]float64, len(d))
	for i := range d {
		out[i] = float64(base[i]) + d[i]
	}
	return out
}
