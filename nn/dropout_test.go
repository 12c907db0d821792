package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Backward with dropout active (LoRA input dropout, hidden dropout,
// attention-probability dropout) against central differences of the same
// forward with the same masks (the generator is re-seeded for every pass).
func TestDropoutGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	const n, d, heads = 6, 8, 2
	l := &Linear{Weight: randT(r, d, d), Bias: randT(r, d),
		LoRA: &LoRA{A: randT(r, 2, d), B: randT(r, d, 2), Scaling: 0.7, Dropout: 0.3}}
	x0 := randT(r, n, d).Data()
	w := randT(r, n, d).Data() // loss = Σ w·out
	grads := NewGrads(l.LoRA.A, l.LoRA.B, l.Bias)
	loss := func(x []float32, rec bool) (float64, *Tape, *Var, *Var) {
		tp := &Tape{Grads: grads, Train: true, RNG: rand.NewPCG(1, 2), record: rec}
		xv := &Var{Data: x, Rows: n, Cols: d}
		if rec {
			xv.g = &gradSlot{n: n * d}
		}
		h := tp.Dropout(tp.Linear(l, xv), 0.2)
		a := tp.Attention(h, h, h, AttnSpec{B: 2, Heads: heads, Tq: 3, Tk: 3, KVStride: 3, Scale: 0.5, Dropout: 0.25})
		var s float64
		for i, v := range a.Data {
			s += float64(v) * float64(w[i])
		}
		return s, tp, xv, a
	}
	_, tp, xv, a := loss(x0, true)
	a.g.v = append([]float32(nil), w...) // dloss/dout = w
	tp.run()
	check := func(name string, param []float32, got []float32) {
		t.Helper()
		for i := range param {
			old := param[i]
			const h = 1e-2
			param[i] = old + h
			up, _, _, _ := loss(x0, false)
			param[i] = old - h
			down, _, _, _ := loss(x0, false)
			param[i] = old
			want := (up - down) / (2 * h)
			if math.Abs(float64(got[i])-want) > 2e-2*math.Max(1, math.Abs(want)) {
				t.Errorf("%s[%d]: analytic %v, numeric %v", name, i, got[i], want)
			}
		}
	}
	check("x", x0, xv.Grad())
	check("A", l.LoRA.A.Data(), grads.Of(l.LoRA.A))
	check("B", l.LoRA.B.Data(), grads.Of(l.LoRA.B))
	check("bias", l.Bias.Data(), grads.Of(l.Bias))
}
