package kernels

import "fmt"

// Panic messages for programmer errors, gonum style: they name the kernel
// and the offending argument so a stack trace is not needed to find it.

// errLen says that a slice (or length) got is shorter than, or different
// from, what the arguments require.
func errLen(fn, gotName string, got int, wantName string, want int) string {
	return fmt.Sprintf("kernels: %s: %s=%d, need %s=%d", fn, gotName, got, wantName, want)
}

// errShort reports a slice shorter than its required length.
func errShort(fn, name string, got, need int) string {
	return fmt.Sprintf("kernels: %s: len(%s)=%d < %d", fn, name, got, need)
}

// errDim reports a bad dimension or leading dimension.
func errDim(fn, what string) string {
	return "kernels: " + fn + ": " + what
}

// checkLen panics unless len(s) >= need.
func checkLen(fn, name string, s []float32, need int) {
	if len(s) < need {
		panic(errShort(fn, name, len(s), need))
	}
}

// matLen is the number of elements a rows×cols matrix with leading dimension
// ld spans: the last row need not be padded to ld.
func matLen(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}
