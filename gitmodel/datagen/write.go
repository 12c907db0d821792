package datagen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Options say what Write generates.
type Options struct {
	N          int    // training images
	Validation int    // validation images (drawn after the training ones, never the same scene)
	Seed       uint64 // everything follows from it
	ImageSize  int    // pixels per side (default 48)
	Variant    string // VariantBase ("" too) or VariantReversed
	MinObjects int    // default 1 (2 for the reversed variant)
	MaxObjects int    // default 3
	Model      ModelSpec
}

func (o *Options) defaults() error {
	if o.ImageSize == 0 {
		o.ImageSize = 48
	}
	if o.Variant == "" {
		o.Variant = VariantBase
	}
	switch o.Variant {
	case VariantBase, VariantReversed:
	default:
		return fmt.Errorf("datagen: unknown variant %q (want %s)", o.Variant, strings.Join(Variants, " or "))
	}
	if o.MinObjects == 0 {
		o.MinObjects = 1
		if o.Variant == VariantReversed {
			o.MinObjects = 2
		}
	}
	if o.MaxObjects == 0 {
		o.MaxObjects = 3
	}
	switch {
	case o.N < 1:
		return fmt.Errorf("datagen: need at least one training image, got %d", o.N)
	case o.Validation < 0:
		return fmt.Errorf("datagen: negative validation count %d", o.Validation)
	case o.ImageSize < 16:
		return fmt.Errorf("datagen: image size %d is below 16 pixels", o.ImageSize)
	case o.MinObjects < 1 || o.MaxObjects > 3 || o.MinObjects > o.MaxObjects:
		return fmt.Errorf("datagen: objects per image must satisfy 1 <= min (%d) <= max (%d) <= 3", o.MinObjects, o.MaxObjects)
	}
	if o.Model.ImageSize == 0 {
		o.Model = DefaultModel(o.ImageSize)
	}
	return nil
}

// Item is one generated image.
type Item struct {
	FileName string // relative to its split folder
	Split    string // "train" or "validation"
	Scene    Scene
	Caption  string
}

// Generate draws the scenes of a dataset without writing anything: N
// training then Validation validation scenes from one seeded stream. A
// validation scene whose caption and layout equal a training scene's is
// still a new image (positions and sizes differ); no validation image is a
// training image.
func Generate(o Options) ([]Item, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x6a09e667f3bcc909))
	so := SceneOptions{MinObjects: o.MinObjects, MaxObjects: o.MaxObjects}
	items := make([]Item, 0, o.N+o.Validation)
	for i := 0; i < o.N+o.Validation; i++ {
		split, k := "train", i
		if i >= o.N {
			split, k = "validation", i-o.N
		}
		s := Sample(r, so)
		items = append(items, Item{FileName: fmt.Sprintf("%06d.png", k), Split: split, Scene: s, Caption: s.Caption(o.Variant)})
	}
	return items, nil
}

// Summary is what Write reports.
type Summary struct {
	Train, Validation int
	ModelConfig       string // the folder to pass to `gitcap init --config`
}

// Write generates the dataset into dir:
//
//	dir/train/000000.png 000000.txt ... metadata.jsonl
//	dir/validation/...                                     (when Validation > 0)
//	dir/vocab.txt                                          every caption word
//	dir/model-config/ config.json preprocessor_config.json tokenizer_config.json
//	                  special_tokens_map.json generation_config.json vocab.txt
//
// The split folders are both a Hugging Face imagefolder (metadata.jsonl,
// which `gitcap train` and `gitcap eval` read) and a sidecar-caption folder
// (the .txt files).
func Write(dir string, o Options) (*Summary, error) {
	items, err := Generate(o)
	if err != nil {
		return nil, err
	}
	o.defaults()
	meta := map[string]*bytes.Buffer{}
	sum := &Summary{ModelConfig: filepath.Join(dir, "model-config")}
	for _, it := range items {
		sd := filepath.Join(dir, it.Split)
		if meta[it.Split] == nil {
			if err := os.MkdirAll(sd, 0o755); err != nil {
				return nil, err
			}
			meta[it.Split] = &bytes.Buffer{}
		}
		var png bytes.Buffer
		if err := encodePNG(&png, it.Scene, o.ImageSize); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(sd, it.FileName), png.Bytes(), 0o644); err != nil {
			return nil, err
		}
		stem := strings.TrimSuffix(it.FileName, ".png")
		if err := os.WriteFile(filepath.Join(sd, stem+".txt"), []byte(it.Caption+"\n"), 0o644); err != nil {
			return nil, err
		}
		row, _ := json.Marshal(struct {
			FileName string `json:"file_name"`
			Text     string `json:"text"`
		}{it.FileName, it.Caption})
		meta[it.Split].Write(append(row, '\n'))
		if it.Split == "train" {
			sum.Train++
		} else {
			sum.Validation++
		}
	}
	for split, b := range meta {
		if err := os.WriteFile(filepath.Join(dir, split, "metadata.jsonl"), b.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "vocab.txt"), VocabFile(), 0o644); err != nil {
		return nil, err
	}
	if err := WriteModelConfig(sum.ModelConfig, o.Model); err != nil {
		return nil, err
	}
	return sum, nil
}

func encodePNG(b *bytes.Buffer, s Scene, size int) error {
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return enc.Encode(b, Render(s, size))
}

// Special tokens, first in vocab.txt: [PAD] is id 0, [CLS] (bos) 2, [SEP] (eos) 3.
var Special = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}

// Token ids of the special tokens in VocabFile.
const (
	PadID = 0
	BosID = 2
	EosID = 3
)

// Vocab is every token: the special tokens, then Words.
func Vocab() []string { return append(append([]string{}, Special...), Words()...) }

// VocabFile is vocab.txt: one token a line.
func VocabFile() []byte { return []byte(strings.Join(Vocab(), "\n") + "\n") }
