package gitmodel

import (
	"math"

	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/nn"
)

// TextEmbeddings is git.embeddings: LayerNorm(word[id] + position[pos]).
// Image tokens take no positions; text positions start at 0 ([CLS]).
type TextEmbeddings struct {
	WordEmbeddings     *nn.Embedding // (V, D)
	PositionEmbeddings *nn.Embedding // (max_position_embeddings, D)
	LayerNorm          *nn.LayerNorm
}

// DecoderLayer is git.encoder.layer.N, a post-LN BERT layer:
//
//	h  = LayerNorm(x + dense(Attn(query(x), key(x), value(x))))   attention.output
//	x' = LayerNorm(h + output.dense(gelu(intermediate.dense(h))))  output
type DecoderLayer struct {
	Query, Key, Value *nn.Linear    // attention.self.*
	AttnOutput        *nn.Linear    // attention.output.dense
	AttnLayerNorm     *nn.LayerNorm // attention.output.LayerNorm
	Intermediate      *nn.Linear    // intermediate.dense
	Output            *nn.Linear    // output.dense
	OutputLayerNorm   *nn.LayerNorm // output.LayerNorm
	act               activation
	heads             int
}

func loadDecoderLayer(w *Weights, c *Config) *DecoderLayer {
	d, eps := c.HiddenSize, c.LayerNormEps
	act, _ := activationOf("hidden_act", c.HiddenAct)
	sa, ao := w.Push("attention.self"), w.Push("attention.output")
	return &DecoderLayer{
		Query:           nn.LoadLinear(sa.Push("query"), d, d, true),
		Key:             nn.LoadLinear(sa.Push("key"), d, d, true),
		Value:           nn.LoadLinear(sa.Push("value"), d, d, true),
		AttnOutput:      nn.LoadLinear(ao.Push("dense"), d, d, true),
		AttnLayerNorm:   nn.LoadLayerNorm(ao.Push("LayerNorm"), d, eps),
		Intermediate:    nn.LoadLinear(w.Push("intermediate.dense"), d, c.IntermediateSize, true),
		Output:          nn.LoadLinear(w.Push("output.dense"), c.IntermediateSize, d, true),
		OutputLayerNorm: nn.LoadLayerNorm(w.Push("output.LayerNorm"), d, eps),
		act:             act,
		heads:           c.NumAttentionHeads,
	}
}

// KVCache keeps every decoder layer's keys and values for a batch: the image
// tokens first (computed once per image), then the text so far. Because image
// rows never attend to text (architecture doc §7.1), the image part never
// changes while text is generated.
type KVCache struct {
	b, capacity, d int
	nImg           int         // image tokens at the front
	length         int         // filled positions (image + text)
	k, v           [][]float32 // per layer: (B, capacity, D)
	keyValid       []bool      // (B, capacity): false for padded text keys
}

// NewKVCache allocates room for nImg image tokens plus maxText text tokens.
func (m *Model) NewKVCache(b, maxText int) *KVCache {
	c := &KVCache{b: b, capacity: m.Config.NumImageTokens() + maxText, d: m.Config.HiddenSize, nImg: m.Config.NumImageTokens()}
	for range m.Layers {
		c.k = append(c.k, make([]float32, b*c.capacity*c.d))
		c.v = append(c.v, make([]float32, b*c.capacity*c.d))
	}
	c.keyValid = make([]bool, b*c.capacity)
	return c
}

// Len is the number of cached positions (image + text).
func (c *KVCache) Len() int { return c.length }

// Reorder makes batch row i a copy of old row src[i] (beam search); len(src)
// must equal the cache's batch size.
func (c *KVCache) Reorder(src []int) {
	rowLen := c.capacity * c.d
	n := c.length * c.d
	for l := range c.k {
		for _, buf := range [][]float32{c.k[l], c.v[l]} {
			old := append([]float32(nil), buf...)
			for i, s := range src {
				copy(buf[i*rowLen:i*rowLen+n], old[s*rowLen:s*rowLen+n])
			}
		}
	}
	old := append([]bool(nil), c.keyValid...)
	for i, s := range src {
		copy(c.keyValid[i*c.capacity:(i+1)*c.capacity], old[s*c.capacity:(s+1)*c.capacity])
	}
}

