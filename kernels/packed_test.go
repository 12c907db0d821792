package kernels

import (
	"fmt"
	"math"
	"testing"
)

// TestSgemmPacked: for every variant, a pre-packed B gives the bits of the
// blocked driver packing it on the fly (same k blocks, same kernel), for
// any number of workers, on the odd-size suite with guard-banded C and the
// float64 reference.
func TestSgemmPacked(t *testing.T) {
	pools := []*Pool{nil, NewPool(2), NewPool(3)}
	defer func() {
		for _, p := range pools[1:] {
			p.Close()
		}
	}()
	for _, v := range sgemmVariants() {
		t.Run(v.Name, func(t *testing.T) {
			r := newRand(11)
			cases := append(sgemmCases(),
				sgemmCase{m: 197, n: 768, k: 300, alpha: 1, beta: 0, transB: true},
				sgemmCase{m: 61, n: 1029, k: 1100, alpha: 0.5, beta: 1, transB: true, extraB: 3, extraC: 1},
				sgemmCase{m: 300, n: 70, k: 33, alpha: 1, beta: 0, extraA: 2})
			for _, tc := range cases {
				if tc.transA {
					continue
				}
				a, lda, b, ldb, cFull, c0, ldc := sgemmInputs(r, tc)
				want, tol := sgemmRef(tc, a, lda, b, ldb, c0, ldc)
				serial := append([]float32(nil), c0...)
				if tc.k == 0 || tc.alpha == 0 || tc.m == 0 || tc.n == 0 {
					sgemmWith(&v, nil, false, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bMat{f: b}, ldb, tc.beta, serial, ldc)
				} else {
					sgemmSerial(&v, false, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bMat{f: b}, ldb, tc.beta, serial, ldc)
				}
				pb := packBWith(&v, tc.transB, tc.k, tc.n, b, ldb)
				if pb.K() != tc.k || pb.N() != tc.n {
					t.Fatalf("%v: packed %d×%d", tc, pb.K(), pb.N())
				}
				cBefore := append([]float32(nil), c0...)
				for _, p := range pools {
					c := c0 // inside cFull's guard bands
					copy(c, cBefore)
					SgemmPacked(p, tc.m, tc.alpha, a, lda, pb, tc.beta, c, ldc)
					for i := range c {
						if math.Float32bits(c[i]) != math.Float32bits(serial[i]) {
							t.Fatalf("%v workers=%d: c[%d]=%v, on-the-fly packing %v", tc, p.Workers(), i, c[i], serial[i])
						}
					}
					checkSgemmResult(t, tc, cBefore, c, cFull, ldc, want, tol)
				}
			}
		})
	}
}

func TestPackBPanics(t *testing.T) {
	b := make([]float32, 12)
	mustPanic(t, "negative", func() { PackB(false, -1, 2, b, 2) })
	mustPanic(t, "ldb=1 < 2", func() { PackB(false, 3, 2, b, 1) })
	mustPanic(t, "len(b)=12 < 14", func() { PackB(true, 7, 2, b, 7) })
	pb := PackB(false, 3, 4, b, 4)
	mustPanic(t, "len(c)", func() { SgemmPacked(nil, 2, 1, make([]float32, 6), 3, pb, 0, make([]float32, 7), 4) })
}

// BenchmarkSgemmPacked is BenchmarkSgemm's 197-row model shapes with the
// weight packed once (the vision tower's Linears): GFLOP/s per
// Variant/Shape/threads, to set beside BenchmarkSgemm's.
func BenchmarkSgemmPacked(b *testing.B) {
	for _, v := range sgemmVariants() {
		for _, s := range sgemmBenchShapes {
			if s.m != 197 {
				continue
			}
			r := newRand(6)
			a, w, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
			pb := packBWith(&v, s.transB, s.k, s.n, w, s.k)
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%s/threads=%d", v.Name, s.name, threads), func(b *testing.B) {
					p := NewPool(threads)
					defer p.Close()
					for b.Loop() {
						SgemmPacked(p, s.m, 1, a, s.k, pb, 0, c, s.n)
					}
					b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
