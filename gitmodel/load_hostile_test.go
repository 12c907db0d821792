package gitmodel

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gitcap/gitcap/kernels"
)

// Hostile or mistaken model, adapter and generation settings: each must be
// an error naming the file and the field, never a panic, an absurd
// allocation or a half-written file.

// Sizes that overflow or exhaust memory are refused by the config itself,
// naming the field.
func TestConfigSizesBounded(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"hidden_size": 1099511627776}`, "hidden_size 1099511627776 is too large"},
		{`{"max_position_embeddings": 1099511627776}`, "max_position_embeddings"},
		{`{"vision_config": {"hidden_size": 1099511627776}}`, "vision_config.hidden_size"},
		{`{"vision_config": {"num_channels": 1099511627776}}`, "vision_config.num_channels"},
		{`{"num_hidden_layers": 1000000}`, "num_hidden_layers 1000000 is too large"},
		{`{"vision_config": {"num_hidden_layers": 1000000}}`, "vision_config.num_hidden_layers"},
		// each size within bounds, their products not
		{`{"vision_config": {"image_size": 1048576}}`, "image_size"},
		{`{"vision_config": {"image_size": 2048, "patch_size": 1, "hidden_size": 16, "num_attention_heads": 1}}`, "image tokens"},
		{`{"vision_config": {"num_channels": 1048576, "patch_size": 1024, "image_size": 1024}}`, "patch embedding"},
		{`{"vocab_size": 1048576, "hidden_size": 8192, "num_attention_heads": 16}`, "vocab_size × hidden_size"},
	} {
		_, err := ParseConfig("x/config.json", []byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "x/config.json") {
			t.Errorf("%s: want an error naming x/config.json and %q, got %v", c.json, c.want, err)
		}
	}
	// The released checkpoints' sizes pass: git-base as stored here, and
	// the widest tower (git-large*: vision 1024 wide, 24 layers, patch 14,
	// 224 px) and the largest images (git-base-vqav2: 480 px) on top of it.
	base, err := os.ReadFile("testdata/git-base/config.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		vision map[string]any
	}{
		{"git-base", nil},
		{"git-large", map[string]any{"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24, "num_attention_heads": 16, "patch_size": 14, "image_size": 224}},
		{"git-base-vqav2", map[string]any{"image_size": 480}},
	} {
		var cfg map[string]any
		if err := json.Unmarshal(base, &cfg); err != nil {
			t.Fatal(err)
		}
		for k, v := range c.vision {
			cfg["vision_config"].(map[string]any)[k] = v
		}
		b, _ := json.Marshal(cfg)
		if _, err := ParseConfig(c.name+"/config.json", b); err != nil {
			t.Errorf("%s sizes refused: %v", c.name, err)
		}
	}
	// a tower whose image side is not a multiple of its patch is refused
	// for that reason, not by a size bound
	odd := `{"vision_config": {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24, "num_attention_heads": 16, "image_size": 384, "patch_size": 14}}`
	if _, err := ParseConfig("odd/config.json", []byte(odd)); err == nil || !strings.Contains(err.Error(), "not a multiple") {
		t.Errorf("image_size 384 with patch_size 14: want a not-a-multiple error, got %v", err)
	}
}

// tinyWithConfig copies the tiny model into a temporary folder with
// config.json edited by edit.
func tinyWithConfig(t *testing.T, edit func(c map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join("testdata/tiny", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "config.json" {
			var c map[string]any
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			edit(c)
			b, _ = json.Marshal(c)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A config that disagrees with its checkpoint is an error naming
// config.json, and loading allocates nothing like what the config asks for
// (missing tensors used to become zero tensors of the configured size).
func TestConfigBeyondCheckpoint(t *testing.T) {
	vision := func(c map[string]any) map[string]any { return c["vision_config"].(map[string]any) }
	for _, tc := range []struct {
		name string
		edit func(c map[string]any)
		want []string
	}{
		{"layers", func(c map[string]any) { c["num_hidden_layers"] = 1000 },
			[]string{"config.json: num_hidden_layers is 1000", "holds 2 such layers"}},
		{"vision layers", func(c map[string]any) { vision(c)["num_hidden_layers"] = 3 },
			[]string{"config.json: vision_config.num_hidden_layers is 3", "holds 2"}},
		{"hidden", func(c map[string]any) { c["hidden_size"] = 1 << 16 },
			[]string{"config.json does not match", `"git.embeddings.word_embeddings.weight" has shape [120 32], want [120 65536]`}},
		{"intermediate", func(c map[string]any) { vision(c)["intermediate_size"] = 1 << 18 },
			[]string{"config.json does not match", "fc1.weight"}},
		{"image", func(c map[string]any) { vision(c)["image_size"] = 4096 },
			[]string{"config.json does not match", "position_embedding.weight"}},
	} {
		dir := tinyWithConfig(t, tc.edit)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m, err := Load(dir)
		runtime.ReadMemStats(&after)
		if err == nil {
			m.Close()
			t.Errorf("%s: loaded", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error does not say %q: %v", tc.name, w, err)
			}
		}
		if !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: error does not name the folder: %v", tc.name, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
			t.Errorf("%s: a failed load allocated %d MB", tc.name, grew>>20)
		}
	}
}

// Merge on a quantized weight is an error naming the layer, not a
// nil-pointer panic, and merges nothing.
func TestMergeQuantizedIsError(t *testing.T) {
	m := loadTiny(t, nil)
	m.Quantize(QuantizeOptions{Format: kernels.Q8})
	a, err := LoadAdapter("testdata/tiny/lora_text")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Apply(m); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Merge panicked: %v", r)
			}
		}()
		err = m.Merge()
	}()
	if err == nil || !strings.Contains(err.Error(), "git.encoder.layer.0.attention.self.") || !strings.Contains(err.Error(), "Q8") {
		t.Errorf("want an error naming the quantized layer, got %v", err)
	}
	if len(m.LoRAParams()) == 0 {
		t.Error("adapters detached after a failed merge")
	}
}

// A quantized checkpoint cannot be loaded writable (full fine-tuning,
// merging): its quantized weights would silently stay frozen.
func TestWritableQuantizedCheckpointRefused(t *testing.T) {
	m := loadTiny(t, nil)
	m.Quantize(QuantizeOptions{Format: kernels.Q8})
	dir := t.TempDir()
	if err := m.SaveWeights(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Fatal(err)
	}
	if err := m.Config.Save(filepath.Join(dir, "config.json")); err != nil {
		t.Fatal(err)
	}
	q, err := Load(dir)
	if err != nil {
		t.Fatalf("read-only load of a quantized checkpoint: %v", err)
	}
	q.Close()
	_, err = LoadWith(dir, LoadOptions{Writable: true})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "model.safetensors")) || !strings.Contains(err.Error(), "stored quantized (Q8)") {
		t.Errorf("want an error naming the file and a quantized weight, got %v", err)
	}
}

// Without preprocessor_config.json the crop-size mismatch says so, instead
// of "gitcap: : crop_size …" with an empty file name.
func TestNoPreprocessorConfigMessage(t *testing.T) {
	// the tiny model (image_size 32) has no preprocessor_config.json
	_, err := LoadCaptioner(context.Background(), "testdata/tiny", "", nil, nil)
	if err == nil {
		t.Fatal("loaded with CLIP's 224 crop for a 32-pixel model")
	}
	msg := err.Error()
	for _, w := range []string{"testdata/tiny: no preprocessor_config.json", "crop_size 224x224", "vision_config.image_size 32", "testdata/tiny/config.json"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error does not say %q: %s", w, msg)
		}
	}
	if strings.HasPrefix(msg, ": ") || strings.Contains(msg, " : ") {
		t.Errorf("empty file name in %q", msg)
	}
}

// A folder that is neither a model nor an adapter says which file is
// missing, not "open …/config.json: no such file".
func TestNotAModelOrAdapterFolder(t *testing.T) {
	dir := t.TempDir()
	b, _ := os.ReadFile("testdata/tiny/lora_text/adapter_model.safetensors")
	os.WriteFile(filepath.Join(dir, "adapter_model.safetensors"), b, 0o644)
	_, err := LoadCaptioner(context.Background(), dir, "", nil, nil)
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "no adapter_config.json") || errors.Is(err, os.ErrNotExist) {
		t.Errorf("adapter weights without adapter_config.json: %v", err)
	}
	_, err = LoadCaptioner(context.Background(), t.TempDir(), "", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "neither config.json") || !strings.Contains(err.Error(), "nor adapter_config.json") {
		t.Errorf("empty folder: %v", err)
	}
	_, err = LoadAdapter("testdata/tiny")
	if err == nil || !strings.Contains(err.Error(), "no adapter_config.json") || !strings.Contains(err.Error(), "model folder") {
		t.Errorf("model folder as adapter: %v", err)
	}
}

// target_modules in errors read as adapter_config.json writes them, not as
// a Go struct ({[] query}).
func TestTargetModulesPrintedReadably(t *testing.T) {
	m := loadTiny(t, nil)
	for _, tm := range []struct{ json, want string }{
		{`["nothing", "else"]`, `target_modules ["nothing","else"] match no Linear`},
		{`"nothing.*"`, `target_modules "nothing.*" match no Linear`},
	} {
		dir := t.TempDir()
		b, _ := os.ReadFile("testdata/tiny/lora_text/adapter_model.safetensors")
		os.WriteFile(filepath.Join(dir, "adapter_model.safetensors"), b, 0o644)
		cfg, _ := os.ReadFile("testdata/tiny/lora_text/adapter_config.json")
		var c map[string]any
		json.Unmarshal(cfg, &c)
		c["target_modules"] = json.RawMessage(tm.json)
		cfg, _ = json.Marshal(c)
		os.WriteFile(filepath.Join(dir, "adapter_config.json"), cfg, 0o644)
		a, err := LoadAdapter(dir)
		if err != nil {
			t.Fatal(err)
		}
		err = a.Apply(m)
		a.Close()
		if err == nil || !strings.Contains(err.Error(), tm.want) || strings.Contains(err.Error(), "{[") {
			t.Errorf("%s: %v", tm.json, err)
		}
	}
}

// CreateAtomic's errors name the file being written, not its temporary
// twin (".captions.jsonl.tmp-123").
func TestAtomicFileErrorsNameTarget(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "captions.jsonl")
	_, err := CreateAtomic(missing)
	if err == nil || !strings.Contains(err.Error(), missing) || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("create in a missing folder: %v", err)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cause lost: %v", err)
	}
	// a folder where the file should go: the rename fails
	target := filepath.Join(dir, "report.json")
	if err := os.MkdirAll(filepath.Join(target, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	a, err := CreateAtomic(target)
	if err != nil {
		t.Fatal(err)
	}
	a.WriteString("{}")
	err = a.Commit()
	if err == nil || !strings.Contains(err.Error(), target) || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("commit onto a folder: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".report.json.tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// Generation settings can be checked before any image is decoded; the beam
// count (and returned sequences) is bounded: 100000 beams on the tiny model
// took 4.7 GB and five minutes.
func TestGenerateConfigValidate(t *testing.T) {
	cfg := DefaultConfig()
	for _, c := range []struct {
		edit  func(g *GenerateConfig)
		field string
	}{
		{func(g *GenerateConfig) { g.NumBeams = 100000 }, "num_beams"},
		{func(g *GenerateConfig) { g.NumBeams = 0 }, "num_beams"},
		{func(g *GenerateConfig) { g.DoSample, g.NumReturnSequences = true, 100000 }, "num_return_sequences"},
		{func(g *GenerateConfig) { g.MaxNewTokens = 1<<63 - 1 }, "max_new_tokens"},
		{func(g *GenerateConfig) { g.MaxNewTokens = -3 }, "max_new_tokens"},
		{func(g *GenerateConfig) { g.MaxLength = 5000 }, "max_length"},
		{func(g *GenerateConfig) { g.Prompt = []int{1 << 40} }, "prompt"},
	} {
		g := DefaultGenerateConfig()
		c.edit(&g)
		err := g.Validate(&cfg)
		var se *SettingError
		if !errors.As(err, &se) || se.Field != c.field || !strings.Contains(err.Error(), c.field) {
			t.Errorf("want a SettingError for %s, got %v", c.field, err)
		}
	}
	g := DefaultGenerateConfig()
	g.NumBeams, g.NumReturnSequences = MaxNumBeams, MaxNumBeams
	if err := g.Validate(&cfg); err != nil {
		t.Errorf("num_beams %d: %v", MaxNumBeams, err)
	}
}

// ApproxParams (init's size guard) counts every weight but the biases and
// LayerNorms: on the tiny model it is at most the exact count and within
// 10% of it (there biases and norms weigh the most).
func TestApproxParams(t *testing.T) {
	m := loadTiny(t, nil)
	exact := 0
	for _, p := range m.Params {
		exact += p.Tensor.Numel()
	}
	approx := m.Config.ApproxParams()
	if !(approx <= float64(exact) && float64(exact) <= 1.1*approx) {
		t.Errorf("ApproxParams %v, exact %d", approx, exact)
	}
}
