package kernels

import (
	"fmt"
	"math"
	"testing"
)

// gelu64 is the exact GELU in float64. It uses erfc: 1+erf(x/√2) cancels
// to nothing (or to 1e-16 noise) in float64 too once x < -8.
func gelu64(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }

func quickGelu64(x float64) float64 { return x / (1 + math.Exp(-1.702*x)) }

// activationInputs covers the odd sizes with values in [-6, 6) plus a sweep
// that reaches the saturated tails.
func activationInputs() [][]float32 {
	r := newRand(11)
	var xs [][]float32
	for _, n := range oddSizes {
		x := randSlice(r, n)
		for i := range x {
			x[i] *= 6
		}
		xs = append(xs, x)
	}
	var sweep []float32
	for v := -12.0; v <= 12; v += 0.173 {
		sweep = append(sweep, float32(v))
	}
	return append(xs, append(sweep, 0, -0, 1e-30, -1e-30, 30, -30))
}

type activation struct {
	name string
	fwd  func(out, x []float32)
	bwd  func(dx, x, dout []float32)
	ref  func(float64) float64
}

var activations = []activation{
	{"Gelu", Gelu, GeluBackward, gelu64},
	{"QuickGelu", QuickGelu, QuickGeluBackward, quickGelu64},
}

// actTol is the tolerance of a variant's forward activations against the
// float64 reference. Generic: one float64 evaluation rounded once to
// float32 (erfc keeps the negative tail accurate, where 1+erf would
// cancel): 1 ulp, plus a tiny absolute floor for results near zero.
// Assembly: exp and erfc in float32 lanes; the argument of exp (1.702x, or
// x²/2 for GELU) is rounded to float32, which costs |arg|·2⁻²⁴ relative
// (≈1e-6 at the values of 1e-5 and below in the negative tails), so 2e-6
// relative with an absolute floor of 1e-9 on outputs of order 1.
func actTol(v vecVariant) (atol, rtol float64) {
	if v.isa == isaGeneric {
		return 1e-30, 1.2e-7
	}
	return 1e-9, 2e-6
}

func TestActivations(t *testing.T) {
	for _, v := range vecVariants() {
		atol, rtol := actTol(v)
		for _, a := range []activation{
			{name: "Gelu", fwd: v.gelu, ref: gelu64},
			{name: "QuickGelu", fwd: v.quickGelu, ref: quickGelu64},
		} {
			for _, x := range activationInputs() {
				name := fmt.Sprintf("%s %s n=%d", v.name, a.name, len(x))
				want := make([]float64, len(x))
				for i, v := range x {
					want[i] = a.ref(float64(v))
				}
				full, out := guarded(len(x), nil)
				a.fwd(out, x)
				checkGuards(t, name, full)
				compare(t, name, out, want, atol, rtol)
				in := append([]float32(nil), x...)
				a.fwd(in, in)
				compare(t, name+" in place", in, want, atol, rtol)
			}
		}
	}
	// The exported functions use the selected variant.
	atol, rtol := actTol(*vecSelected())
	for _, a := range activations {
		x := activationInputs()[5]
		want := make([]float64, len(x))
		for i, v := range x {
			want[i] = a.ref(float64(v))
		}
		out := make([]float32, len(x))
		a.fwd(out, x)
		compare(t, "exported "+a.name, out, want, atol, rtol)
	}
}

func TestActivationsBackward(t *testing.T) {
	for _, a := range activations {
		for _, x := range activationInputs() {
			name := fmt.Sprintf("%s n=%d", a.name, len(x))
			r := newRand(uint64(len(x)))
			g := randSlice(r, len(x))
			// Elementwise: dL/dx_i = g_i·f'(x_i), with f' by central differences.
			want := make([]float64, len(x))
			for i, v := range x {
				f := float64(v)
				want[i] = float64(g[i]) * (a.ref(f+fdStep) - a.ref(f-fdStep)) / (2 * fdStep)
			}
			dx0 := randSlice(r, len(x))
			full, dx := guarded(len(x), dx0)
			a.bwd(dx, x, g)
			checkGuards(t, name, full)
			// The backward accumulates into dx.
			compare(t, name, dx, addTo(dx0, want), 1e-6, 1e-3)
		}
		mustPanic(t, a.name+"Backward: len(dout)=1 < 2", func() { a.bwd(make([]float32, 2), make([]float32, 2), make([]float32, 1)) })
		mustPanic(t, a.name+": len(out)=1 < 2", func() { a.fwd(make([]float32, 1), make([]float32, 2)) })
	}
}
