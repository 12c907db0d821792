package gitmodel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strconv"
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
	release  func(name string) // drop a checkpoint tensor's pages from memory
	// words reads word-embedding rows from the checkpoint file (pread)
	// instead of the mapping; nil when Embeddings.WordEmbeddings is not a
	// view of a read-only F32 checkpoint tensor.
	words *nn.Embedding
}

// ignoredKeys are buffers some checkpoints carry that the model does not use.
var ignoredKeys = []string{"position_ids"}

// Load reads config.json and the weights (model.safetensors or a sharded
// index) of a model folder. The weights stay memory-mapped (read-only) until
// Close.
func Load(dir string) (*Model, error) { return LoadWith(dir, LoadOptions{}) }

// LoadOptions change how Load reads a checkpoint.
type LoadOptions struct {
	// Writable copies the weights into private memory so that they can be
	// trained in place (full fine-tuning).
	Writable bool
}

// LoadWith is Load with options.
func LoadWith(dir string, opt LoadOptions) (*Model, error) {
	cfg, err := LoadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	set, err := safetensors.OpenModel(dir)
	if err != nil {
		return nil, err
	}
	m, err := fromSource(cfg, filepath.Join(dir, "config.json"), set, filepath.Join(dir, "model.safetensors"), opt)
	if err != nil {
		set.Close()
		return nil, err
	}
	m.closer, m.release = set.Close, set.Release
	// Generation reads a few dozen rows of the 30522-row word-embedding
	// table. Reading them with pread keeps the table out of the resident
	// set: touching the mapping makes the kernel map the whole page-cache
	// folio around each row, MADV_RANDOM or not (captioning 7 images with
	// a freshly written git-base checkpoint left 76-79 of the table's 89 MiB
	// resident; 3 when its folios happened to be small). Only for an F32
	// table, which Weights hands out as a view of the read-only mapping,
	// so the file holds exactly the tensor's values; a writable
	// (trainable) copy or a widened F16 one may diverge from it.
	const words = "git.embeddings.word_embeddings.weight"
	if info, ok := set.Info(words); ok && info.DType == safetensors.F32 && !opt.Writable {
		if r, err := set.RowReader(words); err == nil {
			m.words = &nn.Embedding{Weight: m.Embeddings.WordEmbeddings, Rows: r}
		}
	}
	set.AccessRandom(words) // for lookups that still go through the mapping
	return m, nil
}

// embedWords looks the word embeddings of ids up: (len(ids), D). A
// trainable table goes through the tape (its gradient); otherwise rows
// come from the checkpoint file when the model was loaded from one.
func (m *Model) embedWords(tp *nn.Tape, ids []int) *nn.Var {
	table := m.Embeddings.WordEmbeddings
	if m.words == nil || m.words.Weight != table || tp.Grads.Trainable(table) {
		return tp.Embed(table, ids, m.Config.PadTokenID)
	}
	d := table.Dim(1)
	y := make([]float32, len(ids)*d)
	m.words.Forward(y, ids)
	return nn.Const(y, len(ids), d)
}

// FromSource builds the model from checkpoint tensors named as Hugging Face
// names them; file is used in error messages. Every missing or misshapen
// tensor is reported; unused tensors become Warnings.
func FromSource(cfg *Config, src nn.Source, file string) (*Model, error) {
	return fromSource(cfg, "config", src, file, LoadOptions{})
}

