package gitmodel

import (
	"math"

	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/nn"
	"github.com/gitcap/gitcap/tensor"
)

// VisionModel is git.image_encoder.vision_model: a CLIP ViT whose
// post_layernorm is applied to every token (class token and patches) and
// which has no pooling or CLIP projection (architecture doc §4).
type VisionModel struct {
	cfg           VisionConfig
	Embeddings    *VisionEmbeddings
	PreLayrnorm   *nn.LayerNorm // spelled as in the checkpoint
	Layers        []*VisionLayer
	PostLayernorm *nn.LayerNorm
}

// VisionEmbeddings: patches by a bias-free Conv2d (kernel = stride = patch),
// a class token in front, learned positions added.
type VisionEmbeddings struct {
	ClassEmbedding    *tensor.Tensor // (Dv)
	PatchEmbedding    *tensor.Tensor // (Dv, C, patch, patch)
	PositionEmbedding *nn.Embedding  // (1+P, Dv)
}

// VisionLayer is a pre-LN CLIP encoder layer:
//
//	h  = x + out_proj(Attn(layer_norm1(x)))
//	x' = h + fc2(quick_gelu(fc1(layer_norm2(h))))
type VisionLayer struct {
	LayerNorm1          *nn.LayerNorm
	QProj, KProj, VProj *nn.Linear
	OutProj             *nn.Linear
	LayerNorm2          *nn.LayerNorm
	FC1, FC2            *nn.Linear
	act                 activation
	heads               int
}

func loadVision(w *Weights, c VisionConfig) *VisionModel {
	d, g := c.HiddenSize, c.ImageSize/c.PatchSize
	act, _ := activationOf("vision_config.hidden_act", c.HiddenAct)
	e := w.Push("embeddings")
	v := &VisionModel{
		cfg: c,
		Embeddings: &VisionEmbeddings{
			ClassEmbedding:    e.Get("class_embedding", d),
			PatchEmbedding:    e.Push("patch_embedding").Get("weight", d, c.NumChannels, c.PatchSize, c.PatchSize),
			PositionEmbedding: &nn.Embedding{Weight: e.Push("position_embedding").Get("weight", g*g+1, d)},
		},
		PreLayrnorm:   nn.LoadLayerNorm(w.Push("pre_layrnorm"), d, c.LayerNormEps),
		PostLayernorm: nn.LoadLayerNorm(w.Push("post_layernorm"), d, c.LayerNormEps),
	}
	for i := 0; i < c.NumHiddenLayers; i++ {
		l := w.Pushf("encoder.layers.%d", i)
		a, mlp := l.Push("self_attn"), l.Push("mlp")
		v.Layers = append(v.Layers, &VisionLayer{
			LayerNorm1: nn.LoadLayerNorm(l.Push("layer_norm1"), d, c.LayerNormEps),
			QProj:      nn.LoadLinear(a.Push("q_proj"), d, d, true),
			KProj:      nn.LoadLinear(a.Push("k_proj"), d, d, true),
			VProj:      nn.LoadLinear(a.Push("v_proj"), d, d, true),
			OutProj:    nn.LoadLinear(a.Push("out_proj"), d, d, true),
			LayerNorm2: nn.LoadLayerNorm(l.Push("layer_norm2"), d, c.LayerNormEps),
			FC1:        nn.LoadLinear(mlp.Push("fc1"), d, c.IntermediateSize, true),
			FC2:        nn.LoadLinear(mlp.Push("fc2"), c.IntermediateSize, d, true),
			act:        act,
			heads:      c.NumAttentionHeads,
		})
	}
	return v
}

