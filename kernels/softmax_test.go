package kernels

import (
	"fmt"
	"math"
	"testing"
)

// softmax64 is the float64 twin of Softmax.
func softmax64(x []float64, rows, cols int) []float64 {
	y := make([]float64, rows*cols)
	for r := 0; r < rows; r++ {
		xr, yr := x[r*cols:(r+1)*cols], y[r*cols:(r+1)*cols]
		mx := math.Inf(-1)
		for _, v := range xr {
			mx = math.Max(mx, v)
		}
		if math.IsInf(mx, -1) {
			continue
		}
		var s float64
		for j, v := range xr {
			yr[j] = math.Exp(v - mx)
			s += yr[j]
		}
		for j := range yr {
			yr[j] /= s
		}
	}
	return y
}

// softmaxInput fills rows×cols with values in [-4, 4) and, in some rows,
// -Inf entries, a fully -Inf row and HF's -3.4e38 mask value.
func softmaxInput(seed uint64, rows, cols int) []float32 {
	r := newRand(seed)
	x := randSlice(r, rows*cols)
	for i := range x {
		x[i] *= 4
	}
	if rows >= 3 {
		for j := 0; j < cols; j++ {
			x[1*cols+j] = float32(math.Inf(-1)) // fully masked row
			if j%2 == 1 {
				x[2*cols+j] = float32(math.Inf(-1))
			}
			if j%3 == 2 {
				x[0*cols+j] = -3.4e38
			}
		}
	}
	return x
}

// softmaxTol: generic: exp in float64 rounded once, a float64 row sum, one
// float64 multiply and a rounding: a few ulps. Assembly: float32 exp
// (≈1.3 ulp), a float32 row sum in 16 lanes and the scaling: 1.5e-6
// relative.
func softmaxTol(v vecVariant) (atol, rtol float64) {
	if v.isa == isaGeneric {
		return 1e-12, 4e-7
	}
	return 1e-12, 1.5e-6
}

func TestSoftmax(t *testing.T) {
	for _, v := range vecVariants() {
		atol, rtol := softmaxTol(v)
		for _, rows := range []int{1, 3, 7} {
			for _, cols := range append(oddSizes, 1000) {
				name := fmt.Sprintf("%s %dx%d", v.name, rows, cols)
				x := softmaxInput(uint64(rows*1000+cols), rows, cols)
				want := softmax64(to64(x), rows, cols)
				full, out := guarded(rows*cols, nil)
				for r := 0; r < rows; r++ {
					v.softmaxRow(out[r*cols:(r+1)*cols], x[r*cols:(r+1)*cols])
				}
				checkGuards(t, name, full)
				compare(t, name, out, want, atol, rtol)
				// In place, through the exported function when v is the selected one.
				if v.name == vecSelected().name {
					Softmax(x, x, rows, cols)
				} else {
					for r := 0; r < rows; r++ {
						v.softmaxRow(x[r*cols:(r+1)*cols], x[r*cols:(r+1)*cols])
					}
				}
				compare(t, name+" in place", x, want, atol, rtol)
			}
		}
	}
	mustPanic(t, "len(out)=3 < 4", func() { Softmax(make([]float32, 3), make([]float32, 4), 2, 2) })
	mustPanic(t, "negative size", func() { Softmax(nil, nil, -1, 2) })
}

func TestSoftmaxBackward(t *testing.T) {
	for _, sh := range [][2]int{{1, 1}, {2, 3}, {3, 5}, {2, 17}, {3, 33}, {1, 127}, {1, 255}} {
		rows, cols := sh[0], sh[1]
		name := fmt.Sprintf("%dx%d", rows, cols)
		x := softmaxInput(uint64(rows*77+cols), rows, cols)
		r := newRand(uint64(cols))
		g := randSlice(r, rows*cols)
		x64, g64 := to64(x), to64(g)
		want := numGrad(x64, func() float64 { return dotLoss(g64, softmax64(x64, rows, cols)) })
		for i := range want {
			if math.IsInf(x64[i], -1) {
				want[i] = 0 // perturbing -Inf changes nothing
			}
		}
		y := make([]float32, rows*cols)
		Softmax(y, x, rows, cols)
		full, dx := guarded(rows*cols, randSlice(r, rows*cols))
		SoftmaxBackward(dx, y, g, rows, cols)
		checkGuards(t, name, full)
		compareGrad(t, name, dx, want)
		// dx may alias dy.
		SoftmaxBackward(g, y, g, rows, cols)
		compareGrad(t, name+" aliased", g, want)
	}
	mustPanic(t, "SoftmaxBackward: len(dy)", func() { SoftmaxBackward(make([]float32, 4), make([]float32, 4), nil, 2, 2) })
}
