//go:build vulkan

// Package vkgit runs GIT (GitForCausalLM) on a Vulkan device: the vision
// tower, the projection and the decoder with its key/value cache stay on
// the device, and each generation step is one submission that returns
// only the last position's logits. It implements gitmodel.Engine, so
// (*gitmodel.Model).GenerateWith runs greedy, sampling and beam search on
// it unchanged.
//
// The arithmetic mirrors gitmodel/vision.go and gitmodel/decoder.go
// (git-architecture.md §4-§7): CLIP pre-LN layers with quick_gelu, BERT
// post-LN layers with exact GELU, GIT's attention mask. Weights are
// uploaded once, as F32; quantized layers and unmerged LoRA adapters are
// refused.
//
// Like package kernels/vulkan it exists only with -tags vulkan.
package vkgit

import (
	"fmt"
	"math"
	"sync"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/kernels/vulkan"
	"github.com/gitcap/gitcap/nn"
	"github.com/gitcap/gitcap/tensor"
)

// Engine holds a model's weights on a device.
type Engine struct {
	cfg gitmodel.Config
	dev *vulkan.Device
	own bool // Close closes dev

	// vision tower
	patch         linear // (Dv, C·p·p), no bias
	cls, visPos   *vulkan.Buffer
	preLN, postLN norm
	vis           []visionLayer
	visAct        vulkan.Act
	// projection and text side
	proj          linear
	projLN        norm
	word, textPos *vulkan.Buffer
	embLN         norm
	dec           []decoderLayer
	decAct        vulkan.Act
	head          linear

	mu      sync.Mutex // one forward at a time
	weights []*vulkan.Buffer
}

type linear struct {
	w, b    *vulkan.Buffer // (out, in), (out) or nil
	in, out int
}

type norm struct {
	w, b *vulkan.Buffer
	eps  float32
}

type visionLayer struct {
	ln1, ln2         norm
	q, k, v, o       linear
	fc1, fc2         linear
	heads, dh, inter int
}

type decoderLayer struct {
	q, k, v, o   linear
	attnLN       norm
	inter, out   linear
	outLN        norm
	heads, dh, i int
}

// Open opens a device (opt) and uploads m's weights to it; Close releases
// both.
func Open(m *gitmodel.Model, opt vulkan.Options) (*Engine, error) {
	d, err := vulkan.Open(opt)
	if err != nil {
		return nil, err
	}
	e, err := New(m, d)
	if err != nil {
		d.Close()
		return nil, err
	}
	e.own = true
	return e, nil
}

// New uploads m's weights to d. The model's weights are copied: later
// changes to m are not seen.
func New(m *gitmodel.Model, d *vulkan.Device) (*Engine, error) {
	cfg := m.Config
	v := cfg.Vision
	if g := v.ImageSize / v.PatchSize; cfg.NumImageTokens() != g*g+1 {
		return nil, fmt.Errorf("vkgit: num_image_with_embedding (multi-frame GIT) is not supported on the device")
	}
	e := &Engine{cfg: cfg, dev: d}
	var err error
	if e.visAct, err = actOf(v.HiddenAct); err != nil {
		return nil, err
	}
	if e.decAct, err = actOf(cfg.HiddenAct); err != nil {
		return nil, err
	}
	u, err := newUploader(d)
	if err != nil {
		return nil, err
	}
	defer u.abort()
	vm := m.Vision
	e.patch = u.linear("patch_embedding", &nn.Linear{Weight: vm.Embeddings.PatchEmbedding.Reshape(v.HiddenSize, -1)})
	e.cls = u.tensor(vm.Embeddings.ClassEmbedding)
	e.visPos = u.tensor(vm.Embeddings.PositionEmbedding)
	e.preLN, e.postLN = u.norm(vm.PreLayrnorm), u.norm(vm.PostLayernorm)
	for i, l := range vm.Layers {
		name := func(s string) string { return fmt.Sprintf("vision layer %d %s", i, s) }
		e.vis = append(e.vis, visionLayer{
			ln1: u.norm(l.LayerNorm1), ln2: u.norm(l.LayerNorm2),
			q: u.linear(name("q_proj"), l.QProj), k: u.linear(name("k_proj"), l.KProj),
			v: u.linear(name("v_proj"), l.VProj), o: u.linear(name("out_proj"), l.OutProj),
			fc1: u.linear(name("fc1"), l.FC1), fc2: u.linear(name("fc2"), l.FC2),
			heads: v.NumAttentionHeads, dh: v.HiddenSize / v.NumAttentionHeads, inter: v.IntermediateSize,
		})
	}
	e.proj, e.projLN = u.linear("visual_projection", m.Projection), u.norm(m.ProjNorm)
	e.word, e.textPos = u.tensor(m.Embeddings.WordEmbeddings), u.tensor(m.Embeddings.PositionEmbeddings)
	e.embLN = u.norm(m.Embeddings.LayerNorm)
	for i, l := range m.Layers {
		name := func(s string) string { return fmt.Sprintf("decoder layer %d %s", i, s) }
		e.dec = append(e.dec, decoderLayer{
			q: u.linear(name("query"), l.Query), k: u.linear(name("key"), l.Key),
			v: u.linear(name("value"), l.Value), o: u.linear(name("attention.output"), l.AttnOutput),
			attnLN: u.norm(l.AttnLayerNorm),
			inter:  u.linear(name("intermediate"), l.Intermediate), out: u.linear(name("output"), l.Output),
			outLN: u.norm(l.OutputLayerNorm),
			heads: cfg.NumAttentionHeads, dh: cfg.HiddenSize / cfg.NumAttentionHeads, i: cfg.IntermediateSize,
		})
	}
	e.head = u.linear("output (LM head)", m.LMHead)
	if e.weights, err = u.finish(); err != nil {
		return nil, err
	}
	return e, nil
}

