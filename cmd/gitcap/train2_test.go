package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildGitcap compiles the command once per test binary run.
func buildGitcap(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "gitcap")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// A run killed (SIGKILL) while publishing a checkpoint resumes from the
// previous one, which is intact, and ends with the same adapter, bit for
// bit, as a run that was never interrupted. Shuffling, image and caption
// augmentation and dropout are on, so every random stream must be restored.
func TestResumeAfterKill(t *testing.T) {
	bin := buildGitcap(t)
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"train", "--model_id", filepath.Join(tinyCLI, "model"), "--dataset", filepath.Join(tinyCLI, "images"),
			"--output_dir", out, "--epochs", "4", "--batch_size", "2", "--learning_rate", "1e-3", "--rank", "2",
			"--alpha", "4", "--target_modules", "query,value,fc1", "--dropout", "0.1", "--augment_images",
			"--shuffle_captions", "--caption_dropout", "0.2", "--seed", "7", "--quiet", "--threads", "2"}
	}
	runBin := func(env []string, a ...string) (string, error) {
		cmd := exec.Command(bin, a...)
		cmd.Env = append(os.Environ(), env...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	full := filepath.Join(dir, "full")
	if out, err := runBin(nil, args(full)...); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	crash := filepath.Join(dir, "crash")
	// 2 steps per epoch: the checkpoint after epoch 3 is step 6
	out, err := runBin([]string{"GITCAP_TEST_KILL_AT_STEP=6"}, args(crash)...)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
		t.Fatalf("expected a SIGKILL, got %v\n%s", err, out)
	}
	entries, _ := os.ReadDir(crash)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	list := " " + strings.Join(names, " ") + " "
	if !strings.Contains(list, " checkpoint-4 ") || strings.Contains(list, " checkpoint-6 ") || !strings.Contains(list, " .checkpoint-6.tmp-") {
		t.Fatalf("after the kill the folder holds %s", list)
	}
	// the previous checkpoint is complete and loadable as an adapter
	if _, errs, code := gitcap(t, "infer", "--model_path", filepath.Join(crash, "checkpoint-4"), "--model_id", filepath.Join(tinyCLI, "model"),
		"--input_path", filepath.Join(tinyCLI, "images", "boat.png")); code != 0 {
		t.Fatalf("checkpoint-4 unusable: %s", errs)
	}
	if out, err := runBin(nil, append(args(crash), "--resume")...); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	a, _ := os.ReadFile(filepath.Join(full, "adapter_model.safetensors"))
	b, _ := os.ReadFile(filepath.Join(crash, "adapter_model.safetensors"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("resumed adapter differs from the uninterrupted one (%d vs %d bytes)", len(a), len(b))
	}
	la, _ := os.ReadFile(filepath.Join(full, "logs", "train.jsonl"))
	lb, _ := os.ReadFile(filepath.Join(crash, "logs", "train.jsonl"))
	if !bytes.Equal(la, lb) || strings.Count(string(la), "\n") != 8 {
		t.Errorf("logs differ:\n%s\nvs\n%s", la, lb)
	}
	// starting again without --resume refuses to clobber the run
	if out, err := runBin(nil, args(crash)...); err == nil || !strings.Contains(out, "--resume") {
		t.Errorf("second run into the same folder: %v %s", err, out)
	}
}

// Bad dataset items are skipped with a warning and a count; --strict fails.
func TestTrainBadDataset(t *testing.T) {
	ds := t.TempDir()
	for _, f := range []string{"boat", "cat"} {
		copyFile(t, filepath.Join(tinyCLI, "images", f+".png"), filepath.Join(ds, f+".png"))
		copyFile(t, filepath.Join(tinyCLI, "images", f+".txt"), filepath.Join(ds, f+".txt"))
	}
	copyFile(t, filepath.Join(tinyCLI, "images", "dogs.png"), filepath.Join(ds, "nocaption.png"))
	copyFile(t, filepath.Join(tinyCLI, "images", "people.png"), filepath.Join(ds, "empty.png"))
	os.WriteFile(filepath.Join(ds, "empty.txt"), []byte("  \n"), 0o644)
	copyFile(t, filepath.Join(tinyCLI, "images", "people.png"), filepath.Join(ds, "latin1.png"))
	os.WriteFile(filepath.Join(ds, "latin1.txt"), []byte("caf\xe9"), 0o644)
	os.WriteFile(filepath.Join(ds, "broken.png"), []byte("\x89PNG\r\n\x1a\nnope"), 0o644)
	os.WriteFile(filepath.Join(ds, "broken.txt"), []byte("a broken image"), 0o644)
	base := []string{"train", "--model_id", filepath.Join(tinyCLI, "model"), "--dataset", ds, "--epochs", "1", "--batch_size", "2", "--quiet"}
	stdout, errs, code := gitcap(t, append(base, "--output_dir", filepath.Join(t.TempDir(), "o"))...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"nocaption.png", "empty", "latin1", "broken.png", "4 of 6"} {
		if !strings.Contains(errs+stdout, want) {
			t.Errorf("output does not mention %q:\n%s%s", want, errs, stdout)
		}
	}
	_, errs, code = gitcap(t, append(base, "--output_dir", filepath.Join(t.TempDir(), "o"), "--strict")...)
	if code == 0 {
		t.Errorf("--strict accepted a bad dataset: %s", errs)
	}
}

// gitcap eval against HF's numbers: the token-weighted loss is the same for
// every batch size; per-image losses match.
func TestEvalMatchesHF(t *testing.T) { evalMatchesHF(t) }

// evalMatchesHF runs TestEvalMatchesHF's command lines with extra flags.
func evalMatchesHF(t *testing.T, extra ...string) {
	var want struct {
		DatasetLoss float64 `json:"dataset_loss"`
		PerImage    []struct {
			FileName string  `json:"file_name"`
			Loss     float64 `json:"loss"`
			Targets  int     `json:"num_target_tokens"`
		} `json:"per_image"`
	}
	data, _ := os.ReadFile(filepath.Join(tinyCLI, "expected", "eval.json"))
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	for _, bs := range []string{"1", "2", "4"} {
		stdout, errs, code := gitcap(t, append([]string{"eval", "--model_path", filepath.Join(tinyCLI, "model"), "--dataset", filepath.Join(tinyCLI, "images"), "--batch_size", bs}, extra...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var got struct {
			Loss       float64            `json:"loss"`
			Perplexity float64            `json:"perplexity"`
			Targets    int                `json:"num_target_tokens"`
			Metrics    map[string]float64 `json:"metrics"`
			PerImage   []struct {
				FileName string  `json:"file_name"`
				Loss     float64 `json:"loss"`
				Targets  int     `json:"num_target_tokens"`
			} `json:"per_image"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("%v: %s", err, stdout)
		}
		if math.Abs(got.Loss-want.DatasetLoss) > 1e-5 || got.Targets != 47 || math.Abs(got.Perplexity-math.Exp(want.DatasetLoss)) > 1e-3 {
			t.Errorf("bs %s: loss %v over %d, want %v over 47", bs, got.Loss, got.Targets, want.DatasetLoss)
		}
		for i, w := range want.PerImage {
			g := got.PerImage[i]
			if g.FileName != w.FileName || g.Targets != w.Targets || math.Abs(g.Loss-w.Loss) > 1e-5 {
				t.Errorf("bs %s: %+v, want %+v", bs, g, w)
			}
		}
		if _, ok := got.Metrics["CIDEr"]; !ok {
			t.Errorf("no CIDEr in %v", got.Metrics)
		}
	}
}

// merge then infer equals infer on the adapter.
func TestMergeEqualsAdapter(t *testing.T) {
	out := filepath.Join(t.TempDir(), "merged")
	adapter, model := filepath.Join(tinyCLI, "init_adapter"), filepath.Join(tinyCLI, "model")
	if _, errs, code := gitcap(t, "merge", "--model_path", adapter, "--model_id", model, "--output_dir", out); code != 0 {
		t.Fatalf("merge: %s", errs)
	}
	images := filepath.Join(tinyCLI, "images")
	a, errs, code := gitcap(t, "infer", "--model_path", adapter, "--model_id", model, "--input_path", images, "--num_beams", "2")
	if code != 0 {
		t.Fatal(errs)
	}
	b, errs, code := gitcap(t, "infer", "--model_path", out, "--input_path", images, "--num_beams", "2")
	if code != 0 {
		t.Fatal(errs)
	}
	base, _, _ := gitcap(t, "infer", "--model_path", model, "--input_path", images, "--num_beams", "2")
	compareJSONL(t, readJSONL(t, b), readJSONL(t, a))
	if base == a {
		t.Error("the adapter changes nothing: the test would not see a bad merge")
	}
}

// --log_with tensorboard writes an event file; --config TOML supplies flags
// and the command line wins.
func TestTrainTensorBoardAndTOML(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "train.toml")
	os.WriteFile(cfg, []byte("epochs = 2\nbatch_size = 4\nlearning_rate = 5e-3\ntarget_modules = [\"query\", \"value\"]\nlog_with = \"tensorboard\"\n"), 0o644)
	out := filepath.Join(dir, "o")
	_, errs, code := gitcap(t, "train", "--config", cfg, "--epochs", "3", "--model_id", filepath.Join(tinyCLI, "model"),
		"--dataset", filepath.Join(tinyCLI, "images"), "--output_dir", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, _ := os.ReadFile(filepath.Join(out, "logs", "train.jsonl"))
	if n := strings.Count(string(data), "\n"); n != 3 { // --epochs 3 beats the file's 2; batch 4 = 1 step/epoch
		t.Errorf("%d steps logged, want 3:\n%s", n, data)
	}
	events, _ := filepath.Glob(filepath.Join(out, "logs", "events.out.tfevents.*"))
	if len(events) != 1 {
		t.Fatalf("event files: %v", events)
	}
	ev, _ := os.ReadFile(events[0])
	if len(ev) < 100 || !bytes.Contains(ev, []byte("train/loss")) || !bytes.Contains(ev, []byte("brain.Event:2")) {
		t.Errorf("event file of %d bytes lacks the expected records", len(ev))
	}
	cfgOut, _ := os.ReadFile(filepath.Join(out, "adapter_config.json"))
	if !strings.Contains(string(cfgOut), `"query"`) || strings.Contains(string(cfgOut), `"k_proj"`) {
		t.Errorf("target_modules from TOML not applied:\n%s", cfgOut)
	}
}

// Ctrl-C (SIGINT) stops at a step boundary, saves a checkpoint and exits
// with 130; --resume finishes the run.
func TestTrainInterrupt(t *testing.T) {
	bin := buildGitcap(t)
	out := filepath.Join(t.TempDir(), "o")
	args := []string{"train", "--model_id", filepath.Join(tinyCLI, "model"), "--dataset", filepath.Join(tinyCLI, "images"),
		"--output_dir", out, "--epochs", "400", "--batch_size", "2", "--target_modules", "query", "--quiet"}
	cmd := exec.Command(bin, args...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// wait until training is under way, then interrupt
	deadline := time.Now().Add(20 * time.Second)
	for {
		if data, _ := os.ReadFile(filepath.Join(out, "logs", "train.jsonl")); bytes.Count(data, []byte("\n")) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no progress: %s", buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 || !strings.Contains(buf.String(), "--resume") {
		t.Fatalf("interrupted run: %v\n%s", err, buf.String())
	}
	if ckpts, _ := filepath.Glob(filepath.Join(out, "checkpoint-*")); len(ckpts) != 1 {
		t.Fatalf("checkpoints after the interrupt: %v", ckpts)
	}
	res, err := exec.Command(bin, append(args, "--resume")...).CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, res)
	}
	data, _ := os.ReadFile(filepath.Join(out, "logs", "train.jsonl"))
	if n := bytes.Count(data, []byte("\n")); n != 800 {
		t.Errorf("%d log lines after resume, want 800", n)
	}
}
