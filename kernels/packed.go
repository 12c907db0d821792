package kernels

import (
	"fmt"
	"runtime"
)

// PackedB is the B operand of Sgemm packed once, for products that reuse
// it many times (a frozen Linear weight in the vision tower): the NR-column
// slivers that Sgemm would otherwise pack on every call, for the variant
// selected when it was made. Its k blocks are the variant's KC, so
// SgemmPacked gives the bits Sgemm gives.
type PackedB struct {
	v          *SgemmVariant
	k, n, npad int
	// data holds, per k block pc (kc = min(KC, k-pc) rows), the slivers
	// of NR columns, each kc×NR: data[pc*npad + s*kc*NR + p*NR + j] =
	// opB(pc+p, s*NR+j), zero past column n.
	data []float32
}

// PackB packs op(B) (k×n; B stored n×k when transB, as a Linear weight
// [out, in] is) for SgemmPacked. It costs k×n floats rounded up to whole
// slivers.
func PackB(transB bool, k, n int, b []float32, ldb int) *PackedB {
	return packBWith(sgemmSelected(), transB, k, n, b, ldb)
}

func packBWith(v *SgemmVariant, transB bool, k, n int, b []float32, ldb int) *PackedB {
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("kernels: PackB: negative size k=%d n=%d", k, n))
	}
	cols, rows := n, k
	if transB {
		cols, rows = k, n
	}
	if ldb < max(1, cols) {
		panic(fmt.Sprintf("kernels: PackB: ldb=%d < %d", ldb, max(1, cols)))
	}
	if need := matLen(rows, cols, ldb); len(b) < need {
		panic(errShort("PackB", "b", len(b), need))
	}
	npad := (n + v.NR - 1) / v.NR * v.NR
	data, free := offHeap(k * npad)
	pb := &PackedB{v: v, k: k, n: n, npad: npad, data: data}
	// The mapping goes when pb does (SgemmPacked keeps pb alive while
	// it reads pb.data).
	runtime.AddCleanup(pb, func(free func()) { free() }, free)
	for pc := 0; pc < k; pc += v.KC {
		kc := min(v.KC, k-pc)
		packB(v, pb.data[pc*npad:pc*npad+kc*npad], transB, bMat{f: b}, ldb, pc, 0, kc, n)
	}
	return pb
}

// K and N are op(B)'s shape.
func (pb *PackedB) K() int { return pb.k }
func (pb *PackedB) N() int { return pb.n }

// SgemmPacked computes C = alpha·A·op(B) + beta·C like Sgemm(p, false,
// transB, m, pb.N(), pb.K(), alpha, a, lda, b, ldb, beta, c, ldc) with the
// b that pb was packed from, and gives the same bits. Work is split over
// p's workers by whole slivers of columns, or by rows when C has too few.
func SgemmPacked(p *Pool, m int, alpha float32, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int) {
	v, n, k := pb.v, pb.n, pb.k
	checkSgemm(false, false, m, n, k, a, lda, bMat{f: pb.data}, max(1, n), c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleMatrix(beta, c, m, n, ldc)
		return
	}
	// panel returns the packed slivers of columns [j0+jc, j0+jc+nc).
	panel := func(j0 int) func([]float32, int, int, int, int) []float32 {
		return func(_ []float32, pc, jc, kc, nc int) []float32 {
			off := pc*pb.npad + (j0+jc)*kc
			return pb.data[off : off+(nc+v.NR-1)/v.NR*v.NR*kc]
		}
	}
	workers := p.Workers()
	if m*n*k < sgemmParallelMin {
		workers = 1
	}
	slivers := pb.npad / v.NR
	switch {
	case workers == 1:
		sgemmBlocked(v, false, m, n, k, alpha, a, lda, false, panel(0), beta, c, ldc)
	case slivers >= 2*workers || n >= m:
		p.parallel(slivers, 1, func(lo, hi int) {
			j0, j1 := lo*v.NR, min(hi*v.NR, n)
			sgemmBlocked(v, false, m, j1-j0, k, alpha, a, lda, false, panel(j0), beta, c[j0:], ldc)
		})
	default:
		p.parallel((m+v.MR-1)/v.MR, 1, func(lo, hi int) {
			i0, i1 := lo*v.MR, min(hi*v.MR, m)
			sgemmBlocked(v, false, i1-i0, n, k, alpha, a[i0*lda:], lda, false, panel(0), beta, c[i0*ldc:], ldc)
		})
	}
	runtime.KeepAlive(pb)
}
