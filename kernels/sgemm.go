package kernels

// Single-precision general matrix multiply, the hot kernel of the model
// (every Linear and both attention products). This file holds the exported
// entry point, the variant table and the blocked driver shared by all
// variants; the pure-Go micro-kernel is in sgemm_generic.go. It is a plain
// GotoBLAS/BLIS-style driver, not a tuned BLAS: no prefetching, one level of
// blocking per loop, and a matrix-vector path for the m ≤ 4 rows of decoding.

import (
	"fmt"
	"sync"
)

// SgemmVariant is one row of the Sgemm dispatch table (kernels.md §5). The
// blocked driver packs op(A) into slivers of MR rows and op(B) into slivers
// of NR columns and calls Kernel on each pair; Dot serves the
// matrix-vector path and the exported Dot.
type SgemmVariant struct {
	// Name is "generic", "avx2", "avx512", "neon", …
	Name string
	// MR×NR is the register tile of Kernel.
	MR, NR int
	// Kernel overwrites the MR×NR tile t with the product of one packed
	// sliver of A and one of B:
	//
	//	for i := 0; i < MR; i++ {
	//		for j := 0; j < NR; j++ {
	//			var s float32
	//			for p := 0; p < kc; p++ {
	//				s += a[p*MR+i] * b[p*NR+j]
	//			}
	//			t[i*NR+j] = s
	//		}
	//	}
	//
	// with len(a) ≥ kc*MR, len(b) ≥ kc*NR, len(t) ≥ MR*NR, kc ≥ 1.
	Kernel func(kc int, a, b, t []float32)
	// Dot is the inner product of two equal-length slices.
	Dot func(x, y []float32) float32
}

var sgemmGenericVariant = SgemmVariant{
	Name:   "generic",
	MR:     genericMR,
	NR:     genericNR,
	Kernel: kernGeneric2x4,
	Dot:    dotGeneric,
}

// sgemmArchVariants is filled by per-architecture init functions (none yet)
// with the variants this CPU supports, best last.
var sgemmArchVariants []SgemmVariant

// sgemmVariants lists every Sgemm variant this CPU can run, generic first
// and the preferred one last. Tests and benchmarks loop over it.
func sgemmVariants() []SgemmVariant {
	return append([]SgemmVariant{sgemmGenericVariant}, sgemmArchVariants...)
}

var sgemmChoice = sync.OnceValue(func() *SgemmVariant {
	vs := sgemmVariants()
	return &vs[len(vs)-1]
})

// sgemmSelected is the variant the exported kernels use, chosen once.
func sgemmSelected() *SgemmVariant { return sgemmChoice() }

