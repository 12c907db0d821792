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
		})
	}
	return vs
}

// nf4AsmCode is the code book as the amd64 kernels read it.
var nf4AsmCode = NF4Code
