//go:build (!amd64 && !arm64) || purego || noasm

package kernels

// archISAs: this build has no assembly (another architecture, or the purego
// or noasm tag), so only the generic kernels exist.
func archISAs() []isa { return nil }
