package gitmodel

import (
	"math"

	"github.com/gitcap/gitcap/nn"
	"github.com/gitcap/gitcap/tensor"
)

// TextEmbeddings is git.embeddings: LayerNorm(word[id] + position[pos]),
// then dropout. Image tokens take no positions; text positions start at 0.
type TextEmbeddings struct {
	WordEmbeddings     *tensor.Tensor // (V, D); row pad_token_id gets no gradient
	PositionEmbeddings *tensor.Tensor // (max_position_embeddings, D)
	LayerNorm          *nn.LayerNorm
}

// DecoderLayer is git.encoder.layer.N, a post-LN BERT layer:
//
//	h  = LayerNorm(x + drop(dense(Attn(query(x), key(x), value(x)))))   attention.output
//	x' = LayerNorm(h + drop(output.dense(gelu(intermediate.dense(h)))))  output
type DecoderLayer struct {
	Query, Key, Value *nn.Linear    // attention.self.*
	AttnOutput        *nn.Linear    // attention.output.dense
	AttnLayerNorm     *nn.LayerNorm // attention.output.LayerNorm
	Intermediate      *nn.Linear    // intermediate.dense
	Output            *nn.Linear    // output.dense
	OutputLayerNorm   *nn.LayerNorm // output.LayerNorm
	act               nn.Activation
	heads             int
	hiddenDrop        float32 // hidden_dropout_prob
	attnDrop          float32 // attention_probs_dropout_prob
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
		hiddenDrop:      float32(c.HiddenDropoutProb),
		attnDrop:        float32(c.AttentionProbsDropoutProb),
	}
}

// kvSource lets the KV cache supply keys and values: it copies this step's
// k and v (B·tn, D) into the cache and returns what to attend to, with the
// number of keys per batch row and the row stride between batch rows.
type kvSource func(k, v *nn.Var) (keys, values *nn.Var, tk, stride int)

// forward maps x (B·tn, D) to the layer's output. mask is (B, tn, tk).
func (l *DecoderLayer) forward(tp *nn.Tape, x *nn.Var, b, tn int, mask []float32, kv kvSource) *nn.Var {
	// Intermediates go back to the tape as soon as the forward is done with
	// them (tp.Free; on a recording tape those a backward reads stay).
	// v is rebuilt (one more product from x) for the attention's backward
	// instead of kept: N×D values per layer for a tenth of its work.
	q, k, v := tp.Linear(l.Query, x), tp.Linear(l.Key, x), tp.LinearRecompute(l.Value, x)
	keys, values, tk, stride := k, v, tn, tn
	if kv != nil {
		keys, values, tk, stride = kv(k, v)
		tp.Free(k, v) // copied into the cache
	}
	dh := x.Cols / l.heads
	// BERT divides q·kᵀ by sqrt(head_dim) after the product.
	a := tp.Attention(q, keys, values, nn.AttnSpec{B: b, Heads: l.heads, Tq: tn, Tk: tk, KVStride: stride,
		Scale: float32(1 / math.Sqrt(float64(dh))), Mask: mask, Dropout: l.attnDrop})
	tp.Free(q, k, v)
	o := tp.Linear(l.AttnOutput, a)
	tp.Free(a)
	h := addNorm(tp, l.AttnLayerNorm, o, x, l.hiddenDrop)
	z := tp.LinearRecompute(l.Intermediate, h) // rebuilt for the activation's backward: N×I values not kept
	g := tp.ActFree(l.act, z)                  // an inference tape writes g over z
	u := tp.Linear(l.Output, g)
	tp.Free(g)
	return addNorm(tp, l.OutputLayerNorm, u, h, l.hiddenDrop)
}

