package kernels

// Single-precision general matrix multiply, the hot kernel of the model
// (every Linear and both attention products). This file holds the exported
// entry points (Sgemm, SgemmB16), the variant table and the drivers shared
// by all variants:
//
//   - a GotoBLAS/BLIS-style blocked driver: op(B) packed into KC×NR
//     slivers (the transposed B of a Linear weight by an assembly
//     transpose), A read in place by the assembly kernels (or packed for
//     the generic and NEON ones), MR×NR register tiles that merge
//     alpha·A·B + beta·C into C themselves, edge tiles included;
//   - a dot-product driver for A·Bᵀ with few rows (decoding, the LM head):
//     nothing is packed and each row of B is streamed from memory once;
//   - the generic matrix-vector path for m ≤ 4 without such a kernel.
//
// The pure-Go micro-kernel is in sgemm_generic.go, the assembly wrappers in
// sgemm_amd64.go and sgemm_arm64.go.

import (
	"fmt"
	"math"
	"sync"

	"github.com/x448/float16"
)

// SgemmVariant is one row of the Sgemm dispatch table (kernels.md §5). The
// blocked driver packs op(B) into slivers of NR columns and feeds Kernel
// tiles of at most MR×NR; A is either packed into MR-row slivers
// (aKMajor) or read in place, row by row. Variants with dotNT take the
// small-M, B-transposed products (decoding, the LM head) without packing.
type SgemmVariant struct {
	// Name is "generic", "avx2", "avx512", "neon", …
	Name string
	isa  isa
	// MR×NR is the register tile of Kernel.
	MR, NR int
	// Blocking: KC×NR slivers of B and MC×KC blocks of A, NC columns of B
	// per packed panel.
	KC, MC, NC int
	// aKMajor: Kernel reads A packed as a[p*MR+i] (and ignores lda);
	// otherwise it reads row i at a[i*lda:], contiguous in p.
	aKMajor bool
	// splitGrain is the column granularity of a split over workers.
	splitGrain int
	// Kernel merges one tile into C:
	//
	//	for i := 0; i < mr; i++ {
	//		for j := 0; j < nr; j++ {
	//			var s float32
	//			for p := 0; p < kc; p++ {
	//				s += A(i, p) * b[p*NR+j]
	//			}
	//			if beta == 0 {
	//				c[i*ldc+j] = alpha * s
	//			} else {
	//				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
	//			}
	//		}
	//	}
	//
	// with 1 ≤ mr ≤ MR, 1 ≤ nr ≤ NR, kc ≥ 1, len(b) ≥ kc*NR and A as
	// described by aKMajor. Nothing outside the mr×nr tile is written.
	Kernel func(kc int, a []float32, lda int, b, c []float32, ldc, mr, nr int, alpha, beta float32)
	// packBT, if set, packs a full sliver of NR rows of a stored-transposed
	// B (row j at b[j*ldb:], contiguous in p): dst[p*NR+j] = b[j*ldb+p].
	packBT func(dst, b []float32, ldb, kc int)
	// packBT16 is packBT for bf16 (or f16) rows.
	packBT16 func(dst []float32, b []uint16, bf16 bool, ldb, kc int)
	// cvt16 widens a row of bf16 (or f16) values into dst.
	cvt16 func(dst []float32, src []uint16, bf16 bool)
	// dotNT, if set, computes C[0:mr, 0:nb] = alpha·A·Bᵀ + beta·C for
	// mr ≤ dotMR rows of A (row i at a[i*lda:]) and nb rows of B (row j
	// at b[j*ldb:]), each element a dot product over k. It is used for
	// !transA, transB and m ≤ dotMaxM. dotNT16 reads B as bf16/f16.
	dotNT          func(mr, nb, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)
	dotNT16        func(mr, nb, k int, a []float32, lda int, b []uint16, bf16 bool, ldb int, c []float32, ldc int, alpha, beta float32)
	dotMR, dotMaxM int
	// Dot is the inner product of two equal-length slices; Axpy adds
	// alpha·x to y.
	Dot  func(x, y []float32) float32
	Axpy func(alpha float32, x, y []float32)
}

var sgemmGenericVariant = SgemmVariant{
	Name:       "generic",
	isa:        isaGeneric,
	MR:         genericMR,
	NR:         genericNR,
	KC:         256,
	MC:         64,
	NC:         1024,
	aKMajor:    true,
	splitGrain: genericNR,
	Kernel:     kernGeneric,
	Dot:        dotGeneric,
	Axpy:       axpyGeneric,
}

