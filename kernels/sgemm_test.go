package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// sgemmCase is one conformance case; extra* widen the leading dimensions.
type sgemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	extraA, extraB int
	extraC         int
}

func (c sgemmCase) String() string {
	tr := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s/m=%d,n=%d,k=%d/alpha=%v,beta=%v/ld+%d,%d,%d", tr(c.transA), tr(c.transB), c.m, c.n, c.k, c.alpha, c.beta, c.extraA, c.extraB, c.extraC)
}

// sgemmCases combines the odd sizes without taking the full cube: for every
// pair (m, n) of oddSizes, k is a third size picked by index, so each size
// shows up in each role against many partners. The 4 transpose combinations,
// alpha/beta pairs and leading-dimension paddings rotate over the cases, and
// each transpose combination sees every pair once.
func sgemmCases() []sgemmCase {
	ab := [][2]float32{{1, 0}, {0.5, -1.5}, {-2, 1}, {1, 0.25}, {1.5, 0}}
	var cs []sgemmCase
	ns := len(oddSizes)
	for t := 0; t < 4; t++ {
		for i, m := range oddSizes {
			for j, n := range oddSizes {
				idx := t*ns*ns + i*ns + j
				k := oddSizes[(i+2*j+3*t)%ns]
				cs = append(cs, sgemmCase{
					transA: t&1 != 0, transB: t&2 != 0,
					m: m, n: n, k: k,
					alpha: ab[idx%len(ab)][0], beta: ab[idx%len(ab)][1],
					extraA: []int{0, 3, 1}[idx%3], extraB: []int{2, 0, 5}[idx%3], extraC: []int{0, 7}[idx%2],
				})
			}
		}
	}
	// Several k blocks (k > KC = 256), m > MC and n > NC, for every
	// transpose combination: the later k blocks take a different store path.
	for t := 0; t < 4; t++ {
		cs = append(cs,
			sgemmCase{transA: t&1 != 0, transB: t&2 != 0, m: 33, n: 17, k: 513, alpha: 0.5, beta: -1.5, extraA: 1, extraB: 2, extraC: 3},
			sgemmCase{transA: t&1 != 0, transB: t&2 != 0, m: 70, n: 1029, k: 257, alpha: -1, beta: 0},
			sgemmCase{transA: t&1 != 0, transB: t&2 != 0, m: 3, n: 1029, k: 300, alpha: 2, beta: 1},
			// Two k blocks of the AVX-512 blocking (KC = 1024).
			sgemmCase{transA: t&1 != 0, transB: t&2 != 0, m: 53, n: 70, k: 1030, alpha: 1, beta: 0.5, extraA: 2},
		)
	}
	// Long k on the dot-product path (k blocks of sgemmDotKC) and small m
	// against many B rows.
	cs = append(cs,
		sgemmCase{transB: true, m: 5, n: 37, k: 2100, alpha: 0.5, beta: -1.5, extraA: 3, extraB: 1, extraC: 2},
		sgemmCase{transB: true, m: 47, n: 130, k: 1025, alpha: 1, beta: 0},
	)
	// Edge cases: k = 0 and alpha = 0 only scale C; m or n = 0 do nothing.
	cs = append(cs,
		sgemmCase{m: 5, n: 7, k: 0, alpha: 1, beta: 0.5},
		sgemmCase{m: 5, n: 7, k: 0, alpha: 1, beta: 0},
		sgemmCase{transA: true, m: 3, n: 33, k: 17, alpha: 0, beta: -1},
		sgemmCase{m: 0, n: 7, k: 3, alpha: 1, beta: 1},
		sgemmCase{m: 7, n: 0, k: 3, alpha: 1, beta: 1},
	)
	return cs
}

