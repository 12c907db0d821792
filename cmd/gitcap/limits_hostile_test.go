package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tinyModelWithConfig is tinyModelCopy with config.json edited by edit.
func tinyModelWithConfig(t *testing.T, edit func(c, vision map[string]any)) string {
	t.Helper()
	dir := tinyModelCopy(t)
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	edit(c, c["vision_config"].(map[string]any))
	b, _ = json.Marshal(c)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A hostile config.json used to crash the loader: missing tensors became
// zero tensors of the configured size (hidden_size 2^40: Go out of memory;
// num_channels 2^40: "internal error"; num_hidden_layers 1000000: 10 GB).
// Each is now an error naming config.json and the field.
func TestInferHostileConfig(t *testing.T) {
	images := filepath.Join(tinyCLI, "images")
	const huge = 1 << 40
	for _, c := range []struct {
		name string
		edit func(c, v map[string]any)
		want []string
	}{
		{"hidden_size", func(c, v map[string]any) { c["hidden_size"] = huge }, []string{"hidden_size 1099511627776 is too large"}},
		{"max_position_embeddings", func(c, v map[string]any) { c["max_position_embeddings"] = huge }, []string{"max_position_embeddings"}},
		{"vision hidden_size", func(c, v map[string]any) { v["hidden_size"] = huge }, []string{"vision_config.hidden_size"}},
		{"vision image_size", func(c, v map[string]any) { v["image_size"] = 1 << 20 }, []string{"image_size"}},
		{"vision num_channels", func(c, v map[string]any) { v["num_channels"] = huge }, []string{"vision_config.num_channels"}},
		{"num_hidden_layers", func(c, v map[string]any) { c["num_hidden_layers"] = 1000000 }, []string{"num_hidden_layers"}},
		{"layers beyond the checkpoint", func(c, v map[string]any) { c["num_hidden_layers"] = 1000 }, []string{"num_hidden_layers is 1000", "holds 2"}},
		{"in bounds, not the checkpoint's", func(c, v map[string]any) { c["hidden_size"] = 1 << 20 }, []string{"does not match", "want [120 1048576]"}},
	} {
		dir := tinyModelWithConfig(t, c.edit)
		start := time.Now()
		_, errs, code := gitcap(t, "infer", "--quiet", "--model_path", dir, "--input_path", images)
		wantFailure(t, c.name, errs, code, append(c.want, filepath.Join(dir, "config.json"))...)
		if d := time.Since(start); d > time.Minute { // a runaway guard (each takes milliseconds), not a speed goal
			t.Errorf("%s: took %v", c.name, d)
		}
	}
}

// A folder with adapter weights but no adapter_config.json says so, not
// "open …/config.json: no such file or directory".
func TestInferAdapterWithoutConfig(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, filepath.Join(tinyCLI, "init_adapter", "adapter_model.safetensors"), filepath.Join(dir, "adapter_model.safetensors"))
	_, errs, code := gitcap(t, "infer", "--quiet", "--model_path", dir, "--input_path", filepath.Join(tinyCLI, "images"))
	wantFailure(t, "adapter without adapter_config.json", errs, code, dir, "no adapter_config.json")
	if strings.Contains(errs, "open ") {
		t.Errorf("raw open error: %s", errs)
	}
}

