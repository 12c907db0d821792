//go:build !purego && !noasm

package kernels

func quantArchVariants() []quantVariant { return nil }
