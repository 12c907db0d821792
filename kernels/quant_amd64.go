//go:build !purego && !noasm

package kernels

import (
	"slices"

	"github.com/klauspost/cpuid/v2"
)

// The AVX2 and AVX-512 quantized-weight kernels (quant_amd64.s). The
// wrappers check lengths; the assembly trusts them and needs nb ≥ 1 and
// rows ≥ 1.

//go:noescape
func q8RowsAVX512(y *float32, x *float32, w *Q8Block, nb int, rows int)

//go:noescape
func nf4RowsAVX512(y *float32, x *float32, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, rows int, off float32)

//go:noescape
func q8DeqAVX512(dst *float32, w *Q8Block, nb int)

//go:noescape
func nf4DeqAVX512(dst *float32, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, off float32)

//go:noescape
func q8Rows4AVX512(y *float32, ldy int, x *float32, ldx int, w *Q8Block, nb int, rows int)

//go:noescape
func nf4Rows4AVX512(y *float32, ldy int, x *float32, ldx int, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, rows int, off float32)

//go:noescape
func q8RowsAVX2(y *float32, x *float32, w *Q8Block, nb int, rows int)

//go:noescape
func nf4RowsAVX2(y *float32, x *float32, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, rows int, off float32)

//go:noescape
func q8DeqAVX2(dst *float32, w *Q8Block, nb int)

//go:noescape
func nf4DeqAVX2(dst *float32, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, off float32)

func quantArchVariants() []quantVariant {
	var vs []quantVariant
	have := cpuISAs()
	// VCVTPH2PS (F16C) widens the Q8 scales; every AVX2 CPU has it, but
	// check rather than trust.
	if slices.Contains(have, isaAVX2) && cpuid.CPU.Supports(cpuid.F16C) {
		vs = append(vs, quantVariant{
			name: "avx2", isa: isaAVX2,
			q8Rows: wrapQ8Rows(q8RowsAVX2), nf4Rows: wrapNF4Rows(nf4RowsAVX2), nf4Chunk: 8,
			q8Deq: wrapQ8Deq(q8DeqAVX2), nf4Deq: wrapNF4Deq(nf4DeqAVX2),
		})
	}
	if slices.Contains(have, isaAVX512) && cpuid.CPU.Supports(cpuid.F16C) {
		vs = append(vs, quantVariant{
			name: "avx512", isa: isaAVX512,
			q8Rows: wrapQ8Rows(q8RowsAVX512), nf4Rows: wrapNF4Rows(nf4RowsAVX512), nf4Chunk: 16,
			q8Deq: wrapQ8Deq(q8DeqAVX512), nf4Deq: wrapNF4Deq(nf4DeqAVX512),
			q8Rows4: q8Rows4AVX512Go, nf4Rows4: nf4Rows4AVX512Go, smallM: 8,
		})
	}
	return vs
}

// nf4AsmCode is the code book as the amd64 kernels read it.
var nf4AsmCode = NF4Code

// check4 panics unless y and x hold 4 rows (strides ldy, ldx) of rows
// outputs and k inputs.
func check4(fn string, y []float32, ldy, rows int, x []float32, ldx, k int) {
	if rows < 1 || ldy < rows || ldx < k {
		panic(errDim(fn, "bad sizes"))
	}
	checkLen(fn, "y", y, 3*ldy+rows)
	checkLen(fn, "x", x, 3*ldx+k)
}

func q8Rows4AVX512Go(y []float32, ldy int, x []float32, ldx int, w []Q8Block, nb, rows int) {
	check4("q8Rows4", y, ldy, rows, x, ldx, nb*q8Block)
	if nb < 1 || len(w) < rows*nb {
		panic(errDim("q8Rows4", "bad w"))
	}
	q8Rows4AVX512(&y[0], ldy, &x[0], ldx, &w[0], nb, rows)
}

func nf4Rows4AVX512Go(y []float32, ldy int, xp []float32, ldx int, q *QMatrix, b0, nb, rows int) {
	check4("nf4Rows4", y, ldy, rows, xp, ldx, nb*nf4Block)
	end := b0 + rows*nb
	if nb < 1 || b0 < 0 || end > len(q.NF4) || end > len(q.NF4Scale) || (end-1)/nf4Nested >= len(q.NF4Absmax2) {
		panic(errDim("nf4Rows4", "blocks out of range"))
	}
	nf4Rows4AVX512(&y[0], ldy, &xp[0], ldx, &q.NF4[b0], &q.NF4Scale[b0], &q.NF4Absmax2[0], &DynamicMap8[0], &nf4AsmCode[0], b0, nb, rows, q.NF4Offset)
}
