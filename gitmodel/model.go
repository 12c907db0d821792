package gitmodel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"

	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/nn"
	"github.com/gitcap/gitcap/tensor"
	"github.com/gitcap/gitcap/tensor/safetensors"
)

// Model is GitForCausalLM. Field comments give the checkpoint prefixes.
type Model struct {
	Config     Config
	Vision     *VisionModel    // git.image_encoder.vision_model
	Projection *nn.Linear      // git.visual_projection.visual_projection.0
	ProjNorm   *nn.LayerNorm   // git.visual_projection.visual_projection.1 (vision eps)
	Embeddings *TextEmbeddings // git.embeddings
	Layers     []*DecoderLayer // git.encoder.layer.N
	LMHead     *nn.Linear      // output
	// Pool runs the big kernels; nil runs serially.
	Pool *kernels.Pool
	// Params lists every parameter with its checkpoint name, in load order.
	Params []nn.NamedTensor
	// Warnings lists checkpoint tensors the model does not use.
	Warnings []string
	closer   func() error
}

// ignoredKeys are buffers some checkpoints carry that the model does not use.
var ignoredKeys = []string{"position_ids"}

// Load reads config.json and the weights (model.safetensors or a sharded
// index) of a model folder. The weights stay memory-mapped until Close.
func Load(dir string) (*Model, error) {
	cfg, err := LoadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	set, err := safetensors.OpenModel(dir)
	if err != nil {
		return nil, err
	}
	m, err := FromSource(cfg, set, filepath.Join(dir, "model.safetensors"))
	if err != nil {
		set.Close()
		return nil, err
	}
	m.closer = set.Close
	return m, nil
}

// FromSource builds the model from checkpoint tensors named as Hugging Face
// names them; file is used in error messages. Every missing or misshapen
// tensor is reported; unused tensors become Warnings.
func FromSource(cfg *Config, src nn.Source, file string) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	root := nn.NewWeights(src, file)
	m := build(cfg, root)
	if err := root.Err(); err != nil {
		return nil, err
	}
	for _, k := range root.Unused(ignoredKeys...) {
		m.Warnings = append(m.Warnings, fmt.Sprintf("%s: unexpected tensor %q (not used by GitForCausalLM)", file, k))
	}
	return m, nil
}

// NewRandom builds a model with Hugging Face's initialisation
// (GitPreTrainedModel._init_weights): weights and embeddings normal with
// std initializer_range (the [PAD] embedding row zero), biases zero,
// LayerNorm weights one. The same seed gives the same weights.
func NewRandom(cfg *Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x6a09e667f3bcc908))
	std := cfg.InitializerRange
	root := nn.NewInitWeights(func(name string, kind nn.Init, shape []int) *tensor.Tensor {
		t := tensor.Zeros(shape...)
		d := t.Data()
		switch kind {
		case nn.InitOnes:
			for i := range d {
				d[i] = 1
			}
		case nn.InitNormal:
			s := std
			if strings.HasPrefix(name, "git.image_encoder.") {
				s = cfg.Vision.InitializerRange
			}
			for i := range d {
				d[i] = float32(rng.NormFloat64() * s)
			}
			if name == "git.embeddings.word_embeddings.weight" {
				clear(d[cfg.PadTokenID*shape[1] : (cfg.PadTokenID+1)*shape[1]])
			}
		}
		return t
	})
	return build(cfg, root), nil
}

// build creates the module tree, reading every tensor through w.
func build(cfg *Config, root *nn.Weights) *Model {
	w := root.Push("git")
	d := cfg.HiddenSize
	m := &Model{Config: *cfg}
	m.Vision = loadVision(w.Push("image_encoder.vision_model"), cfg.Vision)
	vp := w.Push("visual_projection.visual_projection")
	m.Projection = nn.LoadLinear(vp.Push("0"), cfg.Vision.HiddenSize, d, true)
	m.ProjNorm = nn.LoadLayerNorm(vp.Push("1"), d, cfg.Vision.LayerNormEps)
	e := w.Push("embeddings")
	m.Embeddings = &TextEmbeddings{
		WordEmbeddings:     &nn.Embedding{Weight: e.Push("word_embeddings").Get("weight", cfg.VocabSize, d)},
		PositionEmbeddings: &nn.Embedding{Weight: e.Push("position_embeddings").Get("weight", cfg.MaxPositionEmbeddings, d)},
		LayerNorm:          nn.LoadLayerNorm(e.Push("LayerNorm"), d, cfg.LayerNormEps),
	}
	for i := 0; i < cfg.NumHiddenLayers; i++ {
		m.Layers = append(m.Layers, loadDecoderLayer(w.Pushf("encoder.layer.%d", i), cfg))
	}
	m.LMHead = nn.LoadLinear(root.Push("output"), d, cfg.VocabSize, true)
	m.Params = root.Params()
	return m
}

// Close releases the memory-mapped checkpoint.
func (m *Model) Close() error {
	if m.closer == nil {
		return nil
	}
	return m.closer()
}

// EncodeImages runs the vision tower and the visual projection:
// pixels (B, C, S, S) → image tokens (B, N_img, D).
func (m *Model) EncodeImages(pixels []float32, b int) []float32 {
	return m.encodeImages(pixels, b, nil)
}

func (m *Model) encodeImages(pixels []float32, b int, o *Output) []float32 {
	var trace func(int, []float32)
	if o != nil {
		trace = func(k int, h []float32) { o.VisionHidden = append(o.VisionHidden, append([]float32(nil), h...)) }
	}
	v := m.Vision.Forward(m.Pool, pixels, b, trace)
	n := m.Config.NumImageTokens()
	if o != nil {
		o.VisionLast = append([]float32(nil), v...)
	}
	x := make([]float32, b*n*m.Config.HiddenSize)
	m.Projection.Forward(m.Pool, x, v, b*n)
	m.ProjNorm.Forward(x, x, b*n)
	return x
}

// Output holds the forward pass's results; the trace fields are filled by
// ForwardTrace only. Shapes: B batch, N image tokens, T text tokens.
type Output struct {
	Logits        []float32   // (B, N+T, V)
	Loss          float64     // mean cross-entropy, when labels were given
	NumTargets    int         // labels that counted towards Loss
	VisionHidden  [][]float32 // after pre_layrnorm, then after each vision layer: (B, N, Dv)
	VisionLast    []float32   // after post_layernorm (B, N, Dv)
	ImageTokens   []float32   // visual projection output (B, N, D)
	TextEmbedding []float32   // (B, T, D)
	Hidden        []float32   // decoder output (B, N+T, D)
}

// Batch is one forward pass's input. Pixels (B, C, S, S); IDs and Mask
// (B, T) with Mask 1 for real tokens, 0 for padding (nil: all real); Labels
// (B, T) or nil, -100 where no loss is taken.
type Batch struct {
	Pixels []float32
	B, T   int
	IDs    []int
	Mask   []int
	Labels []int
}

// Forward runs the whole model as GitForCausalLM.forward does, returning
// logits for every position and, with labels, the loss.
func (m *Model) Forward(in Batch) (*Output, error) { return m.forward(in, false) }

// ForwardTrace is Forward keeping every intermediate hidden state.
func (m *Model) ForwardTrace(in Batch) (*Output, error) { return m.forward(in, true) }