// sgemmVariants lists every Sgemm variant this CPU can run, generic first
// and the preferred one last. Tests and benchmarks loop over it.
func sgemmVariants() []SgemmVariant {
	return append([]SgemmVariant{sgemmGenericVariant}, sgemmArchVariants()...)
}

var sgemmChoice = sync.OnceValue(func() *SgemmVariant {
	vs := sgemmVariants()
	levels := make([]isa, len(vs))
	for i, v := range vs {
		levels[i] = v.isa
	}
	return &vs[pickVariant(levels, selectedISA())]
})

// sgemmSelected is the variant the exported kernels use, chosen once.
func sgemmSelected() *SgemmVariant { return sgemmChoice() }

const (
	// Problems with m*n*k below this run serially even with a pool.
	sgemmParallelMin = 1 << 16
	// Up to this many rows, variants without dotNT use the matrix-vector path.
	sgemmGemvMaxM = 4
	// k block of the dot-product path.
	sgemmDotKC = 1024
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
// Work is split over p's workers by columns of C, or by rows when C has too
// few columns; problems with m*n*k < 65536 run serially. For a given
// variant the result does not depend on the number of workers.
//
// It panics on negative sizes, on a leading dimension smaller than the
// stored row length (or than 1) and on slices too short for their matrices.
func Sgemm(p *Pool, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmWith(sgemmSelected(), p, transA, transB, m, n, k, alpha, a, lda, bMat{f: b}, ldb, beta, c, ldc)
}

// SgemmB16 is Sgemm with B stored in 16 bits: bfloat16 when bf16 is set,
// IEEE binary16 otherwise. opB(p, j) is the float32 value of b[p*ldb+j]
// (or b[j*ldb+p] if transB); the arithmetic is float32 as in Sgemm. B is
// converted while it is packed or streamed, a panel at a time: the whole
// matrix is never widened, so a 16-bit Linear weight costs half the memory
// traffic of a float32 one.
func SgemmB16(p *Pool, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []uint16, bf16 bool, ldb int, beta float32, c []float32, ldc int) {
	sgemmWith(sgemmSelected(), p, transA, transB, m, n, k, alpha, a, lda, bMat{h: b, bf16: bf16, half: true}, ldb, beta, c, ldc)
}

// bMat is the B operand: float32, or 16-bit floats widened on the fly.
type bMat struct {
	f    []float32
	h    []uint16
	bf16 bool // h holds bfloat16 (else binary16)
	half bool // use h
}

func (b bMat) len() int {
	if b.half {
		return len(b.h)
	}
	return len(b.f)
}

func (b bMat) from(off int) bMat {
	if b.half {
		b.h = b.h[off:]
	} else {
		b.f = b.f[off:]
	}
	return b
}

// row widens n elements starting at off into dst (float32 B: a copy).
func (b bMat) row(dst []float32, off, n int) {
	dst = dst[:n]
	if !b.half {
		copy(dst, b.f[off:off+n])
		return
	}
	src := b.h[off : off+n]
	if b.bf16 {
		BF16ToF32(dst, src)
	} else {
		F16ToF32(dst, src)
	}
}

// at is one element as float32.
func (b bMat) at(i int) float32 {
	if !b.half {
		return b.f[i]
	}
	if b.bf16 {
		return math.Float32frombits(uint32(b.h[i]) << 16)
	}
	return float16.Frombits(b.h[i]).Float32()
}

func checkSgemm(transA, transB bool, m, n, k int, a []float32, lda int, b bMat, ldb int, c []float32, ldc int) {
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
	if need := matLen(bRows, bCols, ldb); b.len() < need {
		panic(errShort(fn, "b", b.len(), need))
	}
	checkLen(fn, "c", c, matLen(m, n, ldc))
}

// sgemmWith is Sgemm with an explicit variant, so tests and benchmarks can
// run every variant without touching package state.
func sgemmWith(v *SgemmVariant, p *Pool, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b bMat, ldb int, beta float32, c []float32, ldc int) {
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
	// parallel runs fn over [0, tiles) on the pool, or serially, in up to
	// perWorker chunks per worker.
	parallel := func(tiles, perWorker int, fn func(lo, hi int)) {
		if workers == 1 {
			fn(0, tiles)
		} else {
			p.parallel(tiles, perWorker, fn)
		}
	}
	switch {
	case v.dotNT != nil && !transA && transB && m <= v.dotMaxM:
		// Dot-product path: split over columns in multiples of 16, so
		// the 4-row groups of B fall the same way for any split.
		// Calls of tens of microseconds (decoding): several chunks per
		// worker, so a late worker costs little.
		const grain = 16
		parallel((n+grain-1)/grain, 4, func(lo, hi int) {
			j0, j1 := lo*grain, min(hi*grain, n)
			sgemmDotNT(v, m, j1-j0, k, alpha, a, lda, b.from(j0*ldb), ldb, beta, c[j0:], ldc)
		})
	case m <= sgemmGemvMaxM && (!transB || v.dotNT == nil):
		// Matrix-vector path: split over columns in multiples of 16.
		const grain = 16
		parallel((n+grain-1)/grain, 4, func(lo, hi int) {
			j0, j1 := lo*grain, min(hi*grain, n)
			sgemv(v, transA, transB, m, j1-j0, k, alpha, a, lda, offB(b, transB, j0, ldb), ldb, beta, c[j0:], ldc)
		})
	case n >= 2*v.NR*workers || n >= m:
		// Split the columns: each worker packs only its part of B (the
		// wide LM head) and, with A read in place, nothing is packed
		// twice.
		g := v.splitGrain
		parallel((n+g-1)/g, 1, func(lo, hi int) {
			j0, j1 := lo*g, min(hi*g, n)
			sgemmSerial(v, transA, transB, m, j1-j0, k, alpha, a, lda, offB(b, transB, j0, ldb), ldb, beta, c[j0:], ldc)
		})
	default:
		parallel((m+v.MR-1)/v.MR, 1, func(lo, hi int) {
			i0, i1 := lo*v.MR, min(hi*v.MR, m)
			sgemmSerial(v, transA, transB, i1-i0, n, k, alpha, offA(a, transA, i0, lda), lda, b, ldb, beta, c[i0*ldc:], ldc)
		})
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
func offB(b bMat, transB bool, j0, ldb int) bMat {
	if transB {
		return b.from(j0 * ldb)
	}
	return b.from(j0)
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

// sgemmDotNT runs the dot-product kernel over blocks of B rows that stay
// in cache while every row block of A passes over them, so each row of B
// is read from memory once.
func sgemmDotNT(v *SgemmVariant, m, n, k int, alpha float32, a []float32, lda int, b bMat, ldb int, beta float32, c []float32, ldc int) {
	// Long rows are cut into k blocks of at most sgemmDotKC (C accumulates
	// over them), so that 4 rows of A stay in L1 and a block of B in L2.
	if k > sgemmDotKC {
		for p0 := 0; p0 < k; p0 += sgemmDotKC {
			bet := beta
			if p0 > 0 {
				bet = 1
			}
			sgemmDotNT(v, m, n, min(sgemmDotKC, k-p0), alpha, a[p0:], lda, b.from(p0), ldb, bet, c, ldc)
		}
		return
	}
	// About 128 KiB of B per block, a multiple of 4 rows.
	nbBlk := max(4, (32768/max(k, 1))&^3)
	var wide []float32 // 16-bit B widened a block at a time, without dotNT16
	if b.half && v.dotNT16 == nil {
		buf := sgemmBufs.Get().(*sgemmBuf)
		defer sgemmBufs.Put(buf)
		buf.b = grow(buf.b, min(nbBlk, n)*k)
		wide = buf.b
	}
	for j0 := 0; j0 < n; j0 += nbBlk {
		nb := min(nbBlk, n-j0)
		bj := b.from(j0 * ldb)
		bf, ldbf := bj.f, ldb
		if wide != nil {
			for j := 0; j < nb; j++ {
				bj.row(wide[j*k:(j+1)*k], j*ldb, k)
			}
			bf, ldbf = wide, k
		}
		for i0 := 0; i0 < m; i0 += v.dotMR {
			mr := min(v.dotMR, m-i0)
			if b.half && wide == nil {
				v.dotNT16(mr, nb, k, a[i0*lda:], lda, bj.h, b.bf16, ldb, c[i0*ldc+j0:], ldc, alpha, beta)
			} else {
				v.dotNT(mr, nb, k, a[i0*lda:], lda, bf, ldbf, c[i0*ldc+j0:], ldc, alpha, beta)
			}
		}
	}
}

// sgemv handles m ≤ sgemmGemvMaxM: with a plain B for every variant (see
// sgemvAxpy), with a transposed B for variants without dotNT, where each row
// of op(A) is copied to a contiguous buffer and C's row is built from dot
// products with the rows of B. Nothing of B is packed, since every element
// of B is used only m times.
func sgemv(v *SgemmVariant, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b bMat, ldb int, beta float32, c []float32, ldc int) {
	buf := sgemmBufs.Get().(*sgemmBuf)
	defer sgemmBufs.Put(buf)
	if b.half {
		buf.b = grow(buf.b, max(k, min(n, sgemvStrip)))
	}
	if !transB {
		sgemvAxpy(v, buf, transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
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
		for j := range crow {
			var bj []float32
			if b.half {
				bj = buf.b[:k]
				b.row(bj, j*ldb, k)
			} else {
				bj = b.f[j*ldb : j*ldb+k]
			}
			s := v.Dot(arow, bj)
			if beta == 0 {
				crow[j] = alpha * s
			} else {
				crow[j] = alpha*s + beta*crow[j]
			}
		}
	}
}

// sgemvStrip is the column strip of the axpy path: up to sgemmGemvMaxM
// accumulator rows of it (16 KiB) stay in L1.
const sgemvStrip = 1024

// sgemvAxpy builds C's m rows, one column strip at a time, from axpys of
// the rows of a plain B: each strip of a B row is read from memory once and
// added, scaled, to every accumulator row while it sits in L1.
func sgemvAxpy(v *SgemmVariant, buf *sgemmBuf, transA bool, m, n, k int, alpha float32, a []float32, lda int, b bMat, ldb int, beta float32, c []float32, ldc int) {
	buf.t = grow(buf.t, m*min(n, sgemvStrip))
	for j0 := 0; j0 < n; j0 += sgemvStrip {
		w := min(sgemvStrip, n-j0)
		acc := buf.t[:m*w]
		clear(acc)
		for p := 0; p < k; p++ {
			var bp []float32
			if b.half {
				bp = buf.b[:w]
				b.row(bp, p*ldb+j0, w)
			} else {
				bp = b.f[p*ldb+j0 : p*ldb+j0+w]
			}
			for i := 0; i < m; i++ {
				var ap float32
				if transA {
					ap = a[p*lda+i]
				} else {
					ap = a[i*lda+p]
				}
				v.Axpy(ap, bp, acc[i*w:(i+1)*w])
			}
		}
		for i := 0; i < m; i++ {
			crow := c[i*ldc+j0 : i*ldc+j0+w]
			for j, s := range acc[i*w : (i+1)*w] {
				if beta == 0 {
					crow[j] = alpha * s
				} else {
					crow[j] = alpha*s + beta*crow[j]
				}
			}
		}
	}
}

// sgemmSerial is the blocked driver on one goroutine:
//
//	for jc over n in NC:            columns of C and op(B)
//	  for pc over k in KC:          pack op(B)[pc:pc+KC, jc:jc+NC] in NR slivers
//	    for ic over m in MC:        A block: read in place, or packed
//	      for each NR sliver jr, MR sliver ir: C tile = alpha*A·B + beta'*C
//
// where beta' is beta on the first k block and 1 after it. Edge tiles go
// through the kernel like full ones (it writes only their valid part), so
// each element of C sees the same arithmetic wherever tile boundaries fall.
func sgemmSerial(v *SgemmVariant, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b bMat, ldb int, beta float32, c []float32, ldc int) {
	sgemmBlocked(v, transA, m, n, k, alpha, a, lda, true, func(dst []float32, pc, jc, kc, nc int) []float32 {
		packB(v, dst, transB, b, ldb, pc, jc, kc, nc)
		return dst
	}, beta, c, ldc)
}

// sgemmBlocked is sgemmSerial with the packed panels of op(B) coming from
// panel(dst, pc, jc, kc, nc): packed into dst (when pack is set), or found
// packed already (PackedB; dst is nil). jc is a multiple of NR.
func sgemmBlocked(v *SgemmVariant, transA bool, m, n, k int, alpha float32, a []float32, lda int, pack bool, panel func(dst []float32, pc, jc, kc, nc int) []float32, beta float32, c []float32, ldc int) {
	mr, nr := v.MR, v.NR
	mcMax := (min(v.MC, m) + mr - 1) / mr * mr
	ncMax := (min(v.NC, n) + nr - 1) / nr * nr
	kcMax := min(v.KC, k)
	direct := !transA && !v.aKMajor
	buf := sgemmBufs.Get().(*sgemmBuf)
	defer sgemmBufs.Put(buf)
	var pb []float32
	if pack {
		buf.b = grow(buf.b, ncMax*kcMax)
		pb = buf.b
	}
	if !direct {
		buf.a = grow(buf.a, mcMax*kcMax)
	}
	pa := buf.a
	for jc := 0; jc < n; jc += v.NC {
		nc := min(v.NC, n-jc)
		for pc := 0; pc < k; pc += v.KC {
			kc := min(v.KC, k-pc)
			pb := panel(pb, pc, jc, kc, nc)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			for ic := 0; ic < m; ic += v.MC {
				mc := min(v.MC, m-ic)
				ab, ldab := pa, kc
				switch {
				case direct:
					ab, ldab = a[ic*lda+pc:], lda
				case v.aKMajor:
					packA(pa, transA, a, lda, ic, pc, mc, kc, mr)
				default:
					packARows(pa, transA, a, lda, ic, pc, mc, kc)
				}
				for jr := 0; jr < nc; jr += nr {
					bs := pb[jr*kc : jr*kc+kc*nr]
					nv := min(nr, nc-jr)
					for ir := 0; ir < mc; ir += mr {
						mv := min(mr, mc-ir)
						var as []float32
						if v.aKMajor {
							as = ab[ir*kc : ir*kc+kc*mr]
						} else {
							as = ab[ir*ldab:]
						}
						v.Kernel(kc, as, ldab, bs, c[(ic+ir)*ldc+jc+jr:], ldc, mv, nv, alpha, bet)
					}
				}
			}
		}
	}
}

// kernGeneric is the generic Kernel: the 2×4 product into a register tile,
// then the merge into C.
func kernGeneric(kc int, a []float32, _ int, b, c []float32, ldc, mr, nr int, alpha, beta float32) {
	var t [genericMR * genericNR]float32
	kernGeneric2x4(kc, a, b, t[:])
	storeTile(t[:], genericNR, c, ldc, mr, nr, alpha, beta)
}

// storeTile merges the mv×nv valid part of the tile t (row stride nr) into
// C: C = alpha*t + beta*C, or C = alpha*t when beta is 0.
func storeTile(t []float32, nr int, c []float32, ldc, mv, nv int, alpha, beta float32) {
	for i := 0; i < mv; i++ {
		ti := t[i*nr : i*nr+nv]
		ci := c[i*ldc : i*ldc+nv]
		if beta == 0 {
			for j, x := range ti {
				ci[j] = alpha * x
			}
			continue
		}
		for j, x := range ti {
			ci[j] = alpha*x + beta*ci[j]
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

// packARows copies op(A)[ic:ic+mc, pc:pc+kc] row by row: dst[i*kc+p] =
// opA(ic+i, pc+p), for kernels that read A in rows.
func packARows(dst []float32, transA bool, a []float32, lda, ic, pc, mc, kc int) {
	if !transA {
		for i := 0; i < mc; i++ {
			copy(dst[i*kc:i*kc+kc], a[(ic+i)*lda+pc:])
		}
		return
	}
	// opA(i, p) = a[p*lda+i]: a transpose, 4 columns of dst at a time.
	for p := 0; p < kc; p++ {
		src := a[(pc+p)*lda+ic : (pc+p)*lda+ic+mc]
		for i, x := range src {
			dst[i*kc+p] = x
		}
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into slivers of NR columns:
// dst[s*kc*NR + p*NR + j] = opB(pc+p, jc+s*NR+j), zero past column nc.
func packB(v *SgemmVariant, dst []float32, transB bool, b bMat, ldb, pc, jc, kc, nc int) {
	nr := v.NR
	for s := 0; s*nr < nc; s++ {
		d := dst[s*kc*nr : (s+1)*kc*nr]
		cols := min(nr, nc-s*nr)
		j0 := jc + s*nr
		if !transB {
			for p := 0; p < kc; p++ {
				dp := d[p*nr : p*nr+nr]
				off := (pc+p)*ldb + j0
				if b.half {
					if v.cvt16 != nil {
						v.cvt16(dp[:cols], b.h[off:off+cols], b.bf16)
					} else {
						b.row(dp, off, cols)
					}
				} else {
					copy(dp, b.f[off:off+cols])
				}
				clear(dp[cols:])
			}
			continue
		}
		// opB(p, j) = b[j*ldb+p]: row j of the stored B is contiguous in p.
		if cols == nr {
			off := j0*ldb + pc
			if b.half && v.packBT16 != nil {
				v.packBT16(d, b.h[off:], b.bf16, ldb, kc)
				continue
			}
			if !b.half && v.packBT != nil {
				v.packBT(d, b.f[off:], ldb, kc)
				continue
			}
		}
		for j := 0; j < cols; j++ {
			off := (j0+j)*ldb + pc
			if b.half {
				for p := 0; p < kc; p++ {
					d[p*nr+j] = b.at(off + p)
				}
				continue
			}
			src := b.f[off : off+kc]
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
