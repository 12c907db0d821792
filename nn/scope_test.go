package nn

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// An inference tape's nested Scopes: a layer (inner Scope) that frees its
// input, the enclosing Scope's, hands the buffer back for the next
// allocation; ActFree overwrites a Scope's buffer in place with Act's exact
// values but never a Const; results survive their Scopes.
func TestInferenceScopeReuse(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n, c = 5, 8
	in := randT(r, n, c).Data()
	keep := append([]float32(nil), in...)
	tp := Inference(nil)
	var want []float32
	for _, act := range []Activation{GELU, QuickGELU} {
		ref := Inference(nil).Act(act, Const(keep, n, c)).Data
		x0 := Const(in, n, c)
		y := tp.Scope(x0, func(tp *Tape, x *Var) *Var {
			g := tp.ActFree(act, x) // a Const: not overwritten
			if x.Data == nil || &g.Data[0] == &in[0] {
				t.Fatal("ActFree overwrote or dropped a Const")
			}
			gp := unsafe.SliceData(g.Data)
			a := tp.Scope(g, func(tp *Tape, x *Var) *Var {
				y := tp.Add(x, x)
				tp.Free(x) // the enclosing Scope's buffer
				return y
			})
			if g.Data != nil {
				t.Fatal("Free inside a nested Scope kept the enclosing Scope's buffer")
			}
			b := tp.Add(a, a)
			if unsafe.SliceData(b.Data) != gp {
				t.Fatal("the freed buffer was not reused")
			}
			tp.Free(a)
			z := tp.ActFree(act, b) // in place
			if b.Data != nil {
				t.Fatal("ActFree left its input's buffer with it")
			}
			return z
		})
		want = make([]float32, n*c)
		for i, v := range ref {
			want[i] = 4 * v
		}
		want = Inference(nil).Act(act, Const(want, n, c)).Data
		for i := range want {
			if math.Float32bits(y.Data[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%v: y[%d] = %v, want %v", act, i, y.Data[i], want[i])
			}
		}
		for i := range in {
			if in[i] != keep[i] {
				t.Fatal("the Const input changed")
			}
		}
		// The result is the caller's: the next Scope does not hand it out.
		z := tp.Scope(nil, func(tp *Tape, _ *Var) *Var { return tp.Add(y, y) })
		if unsafe.SliceData(z.Data) == unsafe.SliceData(y.Data) {
			t.Fatal("a Scope's result was recycled")
		}
	}
}
