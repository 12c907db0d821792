package gitmodel

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// VisionConfig is GitVisionConfig (transformers v4.36): the CLIP ViT tower.
type VisionConfig struct {
	ModelType         string  `json:"model_type,omitempty"`
	HiddenSize        int     `json:"hidden_size"`
	IntermediateSize  int     `json:"intermediate_size"`
	NumHiddenLayers   int     `json:"num_hidden_layers"`
	NumAttentionHeads int     `json:"num_attention_heads"`
	NumChannels       int     `json:"num_channels"`
	ImageSize         int     `json:"image_size"`
	PatchSize         int     `json:"patch_size"`
	HiddenAct         string  `json:"hidden_act"`
	LayerNormEps      float64 `json:"layer_norm_eps"`
	AttentionDropout  float64 `json:"attention_dropout"`
	InitializerRange  float64 `json:"initializer_range"`
}

// Config is GitConfig (transformers v4.36). Saved configs list only values
// that differ from the defaults, so LoadConfig starts from DefaultConfig
// (git-architecture.md §2) and overlays the file.
type Config struct {
	Architectures             []string     `json:"architectures,omitempty"`
	Vision                    VisionConfig `json:"vision_config"`
	VocabSize                 int          `json:"vocab_size"`
	HiddenSize                int          `json:"hidden_size"`
	NumHiddenLayers           int          `json:"num_hidden_layers"`
	NumAttentionHeads         int          `json:"num_attention_heads"`
	IntermediateSize          int          `json:"intermediate_size"`
	HiddenAct                 string       `json:"hidden_act"`
	HiddenDropoutProb         float64      `json:"hidden_dropout_prob"`
	AttentionProbsDropoutProb float64      `json:"attention_probs_dropout_prob"`
	MaxPositionEmbeddings     int          `json:"max_position_embeddings"`
	InitializerRange          float64      `json:"initializer_range"`
	LayerNormEps              float64      `json:"layer_norm_eps"`
	PadTokenID                int          `json:"pad_token_id"`
	BosTokenID                int          `json:"bos_token_id"`
	EosTokenID                int          `json:"eos_token_id"`
	PositionEmbeddingType     string       `json:"position_embedding_type"`
	UseCache                  bool         `json:"use_cache"`
	TieWordEmbeddings         bool         `json:"tie_word_embeddings"`
	NumImageWithEmbedding     *int         `json:"num_image_with_embedding"`
	ModelType                 string       `json:"model_type,omitempty"`
}

// DefaultVisionConfig returns GitVisionConfig's class defaults.
func DefaultVisionConfig() VisionConfig {
	return VisionConfig{
		HiddenSize: 768, IntermediateSize: 3072, NumHiddenLayers: 12, NumAttentionHeads: 12,
		ModelType:   "git_vision_model",
		NumChannels: 3, ImageSize: 224, PatchSize: 16, HiddenAct: "quick_gelu",
		LayerNormEps: 1e-5, AttentionDropout: 0, InitializerRange: 0.02,
	}
}

// DefaultConfig returns GitConfig's class defaults (= microsoft/git-base).
func DefaultConfig() Config {
	return Config{
		Architectures: []string{"GitForCausalLM"},
		Vision:        DefaultVisionConfig(),
		VocabSize:     30522, HiddenSize: 768, NumHiddenLayers: 6, NumAttentionHeads: 12,
		IntermediateSize: 3072, HiddenAct: "gelu", HiddenDropoutProb: 0.1,
		AttentionProbsDropoutProb: 0.1, MaxPositionEmbeddings: 1024, InitializerRange: 0.02,
		LayerNormEps: 1e-12, PadTokenID: 0, BosTokenID: 101, EosTokenID: 102,
		PositionEmbeddingType: "absolute", UseCache: true, ModelType: "git",
	}
}

// NumImageTokens is the number of image tokens the decoder sees:
// (image/patch)² patches plus the class token, times the frame count.
func (c *Config) NumImageTokens() int {
	g := c.Vision.ImageSize / c.Vision.PatchSize
	n := g*g + 1
	if c.NumImageWithEmbedding != nil {
		n *= *c.NumImageWithEmbedding
	}
	return n
}

