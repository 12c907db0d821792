package kernels

import (
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
