package main

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Hostile or mistaken input: each case must end with a non-zero exit and a
// message naming the flag, file or field, never a panic (exit 3) or a
// half-written output.

// tinyModelCopy copies the tiny-cli model folder into a temporary folder.
func tinyModelCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(filepath.Join(tinyCLI, "model"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		copyFile(t, filepath.Join(tinyCLI, "model", e.Name()), filepath.Join(dir, e.Name()))
	}
	return dir
}

// poisonTensor overwrites every value of one F32 tensor of dir's
// model.safetensors with v.
func poisonTensor(t *testing.T, dir, name string, v float32) {
	t.Helper()
	path := filepath.Join(dir, "model.safetensors")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &hdr); err != nil {
		t.Fatal(err)
	}
	var info struct {
		DataOffsets [2]int `json:"data_offsets"`
	}
	if err := json.Unmarshal(hdr[name], &info); err != nil {
		t.Fatal(err)
	}
	data := b[8+int(n)+info.DataOffsets[0] : 8+int(n)+info.DataOffsets[1]]
	for i := 0; i < len(data); i += 4 {
		binary.LittleEndian.PutUint32(data[i:], math.Float32bits(v))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func wantFailure(t *testing.T, what string, errs string, code int, fragments ...string) {
	t.Helper()
	if code == 0 || code == 3 || strings.Contains(errs, "goroutine") || strings.Contains(errs, "internal error") {
		t.Errorf("%s: exit %d: %s", what, code, errs)
		return
	}
	for _, f := range fragments {
		if !strings.Contains(errs, f) {
			t.Errorf("%s: error does not say %q: %s", what, f, errs)
		}
	}
}

// A generation setting that cannot work fails the run once, with no output,
// instead of turning every image into an "error" line and exiting 0.
func TestInferBadGenerationSettingIsFatal(t *testing.T) {
	out := filepath.Join(t.TempDir(), "captions.jsonl")
	_, errs, code := gitcap(t, "infer", "--quiet", "--model_path", filepath.Join(tinyCLI, "model"),
		"--input_path", filepath.Join(tinyCLI, "images"), "--output_path", out, "--num_beams", "0")
	wantFailure(t, "--num_beams 0", errs, code, "num_beams")
	if _, err := os.Stat(out); err == nil {
		t.Error("--num_beams 0: an output file was written")
	}
}

// When no image of the run can be read, the run fails (the error lines are
// still written).
func TestInferNoReadableImageFails(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.png"), []byte("not a png"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.jpg"), nil, 0o644)
	out := filepath.Join(dir, "captions.jsonl")
	_, errs, code := gitcap(t, "infer", "--quiet", "--model_path", filepath.Join(tinyCLI, "model"), "--input_path", dir, "--output_path", out)
	wantFailure(t, "unreadable images", errs, code, "none of the 2 images", "a.png", "b.jpg")
	data, _ := os.ReadFile(out)
	if lines := readJSONL(t, string(data)); len(lines) != 2 || lines[0].Error == "" || lines[1].Error == "" {
		t.Errorf("want two error lines, got %s", data)
	}
}

// A model whose log-probabilities are NaN: JSON has no NaN, so the lines
// keep the caption, drop the score and say why, instead of the run failing
// with "json: unsupported value: NaN" and writing nothing. eval refuses to
// write a report it cannot represent instead of writing an empty one.
func TestNonFiniteModelOutputs(t *testing.T) {
	dir := tinyModelCopy(t)
	poisonTensor(t, dir, "output.bias", float32(math.NaN()))
	out := filepath.Join(t.TempDir(), "captions.jsonl")
	_, errs, code := gitcap(t, "infer", "--quiet", "--model_path", dir, "--input_path", filepath.Join(tinyCLI, "images"), "--output_path", out)
	wantFailure(t, "NaN model: infer", errs, code, "not finite")
	if strings.Contains(errs, "unsupported value") {
		t.Errorf("NaN model: infer: %s", errs)
	}
	data, _ := os.ReadFile(out)
	lines := readJSONL(t, string(data))
	if len(lines) != 4 {
		t.Fatalf("NaN model: %d lines, want 4: %s", len(lines), data)
	}
	for _, l := range lines {
		if !strings.Contains(l.Error, "not finite") || !strings.Contains(l.Error, l.FileName) {
			t.Errorf("NaN model: line %+v", l)
		}
	}
	report := filepath.Join(t.TempDir(), "report.json")
	_, errs, code = gitcap(t, "eval", "--quiet", "--model_path", dir, "--dataset", filepath.Join(tinyCLI, "images"), "--no_generate", "--output_path", report)
	wantFailure(t, "NaN model: eval", errs, code, "not finite")
	if _, err := os.Stat(report); err == nil {
		t.Error("NaN model: eval wrote a report")
	}
}

// Float flags must be finite numbers (also from a --config file), and
// --threads must be in range; checked before anything is loaded.
func TestFlagValuesChecked(t *testing.T) {
	model, images := filepath.Join(tinyCLI, "model"), filepath.Join(tinyCLI, "images")
	toml := filepath.Join(t.TempDir(), "train.toml")
	os.WriteFile(toml, []byte("learning_rate = inf\n"), 0o644)
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"infer", "--model_path", model, "--input_path", images, "--do_sample", "--temperature", "nan"}, "--temperature"},
		{[]string{"infer", "--model_path", model, "--input_path", images, "--threads", "-1"}, "--threads"},
		{[]string{"eval", "--model_path", model, "--dataset", images, "--threads", "100000"}, "--threads"},
		{[]string{"train", "--model_id", model, "--dataset", images, "--output_dir", t.TempDir(), "--learning_rate", "inf"}, "--learning_rate"},
		{[]string{"train", "--model_id", model, "--dataset", images, "--output_dir", t.TempDir(), "--weight_decay", "nan"}, "--weight_decay"},
		{[]string{"train", "--model_id", model, "--dataset", images, "--output_dir", t.TempDir(), "--config", toml}, "--learning_rate"},
		{[]string{"bench", "caption", "--model_path", model, "--threads", "5000"}, "--threads"},
	} {
		_, errs, code := gitcap(t, append([]string{c.args[0], "--quiet"}, c.args[1:]...)...)
		if c.args[0] == "bench" {
			_, errs, code = gitcap(t, c.args...)
		}
		wantFailure(t, strings.Join(c.args, " "), errs, code, c.flag)
	}
}

