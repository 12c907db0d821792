package gitmodel

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gitcap/gitcap/gitmodel/imageproc"
	"github.com/gitcap/gitcap/gitmodel/tokenizer"
	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/nn"
)

// Captioner bundles what captioning needs: the model (with an optional LoRA
// adapter attached), its image processor and its tokenizer.
type Captioner struct {
	Model     *Model
	Processor *imageproc.Processor
	Tokenizer *tokenizer.Tokenizer
	Adapter   *Adapter // nil without one
	// Generation holds the defaults from generation_config.json.
	Generation GenerateConfig
	// BaseDir and AdapterDir are the folders the files came from.
	BaseDir, AdapterDir string
	// Warnings collects non-fatal findings (unused tensors, missing optional files).
	Warnings []string
	// Engine runs generation; nil means the CPU (the model itself).
	Engine Engine
}

// Resolver turns a model id or path into a local folder (see package hub).
type Resolver func(ctx context.Context, idOrPath string) (string, error)

// LocalOnly is a Resolver that accepts existing folders only.
func LocalOnly(_ context.Context, p string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%s: not a folder", p)
	}
	return p, nil
}

// LoadCaptioner loads modelPath: a model folder, or a PEFT adapter folder
// whose base is baseID when given, else its base_model_name_or_path. Both are
// resolved through resolve (local folder, hub cache, download).
func LoadCaptioner(ctx context.Context, modelPath, baseID string, resolve Resolver, pool *kernels.Pool) (*Captioner, error) {
	return LoadCaptionerWith(ctx, modelPath, baseID, resolve, pool, LoadOptions{})
}

// LoadCaptionerWith is LoadCaptioner with load options (writable weights
// for full fine-tuning).
func LoadCaptionerWith(ctx context.Context, modelPath, baseID string, resolve Resolver, pool *kernels.Pool, opt LoadOptions) (*Captioner, error) {
	if resolve == nil {
		resolve = LocalOnly
	}
	if modelPath == "" {
		modelPath = baseID
	}
	if modelPath == "" {
		return nil, fmt.Errorf("no model given (--model_path or --model_id)")
	}
	dir, err := resolve(ctx, modelPath)
	if err != nil {
		return nil, err
	}
	c := &Captioner{BaseDir: dir}
	ad, isAdapter := nn.FindAdapterDir(dir)
	if !isAdapter && !fileExists(filepath.Join(dir, "config.json")) {
		what := "neither config.json (a model folder) nor adapter_config.json (a PEFT adapter folder)"
		if fileExists(filepath.Join(dir, "adapter_model.safetensors")) {
			what = "adapter_model.safetensors but no adapter_config.json (a PEFT adapter folder needs both)"
		} else if fileExists(filepath.Join(dir, "model.safetensors")) || fileExists(filepath.Join(dir, "model.safetensors.index.json")) {
			what = "model weights but no config.json"
		}
		return nil, fmt.Errorf("%s: has %s", dir, what)
	}
	if isAdapter && !fileExists(filepath.Join(dir, "config.json")) {
		if c.Adapter, err = LoadAdapter(ad); err != nil {
			return nil, err
		}
		c.AdapterDir = ad
		base := baseID
		if base == "" || base == modelPath {
			base = c.Adapter.BaseModel()
		}
		if base == "" {
			c.Adapter.Close()
			return nil, fmt.Errorf("%s: adapter_config.json has no base_model_name_or_path; name the base model with --model_id", ad)
		}
		if c.BaseDir, err = resolve(ctx, base); err != nil {
			c.Adapter.Close()
			return nil, fmt.Errorf("base model of adapter %s: %w", ad, err)
		}
	}
	if err := c.load(pool, opt); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Captioner) load(pool *kernels.Pool, opt LoadOptions) error {
	var err error
	if c.Model, err = LoadWith(c.BaseDir, opt); err != nil {
		return err
	}
	c.Model.Pool = pool
	c.Warnings = append(c.Warnings, c.Model.Warnings...)
	if c.Adapter != nil {
		if err := c.Adapter.Apply(c.Model); err != nil {
			return err
		}
	}
	// Processor and tokenizer files: the adapter folder first (trainers may
	// save them there), then the base folder.
	dirs := []string{c.BaseDir}
	if c.AdapterDir != "" {
		dirs = []string{c.AdapterDir, c.BaseDir}
	}
	pcfg := imageproc.DefaultConfig()
	ppath := firstExisting(dirs, "preprocessor_config.json")
	if ppath != "" {
		if pcfg, err = imageproc.LoadConfig(ppath); err != nil {
			return err
		}
	} else {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s: no preprocessor_config.json; using CLIP's defaults", c.BaseDir))
	}
	s := c.Model.Config.Vision.ImageSize
	if pcfg.DoCenterCrop && (pcfg.CropHeight != s || pcfg.CropWidth != s) {
		cfgPath := filepath.Join(c.BaseDir, "config.json")
		if ppath == "" {
			return fmt.Errorf("%s: no preprocessor_config.json, and CLIP's default crop_size %dx%d does not match vision_config.image_size %d in %s: add a preprocessor_config.json whose crop_size is %d",
				c.BaseDir, pcfg.CropHeight, pcfg.CropWidth, s, cfgPath, s)
		}
		return fmt.Errorf("%s: crop_size %dx%d does not match vision_config.image_size %d in %s", ppath, pcfg.CropHeight, pcfg.CropWidth, s, cfgPath)
	}
	if c.Processor, err = imageproc.NewProcessor(pcfg); err != nil {
		return err
	}
	tdir := c.BaseDir
	if firstExisting(dirs[:1], "vocab.txt") != "" || firstExisting(dirs[:1], "tokenizer.json") != "" {
		tdir = dirs[0]
	}
	if c.Tokenizer, err = tokenizer.Load(tdir); err != nil {
		return err
	}
	if v := c.Tokenizer.VocabSize(); v > c.Model.Config.VocabSize {
		return fmt.Errorf("%s: tokenizer has %d tokens but the model's vocab_size is %d", tdir, v, c.Model.Config.VocabSize)
	}
	c.Generation = DefaultGenerateConfig()
	if p := firstExisting(dirs, "generation_config.json"); p != "" {
		if err := c.loadGenerationConfig(p); err != nil {
			return err
		}
	}
	return nil
}

