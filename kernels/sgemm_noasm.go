//go:build (!amd64 && !arm64) || purego || noasm

package kernels

// sgemmArchVariants: no assembly in this build.
func sgemmArchVariants() []SgemmVariant { return nil }