// An output path that cannot be written is reported before the model is
// loaded, naming the flag and the path.
func TestOutputPathCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	model, images := filepath.Join(tinyCLI, "model"), filepath.Join(tinyCLI, "images")
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"infer", "--model_path", model, "--input_path", images, "--output_path", dir}, "is a folder"},
		{[]string{"infer", "--model_path", model, "--input_path", images, "--output_path", filepath.Join(dir, "no", "x.jsonl")}, "does not exist"},
		{[]string{"eval", "--model_path", model, "--dataset", images, "--output_path", filepath.Join(file, "r.json")}, "is not a folder"},
		{[]string{"quantize", "--model_path", model, "--bits", "8", "--output_dir", file}, "not a folder"},
	} {
		_, errs, code := gitcap(t, c.args...)
		wantFailure(t, strings.Join(c.args, " "), errs, code, c.want)
	}
}

// quantize and merge refuse to write over the folder they read: quantize
// used to replace the user's F32 model with its 8-bit copy.
func TestModelNotOverwritten(t *testing.T) {
	dir := tinyModelCopy(t)
	before, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	_, errs, code := gitcap(t, "quantize", "--quiet", "--model_path", dir, "--bits", "8", "--output_dir", dir)
	wantFailure(t, "quantize into its own folder", errs, code, "--output_dir", "read from")
	after, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if string(before) != string(after) {
		t.Error("quantize overwrote the model it read")
	}
}

// merge onto a quantized base is an error, not a nil-pointer panic.
func TestMergeOntoQuantizedBase(t *testing.T) {
	tmp := t.TempDir()
	q8, adapter := filepath.Join(tmp, "q8"), filepath.Join(tmp, "adapter")
	if _, errs, code := gitcap(t, "quantize", "--quiet", "--model_path", filepath.Join(tinyCLI, "model"), "--bits", "8", "--output_dir", q8); code != 0 {
		t.Fatalf("quantize: exit %d: %s", code, errs)
	}
	os.Mkdir(adapter, 0o755)
	copyFile(t, filepath.Join(tinyCLI, "init_adapter", "adapter_model.safetensors"), filepath.Join(adapter, "adapter_model.safetensors"))
	copyFile(t, filepath.Join(tinyCLI, "init_adapter", "adapter_config.json"), filepath.Join(adapter, "adapter_config.json"))
	out := filepath.Join(tmp, "merged")
	_, errs, code := gitcap(t, "merge", "--model_path", adapter, "--model_id", q8, "--output_dir", out)
	wantFailure(t, "merge onto Q8", errs, code, "quantized", "git.encoder.layer.", "unquantized")
	if _, err := os.Stat(out); err == nil {
		t.Error("merge onto Q8: output folder created")
	}
}

// A model folder is written whole or not at all: init used to leave
// model.safetensors without config.json when a companion file could not be
// read. An absurd config is refused before its weights are allocated.
func TestInitWritesWholeFolderOrNothing(t *testing.T) {
	src, out := t.TempDir(), filepath.Join(t.TempDir(), "init")
	copyFile(t, filepath.Join(tinyCLI, "model", "config.json"), filepath.Join(src, "config.json"))
	os.Mkdir(filepath.Join(src, "vocab.txt"), 0o755) // unreadable as a file
	_, errs, code := gitcap(t, "init", "--config", src, "--output_dir", out)
	wantFailure(t, "unreadable companion", errs, code, "vocab.txt")
	if _, err := os.Stat(out); err == nil {
		t.Error("unreadable companion: a partial output folder was left")
	}
	cfg, _ := os.ReadFile(filepath.Join(tinyCLI, "model", "config.json"))
	huge := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(huge, []byte(strings.Replace(string(cfg), `"intermediate_size": 64,`, `"intermediate_size": 1099511627776,`, 1)), 0o644)
	_, errs, code = gitcap(t, "init", "--config", huge, "--output_dir", out)
	wantFailure(t, "huge config", errs, code, huge, "intermediate_size")
	// every size within bounds, but 2 × 2^32 parameters in all
	big := strings.Replace(string(cfg), `"vocab_size": 120`, `"vocab_size": 1048576`, 1)
	big = strings.Replace(big, `"hidden_size": 32,`, `"hidden_size": 4096,`, 1) // the text decoder's (first) one
	if big == string(cfg) {
		t.Fatal("config edit did not apply")
	}
	os.WriteFile(huge, []byte(big), 0o644)
	_, errs, code = gitcap(t, "init", "--config", huge, "--output_dir", out)
	wantFailure(t, "big config", errs, code, huge, "parameters")
	// and a good one still lands in place, into an existing empty folder too
	os.Mkdir(out, 0o755)
	if _, errs, code := gitcap(t, "init", "--config", filepath.Join(tinyCLI, "model"), "--output_dir", out); code != 0 {
		t.Fatalf("init: exit %d: %s", code, errs)
	}
	for _, f := range []string{"config.json", "model.safetensors", "vocab.txt"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("init: %v", err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".init.tmp-*")); len(m) != 0 {
		t.Errorf("temporary folders left: %v", m)
	}
}