func actOf(name string) (vulkan.Act, error) {
	switch name {
	case "gelu":
		return vulkan.ActGELU, nil
	case "quick_gelu":
		return vulkan.ActQuickGELU, nil
	}
	return 0, fmt.Errorf("vkgit: activation %q is not supported", name)
}

// Device is the engine's device.
func (e *Engine) Device() *vulkan.Device { return e.dev }

// Close frees the weights (and the device, if Open created it). Sessions
// still alive become unusable.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, b := range e.weights {
		b.Free()
	}
	e.weights = nil
	if e.own {
		return e.dev.Close()
	}
	return nil
}

// uploader copies weights to the device, submitting every 64 MiB so that
// staging memory stays bounded.
type uploader struct {
	d       *vulkan.Device
	c       *vulkan.Cmd
	pending int
	bufs    []*vulkan.Buffer
	err     error
}

const uploadChunk = 16 << 20 // values (64 MiB)

func newUploader(d *vulkan.Device) (*uploader, error) {
	c, err := d.Begin()
	if err != nil {
		return nil, err
	}
	return &uploader{d: d, c: c}, nil
}

func (u *uploader) data(what string, x []float32) *vulkan.Buffer {
	if u.err != nil {
		return nil
	}
	b, err := u.d.NewBuffer(len(x))
	if err != nil {
		u.err = fmt.Errorf("vkgit: %s: %w", what, err)
		return nil
	}
	u.bufs = append(u.bufs, b)
	u.c.Upload(b, 0, x)
	if u.pending += len(x); u.pending >= uploadChunk {
		u.pending = 0
		if u.err = u.c.Submit(); u.err == nil {
			u.c, u.err = u.d.Begin()
		} else {
			u.c = nil
		}
	}
	return b
}

func (u *uploader) tensor(t *tensor.Tensor) *vulkan.Buffer { return u.data("tensor", t.Data()) }

func (u *uploader) linear(what string, l *nn.Linear) linear {
	switch {
	case u.err != nil:
		return linear{}
	case l.Q != nil:
		u.err = fmt.Errorf("vkgit: %s is quantized (%v): the Vulkan engine runs F32 weights only; load the model without --quantize", what, l.Q.Format)
		return linear{}
	case l.LoRA != nil:
		u.err = fmt.Errorf("vkgit: %s carries an unmerged LoRA adapter: merge it first (gitcap merge) to run on the device", what)
		return linear{}
	}
	out := linear{w: u.data(what, l.Weight.Data()), in: l.In(), out: l.Out()}
	if l.Bias != nil {
		out.b = u.data(what, l.Bias.Data())
	}
	return out
}

func (u *uploader) norm(ln *nn.LayerNorm) norm {
	return norm{w: u.tensor(ln.Weight), b: u.tensor(ln.Bias), eps: ln.Eps}
}