// LoadConfig reads a config.json, applies the defaults and validates it.
// Errors name the file and the field.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data)
}

// ParseConfig is LoadConfig on bytes; name is used in error messages.
func ParseConfig(name string, data []byte) (*Config, error) {
	// Decoding over the defaults keeps every key the file omits, inside
	// vision_config too; a null vision_config keeps all vision defaults.
	cfg := DefaultConfig()
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", name, jsonErr(err))
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &cfg, nil
}

func jsonErr(err error) error {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return fmt.Errorf("field %q: got JSON %s, want %v", te.Field, te.Value, te.Type)
	}
	return err
}

// Size limits for Validate. They are far above every released GIT
// checkpoint (the largest, git-large*: a 1024-wide, 24-layer vision tower
// with 257 image tokens at 224 px, a 768-wide decoder, vocab_size 30522;
// git-base-vqav2 reads 480 px images) and keep a mistaken or hostile config.json from
// asking for sizes that overflow or exhaust memory before the checkpoint
// is even compared with it.
const (
	MaxConfigDim    = 1 << 20 // any one size: hidden, vocabulary, positions, image side, channels…
	MaxConfigLayers = 1 << 10 // num_hidden_layers, in each tower
	MaxConfigValues = 1 << 32 // values in one weight matrix or one preprocessed image
)

