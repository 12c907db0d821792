//go:build !purego && !noasm

package kernels

// sgemmArchVariants: the NEON variant (in progress).
func sgemmArchVariants() []SgemmVariant { return nil }
