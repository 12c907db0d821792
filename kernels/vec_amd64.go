//go:build !purego && !noasm

package kernels

// Go wrappers around the generated vector kernels. The AVX-512 assembly
// handles any length with masked tails; the AVX2 assembly takes multiples
// of 8 (of 4 for the float64 LayerNorm pieces) and the wrappers finish the
// tail with the generic code.

import (
	"math"
	"slices"
)

func vecArchVariants() []vecVariant {
	var vs []vecVariant
	have := cpuISAs()
	if slices.Contains(have, isaAVX2) {
		vs = append(vs, vecVariant{
			name: "avx2", isa: isaAVX2,
			dot: dotAVX2Go, axpy: axpyAVX2Go,
			softmaxRow: func(out, x []float32) { softmaxRowVec(maxAVX2Go, expSubAVX2Go, scaleAVX2Go, out, x) },
			gelu:       geluAVX2Go, quickGelu: quickGeluAVX2Go,
			layerNormRow: layerNormRowAVX2,
			maxv:         maxAVX2Go, expSub: expSubAVX2Go, scale: scaleAVX2Go,
		})
	}
	if slices.Contains(have, isaAVX512) {
		vs = append(vs, vecVariant{
			name: "avx512", isa: isaAVX512,
			dot: dotAVX512Go, axpy: axpyAVX512Go,
			softmaxRow: func(out, x []float32) { softmaxRowVec(maxAVX512Go, expSubAVX512Go, scaleAVX512Go, out, x) },
			gelu:       geluAVX512Go, quickGelu: quickGeluAVX512Go,
			layerNormRow: layerNormRowAVX512,
			maxv:         maxAVX512Go, expSub: expSubAVX512Go, scale: scaleAVX512Go,
		})
	}
	return vs
}

// ptr is &s[0], or nil for an empty slice (the assembly then reads nothing).
func ptr(s []float32) *float32 {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

// --- AVX-512 ---

func dotAVX512Go(x, y []float32) float32 {
	y = y[:len(x)]
	return dotAVX512(ptr(x), ptr(y), len(x))
}

func axpyAVX512Go(alpha float32, x, y []float32) {
	y = y[:len(x)]
	axpyAVX512(alpha, ptr(x), ptr(y), len(x))
}

func maxAVX512Go(x []float32) float32 { return maxAVX512(&x[0], len(x)) }

func expSubAVX512Go(out, x []float32, m float32) float32 {
	out = out[:len(x)]
	return expSubAVX512(ptr(out), ptr(x), len(x), m)
}

func scaleAVX512Go(x []float32, s float32) { scaleAVX512(ptr(x), len(x), s) }

func geluAVX512Go(out, x []float32) {
	out = out[:len(x)]
	geluAVX512(ptr(out), ptr(x), len(x))
}

func quickGeluAVX512Go(out, x []float32) {
	out = out[:len(x)]
	quickGeluAVX512(ptr(out), ptr(x), len(x))
}

func layerNormRowAVX512(out, x, w, b []float32, eps float32) (float64, float64) {
	c := len(x)
	out, w, b = out[:c], w[:c], b[:c]
	m := sumF64AVX512(&x[0], c) / float64(c)
	r := 1 / math.Sqrt(sumSqDevF64AVX512(&x[0], c, m)/float64(c)+float64(eps))
	lnApplyAVX512(&out[0], &x[0], &w[0], &b[0], c, m, r)
	return m, r
}

// --- AVX2: assembly on the multiple-of-8 prefix, generic tail ---

func dotAVX2Go(x, y []float32) float32 {
	y = y[:len(x)]
	n := len(x) &^ 7
	var s float32
	if n > 0 {
		s = dotAVX2(&x[0], &y[0], n)
	}
	return s + dotGeneric(x[n:], y[n:])
}

func axpyAVX2Go(alpha float32, x, y []float32) {
	y = y[:len(x)]
	n := len(x) &^ 7
	if n > 0 {
		axpyAVX2(alpha, &x[0], &y[0], n)
	}
	axpyGeneric(alpha, x[n:], y[n:])
}

func maxAVX2Go(x []float32) float32 {
	n := len(x) &^ 7
	m := float32(math.Inf(-1))
	if n > 0 {
		m = maxAVX2(&x[0], n)
	}
	if t := maxGeneric(x[n:]); t > m || t != t {
		m = t
	}
	return m
}

func expSubAVX2Go(out, x []float32, m float32) float32 {
	out = out[:len(x)]
	n := len(x) &^ 7
	var s float32
	if n > 0 {
		s = expSubAVX2(&out[0], &x[0], n, m)
	}
	return s + expSubGeneric(out[n:], x[n:], m)
}

func scaleAVX2Go(x []float32, s float32) {
	n := len(x) &^ 7
	if n > 0 {
		scaleAVX2(&x[0], n, s)
	}
	scaleGeneric(x[n:], s)
}

func geluAVX2Go(out, x []float32) {
	out = out[:len(x)]
	n := len(x) &^ 7
	if n > 0 {
		geluAVX2(&out[0], &x[0], n)
	}
	geluGeneric(out[n:], x[n:])
}

func quickGeluAVX2Go(out, x []float32) {
	out = out[:len(x)]
	n := len(x) &^ 7
	if n > 0 {
		quickGeluAVX2(&out[0], &x[0], n)
	}
	quickGeluGeneric(out[n:], x[n:])
}

func layerNormRowAVX2(out, x, w, b []float32, eps float32) (float64, float64) {
	c := len(x)
	out, w, b = out[:c], w[:c], b[:c]
	n := c &^ 3
	var s, ss float64
	if n > 0 {
		s = sumF64AVX2(&x[0], n)
	}
	for _, v := range x[n:] {
		s += float64(v)
	}
	m := s / float64(c)
	if n > 0 {
		ss = sumSqDevF64AVX2(&x[0], n, m)
	}
	for _, v := range x[n:] {
		d := float64(v) - m
		ss += d * d
	}
	r := 1 / math.Sqrt(ss/float64(c)+float64(eps))
	if n > 0 {
		lnApplyAVX2(&out[0], &x[0], &w[0], &b[0], n, m, r)
	}
	for j := n; j < c; j++ {
		out[j] = float32((float64(x[j])-m)*r*float64(w[j]) + float64(b[j]))
	}
	return m, r
}
