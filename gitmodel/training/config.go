// Package training fine-tunes GIT: LoRA adapters (PEFT layout) or the whole
// model, on an image-caption dataset, with AdamW, learning-rate schedules,
// gradient accumulation and clipping, gradient checkpointing, logs
// (JSON lines, TensorBoard), periodic and interrupt-safe checkpoints and an
// exact --resume. The command line (`gitcap train`) only fills Config.
package training

import (
	"fmt"
	"strings"

	"github.com/gitcap/gitcap/nn"
	"github.com/gitcap/gitcap/optim"
)

// Config holds every knob of a run; DefaultConfig gives the Python trainer's
// defaults (users.md §0).
type Config struct {
	Dataset, OutputDir, ModelID  string
	CaptionColumn, CaptionSuffix string
	Recursive, Strict            bool

	Epochs, BatchSize, GradAccum int
	LearningRate, WeightDecay    float64
	MaxGradNorm                  float64 // 0: no clipping
	Scheduler                    optim.Schedule
	WarmupSteps                  int
	Shuffle                      bool
	Seed                         uint64

	FullFinetune  bool
	Rank          int
	Alpha         float64
	Dropout       float64 // LoRA dropout
	RSLoRA        bool
	TargetModules nn.TargetModules
	InitAdapter   string
	LoraBits      int // 16: base as loaded; 8: Q8; 4: NF4 (QLoRA-style, frozen)

	GradientCheckpointing bool
	BlockSize             int
	AugmentImages         bool
	ShuffleCaptions       bool
	FrozenParts           int
	CaptionDropout        float64

	SaveEveryNEpochs, SaveEveryNSteps     int
	SampleEveryNEpochs, SampleEveryNSteps int
	LogWith                               []string // jsonl (always), tensorboard, wandb
	Resume                                bool
}

// MaxRank bounds --rank: the adapters' matrices are rank × width, and a
// rank above the width of the widest GIT layer (4096 in git-large's MLP)
// cannot add anything.
const MaxRank = 4096

// DefaultTargets is the Python trainer's default: attention in both towers.
var DefaultTargets = []string{"k_proj", "v_proj", "q_proj", "out_proj", "query", "key", "value"}

// DefaultConfig returns the defaults of the Python trainer this replaces.
func DefaultConfig() Config {
	return Config{
		ModelID: "microsoft/git-base", Epochs: 5, BatchSize: 1, GradAccum: 1,
		LearningRate: 1e-4, WeightDecay: 0.01, MaxGradNorm: 1.0, Scheduler: optim.Linear,
		Shuffle: true, Rank: 4, Alpha: 4, Dropout: 0.25,
		TargetModules: nn.TargetModules{Names: DefaultTargets}, LoraBits: 16, BlockSize: 2048,
	}
}

// Validate checks the values that do not depend on the model.
func (c *Config) Validate() error {
	switch {
	case c.Dataset == "":
		return fmt.Errorf("--dataset is required (a folder of images with captions, an imagefolder, or a COCO captions JSON)")
	case c.OutputDir == "":
		return fmt.Errorf("--output_dir is required")
	case c.Epochs < 1:
		return fmt.Errorf("--epochs must be at least 1, got %d", c.Epochs)
	case c.BatchSize < 1:
		return fmt.Errorf("--batch_size must be at least 1, got %d", c.BatchSize)
	case c.GradAccum < 1:
		return fmt.Errorf("--gradient_accumulation_steps must be at least 1, got %d", c.GradAccum)
	case !(c.LearningRate > 0):
		return fmt.Errorf("--learning_rate must be positive, got %g", c.LearningRate)
	case c.WeightDecay < 0 || c.MaxGradNorm < 0 || c.WarmupSteps < 0:
		return fmt.Errorf("--weight_decay, --max_grad_norm and --warmup_steps must not be negative")
	case !c.FullFinetune && c.InitAdapter == "" && c.Rank < 1:
		return fmt.Errorf("--rank must be at least 1, got %d", c.Rank)
	case c.Rank > MaxRank:
		return fmt.Errorf("--rank %d is more than %d (a rank above a layer's width adds nothing)", c.Rank, MaxRank)
	case c.Dropout < 0 || c.Dropout >= 1 || c.CaptionDropout < 0 || c.CaptionDropout >= 1:
		return fmt.Errorf("--dropout and --caption_dropout must be in [0, 1)")
	case c.BlockSize < 3:
		return fmt.Errorf("--block_size must be at least 3 ([CLS], one token, [SEP]), got %d", c.BlockSize)
	case c.LoraBits != 16 && c.LoraBits != 4 && c.LoraBits != 8:
		return fmt.Errorf("--lora_bits must be 4, 8 or 16, got %d", c.LoraBits)
	case c.LoraBits != 16 && c.FullFinetune:
		return fmt.Errorf("--lora_bits %d quantizes the frozen base: it does not go with --full_finetune", c.LoraBits)
	case !(c.Alpha > 0):
		return fmt.Errorf("--alpha must be positive (the adapters are scaled by alpha/r), got %g", c.Alpha)
	case c.FrozenParts < 0:
		return fmt.Errorf("--frozen_parts must not be negative, got %d", c.FrozenParts)
	}
	for _, n := range []struct {
		flag string
		v    int
	}{
		{"--save_every_n_epochs", c.SaveEveryNEpochs}, {"--save_every_n_steps", c.SaveEveryNSteps},
		{"--sample_every_n_epochs", c.SampleEveryNEpochs}, {"--sample_every_n_steps", c.SampleEveryNSteps},
	} {
		if n.v < 0 {
			return fmt.Errorf("%s must not be negative (0: never), got %d", n.flag, n.v)
		}
	}
	for _, l := range c.LogWith {
		switch l {
		case "jsonl", "tensorboard", "wandb", "all", "none", "":
		default:
			return fmt.Errorf("--log_with %q: want jsonl, tensorboard, wandb or all", l)
		}
	}
	return nil
}

// tensorboard reports whether TensorBoard event files are wanted (wandb
// means the same files, uploaded with `wandb sync --sync-tensorboard`).
func (c *Config) tensorboard() bool {
	for _, l := range c.LogWith {
		if l == "tensorboard" || l == "wandb" || l == "all" {
			return true
		}
	}
	return false
}

// ParseTargets reads --target_modules: names separated by commas or spaces,
// "all-linear", or a regular expression when it contains regex syntax.
func ParseTargets(s string) nn.TargetModules {
	s = strings.TrimSpace(s)
	if s == "all-linear" {
		return nn.TargetModules{Regex: s}
	}
	if strings.ContainsAny(s, `.*+?()[]|^$\`) {
		return nn.TargetModules{Regex: s}
	}
	return nn.TargetModules{Names: strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })}
}
