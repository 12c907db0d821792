package kernels

import (
	"math"
	"syscall"
	"testing"
	"unsafe"
)

// Over-read tests: every operand that an assembly kernel reads is placed
// flush against a PROT_NONE page, so a load past its end faults (kernels.md
// §5). The operands are the exported layouts (A, B and C of Sgemm, the
// vectors of the vector kernels, Q, K, V of the fused attention), run
// through every variant of this CPU.

const pageSize = 4096

// pageEnd returns n float32s whose last element is the last word before an
// inaccessible page; the mapping is released when the test ends.
func pageEnd(t *testing.T, n int) []float32 {
	t.Helper()
	b := pageEndBytes(t, 4*n)
	if n == 0 {
		return []float32{}
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
}

func pageEnd16(t *testing.T, n int) []uint16 {
	t.Helper()
	b := pageEndBytes(t, 2*n)
	if n == 0 {
		return []uint16{}
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), n)
}

func pageEndBytes(t *testing.T, size int) []byte {
	t.Helper()
	pages := (size+pageSize-1)/pageSize + 1
	mem, err := syscall.Mmap(-1, 0, pages*pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	guard := mem[(pages-1)*pageSize:]
	if err := syscall.Mprotect(guard, syscall.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	end := (pages - 1) * pageSize
	return mem[end-size : end : end]
}

// fillPageEnd copies src into a page-end slice.
func fillPageEnd(t *testing.T, src []float32) []float32 {
	s := pageEnd(t, len(src))
	copy(s, src)
	return s
}

func TestOverreadSgemm(t *testing.T) {
	cases := []sgemmCase{
		{m: 5, n: 7, k: 3, alpha: 1, beta: 0.5},
		{m: 13, n: 49, k: 33, alpha: 1, beta: 0, transB: true},
		{m: 3, n: 17, k: 31, alpha: 2, beta: 1, transB: true},  // dot path, k tail
		{m: 33, n: 65, k: 17, alpha: 1, beta: 1, transB: true}, // blocked, packed Bᵀ with a k tail
		{m: 9, n: 50, k: 197, alpha: 1, beta: 0.5},             // blocked, plain B
		{m: 7, n: 33, k: 15, alpha: 1, beta: 0, transA: true},  // packed A rows
		{m: 1, n: 5, k: 1, alpha: 1, beta: 0, transB: true},
		{m: 200, n: 100, k: 300, alpha: 0.5, beta: 2, transB: true},
	}
	for _, v := range sgemmVariants() {
		for _, tc := range cases {
			r := newRand(21)
			a, lda, b, ldb, _, c0, ldc := sgemmInputs(r, tc)
			want := append([]float32(nil), c0...)
			sgemmWith(&sgemmGenericVariant, nil, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bMat{f: b}, ldb, tc.beta, want, ldc)
			pa, pb, pc := fillPageEnd(t, a), fillPageEnd(t, b), fillPageEnd(t, c0)
			sgemmWith(&v, nil, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, pa, lda, bMat{f: pb}, ldb, tc.beta, pc, ldc)
			tol := 2 * float64(tc.k+3) / (1 << 23) * 4
			compare(t, v.Name+" "+tc.String(), pc, to64(want), tol, tol)
			// The same with 16-bit B.
			for _, bf := range []bool{true, false} {
				h := pageEnd16(t, len(b))
				if bf {
					F32ToBF16(h, b)
				} else {
					F32ToF16(h, b)
				}
				wide := make([]float32, len(b))
				if bf {
					BF16ToF32(wide, h)
				} else {
					F16ToF32(wide, h)
				}
				want16 := append([]float32(nil), c0...)
				sgemmWith(&sgemmGenericVariant, nil, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bMat{f: wide}, ldb, tc.beta, want16, ldc)
				pc := fillPageEnd(t, c0)
				sgemmWith(&v, nil, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, pa, lda, bMat{h: h, bf16: bf, half: true}, ldb, tc.beta, pc, ldc)
				compare(t, v.Name+" B16 "+tc.String(), pc, to64(want16), tol, tol)
			}
		}
	}
}

func TestOverreadVec(t *testing.T) {
	for _, v := range vecVariants() {
		for _, n := range []int{1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 1000} {
			r := newRand(uint64(n))
			x, y := fillPageEnd(t, randSlice(r, n)), fillPageEnd(t, randSlice(r, n))
			out := pageEnd(t, n)
			_ = v.dot(x, y)
			v.axpy(0.5, x, y)
			v.gelu(out, x)
			v.quickGelu(out, x)
			v.softmaxRow(out, x)
			_ = v.maxv(x)
			_ = v.expSub(out, x, 0.5)
			v.scale(out, 2)
			w, b := fillPageEnd(t, randSlice(r, n)), fillPageEnd(t, randSlice(r, n))
			m, rs := v.layerNormRow(out, x, w, b, 1e-5)
			if math.IsNaN(m) || math.IsNaN(rs) {
				t.Fatalf("%s layerNormRow n=%d: NaN statistics", v.name, n)
			}
		}
	}
}

func TestOverreadAttention(t *testing.T) {
	for _, sv := range sgemmVariants() {
		vv := vecFor(sv.isa)
		for _, tc := range []attnCase{{tq: 5, tk: 7, dh: 3, mask: "causal"}, {tq: 1, tk: 33, dh: 64}, {tq: 70, tk: 300, dh: 17, mask: "early"}} {
			s := newAttn(tc, 3)
			d := s.d
			d.Ldq, d.Ldk, d.Ldv, d.Ldo = tc.dh, tc.dh, tc.dh, tc.dh
			q, k, v := fillPageEnd(t, s.q), fillPageEnd(t, s.k), fillPageEnd(t, s.v)
			var mask []float32
			if s.mask != nil {
				mask = fillPageEnd(t, s.mask)
			}
			out := pageEnd(t, tc.tq*tc.dh)
			attentionFusedWith(&sv, vv, out, q, k, v, mask, d)
			want, _ := attention64(s.q64, s.k64, s.v64, s.m64, tc.tq, tc.tk, tc.dh, float64(d.Scale))
			compare(t, sv.Name+" "+tc.String(), out, want, 2*float64(tc.dh+tc.tk)/(1<<23)*20+4e-6, 0)
		}
	}
}