func (u *uploader) finish() ([]*vulkan.Buffer, error) {
	if u.err == nil {
		u.err = u.c.Submit()
		u.c = nil
	}
	if u.err != nil {
		return nil, u.err
	}
	bufs := u.bufs
	u.bufs = nil
	return bufs, nil
}

// abort frees what was uploaded unless finish succeeded.
func (u *uploader) abort() {
	if u.c != nil {
		u.c.Abort()
		u.c = nil
	}
	for _, b := range u.bufs {
		b.Free()
	}
}

// scratch allocates device buffers for one pass and frees them together.
type scratch struct {
	d    *vulkan.Device
	bufs []*vulkan.Buffer
	err  error
}

func (s *scratch) get(n int) *vulkan.Buffer {
	if s.err != nil {
		return nil
	}
	b, err := s.d.NewBuffer(n)
	if err != nil {
		s.err = err
		return nil
	}
	s.bufs = append(s.bufs, b)
	return b
}

func (s *scratch) free() {
	for _, b := range s.bufs {
		b.Free()
	}
	s.bufs = nil
}

// gemm records x (rows, in) → y (rows, out) = x·Wᵀ + b, with an optional
// activation and residual.
func (l linear) gemm(c *vulkan.Cmd, y, x *vulkan.Buffer, rows int, act vulkan.Act, res *vulkan.Buffer) {
	c.Gemm(vulkan.Gemm{M: rows, N: l.out, K: l.in, A: x, B: l.w, Bias: l.b, C: y, R: res, TransB: true, Act: act})
}

func (n norm) apply(c *vulkan.Cmd, y, x *vulkan.Buffer, rows, cols int) {
	c.LayerNorm(y, x, n.w, n.b, rows, cols, n.eps)
}

// encode records the vision tower, post_layernorm, the visual projection
// and its LayerNorm for b images in px (B, C, S, S): image tokens
// (B·N, D) in a buffer of s.
func (e *Engine) encode(c *vulkan.Cmd, s *scratch, px *vulkan.Buffer, b int) *vulkan.Buffer {
	v := e.cfg.Vision
	dv, g := v.HiddenSize, v.ImageSize/v.PatchSize
	np, n := g*g, g*g+1
	rows := b * n
	kk := v.NumChannels * v.PatchSize * v.PatchSize
	cols, patches := s.get(b*np*kk), s.get(b*np*dv)
	x, x2, h := s.get(rows*dv), s.get(rows*dv), s.get(rows*dv)
	q, k, vv, a := s.get(rows*dv), s.get(rows*dv), s.get(rows*dv), s.get(rows*dv)
	f := s.get(rows * v.IntermediateSize)
	img, t := s.get(rows*e.cfg.HiddenSize), s.get(rows*e.cfg.HiddenSize)
	if s.err != nil {
		return nil
	}
	c.Im2col(cols, px, b, v.NumChannels, v.ImageSize, v.PatchSize)
	e.patch.gemm(c, patches, cols, b*np, 0, nil)
	c.ClsPos(x2, patches, e.cls, e.visPos, b, np, dv)
	e.preLN.apply(c, x, x2, rows, dv)
	for _, l := range e.vis {
		// h = x + out_proj(Attn(layer_norm1(x)))
		l.ln1.apply(c, h, x, rows, dv)
		l.q.gemm(c, q, h, rows, 0, nil)
		l.k.gemm(c, k, h, rows, 0, nil)
		l.v.gemm(c, vv, h, rows, 0, nil)
		// CLIP scales q by head_dim^-0.5; no mask
		c.Attention(vulkan.Attention{B: b, Heads: l.heads, Tq: n, Tk: n, Dh: l.dh,
			Scale: float32(1 / math.Sqrt(float64(l.dh))), Q: q, K: k, V: vv, Out: a})
		l.o.gemm(c, x2, a, rows, 0, x)
		// x' = h + fc2(quick_gelu(fc1(layer_norm2(h))))
		l.ln2.apply(c, h, x2, rows, dv)
		l.fc1.gemm(c, f, h, rows, e.visAct, nil)
		l.fc2.gemm(c, x, f, rows, 0, x2)
	}
	e.postLN.apply(c, h, x, rows, dv)
	e.proj.gemm(c, t, h, rows, 0, nil)
	e.projLN.apply(c, img, t, rows, e.cfg.HiddenSize)
	return img
}

