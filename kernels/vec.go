package kernels

// The vector-kernel family: dot, axpy, the softmax row, GELU, QuickGELU and
// the LayerNorm row, one table entry per instruction set (kernels.md §5).
// The generic entry holds the reference versions (float64 exp/erfc and
// statistics); the assembly entries compute exp, erfc and the softmax sums
// in float32 lanes (a few ulp; see vec_test.go for the bounds tested) and
// keep the LayerNorm statistics and per-element map in float64.

import (
	"math"
	"sync"
)

// vecVariant is one row of the vector-kernel table. Every function takes
// slices of equal length (the exported wrappers check).
type vecVariant struct {
	name string
	isa  isa
	// dot returns Σ x[i]·y[i]; axpy adds alpha·x to y.
	dot  func(x, y []float32) float32
	axpy func(alpha float32, x, y []float32)
	// softmaxRow writes the softmax of x to out (may alias); a row of
	// -Inf gives zeros.
	softmaxRow func(out, x []float32)
	// gelu and quickGelu map x to out (may alias).
	gelu, quickGelu func(out, x []float32)
	// layerNormRow normalizes x into out with weight w and bias b (both
	// non-nil, len(x)) and returns the statistics.
	layerNormRow func(out, x, w, b []float32, eps float32) (mean, rstd float64)
	// maxv, expSub and scale are the pieces of the softmax, also used by
	// the fused attention: max of x (len ≥ 1); out = exp(x-m), returning
	// the sum; x *= s.
	maxv   func(x []float32) float32
	expSub func(out, x []float32, m float32) float32
	scale  func(x []float32, s float32)
}

var vecGenericVariant = vecVariant{
	name:         "generic",
	isa:          isaGeneric,
	dot:          dotGeneric,
	axpy:         axpyGeneric,
	softmaxRow:   softmaxRowGeneric,
	gelu:         geluGeneric,
	quickGelu:    quickGeluGeneric,
	layerNormRow: layerNormRowGeneric,
	maxv:         maxGeneric,
	expSub:       expSubGeneric,
	scale:        scaleGeneric,
}

// vecVariants lists the vector variants this CPU can run, generic first.
func vecVariants() []vecVariant {
	return append([]vecVariant{vecGenericVariant}, vecArchVariants()...)
}

var vecChoice = sync.OnceValue(func() *vecVariant {
	vs := vecVariants()
	levels := make([]isa, len(vs))
	for i, v := range vs {
		levels[i] = v.isa
	}
	return &vs[pickVariant(levels, selectedISA())]
})

// vecSelected is the variant the exported vector kernels use.
func vecSelected() *vecVariant { return vecChoice() }

// vecFor returns the best vector variant at or below level l (the fused
// attention pairs it with the Sgemm variant of the same level).
func vecFor(l isa) *vecVariant {
	vs := vecVariants()
	levels := make([]isa, len(vs))
	for i, v := range vs {
		levels[i] = v.isa
	}
	return &vs[pickVariant(levels, l)]
}

func maxGeneric(x []float32) float32 {
	mx := float32(math.Inf(-1))
	for _, v := range x {
		if v > mx || v != v {
			mx = v
			if v != v {
				return v
			}
		}
	}
	return mx
}

// expSubGeneric: out[i] = exp(x[i]-m) in float64, rounded; the sum is of
// the rounded values, in float64.
func expSubGeneric(out, x []float32, m float32) float32 {
	out = out[:len(x)]
	var s float64
	for j, v := range x {
		e := float32(math.Exp(float64(v - m)))
		out[j] = e
		s += float64(e)
	}
	return float32(s)
}

func scaleGeneric(x []float32, s float32) {
	for j := range x {
		x[j] *= s
	}
}

// softmaxRowVec is the softmax row from the three pieces of a variant.
func softmaxRowVec(maxv func([]float32) float32, expSub func(out, x []float32, m float32) float32, scale func([]float32, float32), out, x []float32) {
	if len(x) == 0 {
		return
	}
	m := maxv(x)
	if math.IsInf(float64(m), -1) {
		clear(out[:len(x)])
		return
	}
	s := expSub(out, x, m)
	scale(out[:len(x)], 1/s)
}