// embed turns pixels (B, C, S, S) into tokens (B, 1+P, Dv): class token, then
// patches in row-major order, plus positions.
func (v *VisionModel) embed(p *kernels.Pool, pixels []float32, b int) []float32 {
	c, s, ps, d := v.cfg.NumChannels, v.cfg.ImageSize, v.cfg.PatchSize, v.cfg.HiddenSize
	g := s / ps
	np, kk := g*g, c*ps*ps
	// im2col: patches (B·P, C·ps·ps) flattened in (channel, row, col) order,
	// matching the conv weight reshaped to (Dv, C·ps·ps).
	cols := make([]float32, b*np*kk)
	for bi := 0; bi < b; bi++ {
		img := pixels[bi*c*s*s : (bi+1)*c*s*s]
		for py := 0; py < g; py++ {
			for px := 0; px < g; px++ {
				dst := cols[((bi*np)+py*g+px)*kk:]
				for ch := 0; ch < c; ch++ {
					for r := 0; r < ps; r++ {
						src := img[ch*s*s+(py*ps+r)*s+px*ps:]
						copy(dst[(ch*ps+r)*ps:(ch*ps+r+1)*ps], src[:ps])
					}
				}
			}
		}
	}
	n := np + 1
	x := make([]float32, b*n*d)
	patches := make([]float32, b*np*d)
	kernels.Sgemm(p, false, true, b*np, d, kk, 1, cols, kk, v.Embeddings.PatchEmbedding.Data(), kk, 0, patches, d)
	pos := v.Embeddings.PositionEmbedding.Weight.Data() // (1+P, Dv)
	cls := v.Embeddings.ClassEmbedding.Data()
	for bi := 0; bi < b; bi++ {
		row := x[bi*n*d:]
		copy(row[:d], cls)
		copy(row[d:n*d], patches[bi*np*d:(bi+1)*np*d])
		kernels.Axpy(1, pos[:n*d], row[:n*d])
	}
	return x
}

// Forward encodes pixels (B, C, S, S) into the last hidden state (B, 1+P, Dv)
// after post_layernorm. If trace is non-nil it receives the hidden state
// after pre_layrnorm and after each layer (before post_layernorm).
func (v *VisionModel) Forward(p *kernels.Pool, pixels []float32, b int, trace func(k int, h []float32)) []float32 {
	d := v.cfg.HiddenSize
	n := (v.cfg.ImageSize/v.cfg.PatchSize)*(v.cfg.ImageSize/v.cfg.PatchSize) + 1
	x := v.embed(p, pixels, b)
	v.PreLayrnorm.Forward(x, x, b*n)
	if trace != nil {
		trace(0, x)
	}
	s := newScratch(b*n, d, v.cfg.IntermediateSize)
	for i, l := range v.Layers {
		l.forward(p, x, b, n, s)
		if trace != nil {
			trace(i+1, x)
		}
	}
	v.PostLayernorm.Forward(x, x, b*n)
	return x
}

// forward updates x (B, N, Dv) in place.
func (l *VisionLayer) forward(p *kernels.Pool, x []float32, b, n int, s *scratch) {
	rows, d := b*n, l.QProj.Out()
	l.LayerNorm1.Forward(s.ln, x, rows)
	l.QProj.Forward(p, s.q, s.ln, rows)
	l.KProj.Forward(p, s.k, s.ln, rows)
	l.VProj.Forward(p, s.v, s.ln, rows)
	dh := d / l.heads
	// CLIP scales q by head_dim^-0.5 before q·kᵀ; no mask.
	selfAttention(p, s.attn, s.q, s.k, s.v, b, n, l.heads, dh, float32(1/math.Sqrt(float64(dh))), nil)
	l.OutProj.Forward(p, s.ln, s.attn, rows)
	kernels.Axpy(1, s.ln[:rows*d], x[:rows*d]) // h = x + attn
	l.LayerNorm2.Forward(s.ln, x, rows)
	l.FC1.Forward(p, s.mlp, s.ln, rows)
	l.act.forward(s.mlp[:rows*l.FC1.Out()])
	l.FC2.Forward(p, s.ln, s.mlp, rows)
	kernels.Axpy(1, s.ln[:rows*d], x[:rows*d]) // x' = h + mlp
}
