package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The backward paths of Act and CrossEntropy when their input has another
// reader (it then takes a gradient from both, and neither may write over a
// buffer the other reads) and when it has not (the gradient is written over
// a dying buffer), against the same gradients in float64.

// leaf returns x as a Var that collects a gradient, and an arena-owned
// copy of it made by an op (so that Free and the in-place paths apply).
func leaf(tp *Tape, x []float32, rows, cols int) (*Var, *Var) {
	v := &Var{Data: append([]float32(nil), x...), Rows: rows, Cols: cols, g: &gradSlot{n: rows * cols}}
	return v, tp.Add(v, Const(make([]float32, len(x)), rows, cols))
}

func TestActSharedInput(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const rows, cols = 3, 1500 // more than one 1024-value chunk per row block
	x0, w1, w2 := make([]float32, rows*cols), make([]float32, rows*cols), make([]float32, rows*cols)
	for i := range x0 {
		x0[i], w1[i], w2[i] = float32(2*r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	// d/dz of Σ w1·gelu(z) + [shared] Σ w2·z, with gelu(z) = z·Φ(z)
	want := func(shared bool) []float64 {
		out := make([]float64, len(x0))
		for i, v := range x0 {
			z := float64(v)
			d := 0.5*(1+math.Erf(z/math.Sqrt2)) + z*math.Exp(-z*z/2)/math.Sqrt(2*math.Pi)
			out[i] = float64(w1[i]) * d
			if shared {
				out[i] += float64(w2[i])
			}
		}
		return out
	}
	for _, c := range []struct {
		name          string
		shared, after bool // a second reader of z; recorded after Act (so its gradient comes first)
	}{{"alone", false, false}, {"other reader first", true, false}, {"other reader last", true, true}} {
		tp := NewTape(nil, NewGrads(), true, rand.NewPCG(1, 2))
		x, z := leaf(tp, x0, rows, cols)
		var f, s *Var
		if c.shared && !c.after {
			s = tp.Add(z, Const(make([]float32, len(x0)), rows, cols))
		}
		f = tp.Act(GELU, z)
		if c.shared && c.after {
			s = tp.Add(z, Const(make([]float32, len(x0)), rows, cols))
		}
		f.g.v = append([]float32(nil), w1...)
		if s != nil {
			s.g.v = append([]float32(nil), w2...)
		}
		tp.run()
		got, ref := x.Grad(), want(c.shared)
		for i := range ref {
			if d := math.Abs(float64(got[i]) - ref[i]); d > 1e-5*(1+math.Abs(ref[i])) {
				t.Fatalf("%s: dx[%d] = %v, want %v", c.name, i, got[i], ref[i])
			}
		}
	}
}

func TestCrossEntropySharedLogits(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const rows, v = 5, 37
	x0 := make([]float32, rows*v)
	for i := range x0 {
		x0[i] = float32(3 * r.NormFloat64())
	}
	labels := []int{3, -100, 0, 36, 17}
	// d/dlogits of mean CE over the 4 targets: (softmax − onehot)/4 per row
	want := make([]float64, len(x0))
	for rr, y := range labels {
		if y == -100 {
			continue
		}
		row := x0[rr*v : (rr+1)*v]
		m, sum := math.Inf(-1), 0.0
		for _, z := range row {
			m = math.Max(m, float64(z))
		}
		for _, z := range row {
			sum += math.Exp(float64(z) - m)
		}
		for j, z := range row {
			want[rr*v+j] = math.Exp(float64(z)-m) / sum / 4
		}
		want[rr*v+y] -= 1.0 / 4
	}
	for _, readers := range []int{1, 2} {
		tp := NewTape(nil, NewGrads(), true, rand.NewPCG(1, 2))
		x, logits := leaf(tp, x0, rows, v)
		for k := 0; k < readers; k++ {
			loss, n := tp.CrossEntropy(logits, labels)
			if n != 4 {
				t.Fatalf("%d targets, want 4", n)
			}
			loss.g.v = []float32{1}
		}
		tp.run()
		got := x.Grad()
		for i := range want {
			ref := float64(readers) * want[i]
			if d := math.Abs(float64(got[i]) - ref); d > 1e-6 {
				t.Fatalf("%d readers: dlogits[%d] = %v, want %v", readers, i, got[i], ref)
			}
		}
		if readers == 1 && logits.Data != nil {
			t.Errorf("one reader: the logits' memory should have gone to their gradient")
		}
	}
}
