//go:build (!amd64 && !arm64) || purego || noasm

package kernels

func quantArchVariants() []quantVariant { return nil }
