package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gitcap/gitcap/kernels"
)

// A packed Linear (with bias and LoRA) gives the bits of the unpacked one
// for batches that use the packed weight, and is left alone below that
// size and by quantization.
func TestLinearPacked(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	const in, out, rank = 97, 131, 2
	l := &Linear{Weight: randT(r, out, in), Bias: randT(r, out),
		LoRA: &LoRA{A: randT(r, rank, in), B: randT(r, out, rank), Scaling: 0.5}}
	pool := kernels.NewPool(2)
	defer pool.Close()
	for _, n := range []int{1, packedMinRows - 1, packedMinRows, 197} {
		x := randT(r, n, in).Data()
		want := make([]float32, n*out)
		l.Forward(pool, want, x, n)
		if l.Pack() != in*out || !l.Packed() {
			t.Fatalf("Pack: %v", l.Packed())
		}
		got := make([]float32, n*out)
		l.Forward(pool, got, x, n)
		l.Unpack()
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n=%d: y[%d] = %v packed, %v unpacked", n, i, got[i], want[i])
			}
		}
	}
	l.Pack()
	l.Quantize(kernels.Q8)
	if l.Packed() || l.Pack() != 0 {
		t.Errorf("a quantized Linear stays unpacked")
	}
}
