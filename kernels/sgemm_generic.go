package kernels

// The pure-Go Sgemm micro-kernel, always compiled: the reference every
// assembly variant is tested against, and the fallback on every platform.
//
// Why 2×4: the Go compiler does not vectorise and, on amd64, has 15 usable
// float registers (X15 is reserved as zero by the register ABI). Eight
// accumulators, four B values and two A values fit; a 4×4 tile spills and
// measured ~40% slower. Unrolling the p loop four times amortises the slice
// bookkeeping; with it the kernel ran at ~14 GFLOP/s on one core of the
// project's EPYC machine (against ~5.7 without unrolling).

const (
	genericMR = 2
	genericNR = 4
)

// kernGeneric2x4 implements SgemmVariant.Kernel for MR=2, NR=4.
func kernGeneric2x4(kc int, a, b, t []float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	a = a[:kc*2]
	b = b[:kc*4]
	for len(a) >= 8 && len(b) >= 16 {
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		a0, a1 := a[0], a[1]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		b0, b1, b2, b3 = b[4], b[5], b[6], b[7]
		a0, a1 = a[2], a[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		b0, b1, b2, b3 = b[8], b[9], b[10], b[11]
		a0, a1 = a[4], a[5]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		b0, b1, b2, b3 = b[12], b[13], b[14], b[15]
		a0, a1 = a[6], a[7]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a = a[8:]
		b = b[16:]
	}
	for len(a) >= 2 && len(b) >= 4 {
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		a0, a1 := a[0], a[1]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a = a[2:]
		b = b[4:]
	}
	t = t[:8]
	t[0], t[1], t[2], t[3] = c00, c01, c02, c03
	t[4], t[5], t[6], t[7] = c10, c11, c12, c13
}
