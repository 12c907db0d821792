package optim

import (
	"fmt"
	"math"
	"strconv"

	"github.com/gitcap/gitcap/tensor/safetensors"
)

// Param is one trainable tensor: its values (updated in place) and gradient.
type Param struct {
	Name  string
	Value []float32
	Grad  []float32
}

// AdamW is torch.optim.AdamW (torch 1.13, single-tensor path,
// https://pytorch.org/docs/1.13/generated/torch.optim.AdamW.html): per step t
// and parameter p with gradient g,
//
//	p *= 1 - lr·wd                      decoupled weight decay, this step's lr
//	m  = β1·m + (1-β1)·g
//	v  = β2·v + (1-β2)·g²
//	p -= lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + eps)
//
// Scalars are computed in float64 and applied in float32, as torch does.
// Weight decay applies to every parameter handed to it (one group).
type AdamW struct {
	Beta1, Beta2, Eps, WeightDecay float64
	Steps                          int         // updates done
	M, V                           [][]float32 // moments, one per parameter, in order
}

// NewAdamW returns an optimizer for n parameters with torch's defaults
// (β 0.9/0.999, eps 1e-8) and the given weight decay.
func NewAdamW(weightDecay float64) *AdamW {
	return &AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay}
}

// Step applies one update with learning rate lr. The moments are created on
// the first call; the parameter list must keep its order and sizes.
func (o *AdamW) Step(params []Param, lr float64) {
	if o.M == nil {
		for _, p := range params {
			o.M = append(o.M, make([]float32, len(p.Value)))
			o.V = append(o.V, make([]float32, len(p.Value)))
		}
	}
	if len(o.M) != len(params) {
		panic(fmt.Sprintf("optim: AdamW: %d parameters, state for %d", len(params), len(o.M)))
	}
	o.Steps++
	t := float64(o.Steps)
	decay := float32(1 - lr*o.WeightDecay)
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	c1, c2 := float32(1-o.Beta1), float32(1-o.Beta2)
	stepSize := float32(lr / (1 - math.Pow(o.Beta1, t)))
	bc2sqrt := float32(math.Sqrt(1 - math.Pow(o.Beta2, t)))
	eps := float32(o.Eps)
	for i, p := range params {
		m, v := o.M[i], o.V[i]
		if len(m) != len(p.Value) || len(p.Grad) != len(p.Value) {
			panic(fmt.Sprintf("optim: AdamW: %s has %d values, %d gradients, state for %d", p.Name, len(p.Value), len(p.Grad), len(m)))
		}
		for j, g := range p.Grad {
			x := p.Value[j] * decay
			m[j] = m[j]*b1 + c1*g
			v[j] = v[j]*b2 + c2*g*g
			denom := float32(math.Sqrt(float64(v[j])))/bc2sqrt + eps
			p.Value[j] = x - stepSize*(m[j]/denom)
		}
	}
}

// ClipGradNorm scales every gradient by min(1, maxNorm/(total+1e-6)), where
// total is the L2 norm over all gradients (torch.nn.utils.clip_grad_norm_),
// and returns the pre-clip total. maxNorm ≤ 0 only measures.
func ClipGradNorm(params []Param, maxNorm float64) float64 {
	var sum float64
	for _, p := range params {
		for _, g := range p.Grad {
			sum += float64(g) * float64(g)
		}
	}
	total := math.Sqrt(sum)
	if maxNorm > 0 {
		if coef := maxNorm / (total + 1e-6); coef < 1 {
			c := float32(coef)
			for _, p := range params {
				for j := range p.Grad {
					p.Grad[j] *= c
				}
			}
		}
	}
	return total
}

// Save writes the moments and step count to path (safetensors, atomically):
// "<name>.exp_avg" and "<name>.exp_avg_sq" per parameter, metadata "step".
func (o *AdamW) Save(path string, params []Param) error {
	var ts []safetensors.Tensor
	for i, p := range params {
		if o.M == nil {
			break
		}
		for _, s := range []struct {
			suffix string
			data   []float32
		}{{".exp_avg", o.M[i]}, {".exp_avg_sq", o.V[i]}} {
			t, err := safetensors.FromFloat32s(p.Name+s.suffix, safetensors.F32, []int64{int64(len(s.data))}, s.data)
			if err != nil {
				return err
			}
			ts = append(ts, t)
		}
	}
	meta := map[string]string{
		"step": strconv.Itoa(o.Steps), "beta1": fmt.Sprint(o.Beta1), "beta2": fmt.Sprint(o.Beta2),
		"eps": fmt.Sprint(o.Eps), "weight_decay": fmt.Sprint(o.WeightDecay),
	}
	return safetensors.WriteFile(path, ts, meta)
}

// Load restores what Save wrote for the same parameter list; errors name the
// file and the parameter.
func (o *AdamW) Load(path string, params []Param) error {
	f, err := safetensors.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	step, err := strconv.Atoi(f.Metadata()["step"])
	if err != nil {
		return fmt.Errorf("%s: metadata \"step\" missing or not an integer", path)
	}
	var ms, vs [][]float32
	if step > 0 {
		for _, p := range params {
			pair := [2][]float32{}
			for k, suffix := range []string{".exp_avg", ".exp_avg_sq"} {
				d, err := f.Float32s(p.Name + suffix)
				if err != nil {
					return fmt.Errorf("%s: optimizer state for %s: %w", path, p.Name, err)
				}
				if len(d) != len(p.Value) {
					return fmt.Errorf("%s: optimizer state for %s has %d values, the parameter %d", path, p.Name, len(d), len(p.Value))
				}
				pair[k] = append([]float32(nil), d...)
			}
			ms, vs = append(ms, pair[0]), append(vs, pair[1])
		}
	}
	o.Steps, o.M, o.V = step, ms, vs
	return nil
}
