package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// Block layouts are part of the checkpoint format: their sizes must not drift.
func TestQuantBlockSizes(t *testing.T) {
	if s := unsafe.Sizeof(Q8Block{}); s != 34 {
		t.Errorf("Q8Block is %d bytes, want 34", s)
	}
	if s := unsafe.Sizeof(NF4Block{}); s != 32 {
		t.Errorf("NF4Block is %d bytes, want 32", s)
	}
}

// formats.md §4.1's worked example, computed by hand from the rules:
// codes [12 4 15 0 7 8 11 6], packed high nibble first: c4 f0 78 b6.
func TestNF4HandComputed(t *testing.T) {
	blocks, _, _, _ := QuantizeNF4([]float32{0.5, -0.25, 1.0, -1.0, 0.0, 0.1, 0.3, -0.05})
	want := []byte{0xc4, 0xf0, 0x78, 0xb6}
	for i, w := range want {
		if blocks[0].Q[i] != w {
			t.Fatalf("byte %d = %#02x, want %#02x (all: % x)", i, blocks[0].Q[i], w, blocks[0].Q[:4])
		}
	}
	// a value exactly on a midpoint takes the lower index
	mid := (NF4Code[7] + NF4Code[8]) / 2
	if nf4Nearest(mid) != 7 || nf4Nearest(math.Nextafter32(mid, 1)) != 8 {
		t.Error("midpoint rule")
	}
}

func TestDynamicMap(t *testing.T) {
	m := DynamicMap8
	for i := 1; i < 256; i++ {
		if m[i] < m[i-1] {
			t.Fatalf("not sorted at %d", i)
		}
	}
	if m[255] != 1 || m[0] > -0.99 || m[0] < -1 {
		t.Errorf("ends %v %v", m[0], m[255])
	}
	zero := false
	for _, v := range m {
		zero = zero || v == 0
	}
	if !zero {
		t.Error("no exact 0 in the map")
	}
}

// Round-trip error bounds per format, on random data and on git-base-shaped
// weights (768×768, std 0.02, with a few outliers):
//   - Q8: |x - x̂| ≤ d/2 per element plus the F16 rounding of d (2⁻¹¹ relative),
//     d = amax/127 of the block;
//   - NF4: |x - x̂| ≤ absmax·(largest gap between codes)/2 plus the
//     double-quantization error of absmax, at most absmax2 (the group's
//     largest |absmax - offset|) times half the largest gap of the 8-bit
//     dynamic map (outlier blocks make that large for their neighbours,
//     exactly as in bitsandbytes);
//   - F16/BF16: relative 2⁻¹¹ / 2⁻⁸.
func TestQuantRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	shapes := [][2]int{{1, 31}, {3, 33}, {5, 64}, {7, 100}, {768, 768}}
	maxGap, dynGap := float32(0), float32(0)
	for i := 0; i < 15; i++ {
		maxGap = max(maxGap, NF4Code[i+1]-NF4Code[i])
	}
	for i := 0; i < 255; i++ {
		dynGap = max(dynGap, DynamicMap8[i+1]-DynamicMap8[i])
	}
	for _, sh := range shapes {
		rows, cols := sh[0], sh[1]
		w := make([]float32, rows*cols)
		for i := range w {
			w[i] = float32(r.NormFloat64() * 0.02)
			if r.IntN(1000) == 0 {
				w[i] *= 20
			}
		}
		for _, f := range []QFormat{QF16, QBF16, Q8, NF4} {
			q := Quantize(f, w, rows, cols)
			got := make([]float32, len(w))
			q.Dequantize(got, 0)
			var sq float64
			for i, v := range w {
				e := float64(abs32(got[i] - v))
				sq += e * e
				var bound float64
				switch f {
				case QF16:
					bound = math.Abs(float64(v))*math.Pow(2, -11) + 6e-8
				case QBF16:
					bound = math.Abs(float64(v)) * math.Pow(2, -8)
				case Q8:
					amax := blockAmax(w, i, q8Block)
					bound = amax/127/2 + amax/127*math.Pow(2, -11)*128
				case NF4:
					amax := blockAmax(w, i, nf4Block)
					ds := float64(q.NF4Absmax2[i/nf4Block/nf4Nested] * dynGap / 2)
					bound = (amax+ds)*float64(maxGap)/2 + ds + 1e-7
				}
				if e > bound {
					t.Fatalf("%v %dx%d: element %d: %v → %v (error %.3g > bound %.3g)", f, rows, cols, i, v, got[i], e, bound)
				}
			}
			if rows == 768 {
				t.Logf("%v: RMSE %.3g on std-0.02 weights, %.3f bits/value", f, math.Sqrt(sq/float64(len(w))), 8*float64(q.Bytes())/float64(len(w)))
			}
			// dequantizing a range in the middle equals the same slice of the whole
			part := make([]float32, min(37, len(w)-1))
			q.Dequantize(part, 1)
			for i := range part {
				if part[i] != got[i+1] {
					t.Fatalf("%v: partial dequantize differs at %d", f, i)
				}
			}
		}
	}
}