// fromSource builds the model; cfgName names the config in errors.
func fromSource(cfg *Config, cfgName string, src nn.Source, file string, opt LoadOptions) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	// A config asking for more layers than the checkpoint has is refused
	// before anything is built: a hostile num_hidden_layers of a million
	// used to build a million layers of placeholders. A checkpoint with no
	// such layer at all is not this model's: its missing tensors say more.
	for _, t := range []struct {
		field, prefix string
		want          int
	}{
		{"vision_config.num_hidden_layers", "git.image_encoder.vision_model.encoder.layers.", cfg.Vision.NumHiddenLayers},
		{"num_hidden_layers", "git.encoder.layer.", cfg.NumHiddenLayers},
	} {
		if have := layersIn(src, t.prefix); have > 0 && t.want > have {
			return nil, fmt.Errorf("%s: %s is %d, but %s holds %d such layers (%sN)", cfgName, t.field, t.want, file, have, t.prefix)
		}
	}
	if opt.Writable {
		if name, format, ok := quantizedWeight(src); ok {
			return nil, fmt.Errorf("%s: %s is stored quantized (%s); quantized weights are frozen, so this model cannot be trained in full or have an adapter merged into it: use the unquantized model (merge first, then quantize)", file, name, format)
		}
	}
	root := nn.NewWeights(src, file)
	if opt.Writable {
		root.Writable()
	}
	m := build(cfg, root)
	if err := root.Err(); err != nil {
		return nil, fmt.Errorf("%s does not match the weights (or they are incomplete):\n%w", cfgName, err)
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
		WordEmbeddings:     e.Push("word_embeddings").Get("weight", cfg.VocabSize, d),
		PositionEmbeddings: e.Push("position_embeddings").Get("weight", cfg.MaxPositionEmbeddings, d),
		LayerNorm:          nn.LoadLayerNorm(e.Push("LayerNorm"), d, cfg.LayerNormEps),
	}
	for i := 0; i < cfg.NumHiddenLayers && root.Err() == nil; i++ {
		// stop at the first layer that fails: the errors so far say why
		m.Layers = append(m.Layers, loadDecoderLayer(w.Pushf("encoder.layer.%d", i), cfg))
	}
	m.LMHead = nn.LoadLinear(root.Push("output"), d, cfg.VocabSize, true)
	m.Params = root.Params()
	return m
}

// layersIn returns how many layers prefix.N. src holds: the highest N + 1.
func layersIn(src nn.Source, prefix string) int {
	n := 0
	for _, name := range src.Names() {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(num); err == nil && i >= 0 && i < MaxConfigLayers && i+1 > n {
			n = i + 1
		}
	}
	return n
}

