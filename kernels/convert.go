package kernels

import (
	"math"

	"github.com/x448/float16"
)

// Conversions between float32 and the 16-bit storage formats.
//
// F16 is IEEE 754 binary16 (through github.com/x448/float16, which rounds to
// nearest even and keeps NaN payloads). BF16 is the upper half of a binary32:
// widening is a shift, narrowing rounds to nearest even as PyTorch does.

// F16ToF32 widens binary16 values: dst[i] = float32(src[i]).
func F16ToF32(dst []float32, src []uint16) {
	if len(dst) < len(src) {
		panic("kernels: F16ToF32: dst shorter than src")
	}
	for i, h := range src {
		dst[i] = float16.Frombits(h).Float32()
	}
}

// F32ToF16 narrows to binary16 with round-to-nearest-even.
func F32ToF16(dst []uint16, src []float32) {
	if len(dst) < len(src) {
		panic("kernels: F32ToF16: dst shorter than src")
	}
	for i, f := range src {
		dst[i] = float16.Fromfloat32(f).Bits()
	}
}

// BF16ToF32 widens bfloat16 values: the 16 bits become the high half of a float32.
func BF16ToF32(dst []float32, src []uint16) {
	if len(dst) < len(src) {
		panic("kernels: BF16ToF32: dst shorter than src")
	}
	for i, h := range src {
		dst[i] = math.Float32frombits(uint32(h) << 16)
	}
}

// F32ToBF16 narrows to bfloat16 with round-to-nearest-even; NaN stays a quiet NaN.
func F32ToBF16(dst []uint16, src []float32) {
	if len(dst) < len(src) {
		panic("kernels: F32ToBF16: dst shorter than src")
	}
	for i, f := range src {
		dst[i] = BF16FromF32(f)
	}
}

// BF16FromF32 rounds one float32 to bfloat16 (nearest even).
func BF16FromF32(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN: keep sign, force a quiet mantissa bit
		return uint16(b>>16) | 0x0040
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
