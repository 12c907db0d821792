//go:build !purego && !noasm

package kernels

// vecArchVariants: NEON vector kernels (in progress).
func vecArchVariants() []vecVariant { return nil }
