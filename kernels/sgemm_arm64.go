//go:build !purego && !noasm

package kernels

// The NEON variants (sgemm_arm64.s, neon_arm64.h): an 8×12 micro-kernel on
// packed A and B, and dot/axpy loops. The kernel writes a register tile
// that the generic store merges into C, so edge tiles and full tiles share
// their arithmetic. NEON is part of ARMv8-A, so no feature check is needed;
// only base ASIMD instructions are used (cortex-a53 runs them).

const neonMR, neonNR = 8, 12

//go:noescape
func sgemmKernNEON8x12(kc int, a *float32, b *float32, t *float32)

//go:noescape
func dotNEON(x *float32, y *float32, n int) float32

//go:noescape
func axpyNEON(alpha float32, x *float32, y *float32, n int)

func sgemmArchVariants() []SgemmVariant {
	return []SgemmVariant{{
		Name: "neon", isa: isaNEON,
		MR: neonMR, NR: neonNR, KC: 256, MC: 128, NC: 1536,
		aKMajor:    true,
		splitGrain: 4,
		Kernel:     kernNEON,
		Dot:        dotNEONGo,
		Axpy:       axpyNEONGo,
	}}
}

func vecArchVariants() []vecVariant {
	v := vecGenericVariant
	v.name, v.isa = "neon", isaNEON
	v.dot, v.axpy = dotNEONGo, axpyNEONGo
	return []vecVariant{v}
}

func kernNEON(kc int, a []float32, _ int, b, c []float32, ldc, mr, nr int, alpha, beta float32) {
	if kc < 1 || mr < 1 || mr > neonMR || nr < 1 || nr > neonNR {
		panic(errDim("kernNEON", "bad tile"))
	}
	checkLen("kernNEON", "a", a, kc*neonMR)
	checkLen("kernNEON", "b", b, kc*neonNR)
	checkLen("kernNEON", "c", c, (mr-1)*ldc+nr)
	var t [neonMR * neonNR]float32
	sgemmKernNEON8x12(kc, &a[0], &b[0], &t[0])
	storeTile(t[:], neonNR, c, ldc, mr, nr, alpha, beta)
}

func dotNEONGo(x, y []float32) float32 {
	y = y[:len(x)]
	n := len(x) &^ 15
	var s float32
	if n > 0 {
		s = dotNEON(&x[0], &y[0], n)
	}
	return s + dotGeneric(x[n:], y[n:])
}

func axpyNEONGo(alpha float32, x, y []float32) {
	y = y[:len(x)]
	n := len(x) &^ 15
	if n > 0 {
		axpyNEON(alpha, &x[0], &y[0], n)
	}
	axpyGeneric(alpha, x[n:], y[n:])
}
