package gitmodel

import (
	"math"

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
	PositionEmbedding *tensor.Tensor // (1+P, Dv)
	patch             *nn.Linear     // PatchEmbedding viewed as (Dv, C·patch·patch)
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
	act                 nn.Activation
	heads               int
}

func loadVision(w *Weights, c VisionConfig) *VisionModel {
	d, g := c.HiddenSize, c.ImageSize/c.PatchSize
	act, _ := activationOf("vision_config.hidden_act", c.HiddenAct)
	e := w.Push("embeddings")
	emb := &VisionEmbeddings{
		ClassEmbedding:    e.Get("class_embedding", d),
		PatchEmbedding:    e.Push("patch_embedding").Get("weight", d, c.NumChannels, c.PatchSize, c.PatchSize),
		PositionEmbedding: e.Push("position_embedding").Get("weight", g*g+1, d),
	}
	emb.patch = &nn.Linear{Weight: emb.PatchEmbedding.Reshape(d, -1)}
	v := &VisionModel{
		cfg:           c,
		Embeddings:    emb,
		PreLayrnorm:   nn.LoadLayerNorm(w.Push("pre_layrnorm"), d, c.LayerNormEps),
		PostLayernorm: nn.LoadLayerNorm(w.Push("post_layernorm"), d, c.LayerNormEps),
	}
	for i := 0; i < c.NumHiddenLayers && w.Err() == nil; i++ { // stop at the first failing layer
		l := w.Pushf("encoder.layers.%d", i)
		a, mlp := l.Push("self_attn"), l.Push("mlp")
		v.Layers = append(v.Layers, &VisionLayer{
			LayerNorm1: nn.LoadLayerNorm(l.Push("layer_norm1"), d, c.LayerNormEps),
			KProj:      nn.LoadLinear(a.Push("k_proj"), d, d, true),
			VProj:      nn.LoadLinear(a.Push("v_proj"), d, d, true),
			QProj:      nn.LoadLinear(a.Push("q_proj"), d, d, true),
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

// im2col cuts pixels (B, C, S, S) into patches (B·P, C·ps·ps), flattened in
// (channel, row, col) order to match the conv weight viewed as (Dv, C·ps·ps).
func (v *VisionModel) im2col(pixels []float32, b int) []float32 {
	c, s, ps := v.cfg.NumChannels, v.cfg.ImageSize, v.cfg.PatchSize
	g := s / ps
	np, kk := g*g, c*ps*ps
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
	return cols
}

// forward encodes pixels (B, C, S, S) into the last hidden state
// (B·(1+P), Dv) after post_layernorm. trace, if non-nil, receives the hidden
// state after pre_layrnorm and after each layer (before post_layernorm).
func (v *VisionModel) forward(tp *nn.Tape, pixels []float32, b int, ckpt bool, trace func(h []float32)) *nn.Var {
	g := v.cfg.ImageSize / v.cfg.PatchSize
	np := g * g
	cols := v.im2col(pixels, b)
	p := tp.Linear(v.Embeddings.patch, nn.Const(cols, b*np, len(cols)/(b*np)))
	c := tp.PrependRow(p, v.Embeddings.ClassEmbedding, np)
	tp.Free(p)
	e := tp.AddRows(c, v.Embeddings.PositionEmbedding, 0, np+1)
	tp.Free(c)
	x := tp.LayerNorm(v.PreLayrnorm, e)
	tp.Free(e)
	if trace != nil {
		trace(x.Data)
	}
	for _, l := range v.Layers {
		x = checkpointed(tp, ckpt, x, func(tp *nn.Tape, x *nn.Var) *nn.Var { return l.forward(tp, x, b, np+1) })
		if trace != nil {
			trace(x.Data)
		}
	}
	y := tp.LayerNorm(v.PostLayernorm, x)
	tp.Free(x)
	return y
}

// forward maps x (B·N, Dv) to the layer's output. Intermediates go back to
// a recording tape as soon as the forward is done with them (tp.Free; those
// a backward reads stay).
func (l *VisionLayer) forward(tp *nn.Tape, x *nn.Var, b, n int) *nn.Var {
	h := tp.LayerNorm(l.LayerNorm1, x)
	// v is rebuilt (one more product from h) for the attention's backward
	// instead of kept: N×Dv values per layer for a tenth of its work.
	q, k, v := tp.Linear(l.QProj, h), tp.Linear(l.KProj, h), tp.LinearRecompute(l.VProj, h)
	tp.Free(h)
	dh := x.Cols / l.heads
	// CLIP scales q by head_dim^-0.5 before q·kᵀ; no mask, no dropout.
	a := tp.Attention(q, k, v, nn.AttnSpec{B: b, Heads: l.heads, Tq: n, Tk: n, KVStride: n,
		Scale: float32(1 / math.Sqrt(float64(dh)))})
	tp.Free(q, k, v)
	o := tp.Linear(l.OutProj, a)
	tp.Free(a)
	h2 := tp.Add(x, o)
	tp.Free(x, o)
	f := tp.LayerNorm(l.LayerNorm2, h2)
	z := tp.LinearRecompute(l.FC1, f) // rebuilt for the activation's backward: N×I values not kept
	tp.Free(f)
	g := tp.ActFree(l.act, z) // an inference tape writes g over z
	m := tp.Linear(l.FC2, g)
	tp.Free(g)
	y := tp.Add(h2, m)
	tp.Free(h2, m)
	return y
}

// checkpointed runs one layer: through gradient checkpointing, or in a
// scope whose temporaries an inference tape recycles.
func checkpointed(tp *nn.Tape, ckpt bool, x *nn.Var, fn func(*nn.Tape, *nn.Var) *nn.Var) *nn.Var {
	if ckpt {
		return tp.Checkpoint(x, fn)
	}
	return tp.Scope(x, fn)
}