// Validate checks that the model can be built: sizes positive, bounded
// (MaxConfigDim, MaxConfigLayers, MaxConfigValues) and divisible, and only
// the variants this engine implements. Errors name the field.
func (c *Config) Validate() error {
	pos := func(field string, v, limit int) error {
		switch {
		case v <= 0:
			return fmt.Errorf("%s must be positive, got %d", field, v)
		case v > limit:
			return fmt.Errorf("%s %d is too large (at most %d)", field, v, limit)
		}
		return nil
	}
	v := &c.Vision
	const dim, layers = MaxConfigDim, MaxConfigLayers
	for _, f := range []struct {
		name     string
		v, limit int
	}{
		{"vocab_size", c.VocabSize, dim}, {"hidden_size", c.HiddenSize, dim}, {"num_hidden_layers", c.NumHiddenLayers, layers},
		{"num_attention_heads", c.NumAttentionHeads, dim}, {"intermediate_size", c.IntermediateSize, dim},
		{"max_position_embeddings", c.MaxPositionEmbeddings, dim},
		{"vision_config.hidden_size", v.HiddenSize, dim}, {"vision_config.intermediate_size", v.IntermediateSize, dim},
		{"vision_config.num_hidden_layers", v.NumHiddenLayers, layers}, {"vision_config.num_attention_heads", v.NumAttentionHeads, dim},
		{"vision_config.num_channels", v.NumChannels, dim}, {"vision_config.image_size", v.ImageSize, dim},
		{"vision_config.patch_size", v.PatchSize, dim},
	} {
		if err := pos(f.name, f.v, f.limit); err != nil {
			return err
		}
	}
	if c.HiddenSize%c.NumAttentionHeads != 0 {
		return fmt.Errorf("hidden_size %d is not a multiple of num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
	}
	if v.HiddenSize%v.NumAttentionHeads != 0 {
		return fmt.Errorf("vision_config.hidden_size %d is not a multiple of vision_config.num_attention_heads %d", v.HiddenSize, v.NumAttentionHeads)
	}
	if v.ImageSize%v.PatchSize != 0 {
		return fmt.Errorf("vision_config.image_size %d is not a multiple of vision_config.patch_size %d", v.ImageSize, v.PatchSize)
	}
	g := v.ImageSize / v.PatchSize
	for _, p := range []struct {
		what    string
		factors []int
	}{
		{"vocab_size × hidden_size (word embeddings, output layer)", []int{c.VocabSize, c.HiddenSize}},
		{"max_position_embeddings × hidden_size (position embeddings)", []int{c.MaxPositionEmbeddings, c.HiddenSize}},
		{"intermediate_size × hidden_size (decoder MLP)", []int{c.IntermediateSize, c.HiddenSize}},
		{"vision_config.intermediate_size × vision_config.hidden_size (vision MLP)", []int{v.IntermediateSize, v.HiddenSize}},
		{"vision_config.hidden_size × hidden_size (visual projection)", []int{v.HiddenSize, c.HiddenSize}},
		{"vision_config.hidden_size × num_channels × patch_size² (patch embedding)", []int{v.HiddenSize, v.NumChannels, v.PatchSize, v.PatchSize}},
		{"vision_config.num_channels × image_size² (one preprocessed image)", []int{v.NumChannels, v.ImageSize, v.ImageSize}},
		{"(image_size/patch_size)² image tokens × vision_config.hidden_size", []int{g*g + 1, v.HiddenSize}},
	} {
		if n, ok := boundedProduct(p.factors, MaxConfigValues); !ok {
			return fmt.Errorf("%s is %s, more than %d values", p.what, n, MaxConfigValues)
		}
	}
	if n := g*g + 1; n > MaxConfigDim {
		return fmt.Errorf("vision_config: (image_size %d / patch_size %d)² + 1 = %d image tokens, more than %d", v.ImageSize, v.PatchSize, n, MaxConfigDim)
	}
	if c.PositionEmbeddingType != "absolute" {
		return fmt.Errorf("position_embedding_type %q is not supported (only \"absolute\", as every released GIT checkpoint uses)", c.PositionEmbeddingType)
	}
	if _, err := activationOf("hidden_act", c.HiddenAct); err != nil {
		return err
	}
	if _, err := activationOf("vision_config.hidden_act", v.HiddenAct); err != nil {
		return err
	}
	if c.NumImageWithEmbedding != nil {
		return fmt.Errorf("num_image_with_embedding %d (video checkpoints) is not supported yet", *c.NumImageWithEmbedding)
	}
	if c.TieWordEmbeddings {
		return fmt.Errorf("tie_word_embeddings true is not supported (GIT checkpoints keep a separate output layer)")
	}
	for _, id := range []struct {
		name string
		v    int
	}{{"pad_token_id", c.PadTokenID}, {"bos_token_id", c.BosTokenID}, {"eos_token_id", c.EosTokenID}} {
		if id.v < 0 || id.v >= c.VocabSize {
			return fmt.Errorf("%s %d outside the vocabulary [0, %d)", id.name, id.v, c.VocabSize)
		}
	}
	if c.LayerNormEps < 0 || v.LayerNormEps < 0 {
		return fmt.Errorf("layer_norm_eps must not be negative")
	}
	return nil
}

// boundedProduct multiplies factors (each positive) and reports whether the
// product stays within limit; past it, the text shows the factors instead
// of a number that may have overflowed.
func boundedProduct(factors []int, limit int) (string, bool) {
	n := 1
	for _, f := range factors {
		if f > limit/n {
			parts := make([]string, len(factors))
			for i, f := range factors {
				parts[i] = strconv.Itoa(f)
			}
			return strings.Join(parts, " × "), false
		}
		n *= f
	}
	return strconv.Itoa(n), true
}

// ApproxParams counts the weights the config describes (the matrices,
// embeddings and output layer; biases and LayerNorms are a rounding error)
// in float64, so that absurd sizes cannot overflow.
func (c *Config) ApproxParams() float64 {
	v := c.Vision
	h, vh := float64(c.HiddenSize), float64(v.HiddenSize)
	text := float64(c.NumHiddenLayers) * (4*h*h + 2*h*float64(c.IntermediateSize))
	text += h * (2*float64(c.VocabSize) + float64(c.MaxPositionEmbeddings))
	patches := float64(v.ImageSize/v.PatchSize) * float64(v.ImageSize/v.PatchSize)
	vision := float64(v.NumHiddenLayers) * (4*vh*vh + 2*vh*float64(v.IntermediateSize))
	vision += vh * (float64(v.NumChannels)*float64(v.PatchSize)*float64(v.PatchSize) + patches + 1)
	return text + vision + vh*h
}
