package gitmodel

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitcap/gitcap/nn"
	"github.com/gitcap/gitcap/tensor"
)

// The tiny config lists only non-default values: the rest must come from
// GitConfig's defaults (architecture doc §2).
func TestConfigDefaults(t *testing.T) {
	c, err := LoadConfig("testdata/tiny/config.json")
	if err != nil {
		t.Fatal(err)
	}
	v := c.Vision
	if c.HiddenSize != 32 || c.VocabSize != 120 || v.PatchSize != 8 || v.ImageSize != 32 ||
		v.HiddenAct != "quick_gelu" || v.LayerNormEps != 1e-5 || v.NumChannels != 3 ||
		c.LayerNormEps != 1e-12 || c.HiddenAct != "gelu" || c.NumImageTokens() != 17 {
		t.Errorf("defaults not applied: %+v", c)
	}
	g, err := LoadConfig("testdata/git-base/config.json")
	if err != nil {
		t.Fatal(err)
	}
	if g.Vision.HiddenSize != 768 || g.Vision.NumHiddenLayers != 12 || g.NumImageTokens() != 197 {
		t.Errorf("git-base vision defaults: %+v", g.Vision)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"position_embedding_type": "relative_key"}`, "relative_key"},
		{`{"hidden_size": "big"}`, `"hidden_size"`},
		{`{"vision_config": {"patch_size": 0}}`, "vision_config.patch_size"},
		{`{"hidden_size": 100}`, "num_attention_heads"},
		{`{"hidden_act": "swish"}`, "hidden_act"},
		{`{"vision_config": {"image_size": 30, "patch_size": 8}}`, "image_size"},
		{`{"eos_token_id": 500, "vocab_size": 200}`, "eos_token_id"},
		{`{"num_image_with_embedding": 6}`, "num_image_with_embedding"},
		{`{`, "config.json"},
	} {
		_, err := ParseConfig("x/config.json", []byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "x/config.json") {
			t.Errorf("%s: want an error naming x/config.json and %s, got %v", c.json, c.want, err)
		}
	}
}

// Built from git-base's config, the model asks for exactly the 305 tensors
// (names and shapes) of HF's state dict.
func TestGitBaseParameters(t *testing.T) {
	cfg, err := LoadConfig("testdata/git-base/config.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		NumParameters int `json:"num_parameters"`
		Tensors       []struct {
			Name  string `json:"name"`
			Shape []int  `json:"shape"`
		} `json:"tensors"`
	}
	data, _ := os.ReadFile("testdata/git-base/param_shapes.json")
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	root := nn.NewInitWeights(func(name string, kind nn.Init, shape []int) *tensor.Tensor {
		return tensor.Zeros(shape...) // zero pages: nothing is touched
	})
	m := build(cfg, root)
	got := map[string]string{}
	total := 0
	for _, p := range m.Params {
		got[p.Name] = fmt.Sprint(p.Tensor.Shape())
		total += p.Tensor.Numel()
	}
	if len(got) != len(ref.Tensors) || total != ref.NumParameters {
		t.Errorf("%d tensors / %d parameters, want %d / %d", len(got), total, len(ref.Tensors), ref.NumParameters)
	}
	for _, r := range ref.Tensors {
		if got[r.Name] != fmt.Sprint(r.Shape) {
			t.Errorf("%s: shape %s, want %v", r.Name, got[r.Name], r.Shape)
		}
	}
}

// A random model saved and loaded back gives the same parameters and a
// loadable folder; the initialisation has HF's statistics.
func TestRandomInitRoundTrip(t *testing.T) {
	cfg, _ := LoadConfig("testdata/tiny/config.json")
	cfg.InitializerRange = 0.5 // large, to measure the std on few values
	m, err := NewRandom(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := cfg.Save(filepath.Join(dir, "config.json")); err != nil {
		t.Fatal(err)
	}
	if err := m.SaveWeights(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	for i, p := range m.Params {
		q := back.Params[i]
		if p.Name != q.Name {
			t.Fatalf("param %d: %s vs %s", i, p.Name, q.Name)
		}
		if d, _ := tensor.MaxAbsDiff(p.Tensor, q.Tensor); d != 0 {
			t.Fatalf("%s differs by %v after save/load", p.Name, d)
		}
	}
	w := m.Embeddings.WordEmbeddings
	var sum, sq float64
	for _, v := range w.Data()[32:] { // rows after [PAD]
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	n := float64(w.Numel() - 32)
	std := math.Sqrt(sq/n - (sum/n)*(sum/n))
	if math.Abs(std-0.5) > 0.05 || math.Abs(sum/n) > 0.05 {
		t.Errorf("word embedding std %v mean %v, want 0.5 and 0", std, sum/n)
	}
	for _, v := range w.Data()[:32] {
		if v != 0 {
			t.Fatal("[PAD] row not zero")
		}
	}
	if m.ProjNorm.Weight.At(3) != 1 || m.ProjNorm.Bias.At(3) != 0 || m.LMHead.Bias.At(5) != 0 {
		t.Error("LayerNorm ones / bias zeros not applied")
	}
	again, _ := NewRandom(cfg, 7)
	if d, _ := tensor.MaxAbsDiff(again.LMHead.Weight, m.LMHead.Weight); d != 0 {
		t.Error("same seed, different weights")
	}
}