// quantizedWeight returns the first weight that src stores quantized
// (gitcap quantize), with its format.
func quantizedWeight(src nn.Source) (name, format string, ok bool) {
	m, _ := src.(interface{ Metadata() map[string]string })
	if m == nil {
		return "", "", false
	}
	var names []string
	meta := m.Metadata()
	for k := range meta {
		if n, found := strings.CutPrefix(k, nn.QuantMetaKey("")); found {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "", "", false
	}
	sort.Strings(names)
	format, _, _ = strings.Cut(meta[nn.QuantMetaKey(names[0])], " ")
	return names[0], format, true
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
	return m.encodeImages(nn.Inference(m.Pool), pixels, b, false, nil).Data
}

func (m *Model) encodeImages(tp *nn.Tape, pixels []float32, b int, ckpt bool, o *Output) *nn.Var {
	var trace func([]float32)
	if o != nil {
		trace = func(h []float32) { o.VisionHidden = append(o.VisionHidden, append([]float32(nil), h...)) }
	}
	v := m.Vision.forward(tp, pixels, b, ckpt, trace)
	if o != nil {
		o.VisionLast = append([]float32(nil), v.Data...)
	}
	p := tp.Linear(m.Projection, v)
	tp.Free(v)
	y := tp.LayerNorm(m.ProjNorm, p)
	tp.Free(p)
	return y
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

// Forward runs the whole model as GitForCausalLM.forward does (eval mode),
// returning logits for every position and, with labels, the loss.
func (m *Model) Forward(in Batch) (*Output, error) { return m.forwardEval(in, false) }

// ForwardTrace is Forward keeping every intermediate hidden state.
func (m *Model) ForwardTrace(in Batch) (*Output, error) { return m.forwardEval(in, true) }

func (m *Model) forwardEval(in Batch, trace bool) (*Output, error) {
	if err := m.checkBatch(in); err != nil {
		return nil, err
	}
	o := &Output{}
	var tr *Output
	if trace {
		tr = o
	}
	tp := nn.Inference(m.Pool)
	hidden := m.decoderForward(tp, in, false, tr)
	if trace {
		o.Hidden = hidden.Data
	}
	logits := tp.Linear(m.LMHead, hidden)
	o.Logits = logits.Data
	if in.Labels != nil {
		n, v := m.Config.NumImageTokens(), m.Config.VocabSize
		o.Loss, o.NumTargets = CausalLMLoss(o.Logits, in.Labels, in.B, n, in.T, v)
	}
	return o, nil
}

// decoderForward runs images and text through the whole model without a
// cache: (B·(N+T), D) decoder output. With ckpt, every layer is recomputed in
// backward instead of keeping its activations.
func (m *Model) decoderForward(tp *nn.Tape, in Batch, ckpt bool, o *Output) *nn.Var {
	b, t, n := in.B, in.T, m.Config.NumImageTokens()
	img := m.encodeImages(tp, in.Pixels, b, ckpt, o)
	text := m.embedText(tp, in.IDs, b, t, 0)
	if o != nil {
		o.ImageTokens = append([]float32(nil), img.Data...)
		o.TextEmbedding = append([]float32(nil), text.Data...)
	}
	x := tp.ConcatSeq(img, text, b)
	tp.Free(img, text) // their values live on in x
	mask := buildMask(b, n+t, 0, n+t, n, func(bi, j int) bool {
		return j < n || in.Mask == nil || in.Mask[bi*t+j-n] != 0
	})
	for _, l := range m.Layers {
		x = checkpointed(tp, ckpt, x, func(tp *nn.Tape, x *nn.Var) *nn.Var { return l.forward(tp, x, b, n+t, mask, nil) })
	}
	return x
}

// LossOnTape is the training forward: GIT's causal LM loss on a recording
// tape (call tp.Backward(loss) next). The LM head runs on the text positions
// that have a target only. Returns the 1×1 loss and the number of targets.
func (m *Model) LossOnTape(tp *nn.Tape, in Batch, ckpt bool) (*nn.Var, int, error) {
	if err := m.checkBatch(in); err != nil {
		return nil, 0, err
	}
	if in.Labels == nil {
		return nil, 0, fmt.Errorf("gitmodel: LossOnTape needs labels")
	}
	hidden := m.decoderForward(tp, in, ckpt, nil)
	b, t, n := in.B, in.T, m.Config.NumImageTokens()
	var rows, labels []int
	for bi := 0; bi < b; bi++ {
		for i := 0; i < t-1; i++ {
			if y := in.Labels[bi*t+i+1]; y != -100 {
				rows = append(rows, bi*(n+t)+n+i)
				labels = append(labels, y)
			}
		}
	}
	sel := tp.Rows(hidden, rows)
	tp.Free(hidden) // only its selected rows go on
	logits := tp.Linear(m.LMHead, sel)
	loss, count := tp.CrossEntropy(logits, labels)
	return loss, count, nil
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
	for _, id := range in.Labels {
		if id != -100 && (id < 0 || id >= cfg.VocabSize) {
			return fmt.Errorf("gitmodel: label %d outside the vocabulary [0, %d) and not -100", id, cfg.VocabSize)
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
			sum += nn.LogSumExp(row) - float64(row[y])
			count++
		}
	}
	if count == 0 {
		return math.NaN(), 0
	}
	return sum / float64(count), count
}

// RowLosses is the eval-mode loss of every batch row separately: mean
// cross-entropy over the row's targets (labels[:, 1:] not -100) and their
// count. The LM head runs on the target positions only.
func (m *Model) RowLosses(in Batch) ([]float64, []int, error) {
	if err := m.checkBatch(in); err != nil {
		return nil, nil, err
	}
	if in.Labels == nil {
		return nil, nil, fmt.Errorf("gitmodel: RowLosses needs labels")
	}
	tp := nn.Inference(m.Pool)
	hidden := m.decoderForward(tp, in, false, nil)
	b, t, n, v := in.B, in.T, m.Config.NumImageTokens(), m.Config.VocabSize
	losses, counts := make([]float64, b), make([]int, b)
	for bi := 0; bi < b; bi++ {
		var rows, labels []int
		for i := 0; i < t-1; i++ {
			if y := in.Labels[bi*t+i+1]; y != -100 {
				rows = append(rows, bi*(n+t)+n+i)
				labels = append(labels, y)
			}
		}
		if len(rows) == 0 {
			losses[bi] = math.NaN()
			continue
		}
		logits := tp.Linear(m.LMHead, tp.Rows(hidden, rows))
		seq := make([]int, len(labels)+1) // CausalLMLoss shifts by one
		for i := range labels {
			seq[i+1] = labels[i]
		}
		losses[bi], counts[bi] = CausalLMLoss(logits.Data, seq, 1, 0, len(seq), v)
	}
	return losses, counts, nil
}
