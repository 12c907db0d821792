package training

import (
	"context"
	"fmt"
	"math"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/gitmodel/dataset"
	"github.com/gitcap/gitcap/gitmodel/metrics"
)

// EvalConfig says what `gitcap eval` measures.
type EvalConfig struct {
	ModelPath, ModelID string // model folder or adapter (+ base)
	Dataset            string
	Split              string // "" = validation if the dataset has one, else train
	CaptionColumn      string
	CaptionSuffix      string
	Recursive, Strict  bool
	BatchSize          int
	BlockSize          int // 0: max_position_embeddings
	Generate           bool
	Generation         func(*gitmodel.Captioner) (gitmodel.GenerateConfig, error) // nil: the model's defaults
	Prepare            func(*gitmodel.Captioner) error                            // quantize, pick a device; may be nil
}

// ImageReport is one example's share of an evaluation.
type ImageReport struct {
	FileName   string   `json:"file_name"`
	Loss       float64  `json:"loss"` // mean NLL over its targets (its own batch of one would give the same)
	Targets    int      `json:"num_target_tokens"`
	Caption    string   `json:"caption,omitempty"`
	References []string `json:"references"`
}

// EvalReport is the result: token-weighted loss (independent of the batch
// size), perplexity, and caption metrics against the references.
type EvalReport struct {
	Split      string             `json:"split"`
	Images     int                `json:"images"`
	Loss       float64            `json:"loss"`
	Perplexity float64            `json:"perplexity"`
	Targets    int                `json:"num_target_tokens"`
	Metrics    map[string]float64 `json:"metrics,omitempty"` // Bleu_1..4, CIDEr (CIDEr-D), ExactMatch
	Skipped    int                `json:"skipped"`
	PerImage   []ImageReport      `json:"per_image"`
}

// Evaluate computes the report in eval mode (no dropout).
func Evaluate(ctx context.Context, cfg EvalConfig, env Env) (*EvalReport, error) {
	if cfg.BatchSize < 1 {
		return nil, fmt.Errorf("--batch_size must be at least 1")
	}
	cp, err := gitmodel.LoadCaptioner(ctx, cfg.ModelPath, cfg.ModelID, env.Resolve, env.Pool)
	if err != nil {
		return nil, err
	}
	defer cp.Close()
	if cfg.Prepare != nil {
		if err := cfg.Prepare(cp); err != nil {
			return nil, err
		}
	}
	ds, err := dataset.Load(cfg.Dataset, dataset.Options{CaptionColumn: cfg.CaptionColumn,
		CaptionFileSuffix: cfg.CaptionSuffix, Recursive: cfg.Recursive, Strict: cfg.Strict})
	if err != nil {
		return nil, err
	}
	split, ex := cfg.Split, ds.Train
	switch {
	case split == "validation" || (split == "" && len(ds.Validation) > 0):
		split, ex = "validation", ds.Validation
	case split == "test":
		ex = ds.Test
	case split == "" || split == "train":
		split = "train"
	default:
		return nil, fmt.Errorf("--split %q: want train, validation or test", split)
	}
	if len(ex) == 0 {
		return nil, fmt.Errorf("%s: the %s split is empty", cfg.Dataset, split)
	}
	block := cfg.BlockSize
	if maxPos := cp.Model.Config.MaxPositionEmbeddings; block <= 0 || block > maxPos {
		block = maxPos
	}
	col := &dataset.Collator{Tok: cp.Tokenizer, Proc: cp.Processor, BlockSize: block}
	g := cp.Generation
	if cfg.Generation != nil {
		if g, err = cfg.Generation(cp); err != nil {
			return nil, err
		}
	}
	rep := &EvalReport{Split: split, Skipped: ds.Skipped}
	var nll float64
	var cands []string
	var refs [][]string
	for _, idx := range dataset.Batches(dataset.EpochOrder(len(ex), false, 0, 0), cfg.BatchSize) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		batch := dataset.Select(ex, idx)
		b, errs := col.Collate(batch, nil)
		for _, e := range errs {
			if cfg.Strict {
				return nil, e
			}
			if env.Log != nil {
				fmt.Fprintln(env.Log, "warning: skipping", e)
			}
			rep.Skipped++
		}
		if b == nil {
			continue
		}
		losses, counts, err := rowLosses(cp, modelBatch(b))
		if err != nil {
			return nil, err
		}
		// padding does not change a row's real tokens, so these equal
		// one-image batches
		for r := 0; r < b.B; r++ {
			ir := ImageReport{FileName: b.Files[r], Loss: losses[r], Targets: counts[r]}
			for _, e := range batch {
				if e.FileName == b.Files[r] {
					ir.References = e.Captions
				}
			}
			if counts[r] > 0 {
				nll += losses[r] * float64(counts[r])
				rep.Targets += counts[r]
			}
			rep.PerImage = append(rep.PerImage, ir)
		}
		if cfg.Generate {
			res, err := cp.Caption(b.Pixels, b.B, g)
			if err != nil {
				return nil, err
			}
			for r := range res {
				k := len(rep.PerImage) - b.B + r
				rep.PerImage[k].Caption = res[r].Texts[0]
				cands = append(cands, res[r].Texts[0])
				refs = append(refs, rep.PerImage[k].References)
			}
		}
		if env.Step != nil {
			env.Step(StepLog{Step: len(rep.PerImage)}, len(ex))
		}
	}
	rep.Images = len(rep.PerImage)
	if rep.Targets == 0 {
		return nil, fmt.Errorf("%s: nothing to evaluate (every item was skipped)", cfg.Dataset)
	}
	rep.Loss = nll / float64(rep.Targets)
	rep.Perplexity = math.Exp(rep.Loss)
	if cfg.Generate && len(cands) > 0 {
		rep.Metrics = metrics.Evaluate(cands, refs).Map()
	}
	return rep, nil
}

// logitsEngine is an engine that runs the whole forward pass (vkgit's).
type logitsEngine interface {
	Forward(gitmodel.Batch) ([]float32, error)
}

// rowLosses is Model.RowLosses, from the device's logits when the
// captioner runs on one.
func rowLosses(cp *gitmodel.Captioner, in gitmodel.Batch) ([]float64, []int, error) {
	e, ok := cp.Engine.(logitsEngine)
	if !ok {
		return cp.Model.RowLosses(in)
	}
	logits, err := e.Forward(in)
	if err != nil {
		return nil, nil, err
	}
	n, t, v := cp.Model.Config.NumImageTokens(), in.T, cp.Model.Config.VocabSize
	losses, counts := make([]float64, in.B), make([]int, in.B)
	for r := range losses {
		losses[r], counts[r] = gitmodel.CausalLMLoss(logits[r*(n+t)*v:(r+1)*(n+t)*v], in.Labels[r*t:(r+1)*t], 1, n, t, v)
	}
	return losses, counts, nil
}
