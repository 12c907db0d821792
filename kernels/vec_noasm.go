//go:build (!amd64 && !arm64) || purego || noasm

package kernels

// vecArchVariants: no assembly in this build.
func vecArchVariants() []vecVariant { return nil }
