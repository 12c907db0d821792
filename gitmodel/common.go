package gitmodel

import (
	"fmt"
	"math"

	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/nn"
)

// Weights is the prefix-scoped checkpoint reader of package nn.
type Weights = nn.Weights

// activation is a hidden_act value.
type activation uint8

const (
	actGelu      activation = iota // exact erf GELU
	actQuickGelu                   // z·σ(1.702z)
)

func activationOf(field, name string) (activation, error) {
	switch name {
	case "gelu":
		return actGelu, nil
	case "quick_gelu":
		return actQuickGelu, nil
	}
	return 0, fmt.Errorf("%s %q is not supported (want \"gelu\" or \"quick_gelu\")", field, name)
}

// forward applies the activation in place.
func (a activation) forward(x []float32) {
	if a == actGelu {
		kernels.Gelu(x, x)
	} else {
		kernels.QuickGelu(x, x)
	}
}

// scratch holds one layer's temporaries, reused across layers.
type scratch struct {
	ln, q, k, v, attn []float32 // (rows, D)
	mlp               []float32 // (rows, I)
}

func newScratch(rows, d, inter int) *scratch {
	return &scratch{
		ln: make([]float32, rows*d), q: make([]float32, rows*d), k: make([]float32, rows*d),
		v: make([]float32, rows*d), attn: make([]float32, rows*d), mlp: make([]float32, rows*inter),
	}
}

// selfAttention runs multi-head attention on (B, N, H·Dh) buffers without a
// cache: out[b] = softmax(scale·q[b]·k[b]ᵀ + mask[b])·v[b] per head. mask,
// if non-nil, gives the additive (N, N) mask of batch row b.
func selfAttention(p *kernels.Pool, out, q, k, v []float32, b, n, heads, dh int, scale float32, mask func(b int) []float32) {
	d := heads * dh
	p.Parallel(b*heads, func(lo, hi int) {
		probs := make([]float32, n*n)
		for bh := lo; bh < hi; bh++ {
			bi, h := bh/heads, bh%heads
			off := bi*n*d + h*dh
			var m []float32
			if mask != nil {
				m = mask(bi)
			}
			kernels.Attention(out[off:], probs, q[off:], k[off:], v[off:], m,
				kernels.AttnDims{Tq: n, Tk: n, Dh: dh, Ldq: d, Ldk: d, Ldv: d, Ldo: d, Scale: scale})
		}
	})
}

var negInf = float32(math.Inf(-1))
