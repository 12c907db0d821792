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