func (m *Model) forward(in Batch, trace bool) (*Output, error) {
	if err := m.checkBatch(in); err != nil {
		return nil, err
	}
	cfg := &m.Config
	b, t, n, d, vs := in.B, in.T, cfg.NumImageTokens(), cfg.HiddenSize, cfg.VocabSize
	o := &Output{}
	var tr *Output
	if trace {
		tr = o
	}
	img := m.encodeImages(in.Pixels, b, tr)
	text := m.embedText(in.IDs, b, t, 0)
	if trace {
		o.ImageTokens = append([]float32(nil), img...)
		o.TextEmbedding = append([]float32(nil), text...)
	}
	cache := m.NewKVCache(b, t)
	m.decode(cache, img, n, nil)
	var valid []bool
	if in.Mask != nil {
		valid = make([]bool, len(in.Mask))
		for i, v := range in.Mask {
			valid[i] = v != 0
		}
	}
	m.decode(cache, text, t, valid)
	// hidden = concat(image part, text part) per batch row
	hidden := make([]float32, b*(n+t)*d)
	for bi := 0; bi < b; bi++ {
		row := hidden[bi*(n+t)*d:]
		copy(row[:n*d], img[bi*n*d:(bi+1)*n*d])
		copy(row[n*d:(n+t)*d], text[bi*t*d:(bi+1)*t*d])
	}
	if trace {
		o.Hidden = hidden
	}
	o.Logits = make([]float32, b*(n+t)*vs)
	m.LMHead.Forward(m.Pool, o.Logits, hidden, b*(n+t))
	if in.Labels != nil {
		o.Loss, o.NumTargets = CausalLMLoss(o.Logits, in.Labels, b, n, t, vs)
	}
	return o, nil
}

func (m *Model) checkBatch(in Batch) error {
	cfg := &m.Config
	s, c := cfg.Vision.ImageSize, cfg.Vision.NumChannels
	switch {
	case in.B <= 0 || in.T <= 0:
		return fmt.Errorf("gitmodel: batch of %d×%d tokens", in.B, in.T)
	case len(in.Pixels) != in.B*c*s*s:
		return fmt.Errorf("gitmodel: %d pixel values for %d images of %d×%d×%d", len(in.Pixels), in.B, c, s, s)
	case len(in.IDs) != in.B*in.T:
		return fmt.Errorf("gitmodel: %d ids for a %d×%d batch", len(in.IDs), in.B, in.T)
	case in.Mask != nil && len(in.Mask) != in.B*in.T:
		return fmt.Errorf("gitmodel: %d mask values for a %d×%d batch", len(in.Mask), in.B, in.T)
	case in.Labels != nil && len(in.Labels) != in.B*in.T:
		return fmt.Errorf("gitmodel: %d labels for a %d×%d batch", len(in.Labels), in.B, in.T)
	case in.T > cfg.MaxPositionEmbeddings:
		return fmt.Errorf("gitmodel: %d text tokens exceed max_position_embeddings %d", in.T, cfg.MaxPositionEmbeddings)
	}
	for _, id := range in.IDs {
		if id < 0 || id >= cfg.VocabSize {
			return fmt.Errorf("gitmodel: token id %d outside the vocabulary [0, %d)", id, cfg.VocabSize)
		}
	}
	return nil
}

// CausalLMLoss is GIT's loss: cross-entropy of logits[:, N : N+T-1] against
// labels[:, 1:], averaged over labels that are not -100. logits (B, N+T, V).
// Computed in float64 (log-sum-exp) and returned with the target count.
func CausalLMLoss(logits []float32, labels []int, b, n, t, v int) (float64, int) {
	var sum float64
	count := 0
	for bi := 0; bi < b; bi++ {
		for i := 0; i < t-1; i++ {
			y := labels[bi*t+i+1]
			if y == -100 {
				continue
			}
			row := logits[(bi*(n+t)+n+i)*v:][:v]
			mx := math.Inf(-1)
			for _, z := range row {
				mx = math.Max(mx, float64(z))
			}
			var se float64
			for _, z := range row {
				se += math.Exp(float64(z) - mx)
			}
			sum += mx + math.Log(se) - float64(row[y])
			count++
		}
	}
	if count == 0 {
		return math.NaN(), 0
	}
	return sum / float64(count), count
}