// loadGenerationConfig applies generation_config.json: special ids and the
// decoding defaults it sets.
func (c *Captioner) loadGenerationConfig(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var g struct {
		BosTokenID   *int     `json:"bos_token_id"`
		EosTokenID   *int     `json:"eos_token_id"`
		PadTokenID   *int     `json:"pad_token_id"`
		MaxLength    *int     `json:"max_length"`
		NumBeams     *int     `json:"num_beams"`
		DoSample     *bool    `json:"do_sample"`
		TopK         *int     `json:"top_k"`
		TopP         *float64 `json:"top_p"`
		Temperature  *float64 `json:"temperature"`
		MinLength    *int     `json:"min_length"`
		MaxNewTokens *int     `json:"max_new_tokens"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		return fmt.Errorf("%s: %w", path, jsonErr(err))
	}
	cfg, gen := &c.Model.Config, &c.Generation
	for _, f := range []struct {
		src *int
		dst *int
	}{{g.BosTokenID, &cfg.BosTokenID}, {g.EosTokenID, &cfg.EosTokenID}, {g.PadTokenID, &cfg.PadTokenID},
		{g.MaxLength, &gen.MaxLength}, {g.NumBeams, &gen.NumBeams}, {g.TopK, &gen.TopK},
		{g.MinLength, &gen.MinLength}, {g.MaxNewTokens, &gen.MaxNewTokens}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if g.DoSample != nil {
		gen.DoSample = *g.DoSample
	}
	if g.TopP != nil {
		gen.TopP = *g.TopP
	}
	if g.Temperature != nil {
		gen.Temperature = *g.Temperature
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Runner is the engine generation runs on: Engine, or the CPU model.
func (c *Captioner) Runner() Engine {
	if c.Engine != nil {
		return c.Engine
	}
	return c.Model
}

// Close releases the memory-mapped weights.
func (c *Captioner) Close() error {
	if c.Adapter != nil {
		c.Adapter.Close()
	}
	if c.Model != nil {
		return c.Model.Close()
	}
	return nil
}

// Result is one image's captions, best first.
type Result struct {
	Captions []Caption
	Texts    []string
}

// Caption captions preprocessed images, pixels (B, C, S, S).
func (c *Captioner) Caption(pixels []float32, b int, g GenerateConfig) ([]Result, error) {
	caps, err := c.Model.GenerateWith(c.Runner(), pixels, b, g)
	if err != nil {
		return nil, err
	}
	out := make([]Result, b)
	for i, cs := range caps {
		out[i].Captions = cs
		for _, cp := range cs {
			ids := cp.IDs[1+len(g.Prompt):] // the answer after [CLS] and the prompt
			out[i].Texts = append(out[i].Texts, c.Tokenizer.Decode(ids, true, true))
		}
	}
	return out, nil
}

func firstExisting(dirs []string, name string) string {
	for _, d := range dirs {
		if p := filepath.Join(d, name); fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