// decode runs tn new positions per batch row through every decoder layer,
// attending to the cache and to each other, and appends their keys and values.
// x: (B, tn, D), updated in place to the last layer's output. valid (B·tn)
// marks real (non-padding) tokens; nil means all real. The first call with an
// empty cache must pass exactly the image tokens.
func (m *Model) decode(c *KVCache, x []float32, tn int, valid []bool) {
	p, d := m.Pool, c.d
	b, start := c.b, c.length
	if start+tn > c.capacity {
		panic("gitmodel: KV cache full")
	}
	for bi := 0; bi < b; bi++ {
		for i := 0; i < tn; i++ {
			c.keyValid[bi*c.capacity+start+i] = valid == nil || valid[bi*tn+i]
		}
	}
	total := start + tn
	// Additive masks (tn, total) per batch row, GIT's rule: image queries see
	// only image keys; text queries see all image keys and the real text keys
	// at or before their own position.
	masks := make([]float32, b*tn*total)
	for bi := 0; bi < b; bi++ {
		mk := masks[bi*tn*total:]
		for i := 0; i < tn; i++ {
			qpos := start + i
			for j := 0; j < total; j++ {
				if !attends(qpos, j, c.nImg, c.keyValid[bi*c.capacity+j]) {
					mk[i*total+j] = negInf
				}
			}
		}
	}
	rows := b * tn
	s := newScratch(rows, d, m.Config.IntermediateSize)
	for li, l := range m.Layers {
		l.Query.Forward(p, s.q, x, rows)
		l.Key.Forward(p, s.k, x, rows)
		l.Value.Forward(p, s.v, x, rows)
		for bi := 0; bi < b; bi++ {
			dst := (bi*c.capacity + start) * d
			copy(c.k[li][dst:dst+tn*d], s.k[bi*tn*d:(bi+1)*tn*d])
			copy(c.v[li][dst:dst+tn*d], s.v[bi*tn*d:(bi+1)*tn*d])
		}
		heads := l.heads
		dh := d / heads
		// BERT divides q·kᵀ by sqrt(head_dim) after the product.
		scale := float32(1 / math.Sqrt(float64(dh)))
		kc, vc := c.k[li], c.v[li]
		p.Parallel(b*heads, func(lo, hi int) {
			probs := make([]float32, tn*total)
			for bh := lo; bh < hi; bh++ {
				bi, h := bh/heads, bh%heads
				qo := bi*tn*d + h*dh
				ko := bi*c.capacity*d + h*dh
				kernels.Attention(s.attn[qo:], probs, s.q[qo:], kc[ko:], vc[ko:], masks[bi*tn*total:(bi+1)*tn*total],
					kernels.AttnDims{Tq: tn, Tk: total, Dh: dh, Ldq: d, Ldk: d, Ldv: d, Ldo: d, Scale: scale})
			}
		})
		l.AttnOutput.Forward(p, s.ln, s.attn, rows)
		kernels.Axpy(1, x[:rows*d], s.ln[:rows*d])
		l.AttnLayerNorm.Forward(x, s.ln, rows) // x = h
		l.Intermediate.Forward(p, s.mlp, x, rows)
		l.act.forward(s.mlp[:rows*l.Intermediate.Out()])
		l.Output.Forward(p, s.ln, s.mlp, rows)
		kernels.Axpy(1, x[:rows*d], s.ln[:rows*d])
		l.OutputLayerNorm.Forward(x, s.ln, rows)
	}
	c.length = total
}

// attends is GIT's attention rule (architecture doc §7.1) for query position
// q and key position j of one sequence whose first nImg positions are image
// tokens: image queries see only image keys; text queries see every image key
// and the real (non-padded) text keys at or before their own position.
func attends(q, j, nImg int, keyReal bool) bool {
	if j < nImg {
		return true
	}
	return q >= nImg && j <= q && keyReal
}

// embedText returns LayerNorm(word[ids] + position[pos0 + t]) for ids (B, T).
func (m *Model) embedText(ids []int, b, t, pos0 int) []float32 {
	d := m.Config.HiddenSize
	x := make([]float32, b*t*d)
	e := m.Embeddings
	e.WordEmbeddings.Forward(x, ids)
	pos := e.PositionEmbeddings.Weight.Data()
	for bi := 0; bi < b; bi++ {
		row := x[bi*t*d : (bi+1)*t*d]
		kernels.Axpy(1, pos[pos0*d:(pos0+t)*d], row)
	}
	e.LayerNorm.Forward(x, x, b*t)
	return x
}
