package main

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitcap/gitcap/tensor/safetensors"
)

type expectedTrain struct {
	Log []struct {
		Step int     `json:"step"`
		Loss float64 `json:"loss"`
	} `json:"log"`
}

// The two `gitcap train` command lines of the tiny-cli README against
// transformers + PEFT: per-step losses within 1e-4 relative, final adapters
// within 1e-4.
func TestTrainMatchesHF(t *testing.T) { trainMatchesHF(t) }

// trainMatchesHF runs TestTrainMatchesHF's command lines with extra flags.
func trainMatchesHF(t *testing.T, extra ...string) {
	for _, c := range []struct{ name, golden, final string }{
		{"", "train_lora.json", "train_lora_final.safetensors"},
		{"accum", "train_lora_accum.json", "train_lora_accum_final.safetensors"},
	} {
		t.Run(c.golden, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := []string{"train", "--model_id", filepath.Join(tinyCLI, "model"), "--dataset", filepath.Join(tinyCLI, "images"),
				"--output_dir", out, "--epochs", "10", "--batch_size", "4", "--learning_rate", "1e-3", "--rank", "4", "--alpha", "8",
				"--target_modules", "query,value", "--dropout", "0", "--weight_decay", "0.01", "--max_grad_norm", "0",
				"--lr_scheduler", "constant", "--shuffle=false", "--init_adapter", filepath.Join(tinyCLI, "init_adapter"),
				"--seed", "0", "--log_with", "jsonl", "--quiet"}
			if c.name == "accum" {
				args[10] = "2" // --batch_size 2
				args = append(args, "--gradient_accumulation_steps", "2")
			}
			args = append(args, extra...)
			if _, errs, code := gitcap(t, args...); code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var want expectedTrain
			data, _ := os.ReadFile(filepath.Join(tinyCLI, "expected", c.golden))
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(filepath.Join(out, "logs", "train.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			i := 0
			for ; sc.Scan(); i++ {
				var got struct {
					Step     int      `json:"step"`
					Loss     float64  `json:"loss"`
					LR       *float64 `json:"lr"`
					GradNorm *float64 `json:"grad_norm"`
					Epoch    *float64 `json:"epoch"`
				}
				if err := json.Unmarshal(sc.Bytes(), &got); err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				w := want.Log[i]
				if got.Step != w.Step || math.Abs(got.Loss-w.Loss) > 1e-4*math.Abs(w.Loss) || got.LR == nil || got.GradNorm == nil || got.Epoch == nil {
					t.Errorf("line %d: %s, want step %d loss %v", i+1, sc.Text(), w.Step, w.Loss)
				}
			}
			if i != len(want.Log) {
				t.Errorf("%d log lines, want %d", i, len(want.Log))
			}
			compareAdapter(t, filepath.Join(out, "adapter_model.safetensors"), filepath.Join(tinyCLI, "expected", c.final))
			// the saved adapter config is PEFT's, naming the base
			cfg, _ := os.ReadFile(filepath.Join(out, "adapter_config.json"))
			for _, want := range []string{`"peft_type": "LORA"`, `"r": 4`, `"lora_alpha": 8`, `"target_modules": [`, `"base_model_name_or_path": "` + filepath.Join(tinyCLI, "model")} {
				if !strings.Contains(string(cfg), want) {
					t.Errorf("adapter_config.json lacks %s:\n%s", want, cfg)
				}
			}
		})
	}
}

func compareAdapter(t *testing.T, gotPath, wantPath string) {
	t.Helper()
	got, err := safetensors.Open(gotPath)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	want, err := safetensors.Open(wantPath)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	if strings.Join(got.Names(), " ") != strings.Join(want.Names(), " ") {
		t.Fatalf("keys %v, want %v", got.Names(), want.Names())
	}
	for _, n := range want.Names() {
		a, _ := got.Float32s(n)
		b, _ := want.Float32s(n)
		worst := 0.0
		for i := range b {
			worst = math.Max(worst, math.Abs(float64(a[i])-float64(b[i])))
		}
		if worst > 1e-4 {
			t.Errorf("%s: max |diff| %.3g", n, worst)
		}
	}
}
