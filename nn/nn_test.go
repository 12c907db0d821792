package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/tensor"
	"github.com/gitcap/gitcap/tensor/safetensors"
)

func randT(r *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(shape...)
	for i := range t.Data() {
		t.Data()[i] = float32(r.NormFloat64())
	}
	return t
}

// Linear with a LoRA adapter against y = xWᵀ + b + s·(xAᵀ)Bᵀ in float64.
func TestLinearLoRA(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	const n, in, out, rank = 5, 7, 3, 2
	l := &Linear{Weight: randT(r, out, in), Bias: randT(r, out),
		LoRA: &LoRA{A: randT(r, rank, in), B: randT(r, out, rank), Scaling: 1.5}}
	x := randT(r, n, in).Data()
	y := make([]float32, n*out)
	pool := kernels.NewPool(2)
	defer pool.Close()
	l.Forward(pool, y, x, n)
	for i := 0; i < n; i++ {
		for o := 0; o < out; o++ {
			want := float64(l.Bias.At(o))
			for k := 0; k < in; k++ {
				want += float64(x[i*in+k]) * float64(l.Weight.At(o, k))
			}
			for q := 0; q < rank; q++ {
				var xa float64
				for k := 0; k < in; k++ {
					xa += float64(x[i*in+k]) * float64(l.LoRA.A.At(q, k))
				}
				want += 1.5 * xa * float64(l.LoRA.B.At(o, q))
			}
			if d := math.Abs(float64(y[i*out+o]) - want); d > 1e-5*math.Max(1, math.Abs(want)) {
				t.Fatalf("y[%d,%d] = %v, want %v", i, o, y[i*out+o], want)
			}
		}
	}
}

func TestLayerNormEmbedding(t *testing.T) {
	ln := &LayerNorm{Weight: tensor.FromFloat32([]float32{1, 2}, 2), Bias: tensor.FromFloat32([]float32{0, 1}, 2), Eps: 0}
	y := make([]float32, 2)
	ln.Forward(y, []float32{1, 3}, 1) // mean 2, std 1 → (-1, 1)·w + b
	if y[0] != -1 || y[1] != 3 {
		t.Errorf("LayerNorm: %v, want [-1 3]", y)
	}
	e := &Embedding{Weight: tensor.FromFloat32([]float32{0, 0, 1, 2, 3, 4}, 3, 2)}
	out := make([]float32, 4)
	e.Forward(out, []int{2, 1})
	if out[0] != 3 || out[1] != 4 || out[2] != 1 || out[3] != 2 {
		t.Errorf("Embedding: %v", out)
	}
}

