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
			if n := cfg.ApproxParams(); n > maxInitParams {
				return fmt.Errorf("%s describes about %.3g parameters (%.3g GB in F32); init makes at most %.3g", cfgPath, n, 4*n/1e9, float64(maxInitParams))
			}
			if err := checkOutputDir(out, srcDir); err != nil {
				return err
			}
			m, err := gitmodel.NewRandom(cfg, c.Uint64("seed"))
			if err != nil {
				return err
			}
			err = writeFolder(out, func(dir string) error {
				if err := m.SaveWeights(filepath.Join(dir, "model.safetensors")); err != nil {
					return err
				}
				if err := gitmodel.CopyCompanionFiles(srcDir, dir); err != nil {
					return err
				}
				return cfg.Save(filepath.Join(dir, "config.json"))
			})
			if err != nil {
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

// maxInitParams bounds init: 4e9 parameters are 16 GB of F32, ten times
// git-large; a config.json past it is a typo or hostile, and allocating it
// would end in the runtime's out-of-memory crash rather than an error.
const maxInitParams = 4e9