// Blocking parameters of the driver, in elements. A KC×MC block of packed A
// (64 KiB) is meant to stay in L2 while a KC×NR sliver of packed B (4 KiB
// for NR=4) stays in L1; the KC×NC panel of B (1 MiB) lives in L2/L3.
const (
	sgemmKC = 256
	sgemmMC = 64
	sgemmNC = 1024
	// Problems with m*n*k below this run serially even with a pool.
	sgemmParallelMin = 1 << 16
	// Up to this many rows, Sgemm uses the matrix-vector path.
	sgemmGemvMaxM = 4
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major matrices, where
// op(X) is X or Xᵀ, op(A) is m×k, op(B) is k×n and C is m×n:
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var s float32
//			for p := 0; p < k; p++ {
//				s += opA(i, p) * opB(p, j)
//			}
//			if beta == 0 {
//				c[i*ldc+j] = alpha * s
//			} else {
//				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
//			}
//		}
//	}
//
// where opA(i, p) is a[i*lda+p], or a[p*lda+i] if transA (A stored k×m),
// and opB(p, j) is b[p*ldb+j], or b[j*ldb+p] if transB (B stored n×k, as a
// Linear weight [out, in] is). When beta is 0, C is only written, so NaNs in
// it are ignored. The summation order over p is unspecified.
//
// Work is split over p's workers by rows of C, or by columns when C has more
// columns than rows; problems with m*n*k < 65536 run serially. For a given
// variant the result does not depend on the number of workers.
//
// It panics on negative sizes, on a leading dimension smaller than the
// stored row length (or than 1) and on slices too short for their matrices.
func Sgemm(p *Pool, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmWith(sgemmSelected(), p, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func checkSgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	const fn = "Sgemm"
	if m < 0 || n < 0 || k < 0 {
		panic(errDim(fn, fmt.Sprintf("negative size m=%d n=%d k=%d", m, n, k)))
	}
	aRows, aCols := m, k
	if transA {
		aRows, aCols = k, m
	}
	bRows, bCols := k, n
	if transB {
		bRows, bCols = n, k
	}
	if lda < max(1, aCols) {
		panic(errDim(fn, fmt.Sprintf("lda=%d < %d", lda, max(1, aCols))))
	}
	if ldb < max(1, bCols) {
		panic(errDim(fn, fmt.Sprintf("ldb=%d < %d", ldb, max(1, bCols))))
	}
	if ldc < max(1, n) {
		panic(errDim(fn, fmt.Sprintf("ldc=%d < %d", ldc, max(1, n))))
	}
	if m == 0 || n == 0 {
		return // nothing is read, so short slices are fine
	}
	checkLen(fn, "a", a, matLen(aRows, aCols, lda))
	checkLen(fn, "b", b, matLen(bRows, bCols, ldb))
	checkLen(fn, "c", c, matLen(m, n, ldc))
}

// sgemmWith is Sgemm with an explicit variant, so tests and benchmarks can
// run every variant without touching package state.
func sgemmWith(v *SgemmVariant, p *Pool, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkSgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleMatrix(beta, c, m, n, ldc)
		return
	}
	workers := p.Workers()
	if m*n*k < sgemmParallelMin {
		workers = 1
	}
	if m <= sgemmGemvMaxM {
		// Matrix-vector path: split over columns in multiples of 16.
		const grain = 16
		tiles := (n + grain - 1) / grain
		run := func(lo, hi int) {
			j0, j1 := lo*grain, min(hi*grain, n)
			sgemv(v, transA, transB, m, j1-j0, k, alpha, a, lda, offB(b, transB, j0, ldb), ldb, beta, c[j0:], ldc)
		}
		if workers == 1 {
			run(0, tiles)
		} else {
			p.Parallel(tiles, run)
		}
		return
	}
	// Split the larger of m and n in whole register tiles. Each chunk packs
	// its own panels; splitting along n avoids every worker packing all of
	// B, which matters for the wide LM head.
	if n > m {
		tiles := (n + v.NR - 1) / v.NR
		run := func(lo, hi int) {
			j0, j1 := lo*v.NR, min(hi*v.NR, n)
			sgemmSerial(v, transA, transB, m, j1-j0, k, alpha, a, lda, offB(b, transB, j0, ldb), ldb, beta, c[j0:], ldc)
		}
		if workers == 1 {
			run(0, tiles)
		} else {
			p.Parallel(tiles, run)
		}
		return
	}
	tiles := (m + v.MR - 1) / v.MR
	run := func(lo, hi int) {
		i0, i1 := lo*v.MR, min(hi*v.MR, m)
		sgemmSerial(v, transA, transB, i1-i0, n, k, alpha, offA(a, transA, i0, lda), lda, b, ldb, beta, c[i0*ldc:], ldc)
	}
	if workers == 1 {
		run(0, tiles)
	} else {
		p.Parallel(tiles, run)
	}
}

// offA returns A starting at row i0 of op(A).
func offA(a []float32, transA bool, i0, lda int) []float32 {
	if transA {
		return a[i0:]
	}
	return a[i0*lda:]
}

// offB returns B starting at column j0 of op(B).
func offB(b []float32, transB bool, j0, ldb int) []float32 {
	if transB {
		return b[j0*ldb:]
	}
	return b[j0:]
}

// scaleMatrix sets C = beta*C (C = 0 when beta is 0, ignoring NaNs).
func scaleMatrix(beta float32, c []float32, m, n, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		if beta != 1 {
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// sgemmBuf holds the packing buffers of one serial driver call.
type sgemmBuf struct {
	a, b, t, row []float32
}

var sgemmBufs = sync.Pool{New: func() any { return new(sgemmBuf) }}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// sgemv handles m ≤ sgemmGemvMaxM: each row of op(A) is copied to a
// contiguous buffer, then C's row is built from dot products with the rows
// of a transposed B, or from axpys of the rows of a plain B. Nothing of B is
// packed, since every element of B is used only m times.
func sgemv(v *SgemmVariant, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	buf := sgemmBufs.Get().(*sgemmBuf)
	defer sgemmBufs.Put(buf)
	buf.row = grow(buf.row, k)
	arow := buf.row
	for i := 0; i < m; i++ {
		if transA {
			for p := range arow {
				arow[p] = a[p*lda+i]
			}
		} else {
			copy(arow, a[i*lda:i*lda+k])
		}
		crow := c[i*ldc : i*ldc+n]
		if transB {
			for j := range crow {
				s := v.Dot(arow, b[j*ldb:j*ldb+k])
				if beta == 0 {
					crow[j] = alpha * s
				} else {
					crow[j] = alpha*s + beta*crow[j]
				}
			}
			continue
		}
		buf.t = grow(buf.t, n)
		acc := buf.t
		clear(acc)
		for p, ap := range arow {
			axpyGeneric(ap, b[p*ldb:p*ldb+n], acc)
		}
		for j, s := range acc {
			if beta == 0 {
				crow[j] = alpha * s
			} else {
				crow[j] = alpha*s + beta*crow[j]
			}
		}
	}
}

// sgemmSerial is the blocked driver on one goroutine:
//
//	for jc over n in NC:            columns of C and op(B)
//	  for pc over k in KC:          pack op(B)[pc:pc+KC, jc:jc+NC] in NR slivers
//	    for ic over m in MC:        pack op(A)[ic:ic+MC, pc:pc+KC] in MR slivers
//	      for each NR sliver jr, MR sliver ir: t = Kernel(...); C tile (+)= alpha*t
//
// Edge tiles are computed in full on zero-padded slivers and only their
// valid part is stored, through the same code as full tiles, so each element
// of C sees the same arithmetic wherever the tile boundaries fall.
func sgemmSerial(v *SgemmVariant, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, nr := v.MR, v.NR
	mcMax := (sgemmMC + mr - 1) / mr * mr
	ncMax := (min(sgemmNC, n) + nr - 1) / nr * nr
	kcMax := min(sgemmKC, k)
	buf := sgemmBufs.Get().(*sgemmBuf)
	defer sgemmBufs.Put(buf)
	buf.a = grow(buf.a, mcMax*kcMax)
	buf.b = grow(buf.b, ncMax*kcMax)
	buf.t = grow(buf.t, mr*nr)
	pa, pb, t := buf.a, buf.b, buf.t
	for jc := 0; jc < n; jc += sgemmNC {
		nc := min(sgemmNC, n-jc)
		for pc := 0; pc < k; pc += sgemmKC {
			kc := min(sgemmKC, k-pc)
			packB(pb, transB, b, ldb, pc, jc, kc, nc, nr)
			first := pc == 0
			for ic := 0; ic < m; ic += sgemmMC {
				mc := min(sgemmMC, m-ic)
				packA(pa, transA, a, lda, ic, pc, mc, kc, mr)
				for jr := 0; jr < nc; jr += nr {
					bs := pb[jr*kc : jr*kc+kc*nr]
					nv := min(nr, nc-jr)
					for ir := 0; ir < mc; ir += mr {
						v.Kernel(kc, pa[ir*kc:ir*kc+kc*mr], bs, t)
						mv := min(mr, mc-ir)
						storeTile(t, nr, c[(ic+ir)*ldc+jc+jr:], ldc, mv, nv, alpha, beta, first)
					}
				}
			}
		}
	}
}

// storeTile merges the mv×nv valid part of the tile t (row stride nr) into
// C: C = alpha*t + beta*C on the first k block, C += alpha*t after it.
func storeTile(t []float32, nr int, c []float32, ldc, mv, nv int, alpha, beta float32, first bool) {
	for i := 0; i < mv; i++ {
		ti := t[i*nr : i*nr+nv]
		ci := c[i*ldc : i*ldc+nv]
		switch {
		case !first:
			for j, x := range ti {
				ci[j] += alpha * x
			}
		case beta == 0:
			for j, x := range ti {
				ci[j] = alpha * x
			}
		default:
			for j, x := range ti {
				ci[j] = alpha*x + beta*ci[j]
			}
		}
	}
}

// packA copies op(A)[ic:ic+mc, pc:pc+kc] into slivers of mr rows:
// dst[s*kc*mr + p*mr + i] = opA(ic+s*mr+i, pc+p), zero past row mc.
func packA(dst []float32, transA bool, a []float32, lda, ic, pc, mc, kc, mr int) {
	for s := 0; s*mr < mc; s++ {
		d := dst[s*kc*mr : (s+1)*kc*mr]
		rows := min(mr, mc-s*mr)
		i0 := ic + s*mr
		if transA {
			// opA(i, p) = a[p*lda+i]: row p of the stored A is contiguous in i.
			for p := 0; p < kc; p++ {
				src := a[(pc+p)*lda+i0 : (pc+p)*lda+i0+rows]
				dp := d[p*mr : p*mr+mr]
				copy(dp, src)
				clear(dp[rows:])
			}
			continue
		}
		for i := 0; i < rows; i++ {
			src := a[(i0+i)*lda+pc : (i0+i)*lda+pc+kc]
			for p, x := range src {
				d[p*mr+i] = x
			}
		}
		for i := rows; i < mr; i++ {
			for p := 0; p < kc; p++ {
				d[p*mr+i] = 0
			}
		}
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into slivers of nr columns:
// dst[s*kc*nr + p*nr + j] = opB(pc+p, jc+s*nr+j), zero past column nc.
func packB(dst []float32, transB bool, b []float32, ldb, pc, jc, kc, nc, nr int) {
	for s := 0; s*nr < nc; s++ {
		d := dst[s*kc*nr : (s+1)*kc*nr]
		cols := min(nr, nc-s*nr)
		j0 := jc + s*nr
		if !transB {
			for p := 0; p < kc; p++ {
				src := b[(pc+p)*ldb+j0 : (pc+p)*ldb+j0+cols]
				dp := d[p*nr : p*nr+nr]
				copy(dp, src)
				clear(dp[cols:])
			}
			continue
		}
		// opB(p, j) = b[j*ldb+p]: row j of the stored B is contiguous in p.
		for j := 0; j < cols; j++ {
			src := b[(j0+j)*ldb+pc : (j0+j)*ldb+pc+kc]
			for p, x := range src {
				d[p*nr+j] = x
			}
		}
		for j := cols; j < nr; j++ {
			for p := 0; p < kc; p++ {
				d[p*nr+j] = 0
			}
		}
	}
}
