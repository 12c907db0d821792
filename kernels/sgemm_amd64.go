//go:build !purego && !noasm

package kernels

// Go wrappers around the generated amd64 Sgemm kernels (zavx2_amd64.s,
// zavx512_amd64.s): each checks the bounds its assembly relies on, then
// passes pointers. The assembly trusts its arguments.

import "slices"

// Tile and blocking of the amd64 variants; the tiles match _generate.
//
// AVX-512, 6×64: 24 ZMM accumulators, 4 B vectors and one broadcast A value
// per k step (10 loads per 24 FMAs). KC=1024: a 64-column sliver of B
// (256 KiB) stays in L2 for all the row tiles of a 200-row block, whose six
// A rows (24 KiB) sit in L1; a long KC also reads each row of a transposed
// weight in one contiguous run, which the prefetchers stream well from
// DRAM. Measured in one run on this EPYC, B cold (from DRAM) as in the
// model: 197x768x3072 220 vs 207 GFLOP/s and 1576x768x3072 243 vs 218 with
// KC=768 against KC=192; MC 96–400 and NC 128–512 within ±2%. Against an
// 8×48 tile (KC=192, NC=240): 1024³ 228 vs 214 GFLOP/s, 1576x768x3072 222
// vs 203, the 197-row shapes within ±3%.
//
// No VDPBF16PS (AVX512_BF16) kernel: SgemmB16 widens 16-bit B to float32
// while packing or streaming, which costs nothing where B16 pays (decoding
// is bandwidth-bound), and VDPBF16PS would also round A to bfloat16 (8
// significant bits), so it could not match the float32 twin within the
// k-scaled tolerance. Its peak here did not pay either: 12 independent
// VDPBF16PS zmm chains ran at 300–360 GFLOP/s against 170–260 for
// VFMADD231PS in the same (shared, noisy) run, not the 2× its 32 MACs per
// instruction suggest.
//
// AVX2, 6×16: 12 YMM accumulators; its speed moved by less than
// 2% over KC 160–256 and NC 256–1536.
const (
	avx512MR, avx512NR     = 6, 64
	avx2MR, avx2NR         = 6, 16
	avx512DotMR, avx2DotMR = 4, 3
)

func sgemmArchVariants() []SgemmVariant {
	var vs []SgemmVariant
	have := cpuISAs()
	if slices.Contains(have, isaAVX2) {
		vs = append(vs, SgemmVariant{
			Name: "avx2", isa: isaAVX2,
			MR: avx2MR, NR: avx2NR, KC: 256, MC: 192, NC: 512,
			splitGrain: 8,
			Kernel:     kernAVX2,
			packBT:     packBTAVX2,
			dotNT:      dotNTAVX2,
			dotMR:      avx2DotMR, dotMaxM: 24,
			Dot: dotAVX2Go, Axpy: axpyAVX2Go,
		})
	}
	if slices.Contains(have, isaAVX512) {
		vs = append(vs, SgemmVariant{
			Name: "avx512", isa: isaAVX512,
			MR: avx512MR, NR: avx512NR, KC: 1024, MC: 200, NC: 256,
			splitGrain: 16,
			Kernel:     kernAVX512,
			packBT:     packBTAVX512,
			packBT16:   packBT16AVX512,
			cvt16:      cvt16AVX512,
			dotNT:      dotNTAVX512,
			dotNT16:    dotNT16AVX512,
			dotMR:      avx512DotMR, dotMaxM: 48,
			Dot: dotAVX512Go, Axpy: axpyAVX512Go,
		})
	}
	return vs
}

// checkTile panics unless the slices cover an mr×nr tile with kc steps.
func checkTile(fn string, kc int, a []float32, lda int, b []float32, bLen int, c []float32, ldc, mr, nr, maxMR, maxNR int) {
	if kc < 1 || mr < 1 || mr > maxMR || nr < 1 || nr > maxNR {
		panic(errDim(fn, "bad tile"))
	}
	checkLen(fn, "a", a, (mr-1)*lda+kc)
	checkLen(fn, "b", b, bLen)
	checkLen(fn, "c", c, (mr-1)*ldc+nr)
}

var kernAVX512Tab = [avx512MR + 1]func(kc int, a *float32, lda int, b *float32, c *float32, ldc int, mask uint64, alpha, beta float32){
	nil, sgemmKernAVX512M1, sgemmKernAVX512M2, sgemmKernAVX512M3, sgemmKernAVX512M4, sgemmKernAVX512M5, sgemmKernAVX512M6,
}