// The loader collects every problem with the file and tensor named, and
// reports unused tensors.
func TestWeightsErrors(t *testing.T) {
	a, _ := safetensors.FromFloat32s("enc.w", safetensors.F32, []int64{2, 3}, make([]float32, 6))
	b, _ := safetensors.FromFloat32s("enc.extra", safetensors.F32, []int64{1}, make([]float32, 1))
	c, _ := safetensors.FromFloat32s("enc.position_ids", safetensors.F32, []int64{1}, make([]float32, 1))
	var buf strings.Builder
	if err := safetensors.Write(&buf, []safetensors.Tensor{a, b, c}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse("m.safetensors", []byte(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	w := NewWeights(f, "m.safetensors").Push("enc")
	if got := w.Get("w", 2, 3); got.Dim(1) != 3 {
		t.Fatal("shape")
	}
	if w.Err() != nil {
		t.Fatalf("unexpected error %v", w.Err())
	}
	w.Get("w2", 4)
	w.Get("extra", 2)
	err = w.Err()
	if err == nil || !strings.Contains(err.Error(), `m.safetensors: missing tensor "enc.w2"`) ||
		!strings.Contains(err.Error(), `tensor "enc.extra" has shape [1], want [2]`) {
		t.Errorf("errors: %v", err)
	}
	if un := w.Unused("position_ids"); len(un) != 0 {
		t.Errorf("unused: %v", un)
	}
	w2 := NewWeights(f, "m.safetensors")
	w2.Get("enc.w", 2, 3)
	if un := w2.Unused("position_ids"); len(un) != 1 || un[0] != "enc.extra" {
		t.Errorf("unused: %v", un)
	}
}

func TestTargetModulesJSON(t *testing.T) {
	var tm TargetModules
	if err := tm.UnmarshalJSON([]byte(`["query","value"]`)); err != nil || !tm.Matches("a.b.query", false) || tm.Matches("a.b.query_x", false) {
		t.Errorf("list: %+v %v", tm, err)
	}
	if err := tm.UnmarshalJSON([]byte(`".*\\.q_proj"`)); err != nil || !tm.Matches("x.q_proj", false) || tm.Matches("x.q_proj.y", false) {
		t.Errorf("regex: %+v %v", tm, err)
	}
	tm = TargetModules{Regex: "all-linear"}
	if !tm.Matches("x.fc1", false) || tm.Matches("output", true) {
		t.Error("all-linear")
	}
	c := &AdapterConfig{R: 4, LoraAlpha: 8, RankPattern: map[string]int{"value": 2}}
	if r, s := c.Scaling("l.0.query"); r != 4 || s != 2 {
		t.Errorf("scaling %d %v", r, s)
	}
	if r, s := c.Scaling("l.0.value"); r != 2 || s != 4 {
		t.Errorf("rank_pattern scaling %d %v", r, s)
	}
	c.UseRslora = true
	if _, s := c.Scaling("l.0.query"); s != 4 {
		t.Errorf("rslora scaling %v", s)
	}
}

// Backward closures that read a LayerNorm's, an attention's or a
// LinearRecompute's output hold a recipe (remat) instead of the values, and
// attention recomputes its probabilities; gradients must equal, bit for
// bit, those of the same graph where the outputs go through a copy (Add of
// zeros) that keeps them, or a plain Linear.
func TestRematGradients(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	for _, c := range []struct {
		drop float32
		pool *kernels.Pool
	}{{0, nil}, {0.2, nil}, {0.2, pool}} {
		r := rand.New(rand.NewPCG(5, 6))
		const b, tn, d, heads = 2, 5, 8, 2
		lin := func() *Linear {
			return &Linear{Weight: randT(r, d, d), Bias: randT(r, d),
				LoRA: &LoRA{A: randT(r, 2, d), B: randT(r, d, 2), Scaling: 0.5, Dropout: c.drop}}
		}
		lq, lk, lv, lo, lf := lin(), lin(), lin(), lin(), lin()
		ln := &LayerNorm{Weight: randT(r, d), Bias: randT(r, d), Eps: 1e-5}
		x0 := randT(r, b*tn, d).Data()
		w := randT(r, b*tn, d).Data()
		mask := make([]float32, b*tn*tn)
		for i := range mask {
			if i%tn > i/tn%tn { // causal
				mask[i] = float32(math.Inf(-1))
			}
		}
		var params []*tensor.Tensor
		for _, l := range []*Linear{lq, lk, lv, lo, lf} {
			params = append(params, l.LoRA.A, l.LoRA.B)
		}
		params = append(params, ln.Weight, ln.Bias)
		run := func(copies bool) (grads [][]float32) {
			g := NewGrads(params...)
			tp := NewTape(c.pool, g, c.drop > 0, rand.NewPCG(1, 2))
			x := &Var{Data: append([]float32(nil), x0...), Rows: b * tn, Cols: d, g: &gradSlot{n: b * tn * d}}
			h := tp.LayerNorm(ln, x)
			if h.re == nil {
				t.Fatal("LayerNorm output has no recipe")
			}
			if copies {
				h = tp.Add(h, Const(make([]float32, len(h.Data)), h.Rows, h.Cols))
			}
			a := tp.Attention(tp.Linear(lq, h), tp.Linear(lk, h), tp.Linear(lv, h),
				AttnSpec{B: b, Heads: heads, Tq: tn, Tk: tn, KVStride: tn, Scale: 0.7, Mask: mask, Dropout: c.drop})
			if a.re == nil {
				t.Fatal("attention output has no recipe")
			}
			if copies {
				a = tp.Add(a, Const(make([]float32, len(a.Data)), a.Rows, a.Cols))
			}
			o := tp.Linear(lo, a)
			var z *Var
			if copies {
				z = tp.Linear(lf, o)
			} else if z = tp.LinearRecompute(lf, o); z.re == nil {
				t.Fatal("LinearRecompute output has no recipe")
			}
			f := tp.Act(GELU, z)
			// Those no backward holds go back at once.
			tp.Free(h, a, o, z)
			f.g.v = append([]float32(nil), w...) // dloss/df = w
			tp.run()
			grads = append(grads, x.Grad())
			for _, p := range params {
				grads = append(grads, g.Of(p))
			}
			return grads
		}
		got, want := run(false), run(true)
		for i := range want {
			for j := range want[i] {
				if math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
					t.Fatalf("dropout %v, threads %d: gradient %d[%d] = %v, want %v", c.drop, c.pool.Workers(), i, j, got[i][j], want[i][j])
				}
			}
		}
	}
}

// The dropout mask: value i is kept when lane i%4 of draw i/4 is at least
// p·2¹⁶ (one 16-bit lane per value, lowest first), ⌈n/4⌉ draws in all; mul
// scales kept values and zeroes the others at any offset.
func TestDropMask(t *testing.T) {
	for _, p := range []float32{0, 0.1, 0.25, 1.0 / 3, 0.5, 0.9} {
		for _, n := range []int{0, 1, 3, 4, 5, 63, 64, 65, 130, 1000} {
			tp := &Tape{RNG: rand.NewPCG(uint64(n), 7)}
			m := tp.drawMask(n, p)
			ref := rand.NewPCG(uint64(n), 7)
			thr := uint64(math.Round(float64(p) * (1 << 16)))
			var bits uint64
			want := make([]bool, n)
			for i := range want {
				if i%4 == 0 {
					bits = ref.Uint64()
				}
				want[i] = bits&0xffff >= thr
				bits >>= 16
			}
			if tp.RNG.Uint64() != ref.Uint64() {
				t.Fatalf("p=%v n=%d: the generator advanced by a different number of draws", p, n)
			}
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(i) - 7.5
			}
			for _, off := range []int{0, 1, 5, 64, 70} {
				if off > n {
					continue
				}
				dst := make([]float32, n-off)
				m.mul(dst, src[off:], off)
				for j, v := range dst {
					w := float32(0)
					if want[off+j] {
						w = src[off+j] * (1 / (1 - p))
					}
					if math.Float32bits(v) != math.Float32bits(w) {
						t.Fatalf("p=%v n=%d off=%d: value %d = %v, want %v", p, n, off, off+j, v, w)
					}
				}
			}
		}
	}
}