// decBufs are the decoder's activations for a pass over rows positions.
type decBufs struct {
	q, a, h1, h, f, g *vulkan.Buffer
}

func (e *Engine) decBuffers(s *scratch, rows int) decBufs {
	d := e.cfg.HiddenSize
	return decBufs{q: s.get(rows * d), a: s.get(rows * d), h1: s.get(rows * d), h: s.get(rows * d),
		f: s.get(rows * e.cfg.IntermediateSize), g: s.get(rows * d)}
}

// kvCache is where a decoder layer's keys and values go: B blocks of
// stride rows, the new ones written at rows start.., attended over
// rows 0..start+tn-1.
type kvCache struct {
	k, v          *vulkan.Buffer
	stride, start int
}

// attnMask is an additive mask for the decoder's attention: (B, tn, Tk)
// with batch stride batch (0: shared), or nil.
type attnMask struct {
	buf   *vulkan.Buffer
	batch int
}

// decoderLayer records one post-LN BERT layer on x (B·tn, D), which it
// overwrites with the output. kvOnly stops after writing keys and values
// (the last layer during prefill, whose output nobody reads).
func (e *Engine) decoderLayer(c *vulkan.Cmd, l *decoderLayer, w decBufs, x *vulkan.Buffer, b, tn int, kv kvCache, m attnMask, kvOnly bool) {
	d := e.cfg.HiddenSize
	rows := b * tn
	cache := vulkan.RowMap{Per: tn, Stride: kv.stride, Off: kv.start}
	c.Gemm(vulkan.Gemm{M: rows, N: d, K: d, A: x, B: l.k.w, Bias: l.k.b, C: kv.k, TransB: true, CMap: cache})
	c.Gemm(vulkan.Gemm{M: rows, N: d, K: d, A: x, B: l.v.w, Bias: l.v.b, C: kv.v, TransB: true, CMap: cache})
	if kvOnly {
		return
	}
	l.q.gemm(c, w.q, x, rows, 0, nil)
	// BERT divides q·kᵀ by sqrt(head_dim)
	c.Attention(vulkan.Attention{B: b, Heads: l.heads, Tq: tn, Tk: kv.start + tn, Dh: l.dh, KVStride: kv.stride,
		Scale: float32(1 / math.Sqrt(float64(l.dh))), Q: w.q, K: kv.k, V: kv.v, Out: w.a, Mask: m.buf, MaskBatch: m.batch})
	// h = LayerNorm(dense(attn) + x)
	l.o.gemm(c, w.h1, w.a, rows, 0, x)
	l.attnLN.apply(c, w.h, w.h1, rows, d)
	// x' = LayerNorm(output.dense(gelu(intermediate.dense(h))) + h)
	l.inter.gemm(c, w.f, w.h, rows, e.decAct, nil)
	l.out.gemm(c, w.g, w.f, rows, 0, w.h)
	l.outLN.apply(c, x, w.g, rows, d)
}

// embed records the text embeddings LayerNorm(word[ids] + position[pos0+t])
// for ids (B, tn) already in the ids buffer: (B·tn, D) into y.
func (e *Engine) embed(c *vulkan.Cmd, y, tmp, ids *vulkan.Buffer, rows, tn, pos0 int) {
	d := e.cfg.HiddenSize
	c.Embed(tmp, ids, e.word, e.textPos, rows, tn, pos0, d)
	e.embLN.apply(c, y, tmp, rows, d)
}

func (e *Engine) checkPixels(pixels []float32, b int) error {
	v := e.cfg.Vision
	if s, ch := v.ImageSize, v.NumChannels; b <= 0 || len(pixels) != b*ch*s*s {
		return fmt.Errorf("vkgit: %d pixel values for %d images of %d×%d×%d", len(pixels), b, ch, s, s)
	}
	return nil
}

func (e *Engine) checkIDs(ids []int) error {
	for _, id := range ids {
		if id < 0 || id >= e.cfg.VocabSize {
			return fmt.Errorf("vkgit: token id %d outside the vocabulary [0, %d)", id, e.cfg.VocabSize)
		}
	}
	return nil
}

func int32s(ids []int) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}

