package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/urfave/cli/v2"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "write a loadable model folder with randomly initialised weights",
		Description: "Reads --config (a folder with config.json, or a config.json file), applies GIT's\n" +
			"defaults, and writes config.json plus model.safetensors (F32, Hugging Face's\n" +
			"initialisation) into --output_dir, with the processor and tokenizer files of the\n" +
			"config folder. Example: gitcap init --config shared/golden/git-base-config --output_dir /tmp/git-base-random",
		Flags: []cli.Flag{
			stringFlag("config", "", "config folder or config.json"),
			stringFlag("output_dir", "", "folder to write (created if needed)"),
			&cli.Uint64Flag{Name: "seed", Value: 0, Usage: "random seed"},
		},
		Action: func(c *cli.Context) error {
			src, out := c.String("config"), c.String("output_dir")
			if src == "" || out == "" {
				return cli.Exit("init: --config and --output_dir are required", 2)
			}
			cfgPath, srcDir := src, filepath.Dir(src)
			if st, err := os.Stat(src); err == nil && st.IsDir() {
				cfgPath, srcDir = filepath.Join(src, "config.json"), src
			}
			cfg, err := gitmodel.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			m, err := gitmodel.NewRandom(cfg, c.Uint64("seed"))
			if err != nil {
				return err
			}
			if err := m.SaveWeights(filepath.Join(out, "model.safetensors")); err != nil {
				return err
			}
			if err := gitmodel.CopyCompanionFiles(srcDir, out); err != nil {
				return err
			}
			if err := cfg.Save(filepath.Join(out, "config.json")); err != nil {
				return err
			}
			n := 0
			for _, p := range m.Params {
				n += p.Tensor.Numel()
			}
			fmt.Fprintf(c.App.Writer, "wrote %s: %d tensors, %d parameters\n", out, len(m.Params), n)
			return nil
		},
	}
}

func mkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }
