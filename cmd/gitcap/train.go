package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/BurntSushi/toml"
	"github.com/gitcap/gitcap/gitmodel/training"
	"github.com/gitcap/gitcap/optim"
	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
)

const trainHelp = `Fine-tunes GIT on images with captions and writes a PEFT LoRA adapter
(adapter_config.json + adapter_model.safetensors) into --output_dir, which
'gitcap infer --model_path OUTPUT_DIR' and Python's PEFT load directly. With
--full_finetune every weight trains and a full model folder is written instead.

Datasets (--dataset, alias --dataset_dir, --train_dir): a folder of images with
sidecar captions <stem><caption_file_suffix>.txt; a Hugging Face imagefolder
(metadata.jsonl or metadata.csv with file_name and a text/caption column,
train/ and validation/ splits); or a COCO captions JSON file. A validation
split reports its loss after every epoch. Unreadable or uncaptioned items are
skipped with a warning and counted (--strict makes them fatal).

Text is [CLS] caption [SEP], truncated to --block_size tokens, padded per batch;
the loss averages over real tokens only (padding is not trained).

--augment_images: a random resized crop (area 80-100%, aspect 3/4-4/3) and a
horizontal flip (p=0.5), seeded, before the CLIP preprocessing.
--shuffle_captions / --frozen_parts / --caption_dropout: split captions on ", ",
keep the first N parts in place, shuffle (and randomly drop) the rest.

Logs: logs/train.jsonl gets one line per optimizer step ({"step", "epoch",
"loss", "lr", "grad_norm"}); logs/validation.jsonl one per epoch.
--log_with tensorboard writes TensorBoard event files into logs/;
--log_with wandb writes the same files: upload them with
'wandb sync --sync-tensorboard OUTPUT_DIR/logs'.

Checkpoints: checkpoint-<step>/ after every epoch (and on Ctrl-C) holds what
--resume needs (written atomically; the previous one stays until the new one
is complete). --save_every_n_epochs/steps keep snapshots in _epoch-N/_step-N.
--config FILE.toml supplies any flag (snake_case keys); the command line wins.`

func trainCommand() *cli.Command {
	return &cli.Command{
		Name:        "train",
		Usage:       "fine-tune GIT with LoRA (or fully) on an image-caption dataset",
		Description: trainHelp,
		Flags: []cli.Flag{
			stringFlag("dataset", "", "dataset folder or COCO captions JSON", "dataset_dir", "dataset-dir", "train_dir", "train-dir"),
			stringFlag("output_dir", "", "where the adapter, logs and checkpoints go"),
			stringFlag("model_id", "microsoft/git-base", "base model: folder or hub id"),
			intFlag("epochs", 5, "passes over the training split"),
			intFlag("batch_size", 1, "images per micro-batch"),
			intFlag("gradient_accumulation_steps", 1, "micro-batches per optimizer step"),
			floatFlag("learning_rate", 1e-4, "peak learning rate"),
			floatFlag("weight_decay", 0.01, "AdamW decoupled weight decay"),
			floatFlag("max_grad_norm", 1.0, "clip the gradient norm (0: no clipping)"),
			stringFlag("lr_scheduler", "linear", "constant, linear or cosine (after --warmup_steps)"),
			intFlag("warmup_steps", 0, "linear warmup steps"),
			boolFlag("shuffle", true, "shuffle the examples every epoch (--shuffle=false keeps file order)"),
			&cli.Uint64Flag{Name: "seed", Value: 0, Usage: "seed for shuffling, augmentation, dropout and LoRA init"},
			stringFlag("target_modules", strings.Join(training.DefaultTargets, ","), "modules to adapt: names (query,value,…), all-linear, or a regex"),
			intFlag("rank", 4, fmt.Sprintf("LoRA rank r (at most %d)", training.MaxRank)),
			floatFlag("alpha", 4, "LoRA alpha (scaling alpha/r)"),
			floatFlag("dropout", 0.25, "LoRA dropout"),
			boolFlag("rslora", false, "scale by alpha/sqrt(r)"),
			stringFlag("init_adapter", "", "start from this PEFT adapter folder"),
			boolFlag("full_finetune", false, "train every parameter instead of LoRA adapters"),
			intFlag("lora_bits", 16, "frozen base weights: 16 as loaded, 8 = Q8 blocks, 4 = NF4 with double quantization (QLoRA-style); adapters stay F32"),
			boolFlag("gradient_checkpointing", false, "recompute each layer in backward to save memory"),
			intFlag("block_size", 2048, "maximum text tokens (capped at max_position_embeddings)"),
			boolFlag("augment_images", false, "random resized crop + horizontal flip"),
			boolFlag("shuffle_captions", false, "shuffle comma-separated caption parts"),
			intFlag("frozen_parts", 0, "caption parts kept in place when shuffling"),
			floatFlag("caption_dropout", 0, "probability of dropping each caption part"),
			stringFlag("caption_file_suffix", "", "sidecar caption file is <stem><suffix>.txt"),
			stringFlag("caption_column", "", "caption column of metadata files (default text, then caption)"),
			boolFlag("recursive", false, "search subfolders for images"),
			boolFlag("strict", false, "fail on the first bad dataset item instead of skipping it"),
			intFlag("save_every_n_epochs", 0, "keep a snapshot every N epochs (_epoch-N)"),
			intFlag("save_every_n_steps", 0, "keep a snapshot every N steps (_step-N)"),
			intFlag("sample_every_n_epochs", 0, "caption a few images every N epochs"),
			intFlag("sample_every_n_steps", 0, "caption a few images every N steps"),
			&cli.StringSliceFlag{Name: "log_with", Aliases: []string{"log-with"}, Usage: "jsonl (always), tensorboard, wandb or all"},
			boolFlag("resume", false, "continue the run in --output_dir from its latest checkpoint"),
			stringFlag("config", "", "TOML file with flag values (command line wins)"),
			intFlag("threads", 0, "worker threads (0: all cores)"),
			stringFlag("device", "cpu", "cpu, vulkan (a build with -tags vulkan: the frozen weights' products on the device) or auto"),
			boolFlag("quiet", false, "no progress bar"),
		},
		Action: runTrain,
	}
}

