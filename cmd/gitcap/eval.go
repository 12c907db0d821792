package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/gitmodel/training"
	"github.com/urfave/cli/v2"
)

func evalCommand() *cli.Command {
	return &cli.Command{
		Name:  "eval",
		Usage: "loss, perplexity, BLEU-4 and CIDEr-D of a model (or adapter) on a dataset",
		Description: "Prints a JSON report: the token-weighted loss over every caption token ([SEP]\n" +
			"included; the same for any --batch_size), its perplexity, per-image losses, and,\n" +
			"unless --no_generate, BLEU-1..4, CIDEr-D (pycocoevalcap's definitions) and the\n" +
			"exact-match rate of greedy (or --num_beams) captions against the references.\n" +
			"The split is validation when the dataset has one, else train (--split).",
		Flags: append(append(modelFlags(), generationFlags()...),
			stringFlag("dataset", "", "dataset folder or COCO captions JSON", "dataset_dir", "dataset-dir"),
			stringFlag("split", "", "train, validation or test"),
			intFlag("batch_size", 8, "images per forward pass"),
			stringFlag("caption_column", "", "caption column of metadata files"),
			stringFlag("caption_file_suffix", "", "sidecar caption file is <stem><suffix>.txt"),
			boolFlag("recursive", false, "search subfolders"),
			boolFlag("strict", false, "fail on bad dataset items"),
			boolFlag("no_generate", false, "loss and perplexity only"),
			stringFlag("output_path", "", "write the JSON report here (atomically) instead of stdout"),
			boolFlag("quiet", false, "no progress bar"),
		),
		Action: func(c *cli.Context) error {
			if c.String("dataset") == "" {
				return cli.Exit("eval: --dataset is required", 2)
			}
			if err := checkOutputFile("output_path", c.String("output_path")); err != nil {
				return err
			}
			pool := newPool(c)
			defer pool.Close()
			cfg := training.EvalConfig{
				ModelPath: c.String("model_path"), ModelID: c.String("model_id"), Dataset: c.String("dataset"),
				Split: c.String("split"), CaptionColumn: c.String("caption_column"), CaptionSuffix: c.String("caption_file_suffix"),
				Recursive: c.Bool("recursive"), Strict: c.Bool("strict"), BatchSize: c.Int("batch_size"),
				Generate: !c.Bool("no_generate"),
				Prepare: func(cp *gitmodel.Captioner) error {
					if err := quantizeFromFlags(c, cp.Model); err != nil {
						return err
					}
					var err error
					cp.Engine, err = deviceEngine(c, cp.Model)
					return err
				},
				Generation: func(cp *gitmodel.Captioner) (gitmodel.GenerateConfig, error) { return generateConfig(c, cp) },
			}
			rep, err := training.Evaluate(c.Context, cfg, training.Env{Resolve: hubResolver(c), Pool: pool, Log: c.App.ErrWriter})
			if err != nil {
				return err
			}
			data, err := json.MarshalIndent(rep, "", "  ")
			if err != nil {
				// JSON has no NaN: a model whose outputs are not finite.
				return fmt.Errorf("eval: loss %v, perplexity %v: the report cannot be written (%v); the model's outputs are not finite, check its weights", rep.Loss, rep.Perplexity, err)
			}
			out, commit, err := openOutput(c.String("output_path"), c.App.Writer)
			if err != nil {
				return err
			}
			out.Write(append(data, '\n'))
			if err := commit(true); err != nil {
				return err
			}
			msg := fmt.Sprintf("%s split: %d images, loss %.4f, perplexity %.2f", rep.Split, rep.Images, rep.Loss, rep.Perplexity)
			if rep.Metrics != nil {
				msg += fmt.Sprintf(", BLEU-4 %.4f, CIDEr-D %.4f, exact match %.1f%%", rep.Metrics["Bleu_4"], rep.Metrics["CIDEr"], 100*rep.Metrics["ExactMatch"])
			}
			fmt.Fprintln(c.App.ErrWriter, msg)
			return nil
		},
	}
}

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:  "merge",
		Usage: "fold a LoRA adapter into its base model and write a full model folder",
		Description: "Writes config.json, model.safetensors (F32, the base's key names) and the\n" +
			"processor/tokenizer files into --output_dir; transformers and gitcap load it as\n" +
			"a plain GIT checkpoint.",
		Flags: []cli.Flag{
			stringFlag("model_path", "", "the PEFT adapter folder", "m"),
			stringFlag("model_id", "", "its base (folder or hub id); default: the adapter's base_model_name_or_path"),
			stringFlag("output_dir", "", "folder to write"),
			boolFlag("quiet", false, "no progress bar"),
		},
		Action: func(c *cli.Context) error {
			out := c.String("output_dir")
			if out == "" || c.String("model_path") == "" {
				return cli.Exit("merge: --model_path (the adapter) and --output_dir are required", 2)
			}
			cp, err := gitmodel.LoadCaptionerWith(c.Context, c.String("model_path"), c.String("model_id"), hubResolver(c), nil, gitmodel.LoadOptions{Writable: true})
			if err != nil {
				return err
			}
			defer cp.Close()
			if cp.Adapter == nil {
				return fmt.Errorf("%s is not an adapter folder (no adapter_config.json): nothing to merge", c.String("model_path"))
			}
			if err := checkOutputDir(out, cp.BaseDir, cp.AdapterDir); err != nil {
				return err
			}
			if err := cp.Model.Merge(); err != nil {
				return fmt.Errorf("%s: %w", cp.BaseDir, err)
			}
			if err := writeModelFolder(cp, out); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "merged %s into %s: wrote %s\n", cp.AdapterDir, cp.BaseDir, out)
			return nil
		},
	}
}

