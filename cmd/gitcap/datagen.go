package main

import (
	"fmt"

	"github.com/gitcap/gitcap/gitmodel/datagen"
	"github.com/urfave/cli/v2"
)

const shapesHelp = `Renders images of one to three coloured shapes and captions that follow from
the picture, e.g. "a red circle above a small blue square", "a green triangle
left of a yellow square left of a small red circle". Each object is a circle,
square or triangle in red, green, blue or yellow (distinct within an image),
normal-sized or "small"; two or three objects stand in a row (named left to
right, "left of") or a column (top to bottom, "above"). With --max_objects 2
every object is drawn 1.4 times larger. make demo uses --max_objects 2
--image_size 32, the configuration a small GIT learns in minutes on 2 cores.

--variant reversed captions the same kind of scenes (always two or three
objects) from the other end with the converse relation: "a small blue square
below a red circle", "a yellow square right of a green triangle" — words that
the shared vocabulary holds but base captions never use, for a LoRA adapter to
learn.

Writes into --output_dir:
  train/ and validation/   PNG images, sidecar .txt captions and metadata.jsonl
                           (a Hugging Face imagefolder; gitcap train/eval read it)
  vocab.txt                [PAD] [UNK] [CLS] [SEP] [MASK] and every caption word
  model-config/            config.json (a small GIT), preprocessor_config.json,
                           tokenizer files, generation_config.json: the folder
                           for 'gitcap init --config'
Everything follows from --seed.`

func datagenCommand() *cli.Command {
	return &cli.Command{
		Name:  "datagen",
		Usage: "generate synthetic captioning datasets",
		Subcommands: []*cli.Command{{
			Name:        "shapes",
			Usage:       "coloured shapes with captions that follow from the picture",
			Description: shapesHelp,
			Flags: []cli.Flag{
				stringFlag("output_dir", "", "folder to write (created if needed)"),
				intFlag("n", 1000, "training images"),
				intFlag("validation", -1, "validation images (-1: a tenth of --n, at least 1)"),
				&cli.Uint64Flag{Name: "seed", Value: 0, Usage: "random seed"},
				intFlag("image_size", 48, "image side in pixels (a multiple of 8; the model uses 8-pixel patches)"),
				stringFlag("variant", datagen.VariantBase, "caption convention: base or reversed"),
				intFlag("min_objects", 0, "fewest shapes per image (0: 1, or 2 for --variant reversed)"),
				intFlag("max_objects", 3, "most shapes per image (at most 3)"),
			},
			Action: func(c *cli.Context) error {
				out := c.String("output_dir")
				if out == "" {
					return cli.Exit("datagen shapes: --output_dir is required", 2)
				}
				val := c.Int("validation")
				if val < 0 {
					val = max(1, c.Int("n")/10)
				}
				sum, err := datagen.Write(out, datagen.Options{
					N: c.Int("n"), Validation: val, Seed: c.Uint64("seed"), ImageSize: c.Int("image_size"),
					Variant: c.String("variant"), MinObjects: c.Int("min_objects"), MaxObjects: c.Int("max_objects"),
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "wrote %s: %d training and %d validation images (%s captions); model config in %s\n",
					out, sum.Train, sum.Validation, c.String("variant"), sum.ModelConfig)
				return nil
			},
		}},
	}
}
