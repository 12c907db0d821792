package tensor

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gitcap/gitcap/kernels"
	"gonum.org/v1/gonum/mat"
)

// f64 copies a rank-2 tensor into a gonum float64 matrix.
func f64(x *Tensor) *mat.Dense {
	r, c := x.Dim(0), x.Dim(1)
	m := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			m.Set(i, j, float64(x.At(i, j)))
		}
	}
	return m
}

// MatMul on row-major, transposed and batch-broadcast operands against
// gonum's float64 product.
func TestMatMul(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pool := kernels.NewPool(2)
	defer pool.Close()
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 33, 15}, {64, 31, 127}} {
		m, k, n := sz[0], sz[1], sz[2]
		a := randTensor(r, m, k)
		bt := randTensor(r, n, k) // a Linear weight [out, in]
		b := bt.Transpose(0, 1)   // [k, n] view
		var want mat.Dense
		want.Mul(f64(a), f64(b))
		for _, p := range []*kernels.Pool{nil, pool} {
			for _, bb := range []*Tensor{b, b.Contiguous(), b.Contiguous().Transpose(0, 1).Contiguous().Transpose(0, 1)} {
				got := MatMul(p, a, bb)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						if d := math.Abs(float64(got.At(i, j)) - want.At(i, j)); d > 1e-5*float64(k) {
							t.Fatalf("%v: [%d,%d] off by %v", sz, i, j, d)
						}
					}
				}
			}
		}
		// a transposed left operand and a strided (narrowed) one
		at := a.Contiguous().Transpose(0, 1).Contiguous().Transpose(0, 1)
		if d, _ := MaxAbsDiff(MatMul(nil, at, b), MatMul(nil, a, b)); d > 1e-5*float64(k) {
			t.Fatalf("%v: transposed A differs by %v", sz, d)
		}
	}
	// Batched: [2,3,m,k] · [k,n] broadcast, and [2,1,m,k]·[3,k,n].
	a := randTensor(r, 2, 3, 4, 5)
	b := randTensor(r, 5, 6)
	got := MatMul(nil, a, b)
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			var want mat.Dense
			want.Mul(f64(a.Select(0, i).Select(0, j)), f64(b))
			g := got.Select(0, i).Select(0, j)
			if d, _ := MaxAbsDiff(g, fromDense(&want)); d > 1e-5 {
				t.Fatalf("batch [%d,%d] off by %v", i, j, d)
			}
		}
	}
	a2 := randTensor(r, 2, 1, 4, 5)
	b2 := randTensor(r, 3, 5, 6)
	got2 := MatMul(nil, a2, b2)
	if !sameShape(got2.Shape(), []int{2, 3, 4, 6}) {
		t.Fatalf("broadcast batch shape %v", got2.Shape())
	}
	var want mat.Dense
	want.Mul(f64(a2.Select(0, 1).Select(0, 0)), f64(b2.Select(0, 2)))
	if d, _ := MaxAbsDiff(got2.Select(0, 1).Select(0, 2), fromDense(&want)); d > 1e-5 {
		t.Fatalf("broadcast batch off by %v", d)
	}
}

func fromDense(m *mat.Dense) *Tensor {
	r, c := m.Dims()
	x := Zeros(r, c)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			x.Set(float32(m.At(i, j)), i, j)
		}
	}
	return x
}

func TestSoftmaxLayerNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x := randTensor(r, 3, 7)
	w, b := randTensor(r, 7), randTensor(r, 7)
	sm, ln := Softmax(x), LayerNorm(x, w, b, 1e-5)
	for i := 0; i < 3; i++ {
		mx, s := math.Inf(-1), 0.0
		var mean, vr float64
		for j := 0; j < 7; j++ {
			mx = math.Max(mx, float64(x.At(i, j)))
			mean += float64(x.At(i, j)) / 7
		}
		for j := 0; j < 7; j++ {
			s += math.Exp(float64(x.At(i, j)) - mx)
			d := float64(x.At(i, j)) - mean
			vr += d * d / 7
		}
		for j := 0; j < 7; j++ {
			if want := math.Exp(float64(x.At(i, j))-mx) / s; math.Abs(float64(sm.At(i, j))-want) > 1e-6 {
				t.Fatalf("softmax[%d,%d] = %v, want %v", i, j, sm.At(i, j), want)
			}
			want := (float64(x.At(i, j))-mean)/math.Sqrt(vr+1e-5)*float64(w.At(j)) + float64(b.At(j))
			if math.Abs(float64(ln.At(i, j))-want) > 1e-5 {
				t.Fatalf("layernorm[%d,%d] = %v, want %v", i, j, ln.At(i, j), want)
			}
		}
	}
}
