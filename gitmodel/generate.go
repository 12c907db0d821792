package gitmodel

import (
	"fmt"

	"github.com/gitcap/gitcap/nn"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// GenerateConfig mirrors transformers' GenerationConfig for the options GIT
// uses (formats.md §7). Zero values are not the defaults: start from
// DefaultGenerateConfig.
type GenerateConfig struct {
	MaxLength          int     // text tokens including [CLS] (and the prompt)
	MaxNewTokens       int     // if > 0, overrides MaxLength: prompt length + this
	MinLength          int     // EOS is forbidden while the text is shorter
	NumBeams           int     // 1: greedy or sampling
	LengthPenalty      float64 // beam score = sum logprob / generated_len^LengthPenalty
	EarlyStopping      bool    // beam search stops once NumBeams hypotheses are done
	NumReturnSequences int     // per image; ≤ NumBeams for beam search
	DoSample           bool
	Temperature        float64
	TopK               int // 0 disables; HF's default 50 is active when sampling
	TopP               float64
	RepetitionPenalty  float64
	NoRepeatNgramSize  int
	Seed               uint64
	Prompt             []int // token ids after [CLS] (no [SEP]): conditional captioning / VQA
	// StepLogits, if set, sees each step's raw last-position logits (R, V)
	// before any processing (R = images × beams or returned sequences).
	StepLogits func(step int, logits []float32)
	// Timings, if set, receives how long the phases took.
	Timings *GenerateTimings
}

// GenerateTimings splits a Generate call: the image side (vision tower,
// projection, image tokens through the decoder) and the text steps.
type GenerateTimings struct {
	Encode, Decode time.Duration
	Steps          int // decoding steps run (tokens generated per row)
}

// DefaultGenerateConfig is GenerationConfig's defaults with GIT's ids.
func DefaultGenerateConfig() GenerateConfig {
	return GenerateConfig{
		MaxLength: 20, NumBeams: 1, LengthPenalty: 1, NumReturnSequences: 1,
		Temperature: 1, TopK: 50, TopP: 1, RepetitionPenalty: 1,
	}
}

// Caption is one generated sequence: ids from [CLS] on (prompt included,
// [SEP] included when emitted, no padding) and its score (greedy/sampling:
// mean log-probability of the generated tokens; beam: HF's sequences_scores).
type Caption struct {
	IDs   []int
	Score float64
}

// MaxNumBeams bounds num_beams and num_return_sequences. Every beam or
// returned sequence keeps its own key/value cache and is decoded at every
// step, so 100000 beams on even the tiny test model took 4.7 GB and five
// minutes. Hugging Face sets no bound; captioning uses 1 to 10.
const MaxNumBeams = 64

// SettingError is a generation setting that cannot work. Field is its
// name in generation_config.json, which is also the command-line flag.
type SettingError struct {
	Field string
	Msg   string
}

func (e *SettingError) Error() string { return e.Msg }

func settingErr(field, format string, args ...any) error {
	return &SettingError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks g against the model's config: prompt ids inside the
// vocabulary, lengths within max_position_embeddings, every option in
// range. Callers can run it before decoding any image; Generate runs it
// too. Errors are *SettingError.
func (g GenerateConfig) Validate(cfg *Config) error {
	_, _, err := g.check(cfg)
	return err
}

// check is Validate, returning the full prompt ([CLS] + Prompt) and the
// maximum text length.
func (g *GenerateConfig) check(cfg *Config) (prompt []int, maxLen int, err error) {
	prompt = append([]int{cfg.BosTokenID}, g.Prompt...)
	for _, id := range prompt {
		if id < 0 || id >= cfg.VocabSize {
			return nil, 0, settingErr("prompt", "prompt token id %d outside the vocabulary [0, %d)", id, cfg.VocabSize)
		}
	}
	promptLen, maxPos := len(prompt), cfg.MaxPositionEmbeddings
	maxLen, field := g.MaxLength, "max_length"
	if g.MaxNewTokens > 0 {
		maxLen, field = promptLen+g.MaxNewTokens, "max_new_tokens"
	}
	switch {
	case g.MaxNewTokens < 0:
		return nil, 0, settingErr("max_new_tokens", "max_new_tokens must not be negative, got %d", g.MaxNewTokens)
	case g.MaxNewTokens > maxPos: // before promptLen + MaxNewTokens can overflow
		return nil, 0, settingErr(field, "max_new_tokens %d exceeds max_position_embeddings %d", g.MaxNewTokens, maxPos)
	case maxLen <= promptLen:
		return nil, 0, settingErr(field, "max_length %d leaves no room after a %d-token prompt", maxLen, promptLen)
	case maxLen > maxPos && g.MaxNewTokens > 0:
		return nil, 0, settingErr(field, "a %d-token prompt + max_new_tokens %d = %d exceeds max_position_embeddings %d", promptLen, g.MaxNewTokens, maxLen, maxPos)
	case maxLen > maxPos:
		return nil, 0, settingErr(field, "max_length %d exceeds max_position_embeddings %d", maxLen, maxPos)
	case g.NumBeams < 1:
		return nil, 0, settingErr("num_beams", "num_beams must be ≥ 1, got %d", g.NumBeams)
	case g.NumBeams > MaxNumBeams:
		return nil, 0, settingErr("num_beams", "num_beams %d is more than %d (each beam keeps its own cache)", g.NumBeams, MaxNumBeams)
	case g.NumReturnSequences < 1:
		return nil, 0, settingErr("num_return_sequences", "num_return_sequences must be ≥ 1, got %d", g.NumReturnSequences)
	case g.NumReturnSequences > MaxNumBeams:
		return nil, 0, settingErr("num_return_sequences", "num_return_sequences %d is more than %d (each sequence keeps its own cache)", g.NumReturnSequences, MaxNumBeams)
	case g.NumBeams > 1 && g.NumReturnSequences > g.NumBeams:
		return nil, 0, settingErr("num_return_sequences", "num_return_sequences %d must not exceed num_beams %d", g.NumReturnSequences, g.NumBeams)
	case g.NumBeams == 1 && !g.DoSample && g.NumReturnSequences > 1:
		return nil, 0, settingErr("num_return_sequences", "greedy search returns one sequence: use --num_beams or --do_sample for num_return_sequences %d", g.NumReturnSequences)
	case g.NumBeams > 1 && g.DoSample:
		return nil, 0, settingErr("do_sample", "beam sampling (num_beams > 1 with do_sample) is not supported")
	case g.DoSample && !(g.Temperature > 0):
		return nil, 0, settingErr("temperature", "temperature must be > 0 when sampling, got %g", g.Temperature)
	case !(g.TopP > 0 && g.TopP <= 1):
		return nil, 0, settingErr("top_p", "top_p must be in (0, 1], got %g", g.TopP)
	case g.TopK < 0:
		return nil, 0, settingErr("top_k", "top_k must be ≥ 0, got %d", g.TopK)
	case !(g.RepetitionPenalty > 0):
		return nil, 0, settingErr("repetition_penalty", "repetition_penalty must be > 0, got %g", g.RepetitionPenalty)
	case g.NoRepeatNgramSize < 0:
		return nil, 0, settingErr("no_repeat_ngram_size", "no_repeat_ngram_size must be ≥ 0, got %d", g.NoRepeatNgramSize)
	}
	return prompt, maxLen, nil
}

// Engine runs the model's arithmetic for generation; the search (greedy,
// sampling, beams) is the same for every engine. The CPU engine is the
// model itself; another backend (a GPU) implements the same two methods.
type Engine interface {
	// Prefill encodes b images (B, C, S, S) and runs their tokens through
	// the decoder once, keeping room for maxText text tokens per row.
	Prefill(pixels []float32, b, maxText int) (Session, error)
}

// Session is a batch of sequences with their key/value cache.
type Session interface {
	// Rows is the batch size.
	Rows() int
	// Gather returns a new session whose row i continues old row src[i]
	// (any length); the receiver stays valid.
	Gather(src []int) Session
	// Reorder makes row i continue old row src[i] (len(src) == Rows()).
	Reorder(src []int)
	// Step feeds tn tokens per row, ids (Rows, tn), and returns the logits
	// of each row's last position (Rows, V).
	Step(ids []int, tn int) ([]float32, error)
}

// Prefill is the CPU Engine: vision tower, projection, and the image
// tokens through the decoder into a KV cache.
func (m *Model) Prefill(pixels []float32, b, maxText int) (Session, error) {
	if s, c := m.Config.Vision.ImageSize, m.Config.Vision.NumChannels; len(pixels) != b*c*s*s || b <= 0 {
		return nil, fmt.Errorf("gitmodel: %d pixel values for %d images of %d×%d×%d", len(pixels), b, c, s, s)
	}
	// One tape, in one Scope, for the vision tower and the image tokens'
	// pass through the decoder, so that every layer's output goes back once
	// the next layer is done with it. Between the two, the vision tower's
	// free buffers go to the garbage collector rather than waiting for the
	// decoder (which needs fewer of them), and the KV cache is allocated
	// only then, when that memory can serve it.
	tp := nn.Inference(m.Pool)
	var c *KVCache
	tp.Scope(nil, func(tp *nn.Tape, _ *nn.Var) *nn.Var {
		img := m.encodeImages(tp, pixels, b, false, nil)
		tp.DropFree()
		c = m.NewKVCache(b, maxText)
		c.tp = tp
		m.decode(c, img, m.Config.NumImageTokens(), nil, true)
		return &nn.Var{} // nothing to keep: the cache holds the result
	})
	c.tp = nil // its arena holds the image pass's buffers, sized for no decoding step
	return &cpuSession{m: m, c: c}, nil
}

type cpuSession struct {
	m *Model
	c *KVCache
}

func (s *cpuSession) Rows() int                { return s.c.b }
func (s *cpuSession) Gather(src []int) Session { return &cpuSession{s.m, s.c.gather(src)} }
func (s *cpuSession) Reorder(src []int)        { s.c.Reorder(src) }

func (s *cpuSession) Step(ids []int, tn int) ([]float32, error) {
	m, r := s.m, s.c.b
	tp := nn.Inference(m.Pool)
	x := m.embedText(tp, ids, r, tn, s.c.Len()-s.c.nImg)
	x = m.decode(s.c, x, tn, nil, false)
	last := make([]int, r) // each row's last position
	for i := range last {
		last[i] = i*tn + tn - 1
	}
	return tp.Linear(m.LMHead, tp.Rows(x, last)).Data, nil
}

// Generate captions b images, pixels (B, C, S, S), on the CPU. It returns,
// per image, NumReturnSequences captions (best first for beam search). The
// image tokens and each step's keys and values are computed once (KV cache).
func (m *Model) Generate(pixels []float32, b int, g GenerateConfig) ([][]Caption, error) {
	return m.GenerateWith(m, pixels, b, g)
}

// GenerateWith is Generate with the arithmetic done by e.
func (m *Model) GenerateWith(e Engine, pixels []float32, b int, g GenerateConfig) ([][]Caption, error) {
	prompt, maxLen, err := g.check(&m.Config)
	if err != nil {
		return nil, err
	}
	// Image tokens through the decoder once per image, then copied per beam
	// or per returned sequence.
	t0 := time.Now()
	base, err := e.Prefill(pixels, b, maxLen)
	if err != nil {
		return nil, err
	}
	t1 := time.Now()
	if g.Timings != nil {
		defer func() {
			g.Timings.Encode, g.Timings.Decode = t1.Sub(t0), time.Since(t1)
		}()
	}
	k := g.NumBeams
	if k == 1 {
		k = g.NumReturnSequences
	}
	rows := make([]int, b*k)
	for i := range rows {
		rows[i] = i / k
	}
	sess := base
	if k > 1 { // a copy of the cache per beam or returned sequence
		sess = base.Gather(rows)
	}
	s := &searcher{m: m, g: &g, sess: sess, maxLen: maxLen, promptLen: len(prompt)}
	var out [][]Caption
	if g.NumBeams > 1 {
		out, err = s.beam(b, prompt)
	} else {
		out, err = s.greedyOrSample(b, k, prompt)
	}
	if g.Timings != nil {
		g.Timings.Steps = s.steps
	}
	return out, err
}

// gather returns a new cache whose row i is a copy of row src[i].
func (c *KVCache) gather(src []int) *KVCache {
	out := &KVCache{b: len(src), capacity: c.capacity, d: c.d, nImg: c.nImg, length: c.length}
	rowLen, n := c.capacity*c.d, c.length*c.d
	for l := range c.k {
		kk, vv := make([]float32, out.b*rowLen), make([]float32, out.b*rowLen)
		for i, s := range src {
			copy(kk[i*rowLen:i*rowLen+n], c.k[l][s*rowLen:s*rowLen+n])
			copy(vv[i*rowLen:i*rowLen+n], c.v[l][s*rowLen:s*rowLen+n])
		}
		out.k, out.v = append(out.k, kk), append(out.v, vv)
	}
	out.keyValid = make([]bool, out.b*c.capacity)
	for i, s := range src {
		copy(out.keyValid[i*c.capacity:(i+1)*c.capacity], c.keyValid[s*c.capacity:(s+1)*c.capacity])
	}
	return out
}

type searcher struct {
	m                 *Model
	g                 *GenerateConfig
	sess              Session
	maxLen, promptLen int
	steps             int // decoder calls on text
}

// step feeds tn tokens per row and returns each row's last logits (R, V).
func (s *searcher) step(ids []int, tn int) ([]float32, error) {
	s.steps++
	return s.sess.Step(ids, tn)
}

func (s *searcher) firstStep(prompt []int) ([]float32, error) {
	r := s.sess.Rows()
	ids := make([]int, 0, r*len(prompt))
	for i := 0; i < r; i++ {
		ids = append(ids, prompt...)
	}
	return s.step(ids, len(prompt))
}

// process applies the non-sampling logits processors in HF's order:
// repetition penalty, no-repeat n-grams, min length.
func (s *searcher) process(scores []float32, seq []int) {
	g, eos := s.g, s.m.Config.EosTokenID
	if g.RepetitionPenalty != 1 {
		RepetitionPenalty(scores, seq, float32(g.RepetitionPenalty))
	}
	if g.NoRepeatNgramSize > 0 {
		for _, t := range BannedNgramTokens(seq, g.NoRepeatNgramSize) {
			scores[t] = negInf
		}
	}
	if len(seq) < g.MinLength {
		scores[eos] = negInf
	}
}

func (s *searcher) greedyOrSample(b, k int, prompt []int) ([][]Caption, error) {
	cfg, g := &s.m.Config, s.g
	r := b * k
	seqs := make([][]int, r)
	for i := range seqs {
		seqs[i] = append([]int(nil), prompt...)
	}
	done := make([]bool, r)
	sum := make([]float64, r)
	rng := rand.New(rand.NewPCG(g.Seed, 0x9e3779b97f4a7c15))
	v := cfg.VocabSize
	logits, err := s.firstStep(prompt)
	if err != nil {
		return nil, err
	}
	logp := make([]float64, v)
	for cur := len(prompt); cur < s.maxLen; cur++ {
		if g.StepLogits != nil {
			g.StepLogits(cur-len(prompt), logits)
		}
		next := make([]int, r)
		all := true
		for i := 0; i < r; i++ {
			if done[i] {
				next[i] = cfg.PadTokenID
				continue
			}
			row := logits[i*v : (i+1)*v]
			s.process(row, seqs[i])
			logSoftmax(logp, row)
			var tok int
			if g.DoSample {
				Warp(row, float32(g.Temperature), g.TopK, g.TopP, 1)
				tok = sampleFrom(row, rng)
			} else {
				tok = argmax(row)
			}
			sum[i] += logp[tok]
			seqs[i] = append(seqs[i], tok)
			next[i] = tok
			if tok == cfg.EosTokenID {
				done[i] = true
			} else {
				all = false
			}
		}
		if all || cur+1 >= s.maxLen {
			break
		}
		if logits, err = s.step(next, 1); err != nil {
			return nil, err
		}
	}
	out := make([][]Caption, b)
	for i := 0; i < r; i++ {
		gen := len(seqs[i]) - len(prompt)
		out[i/k] = append(out[i/k], Caption{IDs: seqs[i], Score: sum[i] / float64(gen)})
	}
	return out, nil
}

// logSoftmax writes log_softmax(x) in float64.
func logSoftmax(dst []float64, x []float32) {
	lse := nn.LogSumExp(x)
	for i, z := range x {
		dst[i] = float64(z) - lse
	}
}

// argmax returns the first index of the largest value.
func argmax(x []float32) int {
	bi := 0
	for i, z := range x {
		if z > x[bi] {
			bi = i
		}
	}
	return bi
}

// sampleFrom draws an index with probability softmax(scores).
func sampleFrom(scores []float32, rng *rand.Rand) int {
	p := make([]float64, len(scores))
	logSoftmax(p, scores)
	u := rng.Float64()
	last := 0
	for i, lp := range p {
		if math.IsInf(lp, -1) {
			continue
		}
		u -= math.Exp(lp)
		last = i
		if u < 0 {
			return i
		}
	}
	return last
}

// RepetitionPenalty divides positive scores (multiplies negative ones) of
// every token id present in seq by penalty, once per id (HF's
// RepetitionPenaltyLogitsProcessor).
func RepetitionPenalty(scores []float32, seq []int, penalty float32) {
	seen := map[int]bool{}
	for _, t := range seq {
		if seen[t] {
			continue
		}
		seen[t] = true
		if scores[t] < 0 {
			scores[t] *= penalty
		} else {
			scores[t] /= penalty
		}
	}
}

// BannedNgramTokens lists the tokens that would complete an n-gram already
// present in seq (HF's NoRepeatNGramLogitsProcessor).
func BannedNgramTokens(seq []int, n int) []int {
	if len(seq)+1 < n {
		return nil
	}
	prefix := seq[len(seq)-n+1:]
	var banned []int
	for i := 0; i+n <= len(seq); i++ {
		match := true
		for j := 0; j < n-1; j++ {
			if seq[i+j] != prefix[j] {
				match = false
				break
			}
		}
		if match {
			banned = append(banned, seq[i+n-1])
		}
	}
	return banned
}

// Warp applies HF's sampling warpers in order, in place: temperature, top-k
// (k < 1 disables), top-p (p ≥ 1 disables). Removed entries become -Inf;
// at least minKeep survive each filter.
func Warp(scores []float32, temperature float32, topK int, topP float64, minKeep int) {
	if temperature != 1 {
		for i := range scores {
			scores[i] /= temperature
		}
	}
	if topK > 0 {
		k := min(max(topK, minKeep), len(scores))
		sorted := append([]float32(nil), scores...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i] > sorted[j] })
		thr := sorted[k-1]
		for i, z := range scores {
			if z < thr {
				scores[i] = negInf
			}
		}
	}
	if topP < 1 {
		idx := make([]int, len(scores))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
		// softmax of the ascending scores, cumulated in float32 as torch does
		mx := scores[idx[len(idx)-1]]
		var sum float32
		ex := make([]float32, len(idx))
		for j, i := range idx {
			ex[j] = float32(math.Exp(float64(scores[i] - mx)))
			sum += ex[j]
		}
		var cum float32
		limit := float32(1 - topP)
		remove := make([]bool, len(idx))
		for j := range idx {
			cum += ex[j] / sum
			remove[j] = cum <= limit
		}
		for j := len(idx) - minKeep; j < len(idx); j++ {
			if j >= 0 {
				remove[j] = false
			}
		}
		for j, i := range idx {
			if remove[j] {
				scores[i] = negInf
			}
		}
	}
}
