//go:build !purego && !noasm

package kernels

import "math"

// The NEON quantized-weight kernels (quant_arm64.s): base ASIMD only, so
// every ARMv8-A CPU (cortex-a53 included) runs them.

//go:noescape
func q8RowsNEON(y *float32, x *float32, w *Q8Block, nb int, rows int)

//go:noescape
func nf4RowsNEON(y *float32, x *float32, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, rows int, off float32)

//go:noescape
func q8DeqNEON(dst *float32, w *Q8Block, nb int)

//go:noescape
func nf4DeqNEON(dst *float32, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, off float32)

// nf4AsmCode is the code book as the NEON kernels read it: four byte
// planes (plane k holds byte k, little-endian, of each of the 16 codes),
// 64 bytes stored in 16 float32 slots.
var nf4AsmCode = func() (t [16]float32) {
	var b [64]byte
	for i, c := range NF4Code {
		u := math.Float32bits(c)
		for k := 0; k < 4; k++ {
			b[16*k+i] = byte(u >> (8 * k))
		}
	}
	for i := range t {
		t[i] = math.Float32frombits(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24)
	}
	return t
}()

func quantArchVariants() []quantVariant {
	return []quantVariant{{
		name: "neon", isa: isaNEON,
		q8Rows: wrapQ8Rows(q8RowsNEON), nf4Rows: wrapNF4Rows(nf4RowsNEON), nf4Chunk: 16,
		q8Deq: wrapQ8Deq(q8DeqNEON), nf4Deq: wrapNF4Deq(nf4DeqNEON),
	}}
}