func writeModelFolder(cp *gitmodel.Captioner, out string) error {
	return writeFolder(out, func(dir string) error {
		if err := cp.Model.SaveWeights(filepath.Join(dir, "model.safetensors")); err != nil {
			return err
		}
		if err := cp.Model.Config.Save(filepath.Join(dir, "config.json")); err != nil {
			return err
		}
		return gitmodel.CopyCompanionFiles(cp.BaseDir, dir)
	})
}

func quantizeCommand() *cli.Command {
	return &cli.Command{
		Name:  "quantize",
		Usage: "write a model folder whose Linear weights are stored in 16, 8 or 4 bits",
		Description: "Stores every Linear weight (except --quantize_skip) as F16, Q8 (blocks of 32 with an\n" +
			"F16 scale) or NF4 (blocks of 64, bitsandbytes' code book, double-quantized scales) in\n" +
			"model.safetensors, described by \"gitcap.quantized.<name>\" metadata; embeddings,\n" +
			"LayerNorms, biases and the patch embedding stay F32. gitcap infer, eval and train\n" +
			"load it without quantizing again (transformers cannot).",
		Flags: append(modelFlags(),
			stringFlag("output_dir", "", "folder to write"),
			boolFlag("quiet", false, "no progress bar"),
		),
		Action: func(c *cli.Context) error {
			out := c.String("output_dir")
			if out == "" || c.String("model_path") == "" {
				return cli.Exit("quantize: --model_path and --output_dir are required", 2)
			}
			if c.Int("bits") == 32 {
				return cli.Exit("quantize: give --bits 16, 8 or 4", 2)
			}
			cp, err := loadCaptioner(c, nil)
			if err != nil {
				return err
			}
			defer cp.Close()
			if cp.Adapter != nil {
				return fmt.Errorf("%s is an adapter: merge it first (gitcap merge), then quantize the merged model", c.String("model_path"))
			}
			if err := checkOutputDir(out, cp.BaseDir); err != nil {
				return err
			}
			if err := writeModelFolder(cp, out); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "wrote %s (%d-bit Linear weights)\n", out, c.Int("bits"))
			return nil
		},
	}
}
