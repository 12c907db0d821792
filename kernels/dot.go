package kernels

// Level-1 vector kernels on contiguous float32 slices. The generic versions
// here are the reference; Dot is also the inner loop of the matrix-vector
// path of Sgemm, so faster Dot variants live in the Sgemm variant table.

// Dot returns the inner product of x and y:
//
//	var s float32
//	for i := range x {
//		s += x[i] * y[i]
//	}
//	return s
//
// The summation order is unspecified (the generic version keeps four partial
// sums), so results can differ from the loop above in the last bits.
// It panics if len(x) != len(y).
func Dot(x, y []float32) float32 {
	if len(x) != len(y) {
		panic(errLen("Dot", "len(x)", len(x), "len(y)", len(y)))
	}
	return vecSelected().dot(x, y)
}

// dotGeneric is the pure-Go Dot, always compiled.
func dotGeneric(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	for len(x) >= 8 && len(y) >= 8 {
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		s0 += x[4] * y[4]
		s1 += x[5] * y[5]
		s2 += x[6] * y[6]
		s3 += x[7] * y[7]
		x = x[8:]
		y = y[8:]
	}
	for i, v := range x {
		s0 += v * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Axpy adds alpha times x to y:
//
//	for i := range x {
//		y[i] += alpha * x[i]
//	}
//
// It panics if len(x) != len(y).
func Axpy(alpha float32, x, y []float32) {
	if len(x) != len(y) {
		panic(errLen("Axpy", "len(x)", len(x), "len(y)", len(y)))
	}
	vecSelected().axpy(alpha, x, y)
}

func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for len(x) >= 4 && len(y) >= 4 {
		y[0] += alpha * x[0]
		y[1] += alpha * x[1]
		y[2] += alpha * x[2]
		y[3] += alpha * x[3]
		x = x[4:]
		y = y[4:]
	}
	for i, v := range x {
		y[i] += alpha * v
	}
}