// Forward runs the whole model as GitForCausalLM.forward does in eval
// mode, without a cache, and returns the logits (B, N+T, V) — the
// device twin of (*gitmodel.Model).Forward for golden tests. Labels are
// ignored.
func (e *Engine) Forward(in gitmodel.Batch) ([]float32, error) {
	cfg := &e.cfg
	if err := e.checkPixels(in.Pixels, in.B); err != nil {
		return nil, err
	}
	switch {
	case in.T <= 0 || len(in.IDs) != in.B*in.T:
		return nil, fmt.Errorf("vkgit: %d ids for a %d×%d batch", len(in.IDs), in.B, in.T)
	case in.Mask != nil && len(in.Mask) != in.B*in.T:
		return nil, fmt.Errorf("vkgit: %d mask values for a %d×%d batch", len(in.Mask), in.B, in.T)
	case in.T > cfg.MaxPositionEmbeddings:
		return nil, fmt.Errorf("vkgit: %d text tokens exceed max_position_embeddings %d", in.T, cfg.MaxPositionEmbeddings)
	}
	if err := e.checkIDs(in.IDs); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	b, t, n, d, v := in.B, in.T, cfg.NumImageTokens(), cfg.HiddenSize, cfg.VocabSize
	tot := n + t
	s := &scratch{d: e.dev}
	defer s.free()
	px, ids, text, tmp := s.get(len(in.Pixels)), s.get(b*t), s.get(b*t*d), s.get(b*t*d)
	x, mask, logits := s.get(b*tot*d), s.get(b*tot*tot), s.get(b*tot*v)
	w := e.decBuffers(s, b*tot)
	var ks, vs []*vulkan.Buffer
	for range e.dec {
		ks, vs = append(ks, s.get(b*tot*d)), append(vs, s.get(b*tot*d))
	}
	if s.err != nil {
		return nil, s.err
	}
	c, err := e.dev.Begin()
	if err != nil {
		return nil, err
	}
	c.Upload(px, 0, in.Pixels)
	c.UploadInts(ids, 0, int32s(in.IDs))
	c.Upload(mask, 0, fullMask(b, t, n, in.Mask))
	img := e.encode(c, s, px, b)
	if s.err != nil {
		c.Abort()
		return nil, s.err
	}
	e.embed(c, text, tmp, ids, b*t, t, 0)
	// x = concat(image tokens, text) per batch row
	var regions []vulkan.CopyRegion
	var tregions []vulkan.CopyRegion
	for bi := 0; bi < b; bi++ {
		regions = append(regions, vulkan.CopyRegion{Src: bi * n * d, Dst: bi * tot * d, N: n * d})
		tregions = append(tregions, vulkan.CopyRegion{Src: bi * t * d, Dst: (bi*tot + n) * d, N: t * d})
	}
	c.Copy(x, img, regions)
	c.Copy(x, text, tregions)
	for i := range e.dec {
		e.decoderLayer(c, &e.dec[i], w, x, b, tot, kvCache{k: ks[i], v: vs[i], stride: tot}, attnMask{buf: mask, batch: tot * tot}, false)
	}
	e.head.gemm(c, logits, x, b*tot, 0, nil)
	out := make([]float32, b*tot*v)
	c.Download(logits, 0, out)
	if err := c.Submit(); err != nil {
		return nil, err
	}
	return out, nil
}

var negInf = float32(math.Inf(-1))

// attends is GIT's attention rule (git-architecture.md §7.1, the same as
// gitmodel's): image queries see only image keys; text queries see every
// image key and the real text keys at or before their own position.
func attends(q, j, nImg int, keyReal bool) bool {
	if j < nImg {
		return true
	}
	return q >= nImg && j <= q && keyReal
}

// fullMask is the additive mask (B, N+T, N+T) of a whole forward pass;
// textMask (B, T) marks real tokens (nil: all real).
func fullMask(b, t, n int, textMask []int) []float32 {
	tot := n + t
	m := make([]float32, b*tot*tot)
	for bi := 0; bi < b; bi++ {
		for q := 0; q < tot; q++ {
			for j := 0; j < tot; j++ {
				real := j < n || textMask == nil || textMask[bi*t+j-n] != 0
				if !attends(q, j, n, real) {
					m[(bi*tot+q)*tot+j] = negInf
				}
			}
		}
	}
	return m
}