func blockAmax(w []float32, i, block int) float64 {
	b := i / block
	var m float64
	for _, v := range w[b*block : min((b+1)*block, len(w))] {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}

func abs32(x float32) float32 { return float32(math.Abs(float64(x))) }

// QMatMul and QMatMulT equal dequantize-then-Sgemm (same products, same
// order up to the tile split: tolerance scaled with K).
func TestQMatMulMatchesDequantized(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pool := NewPool(2)
	defer pool.Close()
	for _, sh := range [][3]int{{1, 65, 64}, {3, 130, 96}, {5, 17, 33}, {2, 200, 128}} {
		n, rows, cols := sh[0], sh[1], sh[2]
		w := randSlice(r, rows*cols)
		x := randSlice(r, n*cols)
		dy := randSlice(r, n*rows)
		for _, f := range []QFormat{QF32, QF16, QBF16, Q8, NF4} {
			q := Quantize(f, w, rows, cols)
			dense := make([]float32, rows*cols)
			q.Dequantize(dense, 0)
			want := make([]float32, n*rows)
			Sgemm(nil, false, true, n, rows, cols, 1, x, cols, dense, cols, 0, want, rows)
			got := make([]float32, n*rows)
			QMatMul(pool, got, x, n, q)
			checkClose(t, f.String()+" QMatMul", got, want, float64(cols)*1e-6)
			wantT := make([]float32, n*cols)
			gotT := make([]float32, n*cols)
			for i := range wantT {
				wantT[i], gotT[i] = 1, 1 // accumulates
			}
			Sgemm(nil, false, false, n, cols, rows, 1, dy, rows, dense, cols, 1, wantT, cols)
			QMatMulT(pool, gotT, dy, n, q)
			checkClose(t, f.String()+" QMatMulT", gotT, wantT, float64(rows)*1e-6)
		}
	}
}

func checkClose(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*math.Max(1, math.Abs(float64(want[i]))) {
			t.Fatalf("%s: [%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// qRefMatMul is y = x·Wᵀ on the dequantized weight, in float64, with the
// scale Σ|x||w| of each element for the tolerance.
func qRefMatMul(dense, x []float32, n, rows, cols int) (want, mag []float64) {
	want = make([]float64, n*rows)
	mag = make([]float64, n*rows)
	for r := 0; r < n; r++ {
		for o := 0; o < rows; o++ {
			var s, m float64
			for i := 0; i < cols; i++ {
				p := float64(x[r*cols+i]) * float64(dense[o*cols+i])
				s += p
				m += math.Abs(p)
			}
			want[r*rows+o], mag[r*rows+o] = s, m
		}
	}
	return want, mag
}

// Every quant variant this CPU has, fused row path and tiled path, against
// dequantize-then-multiply in float64, on odd shapes (blocks spanning rows
// included, and NF4 matrices with several double-quantization groups),
// with guard bands around the outputs.
func TestQuantVariants(t *testing.T) {
	pool := NewPool(2)
	defer pool.Close()
	shapes := [][3]int{ // n, rows, cols
		{1, 1, 64}, {1, 3, 64}, {1, 17, 128}, {2, 33, 192}, {3, 65, 768}, {4, 130, 256},
		{1, 7, 32}, {2, 9, 96}, // Q8-aligned only
		{1, 5, 33}, {3, 7, 100}, {5, 17, 64}, {9, 70, 128}, {1, 3, 31}, {8, 40, 1000},
		{8, 19, 128}, {7, 300, 64}, {6, 5, 96}, // 4-row kernels plus leftover rows

	}
	for _, v := range quantVariants() {
		for _, f := range []QFormat{Q8, NF4} {
			for si, sh := range shapes {
				n, rows, cols := sh[0], sh[1], sh[2]
				r := newRand(uint64(100 + si))
				w := randSlice(r, rows*cols)
				for i := range w {
					w[i] *= 0.05
					if r.IntN(300) == 0 {
						w[i] *= 30
					}
				}
				x := randSlice(r, n*cols)
				q := Quantize(f, w, rows, cols)
				dense := make([]float32, rows*cols)
				q.Dequantize(dense, 0)
				want, mag := qRefMatMul(dense, x, n, rows, cols)
				name := fmt.Sprintf("%s/%v/%dx%dx%d", v.name, f, n, rows, cols)
				full, y := guarded(n*rows, nil)
				for i := range y {
					y[i] = float32(math.NaN()) // overwritten
				}
				qMatMulWith(&v, pool, y, x, n, q)
				checkGuards(t, name, full)
				for i := range want {
					if d := math.Abs(float64(y[i]) - want[i]); !(d <= 2e-6*mag[i]+1e-30) {
						t.Fatalf("%s (fused=%v): y[%d] = %v, want %v (Σ|xw| %.3g)", name, v.qFused(q, n), i, y[i], want[i], mag[i])
					}
				}
				// QMatMulT: dx += dy·W
				dy := randSlice(r, n*rows)
				fullT, dx := guarded(n*cols, nil)
				for i := range dx {
					dx[i] = 1
				}
				qMatMulTWith(&v, pool, dx, dy, n, q)
				checkGuards(t, name+" T", fullT)
				for rr := 0; rr < n; rr++ {
					for c := 0; c < cols; c++ {
						s, m := 1.0, 1.0
						for o := 0; o < rows; o++ {
							p := float64(dy[rr*rows+o]) * float64(dense[o*cols+c])
							s += p
							m += math.Abs(p)
						}
						if d := math.Abs(float64(dx[rr*cols+c]) - s); d > 2e-6*m {
							t.Fatalf("%s QMatMulT: dx[%d,%d] = %v, want %v", name, rr, c, dx[rr*cols+c], s)
						}
					}
				}
			}
		}
	}
}

// The tile dequantizers equal the scalar Dequantize at any offset and
// length (partial blocks at both ends go through the scalar code).
func TestQuantDequantVariants(t *testing.T) {
	r := newRand(77)
	rows, cols := 41, 1000 // 41000 values: 161 NF4 groups' worth of blocks spans 3 groups
	w := randSlice(r, rows*cols)
	for _, f := range []QFormat{Q8, NF4} {
		q := Quantize(f, w, rows, cols)
		ref := make([]float32, rows*cols)
		q.Dequantize(ref, 0)
		for _, v := range quantVariants() {
			for _, span := range [][2]int{{0, rows * cols}, {1, 63}, {31, 1}, {64, 640}, {100, 30000}, {17, 33}, {rows*cols - 65, 65}} {
				off, n := span[0], span[1]
				full, dst := guarded(n, nil)
				v.dequant(q, dst, off)
				checkGuards(t, v.name, full)
				for i := range dst {
					want := ref[off+i]
					if d := math.Abs(float64(dst[i] - want)); d > 1e-6*math.Abs(float64(want)) {
						t.Fatalf("%s %v dequant(off %d, n %d)[%d] = %v, want %v", v.name, f, off, n, i, dst[i], want)
					}
				}
			}
		}
	}
}

func TestNF4PermuteX(t *testing.T) {
	x := make([]float32, 128)
	for i := range x {
		x[i] = float32(i)
	}
	got := make([]float32, 128)
	nf4PermuteX(got, x, 16)
	want := []float32{0, 2, 4}
	for i, w := range want {
		if got[i] != w || got[16+i] != w+1 || got[64+32+i] != 64+32+w {
			t.Fatalf("chunk 16: %v", got[:40])
		}
	}
}

var qBenchShapes = []struct {
	name       string
	n, k, rows int // y (n, rows) = x (n, k) · Wᵀ
}{
	{"1x768x768", 1, 768, 768},
	{"1x768x3072", 1, 768, 3072},
	{"1x3072x768", 1, 3072, 768},
	{"1x768x30522", 1, 768, 30522},
	{"4x768x3072", 4, 768, 3072},
	{"8x768x30522", 8, 768, 30522},
	{"197x768x3072", 197, 768, 3072},
}

// BenchmarkQMatMul reports, per variant, format and shape (n×in×out), the
// weight bytes streamed per second and GFLOP/s, at 2 threads (F32 rows go
// through Sgemm for comparison).
func BenchmarkQMatMul(b *testing.B) {
	for _, s := range qBenchShapes {
		r := newRand(9)
		w := randSlice(r, s.rows*s.k)
		x := randSlice(r, s.n*s.k)
		y := make([]float32, s.n*s.rows)
		for _, f := range []QFormat{QF32, Q8, NF4} {
			q := Quantize(f, w, s.rows, s.k)
			for _, v := range quantVariants() {
				if f == QF32 && v.isa != quantChoice().isa {
					continue
				}
				if v.isa == isaGeneric && f != QF32 && s.rows*s.n > 200000 {
					continue
				}
				b.Run(fmt.Sprintf("%s/%v/%s", v.name, f, s.name), func(b *testing.B) {
					p := NewPool(2)
					defer p.Close()
					for b.Loop() {
						qMatMulWith(&v, p, y, x, s.n, q)
					}
					sec := b.Elapsed().Seconds() / float64(b.N)
					b.ReportMetric(float64(q.Bytes())/sec/1e9, "GB/s")
					b.ReportMetric(2*float64(s.n*s.k*s.rows)/sec/1e9, "GFLOP/s")
				})
			}
		}
	}
}