func kernAVX512(kc int, a []float32, lda int, b, c []float32, ldc, mr, nr int, alpha, beta float32) {
	checkTile("kernAVX512", kc, a, lda, b, kc*avx512NR, c, ldc, mr, nr, avx512MR, avx512NR)
	kernAVX512Tab[mr](kc, &a[0], lda, &b[0], &c[0], ldc, 1<<nr-1, alpha, beta)
}

var kernAVX2Tab = [avx2MR + 1]func(kc int, a *float32, lda int, b *float32, c *float32, ldc int, alpha, beta float32){
	nil, sgemmKernAVX2M1, sgemmKernAVX2M2, sgemmKernAVX2M3, sgemmKernAVX2M4, sgemmKernAVX2M5, sgemmKernAVX2M6,
}

// kernAVX2 runs edge columns (nr < 16) through a scratch tile: the kernel
// always writes whole 16-float rows.
func kernAVX2(kc int, a []float32, lda int, b, c []float32, ldc, mr, nr int, alpha, beta float32) {
	checkTile("kernAVX2", kc, a, lda, b, kc*avx2NR, c, ldc, mr, nr, avx2MR, avx2NR)
	if nr == avx2NR {
		kernAVX2Tab[mr](kc, &a[0], lda, &b[0], &c[0], ldc, alpha, beta)
		return
	}
	var t [avx2MR * avx2NR]float32
	if beta != 0 {
		for i := 0; i < mr; i++ {
			copy(t[i*avx2NR:i*avx2NR+nr], c[i*ldc:i*ldc+nr])
		}
	}
	kernAVX2Tab[mr](kc, &a[0], lda, &b[0], &t[0], avx2NR, alpha, beta)
	for i := 0; i < mr; i++ {
		copy(c[i*ldc:i*ldc+nr], t[i*avx2NR:i*avx2NR+nr])
	}
}

// packBTAVX512 packs 48 rows of a transposed B: 16×16 blocks in assembly,
// the kc%16 tail in Go.
func packBTAVX512(dst, b []float32, ldb, kc int) {
	const nr = avx512NR
	checkLen("packBTAVX512", "dst", dst, kc*nr)
	checkLen("packBTAVX512", "b", b, (nr-1)*ldb+kc)
	if kb := kc / 16; kb > 0 {
		for g := 0; g < nr; g += 16 {
			transpose16AVX512(&dst[g], nr, &b[g*ldb], ldb, kb)
		}
	}
	for p := kc &^ 15; p < kc; p++ {
		d := dst[p*nr : p*nr+nr]
		for j := range d {
			d[j] = b[j*ldb+p]
		}
	}
}

func packBT16AVX512(dst []float32, b []uint16, bf16 bool, ldb, kc int) {
	const nr = avx512NR
	checkLen("packBT16AVX512", "dst", dst, kc*nr)
	if need := (nr-1)*ldb + kc; len(b) < need {
		panic(errShort("packBT16AVX512", "b", len(b), need))
	}
	if kb := kc / 16; kb > 0 {
		for g := 0; g < nr; g += 16 {
			if bf16 {
				transpose16AVX512BF16(&dst[g], nr, &b[g*ldb], ldb, kb)
			} else {
				transpose16AVX512F16(&dst[g], nr, &b[g*ldb], ldb, kb)
			}
		}
	}
	bm := bMat{h: b, bf16: bf16, half: true}
	for p := kc &^ 15; p < kc; p++ {
		d := dst[p*nr : p*nr+nr]
		for j := range d {
			d[j] = bm.at(j*ldb + p)
		}
	}
}

func cvt16AVX512(dst []float32, src []uint16, bf16 bool) {
	checkLen("cvt16AVX512", "dst", dst, len(src))
	n := len(src) &^ 15
	if n > 0 {
		if bf16 {
			cvtBF16AVX512(&dst[0], &src[0], n)
		} else {
			cvtF16AVX512(&dst[0], &src[0], n)
		}
	}
	bMat{h: src, bf16: bf16, half: true}.row(dst[n:], n, len(src)-n)
}

// packBTAVX2 packs 16 rows of a transposed B: 8×8 blocks in assembly.
func packBTAVX2(dst, b []float32, ldb, kc int) {
	const nr = avx2NR
	checkLen("packBTAVX2", "dst", dst, kc*nr)
	checkLen("packBTAVX2", "b", b, (nr-1)*ldb+kc)
	if kb := kc / 8; kb > 0 {
		for g := 0; g < nr; g += 8 {
			transpose8AVX2(&dst[g], nr, &b[g*ldb], ldb, kb)
		}
	}
	for p := kc &^ 7; p < kc; p++ {
		d := dst[p*nr : p*nr+nr]
		for j := range d {
			d[j] = b[j*ldb+p]
		}
	}
}