// An adapter_config.json whose r is 2^40 used to allocate the adapters at
// that rank (Go out of memory); now its matrices' shapes disagree.
func TestInferAdapterHugeRank(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, filepath.Join(tinyCLI, "init_adapter", "adapter_model.safetensors"), filepath.Join(dir, "adapter_model.safetensors"))
	b, err := os.ReadFile(filepath.Join(tinyCLI, "init_adapter", "adapter_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	json.Unmarshal(b, &c)
	c["r"] = 1 << 40
	b, _ = json.Marshal(c)
	os.WriteFile(filepath.Join(dir, "adapter_config.json"), b, 0o644)
	_, errs, code := gitcap(t, "infer", "--quiet", "--model_path", dir, "--model_id", filepath.Join(tinyCLI, "model"), "--input_path", filepath.Join(tinyCLI, "images"))
	wantFailure(t, "r 2^40", errs, code, filepath.Join(dir, "adapter_config.json"), filepath.Join(dir, "adapter_model.safetensors"), "want [1099511627776 32]")
}

// Generation settings are checked before any image is decoded, and the
// beam count is bounded (100000 beams on the tiny model took 4.7 GB and
// five minutes).
func TestInferBeamLimit(t *testing.T) {
	out := filepath.Join(t.TempDir(), "captions.jsonl")
	model, images := filepath.Join(tinyCLI, "model"), filepath.Join(tinyCLI, "images")
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--num_beams", "100000"}, "--num_beams"},
		{[]string{"--do_sample", "--num_return_sequences", "100000"}, "--num_return_sequences"},
		{[]string{"--max_new_tokens", "9223372036854775807"}, "--max_new_tokens"},
	} {
		start := time.Now()
		_, errs, code := gitcap(t, append([]string{"infer", "--quiet", "--model_path", model, "--input_path", images, "--output_path", out}, c.args...)...)
		wantFailure(t, strings.Join(c.args, " "), errs, code, c.flag)
		if d := time.Since(start); d > time.Minute { // a runaway guard (each takes milliseconds), not a speed goal
			t.Errorf("%s: took %v", c.args, d)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: output written", c.args)
		}
	}
	// the bound itself is allowed
	if _, errs, code := gitcap(t, "infer", "--quiet", "--model_path", model, "--input_path", filepath.Join(images, "boat.png"), "--num_beams", "64", "--max_new_tokens", "2"); code != 0 {
		t.Errorf("--num_beams 64: exit %d: %s", code, errs)
	}
}

// Training flags that make no sense are refused naming the flag, and full
// fine-tuning of a quantized base (whose quantized weights would silently
// stay frozen: 56 of 81 tensors trained) is an error.
func TestTrainHostileFlags(t *testing.T) {
	model, images := filepath.Join(tinyCLI, "model"), filepath.Join(tinyCLI, "images")
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--frozen_parts", "-1"}, "--frozen_parts"},
		{[]string{"--alpha", "-4"}, "--alpha"},
		{[]string{"--save_every_n_steps", "-1"}, "--save_every_n_steps"},
		{[]string{"--save_every_n_epochs", "-1"}, "--save_every_n_epochs"},
		{[]string{"--sample_every_n_steps", "-1"}, "--sample_every_n_steps"},
		{[]string{"--sample_every_n_epochs", "-1"}, "--sample_every_n_epochs"},
	} {
		args := append([]string{"train", "--quiet", "--model_id", model, "--dataset", images, "--output_dir", t.TempDir()}, c.args...)
		_, errs, code := gitcap(t, args...)
		wantFailure(t, strings.Join(c.args, " "), errs, code, c.flag)
	}
	q8 := filepath.Join(t.TempDir(), "q8")
	if _, errs, code := gitcap(t, "quantize", "--quiet", "--model_path", model, "--bits", "8", "--output_dir", q8); code != 0 {
		t.Fatalf("quantize: exit %d: %s", code, errs)
	}
	out := filepath.Join(t.TempDir(), "run")
	_, errs, code := gitcap(t, "train", "--quiet", "--model_id", q8, "--dataset", images, "--output_dir", out, "--full_finetune", "--epochs", "1")
	wantFailure(t, "--full_finetune on Q8", errs, code, filepath.Join(q8, "model.safetensors"), "stored quantized", "unquantized")
	if _, err := os.Stat(filepath.Join(out, "model.safetensors")); err == nil {
		t.Error("--full_finetune on Q8 wrote a model")
	}
	// a run whose model fails to load leaves no logs folder behind
	if _, err := os.Stat(filepath.Join(out, "logs")); err == nil {
		t.Error("a run that failed to load its model left", filepath.Join(out, "logs"))
	}
}