// sgemmInputs builds A, B and a guarded C for a case.
func sgemmInputs(r *rand.Rand, tc sgemmCase) (a []float32, lda int, b []float32, ldb int, cFull, c []float32, ldc int) {
	aRows, aCols := tc.m, tc.k
	if tc.transA {
		aRows, aCols = tc.k, tc.m
	}
	bRows, bCols := tc.k, tc.n
	if tc.transB {
		bRows, bCols = tc.n, tc.k
	}
	lda, ldb, ldc = max(1, aCols+tc.extraA), max(1, bCols+tc.extraB), max(1, tc.n+tc.extraC)
	a = randSlice(r, matLen(aRows, aCols, lda))
	b = randSlice(r, matLen(bRows, bCols, ldb))
	cFull, c = guarded(matLen(tc.m, tc.n, ldc), randSlice(r, matLen(tc.m, tc.n, ldc)))
	if tc.beta == 0 {
		// beta == 0 must overwrite C: NaNs in it may not leak through.
		for i := range c {
			if (i%ldc) < tc.n && i%3 == 0 {
				c[i] = float32(math.NaN())
			}
		}
	}
	return
}

// sgemmRef returns C's valid elements (m×n, packed) computed in float64 by
// gonum's Dgemm, and a per-element error bound for a float32 computation.
//
// The bound is Higham's for a dot product, |fl(s) − s| ≤ γ_k Σ|a_p||b_p|
// with γ_k ≈ k·u and u = 2⁻²⁴, plus the rounding of alpha·s + beta·c, taken
// with k+3 terms and ε = 2⁻²³ = 2u (a factor 2 of slack). It scales with k
// and with the magnitudes actually summed, so it is tight on cancellation
// and cannot be met by a kernel that drops or repeats a term.
func sgemmRef(tc sgemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) (want, tol []float64) {
	m, n, k := tc.m, tc.n, tc.k
	want = make([]float64, m*n)
	tol = make([]float64, m*n)
	absC := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			if tc.beta != 0 {
				want[i*n+j] = float64(c[i*ldc+j])
				absC[i*n+j] = math.Abs(float64(c[i*ldc+j]))
			}
		}
	}
	if k > 0 && m > 0 && n > 0 {
		ga := blas64.General{Rows: m, Cols: k, Stride: lda, Data: to64(a)}
		if tc.transA {
			ga.Rows, ga.Cols = k, m
		}
		gb := blas64.General{Rows: k, Cols: n, Stride: ldb, Data: to64(b)}
		if tc.transB {
			gb.Rows, gb.Cols = n, k
		}
		tA, tB := blas.NoTrans, blas.NoTrans
		if tc.transA {
			tA = blas.Trans
		}
		if tc.transB {
			tB = blas.Trans
		}
		gc := blas64.General{Rows: m, Cols: n, Stride: n, Data: want}
		blas64.Gemm(tA, tB, float64(tc.alpha), ga, gb, float64(tc.beta), gc)
		// Σ|a||b| for the bound.
		for i := range ga.Data {
			ga.Data[i] = math.Abs(ga.Data[i])
		}
		for i := range gb.Data {
			gb.Data[i] = math.Abs(gb.Data[i])
		}
		gt := blas64.General{Rows: m, Cols: n, Stride: n, Data: tol}
		blas64.Gemm(tA, tB, math.Abs(float64(tc.alpha)), ga, gb, 0, gt)
	} else {
		for i := range want {
			want[i] *= float64(tc.beta)
		}
	}
	const eps32 = 1.0 / (1 << 23)
	for i := range tol {
		tol[i] = float64(k+3)*eps32*(tol[i]+math.Abs(float64(tc.beta))*absC[i]) + 1e-30
	}
	return want, tol
}

// checkSgemmResult compares C's valid part with want (per-element
// tolerance), checks that the padding between rows (ldc > n) and the guard
// bands are untouched.
func checkSgemmResult(t *testing.T, tc sgemmCase, cBefore, c []float32, cFull []float32, ldc int, want, tol []float64) {
	t.Helper()
	checkGuards(t, "C", cFull)
	for i := 0; i < tc.m; i++ {
		for j := tc.n; j < ldc && i*ldc+j < len(c); j++ {
			if x, y := c[i*ldc+j], cBefore[i*ldc+j]; math.Float32bits(x) != math.Float32bits(y) {
				t.Fatalf("padding C[%d, %d] (beyond n) changed: %v -> %v", i, j, y, x)
			}
		}
		for j := 0; j < tc.n; j++ {
			got, w, lim := float64(c[i*ldc+j]), want[i*tc.n+j], tol[i*tc.n+j]
			if !(math.Abs(got-w) <= lim) {
				t.Fatalf("C[%d, %d] = %v, want %v (|diff| %.3g > tol %.3g)", i, j, got, w, math.Abs(got-w), lim)
			}
		}
	}
}