// addNorm is BERT's sublayer output, LayerNorm(dropout(y) + x) (N, D),
// freeing y and x (the caller reads neither again).
func addNorm(tp *nn.Tape, ln *nn.LayerNorm, y, x *nn.Var, p float32) *nn.Var {
	yd := tp.Dropout(y, p)
	r := tp.Add(yd, x)
	tp.Free(y, yd, x)
	out := tp.LayerNorm(ln, r)
	tp.Free(r)
	return out
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

// buildMask returns the additive masks (B, tn, total) for queries at
// positions start..start+tn-1 against keys 0..total-1; real(b, j) tells
// whether key j of row b is a real token.
func buildMask(b, tn, start, total, nImg int, real func(b, j int) bool) []float32 {
	masks := make([]float32, b*tn*total)
	for bi := 0; bi < b; bi++ {
		mk := masks[bi*tn*total:]
		for i := 0; i < tn; i++ {
			for j := 0; j < total; j++ {
				if !attends(start+i, j, nImg, real(bi, j)) {
					mk[i*total+j] = negInf
				}
			}
		}
	}
	return masks
}

// embedText returns drop(LayerNorm(word[ids] + position[pos0 + t])) for ids (B, T).
func (m *Model) embedText(tp *nn.Tape, ids []int, b, t, pos0 int) *nn.Var {
	e := m.Embeddings
	x := m.embedWords(tp, ids)
	x = tp.AddRows(x, e.PositionEmbeddings, pos0, t)
	return tp.Dropout(tp.LayerNorm(e.LayerNorm, x), float32(m.Config.HiddenDropoutProb))
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
	tp             *nn.Tape    // inference tape reused by every step (its buffers too)
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

// Reorder makes batch row i a copy of old row src[i] (beam search).
func (c *KVCache) Reorder(src []int) {
	g := c.gather(src)
	c.k, c.v, c.keyValid = g.k, g.v, g.keyValid
}

// decode runs tn new positions per batch row through every decoder layer,
// attending to the cache and to each other, and appends their keys and
// values; x (B·tn, D) → the last layer's output. valid (B·tn) marks real
// tokens; nil means all real. The first call on an empty cache must pass
// exactly the image tokens. With cacheOnly, the output is not wanted (the
// image tokens' pass: no logits are read at image positions): the last
// layer computes only its keys and values, and decode returns nil.
func (m *Model) decode(c *KVCache, x *nn.Var, tn int, valid []bool, cacheOnly bool) *nn.Var {
	d, b, start := c.d, c.b, c.length
	if start+tn > c.capacity {
		panic("gitmodel: KV cache full")
	}
	for bi := 0; bi < b; bi++ {
		for i := 0; i < tn; i++ {
			c.keyValid[bi*c.capacity+start+i] = valid == nil || valid[bi*tn+i]
		}
	}
	total := start + tn
	mask := buildMask(b, tn, start, total, c.nImg, func(bi, j int) bool { return c.keyValid[bi*c.capacity+j] })
	if c.tp == nil {
		c.tp = nn.Inference(m.Pool)
	}
	tp := c.tp
	for li, l := range m.Layers {
		kc, vc := c.k[li], c.v[li]
		// kv appends the new keys and values (B·tn, D) to the cache and
		// returns the whole cache as the attention's keys and values.
		kv := func(k, v *nn.Var) (*nn.Var, *nn.Var, int, int) {
			for bi := 0; bi < b; bi++ {
				dst := (bi*c.capacity + start) * d
				copy(kc[dst:dst+tn*d], k.Data[bi*tn*d:(bi+1)*tn*d])
				copy(vc[dst:dst+tn*d], v.Data[bi*tn*d:(bi+1)*tn*d])
			}
			return nn.Const(kc, b*c.capacity, d), nn.Const(vc, b*c.capacity, d), total, c.capacity
		}
		if cacheOnly && li == len(m.Layers)-1 {
			k, v := tp.Linear(l.Key, x), tp.Linear(l.Value, x)
			kv(k, v)
			tp.Free(k, v, x)
			x = nil
			break
		}
		x = tp.Scope(x, func(tp *nn.Tape, x *nn.Var) *nn.Var {
			return l.forward(tp, x, b, tn, mask, kv)
		})
	}
	c.length = total
	return x
}
