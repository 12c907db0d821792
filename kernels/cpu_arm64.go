//go:build !purego && !noasm

package kernels

// archISAs: Advanced SIMD (NEON) is part of every ARMv8-A CPU, so the NEON
// kernels need no feature check. They use only base ASIMD instructions
// (no dotprod, fp16 arithmetic or SVE), so cortex-a53 runs them.
func archISAs() []isa { return []isa{isaNEON} }