// applyTOML sets every flag that the file names and the command line did not.
func applyTOML(c *cli.Context, path string) error {
	var m map[string]any
	if _, err := toml.DecodeFile(path, &m); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for k, v := range m {
		name := strings.ReplaceAll(k, "-", "_")
		if name == "config" || c.IsSet(name) {
			continue
		}
		var val string
		switch x := v.(type) {
		case []any:
			var parts []string
			for _, p := range x {
				parts = append(parts, fmt.Sprint(p))
			}
			val = strings.Join(parts, ",")
		default:
			val = fmt.Sprint(x)
		}
		if err := c.Set(name, val); err != nil {
			return fmt.Errorf("%s: key %q: %v", path, k, err)
		}
	}
	return nil
}

func runTrain(c *cli.Context) error {
	if p := c.String("config"); p != "" {
		if err := applyTOML(c, p); err != nil {
			return err
		}
		if err := checkFlags(c); err != nil { // values from the file
			return err
		}
	}
	cfg := training.DefaultConfig()
	cfg.Dataset, cfg.OutputDir, cfg.ModelID = c.String("dataset"), c.String("output_dir"), c.String("model_id")
	cfg.Epochs, cfg.BatchSize, cfg.GradAccum = c.Int("epochs"), c.Int("batch_size"), c.Int("gradient_accumulation_steps")
	cfg.LearningRate, cfg.WeightDecay, cfg.MaxGradNorm = c.Float64("learning_rate"), c.Float64("weight_decay"), c.Float64("max_grad_norm")
	sched, err := optim.ParseSchedule(c.String("lr_scheduler"))
	if err != nil {
		return err
	}
	cfg.Scheduler, cfg.WarmupSteps, cfg.Shuffle, cfg.Seed = sched, c.Int("warmup_steps"), c.Bool("shuffle"), c.Uint64("seed")
	cfg.TargetModules = training.ParseTargets(c.String("target_modules"))
	cfg.Rank, cfg.Alpha, cfg.Dropout, cfg.RSLoRA = c.Int("rank"), c.Float64("alpha"), c.Float64("dropout"), c.Bool("rslora")
	cfg.InitAdapter, cfg.FullFinetune, cfg.LoraBits = c.String("init_adapter"), c.Bool("full_finetune"), c.Int("lora_bits")
	cfg.GradientCheckpointing, cfg.BlockSize = c.Bool("gradient_checkpointing"), c.Int("block_size")
	cfg.AugmentImages, cfg.ShuffleCaptions = c.Bool("augment_images"), c.Bool("shuffle_captions")
	cfg.FrozenParts, cfg.CaptionDropout = c.Int("frozen_parts"), c.Float64("caption_dropout")
	cfg.CaptionSuffix, cfg.CaptionColumn = c.String("caption_file_suffix"), c.String("caption_column")
	cfg.Recursive, cfg.Strict = c.Bool("recursive"), c.Bool("strict")
	cfg.SaveEveryNEpochs, cfg.SaveEveryNSteps = c.Int("save_every_n_epochs"), c.Int("save_every_n_steps")
	cfg.SampleEveryNEpochs, cfg.SampleEveryNSteps = c.Int("sample_every_n_epochs"), c.Int("sample_every_n_steps")
	for _, l := range c.StringSlice("log_with") {
		cfg.LogWith = append(cfg.LogWith, strings.Split(l, ",")...)
	}
	cfg.Resume = c.Bool("resume")

	pool := newPool(c)
	defer pool.Close()
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errw := c.App.ErrWriter
	var bar *progressbar.ProgressBar
	env := training.Env{Resolve: hubResolver(c), Pool: pool, Log: errw}
	if env.Device, err = trainDevice(c); err != nil {
		return err
	}
	if p := newProgress(c, 0, "training", true); p.bar != nil {
		env.Step = func(s training.StepLog, total int) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(errw), progressbar.OptionShowCount(),
					progressbar.OptionSetItsString("step"), progressbar.OptionShowIts(), progressbar.OptionThrottle(100_000_000))
			}
			bar.Describe(fmt.Sprintf("loss %.4f lr %.2e", s.Loss, s.LR))
			bar.Set(s.Step)
		}
	}
	sum, err := training.Train(ctx, cfg, env)
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(errw)
	}
	if errors.Is(err, training.ErrInterrupted) {
		return cli.Exit(err.Error(), 130)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "trained %d steps (%d epochs), last loss %.4f, %.2f s/step; wrote %s\n",
		sum.Steps, sum.Epochs, sum.FinalLoss, sum.SecondsPerStep, sum.OutputDir)
	if sum.Skipped > 0 {
		fmt.Fprintf(c.App.Writer, "%d dataset items were skipped (see the warnings above)\n", sum.Skipped)
	}
	return nil
}