// checkDot panics unless the slices cover mr rows of A, nb rows of B (k
// elements each) and the mr×nb block of C.
func checkDot(fn string, mr, maxMR, nb, k int, a []float32, lda int, bLen, ldb int, c []float32, ldc int) {
	if mr < 1 || mr > maxMR || nb < 1 || k < 1 {
		panic(errDim(fn, "bad block"))
	}
	checkLen(fn, "a", a, (mr-1)*lda+k)
	if need := (nb-1)*ldb + k; bLen < need {
		panic(errShort(fn, "b", bLen, need))
	}
	checkLen(fn, "c", c, (mr-1)*ldc+nb)
}

type dotNTFunc func(k int, a *float32, lda int, b *float32, ldb int, nb int, c *float32, ldc int, alpha, beta float32)
type dotNT16Func func(k int, a *float32, lda int, b *uint16, ldb int, nb int, c *float32, ldc int, alpha, beta float32)

var (
	dotNTAVX512Tab4 = [...]dotNTFunc{nil, dotNTAVX512M1N4, dotNTAVX512M2N4, dotNTAVX512M3N4, dotNTAVX512M4N4}
	dotNTAVX512Tab1 = [...]dotNTFunc{nil, dotNTAVX512M1N1, dotNTAVX512M2N1, dotNTAVX512M3N1, dotNTAVX512M4N1}
	dotNTBF16Tab4   = [...]dotNT16Func{nil, dotNTAVX512BF16M1N4, dotNTAVX512BF16M2N4, dotNTAVX512BF16M3N4, dotNTAVX512BF16M4N4}
	dotNTBF16Tab1   = [...]dotNT16Func{nil, dotNTAVX512BF16M1N1, dotNTAVX512BF16M2N1, dotNTAVX512BF16M3N1, dotNTAVX512BF16M4N1}
	dotNTF16Tab4    = [...]dotNT16Func{nil, dotNTAVX512F16M1N4, dotNTAVX512F16M2N4, dotNTAVX512F16M3N4, dotNTAVX512F16M4N4}
	dotNTF16Tab1    = [...]dotNT16Func{nil, dotNTAVX512F16M1N1, dotNTAVX512F16M2N1, dotNTAVX512F16M3N1, dotNTAVX512F16M4N1}
	dotNTAVX2Tab4   = [...]dotNTFunc{nil, dotNTAVX2M1N4, dotNTAVX2M2N4, dotNTAVX2M3N4}
	dotNTAVX2Tab1   = [...]dotNTFunc{nil, dotNTAVX2M1N1, dotNTAVX2M2N1, dotNTAVX2M3N1}
)

// runDotNT calls the 4-row-group kernel on nb&^3 rows of B and the 1-row
// kernel on the rest.
func runDotNT(t4, t1 dotNTFunc, mr, nb, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	n4 := nb &^ 3
	if n4 > 0 {
		t4(k, &a[0], lda, &b[0], ldb, n4, &c[0], ldc, alpha, beta)
	}
	if nb > n4 {
		t1(k, &a[0], lda, &b[n4*ldb], ldb, nb-n4, &c[n4], ldc, alpha, beta)
	}
}

func dotNTAVX512(mr, nb, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	checkDot("dotNTAVX512", mr, avx512DotMR, nb, k, a, lda, len(b), ldb, c, ldc)
	runDotNT(dotNTAVX512Tab4[mr], dotNTAVX512Tab1[mr], mr, nb, k, a, lda, b, ldb, c, ldc, alpha, beta)
}

func dotNT16AVX512(mr, nb, k int, a []float32, lda int, b []uint16, bf16 bool, ldb int, c []float32, ldc int, alpha, beta float32) {
	checkDot("dotNT16AVX512", mr, avx512DotMR, nb, k, a, lda, len(b), ldb, c, ldc)
	t4, t1 := dotNTF16Tab4[mr], dotNTF16Tab1[mr]
	if bf16 {
		t4, t1 = dotNTBF16Tab4[mr], dotNTBF16Tab1[mr]
	}
	n4 := nb &^ 3
	if n4 > 0 {
		t4(k, &a[0], lda, &b[0], ldb, n4, &c[0], ldc, alpha, beta)
	}
	if nb > n4 {
		t1(k, &a[0], lda, &b[n4*ldb], ldb, nb-n4, &c[n4], ldc, alpha, beta)
	}
}

func dotNTAVX2(mr, nb, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	checkDot("dotNTAVX2", mr, avx2DotMR, nb, k, a, lda, len(b), ldb, c, ldc)
	runDotNT(dotNTAVX2Tab4[mr], dotNTAVX2Tab1[mr], mr, nb, k, a, lda, b, ldb, c, ldc, alpha, beta)
}
