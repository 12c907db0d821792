package kernels

// Row-wise softmax and its backward pass, the reference versions. Sums and
// exponentials are taken in float64, which costs little next to the
// matrix products around them and keeps the rows summing to 1 within a
// float32 rounding.

import (
	"fmt"
	"math"
)

func checkRowsCols(fn string, rows, cols int) {
	if rows < 0 || cols < 0 {
		panic(errDim(fn, fmt.Sprintf("negative size rows=%d cols=%d", rows, cols)))
	}
}

// Softmax computes a numerically stable softmax of each row of the
// rows×cols matrix x into out; out may be x itself:
//
//	for r := 0; r < rows; r++ {
//		row := x[r*cols : (r+1)*cols]
//		mx := max(row...)
//		for j := range row {
//			out[r*cols+j] = exp(row[j]-mx) / Σ_l exp(row[l]-mx)
//		}
//	}
//
// A row whose entries are all -Inf (fully masked) gives all zeros, not
// NaN. NaN inputs propagate. It panics if x or out is shorter than
// rows*cols.
func Softmax(out, x []float32, rows, cols int) {
	const fn = "Softmax"
	checkRowsCols(fn, rows, cols)
	checkLen(fn, "x", x, rows*cols)
	checkLen(fn, "out", out, rows*cols)
	v := vecSelected()
	for r := 0; r < rows; r++ {
		v.softmaxRow(out[r*cols:(r+1)*cols], x[r*cols:(r+1)*cols])
	}
}

// softmaxRowGeneric is the reference softmax of one row: exp in float64,
// a float64 sum, one rounding per element.
func softmaxRowGeneric(or, xr []float32) {
	or = or[:len(xr)]
	mx := float32(math.Inf(-1))
	for _, v := range xr {
		if v > mx {
			mx = v
		}
	}
	if math.IsInf(float64(mx), -1) {
		clear(or)
		return
	}
	m := float64(mx)
	var sum float64
	for j, v := range xr {
		e := math.Exp(float64(v) - m)
		or[j] = float32(e)
		sum += e
	}
	inv := 1 / sum
	for j, e := range or {
		or[j] = float32(float64(e) * inv)
	}
}

// SoftmaxBackward computes, for each row, the gradient of the loss with
// respect to the softmax input from the output y and its gradient dy:
//
//	for r := 0; r < rows; r++ {
//		s := Σ_j dy[r*cols+j] * y[r*cols+j]
//		for j := 0; j < cols; j++ {
//			dx[r*cols+j] = y[r*cols+j] * (dy[r*cols+j] - s)
//		}
//	}
//
// dx is overwritten, not accumulated; it may alias y or dy. It panics if a
// slice is shorter than rows*cols.
func SoftmaxBackward(dx, y, dy []float32, rows, cols int) {
	const fn = "SoftmaxBackward"
	checkRowsCols(fn, rows, cols)
	checkLen(fn, "dx", dx, rows*cols)
	checkLen(fn, "y", y, rows*cols)
	checkLen(fn, "dy", dy, rows*cols)
	for r := 0; r < rows; r++ {
		yr := y[r*cols : (r+1)*cols]
		dyr := dy[r*cols : (r+1)*cols]
		dxr := dx[r*cols : (r+1)*cols]
		var s float64
		for j, v := range yr {
			s += float64(v) * float64(dyr[j])
		}
		for j, v := range yr {
			dxr[j] = float32(float64(v) * (float64(dyr[j]) - s))
		}
	}
}
