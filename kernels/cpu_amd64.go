//go:build !purego && !noasm

package kernels

import "github.com/klauspost/cpuid/v2"

// archISAs gates the amd64 assembly on cpuid (kernels.md §5): AVX2 kernels
// need AVX2 and FMA3; the AVX-512 ones use F, DQ (VEXTRACTF64X4 …), VL
// (EVEX xmm/ymm forms) and BW (16-bit masked loads). cpuid reports AVX-512
// only when the OS saves the ZMM and opmask state.
func archISAs() []isa {
	var s []isa
	c := cpuid.CPU
	if c.Supports(cpuid.AVX2, cpuid.FMA3) {
		s = append(s, isaAVX2)
		if c.Supports(cpuid.AVX512F, cpuid.AVX512DQ, cpuid.AVX512VL, cpuid.AVX512BW) {
			s = append(s, isaAVX512)
		}
	}
	return s
}