// TestSgemm is the conformance suite, run for every variant of this CPU
// against a float64 reference.
func TestSgemm(t *testing.T) {
	for _, v := range sgemmVariants() {
		t.Run(v.Name, func(t *testing.T) {
			r := newRand(1)
			for _, tc := range sgemmCases() {
				a, lda, b, ldb, cFull, c, ldc := sgemmInputs(r, tc)
				cBefore := append([]float32(nil), c...)
				want, tol := sgemmRef(tc, a, lda, b, ldb, c, ldc)
				sgemmWith(&v, nil, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bMat{f: b}, ldb, tc.beta, c, ldc)
				if t.Failed() {
					return
				}
				t.Run(tc.String(), func(t *testing.T) {
					checkSgemmResult(t, tc, cBefore, c, cFull, ldc, want, tol)
				})
			}
		})
	}
}

// TestSgemmExported checks that the exported entry point (the selected
// variant) passes a few cases too.
func TestSgemmExported(t *testing.T) {
	r := newRand(2)
	for i, tc := range sgemmCases() {
		if i%17 != 0 {
			continue
		}
		a, lda, b, ldb, cFull, c, ldc := sgemmInputs(r, tc)
		cBefore := append([]float32(nil), c...)
		want, tol := sgemmRef(tc, a, lda, b, ldb, c, ldc)
		Sgemm(nil, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
		checkSgemmResult(t, tc, cBefore, c, cFull, ldc, want, tol)
	}
}

// TestSgemmPool: for a given variant the split over workers only moves tile
// boundaries, and edge tiles run the same arithmetic as full ones, so the
// result must be bitwise equal to the serial one.
func TestSgemmPool(t *testing.T) {
	shapes := []sgemmCase{
		{m: 197, n: 255, k: 127, alpha: 1, beta: 0},                             // n > m: split along n
		{m: 255, n: 63, k: 197, alpha: 0.5, beta: 1, transA: true},              // split m
		{m: 33, n: 1037, k: 65, alpha: 1, beta: 0.5, transB: true},              // split n, edge slivers
		{m: 1, n: 3001, k: 97, alpha: 1, beta: 0, transB: true},                 // matrix-vector, dot
		{m: 3, n: 1001, k: 63, alpha: -1, beta: 2, transA: true, transB: false}, // matrix-vector, axpy
		{m: 127, n: 127, k: 300, alpha: 1, beta: 0, transA: true, transB: true}, // two k blocks
		{m: 9, n: 301, k: 1500, alpha: 1, beta: 0.5, transB: true},              // dot path, two k blocks
	}
	for _, v := range sgemmVariants() {
		for _, tc := range shapes {
			r := newRand(3)
			a, lda, b, ldb, _, c0, ldc := sgemmInputs(r, tc)
			serial := append([]float32(nil), c0...)
			sgemmWith(&v, nil, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bMat{f: b}, ldb, tc.beta, serial, ldc)
			for _, w := range []int{1, 2, 3} {
				p := NewPool(w)
				// Several rounds so that workers are idle and take chunks.
				for round := 0; round < 3; round++ {
					c := append([]float32(nil), c0...)
					sgemmWith(&v, p, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bMat{f: b}, ldb, tc.beta, c, ldc)
					for i := range c {
						if math.Float32bits(c[i]) != math.Float32bits(serial[i]) {
							t.Fatalf("%s %v workers=%d: c[%d]=%v, serial %v", v.Name, tc, w, i, c[i], serial[i])
						}
					}
				}
				p.Close()
			}
		}
	}
}

// TestSgemmVariants runs every variant against the generic twin on shapes
// that cover full and edge tiles and several k blocks.
func TestSgemmVariants(t *testing.T) {
	generic := sgemmVariants()[0]
	if generic.Name != "generic" {
		t.Fatalf("first variant is %q, want generic", generic.Name)
	}
	for _, v := range sgemmVariants() {
		for _, tc := range []sgemmCase{
			{m: 64, n: 64, k: 64, alpha: 1},
			{m: 67, n: 131, k: 515, alpha: 1, beta: 0.5, transB: true},
			{m: 5, n: 9, k: 3, alpha: 2, beta: 1, transA: true},
		} {
			r := newRand(4)
			a, lda, b, ldb, _, c0, ldc := sgemmInputs(r, tc)
			want := append([]float32(nil), c0...)
			got := append([]float32(nil), c0...)
			sgemmWith(&generic, nil, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bMat{f: b}, ldb, tc.beta, want, ldc)
			sgemmWith(&v, nil, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bMat{f: b}, ldb, tc.beta, got, ldc)
			// Different kernels may sum in a different order: allow the
			// same k-scaled bound as the float64 comparison, twice.
			compare(t, v.Name+" "+tc.String(), got, to64(want), 2*float64(tc.k+3)/(1<<23), 2*float64(tc.k+3)/(1<<23))
		}
	}
}

func TestSgemmPanics(t *testing.T) {
	a := make([]float32, 12)
	b := make([]float32, 12)
	c := make([]float32, 12)
	mustPanic(t, "negative size", func() { Sgemm(nil, false, false, -1, 2, 2, 1, a, 2, b, 2, 0, c, 2) })
	mustPanic(t, "lda=2 < 3", func() { Sgemm(nil, false, false, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2) })
	mustPanic(t, "lda=2 < 3", func() { Sgemm(nil, true, false, 3, 2, 2, 1, a, 2, b, 2, 0, c, 2) })
	mustPanic(t, "ldb=2 < 3", func() { Sgemm(nil, false, true, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2) })
	mustPanic(t, "ldc=1 < 2", func() { Sgemm(nil, false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 1) })
	mustPanic(t, "len(a)=12 < 16", func() { Sgemm(nil, false, false, 4, 2, 4, 1, a, 4, b, 2, 0, c, 2) })
	mustPanic(t, "len(b)=12 < 14", func() { Sgemm(nil, false, false, 2, 2, 7, 1, make([]float32, 14), 7, b, 2, 0, c, 2) })
	mustPanic(t, "len(c)=12 < 14", func() { Sgemm(nil, false, false, 7, 2, 1, 1, a, 1, b, 2, 0, c, 2) })
}

// Benchmark shapes are named MxKxN: C (M×N) = A (M×K) · op(B) (K×N), as in
// a Linear layer y = x·Wᵀ with x [M, K] and W [N, K]. So 197x768x3072 is the
// MLP up-projection (197 tokens, 768 → 3072), 197x3072x768 the down
// projection, 197x768x2304 the fused QKV, and 1x768x30522 / 20x768x30522
// the LM head over the 30522-word vocabulary (B is the [30522, 768] weight,
// transposed). The model shapes use transB=true like Linear weights;
// 1024x1024x1024 is a plain square product (transB=false).
var sgemmBenchShapes = []struct {
	name    string
	m, k, n int
	transB  bool
}{
	{"197x768x768", 197, 768, 768, true},
	{"197x768x3072", 197, 768, 3072, true},
	{"197x3072x768", 197, 3072, 768, true},
	{"197x768x2304", 197, 768, 2304, true},
	{"1x768x768", 1, 768, 768, true},
	{"1x768x30522", 1, 768, 30522, true},
	{"20x768x30522", 20, 768, 30522, true},
	{"1024x1024x1024", 1024, 1024, 1024, false},
}

// BenchmarkSgemm reports GFLOP/s (2·M·N·K per call) per Variant/Shape/threads.
func BenchmarkSgemm(b *testing.B) {
	for _, v := range sgemmVariants() {
		for _, s := range sgemmBenchShapes {
			r := newRand(6)
			a := randSlice(r, s.m*s.k)
			w := randSlice(r, s.k*s.n)
			c := make([]float32, s.m*s.n)
			ldb := s.n
			if s.transB {
				ldb = s.k
			}
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%s/threads=%d", v.Name, s.name, threads), func(b *testing.B) {
					p := NewPool(threads)
					defer p.Close()
					for b.Loop() {
						sgemmWith(&v, p, false, s.transB, s.m, s.n, s.k, 1, a, s.k, bMat{f: w}, ldb, 0, c, s.n)
					}
					flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// TestSgemmB16 runs every variant with B in bfloat16 and binary16 against
// the generic Sgemm on the widened B, on a slice of the odd-size suite.
func TestSgemmB16(t *testing.T) {
	for _, v := range sgemmVariants() {
		r := newRand(8)
		for i, tc := range sgemmCases() {
			if i%5 != 0 {
				continue
			}
			a, lda, b, ldb, cFull, c, ldc := sgemmInputs(r, tc)
			for _, bf := range []bool{true, false} {
				h := make([]uint16, len(b))
				wide := make([]float32, len(b))
				if bf {
					F32ToBF16(h, b)
					BF16ToF32(wide, h)
				} else {
					F32ToF16(h, b)
					F16ToF32(wide, h)
				}
				want := append([]float32(nil), c...)
				sgemmWith(&sgemmGenericVariant, nil, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bMat{f: wide}, ldb, tc.beta, want, ldc)
				got := append([]float32(nil), c...)
				gFull, g := guarded(len(got), got)
				sgemmWith(&v, nil, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bMat{h: h, bf16: bf, half: true}, ldb, tc.beta, g, ldc)
				checkGuards(t, v.Name+" B16 "+tc.String(), gFull)
				tol := 2 * float64(tc.k+3) / (1 << 23)
				compare(t, fmt.Sprintf("%s B16(bf16=%v) %v", v.Name, bf, tc), g, to64(want), 4*tol, 4*tol)
			}
			_ = cFull
		}
	}
	// The exported entry point.
	a, b := randSlice(newRand(9), 3*40), randSlice(newRand(10), 40*50)
	h := make([]uint16, len(b))
	F32ToBF16(h, b)
	wide := make([]float32, len(b))
	BF16ToF32(wide, h)
	want, got := make([]float32, 3*50), make([]float32, 3*50)
	Sgemm(nil, false, true, 3, 50, 40, 1, a, 40, wide, 40, 0, want, 50)
	SgemmB16(nil, false, true, 3, 50, 40, 1, a, 40, h, true, 40, 0, got, 50)
	compare(t, "SgemmB16", got, to64(want), 1e-5, 1e-5)
	mustPanic(t, "len(b)=3 < 4", func() {
		SgemmB16(nil, false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]uint16, 3), true, 2, 0, make([]float32, 4), 2)
	})
}

// BenchmarkSgemmB16 is BenchmarkSgemm with bfloat16 B (Linear weights in
// bf16, widened while packed or streamed), at 1 and 2 threads.
func BenchmarkSgemmB16(b *testing.B) {
	for _, v := range sgemmVariants() {
		for _, s := range sgemmBenchShapes {
			if !s.transB {
				continue
			}
			r := newRand(6)
			a := randSlice(r, s.m*s.k)
			w := make([]uint16, s.k*s.n)
			F32ToBF16(w, randSlice(r, s.k*s.n))
			c := make([]float32, s.m*s.n)
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%s/threads=%d", v.Name, s.name, threads), func(b *testing.B) {
					p := NewPool(threads)
					defer p.Close()
					for b.Loop() {
						sgemmWith(&v, p, false, true, s.m, s.n, s.k, 1, a, s.k, bMat{h: w, bf16: true, half: true}, s.k, 0, c, s.n)
					}
					flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
