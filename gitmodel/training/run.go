package training

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/gitmodel/dataset"
	"github.com/gitcap/gitcap/internal/tblog"
	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/nn"
)

// Env is what a run needs from its caller.
type Env struct {
	Resolve gitmodel.Resolver // model ids → folders (nil: local folders only)
	Pool    *kernels.Pool
	Log     io.Writer                        // human-readable messages (stderr)
	Step    func(s StepLog, stepsTotal int)  // after every optimizer step (progress bar); may be nil
	Message func(format string, args ...any) // warnings and notes; nil: written to Log
	Clock   func() time.Time                 // nil: time.Now
	// Device, if set, attaches an accelerator (--device vulkan) to the
	// model once its trainable parameters are known.
	Device  func(m *gitmodel.Model, trainable []nn.NamedTensor) (Device, error)
	sampled func(files []string, generated []string) // tests
}

// Device is an accelerator attached to the model being trained. Err is its
// first failure (the work it failed went to the CPU); Close detaches it.
type Device interface {
	Err() error
	Close() error
}

// StepLog is one line of logs/train.jsonl.
type StepLog struct {
	Step     int     `json:"step"`
	Epoch    float64 `json:"epoch"`
	Loss     float64 `json:"loss"`
	LR       float64 `json:"lr"`
	GradNorm float64 `json:"grad_norm"`
}

// Summary is what a finished (or interrupted) run reports.
type Summary struct {
	Steps, Epochs   int
	FinalLoss       float64 // last step's loss
	ValidationLoss  float64 // after the last epoch; NaN without a validation split
	Interrupted     bool
	Skipped         int // dataset items skipped at load or collate time
	OutputDir       string
	SecondsPerStep  float64
	ExamplesPerSecs float64
}

// ErrInterrupted is returned (wrapped) when the context was cancelled: the
// run stopped at a step boundary and saved a checkpoint to resume from.
var ErrInterrupted = errors.New("training interrupted")

type run struct {
	cfg      Config
	env      Env
	cp       *gitmodel.Captioner
	tr       *gitmodel.Trainer
	adapter  *nn.AdapterConfig // nil for full fine-tuning
	ds       *dataset.Dataset
	col      *dataset.Collator
	jsonl    *os.File
	tb       *tblog.Writer
	skipped  int
	prevLog  []byte // train.jsonl of the run being resumed
	microPer int    // micro-batches per epoch
	stepsPer int    // optimizer steps per epoch
	total    int    // optimizer steps in the run
	dev      Device
}

func (r *run) msg(format string, args ...any) {
	if r.env.Message != nil {
		r.env.Message(format, args...)
		return
	}
	if r.env.Log != nil {
		fmt.Fprintf(r.env.Log, format+"\n", args...)
	}
}

// Train runs cfg to completion (or until ctx is cancelled, in which case it
// saves a checkpoint and returns an error wrapping ErrInterrupted).
func Train(ctx context.Context, cfg Config, env Env) (*Summary, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if env.Clock == nil {
		env.Clock = time.Now
	}
	r := &run{cfg: cfg, env: env}
	defer r.close()
	if err := r.setup(ctx); err != nil {
		return nil, err
	}
	return r.loop(ctx)
}

func (r *run) close() {
	if r.dev != nil {
		r.dev.Close()
	}
	if r.jsonl != nil {
		r.jsonl.Close()
	}
	if r.tb != nil {
		r.tb.Close()
	}
	if r.cp != nil {
		r.cp.Close()
	}
}

func (r *run) setup(ctx context.Context) error {
	cfg := &r.cfg
	if st, err := os.Stat(cfg.OutputDir); err == nil && !st.IsDir() {
		return fmt.Errorf("--output_dir %s exists and is not a folder", cfg.OutputDir)
	}
	ckpt, err := latestCheckpoint(cfg.OutputDir)
	if err != nil {
		return err
	}
	if ckpt == "" && cfg.Resume {
		return fmt.Errorf("--resume: no checkpoint-N folder in %s", cfg.OutputDir)
	}
	// a checkpoint whose writing was interrupted never got its final name
	stale, _ := filepath.Glob(filepath.Join(cfg.OutputDir, ".checkpoint-*.tmp-*"))
	for _, s := range stale {
		os.RemoveAll(s)
	}
	if ckpt != "" && !cfg.Resume {
		return fmt.Errorf("%s already holds %s from an earlier run: pass --resume to continue it, or choose another --output_dir", cfg.OutputDir, filepath.Base(ckpt))
	}
	// Model, processor and tokenizer from the base.
	r.cp, err = gitmodel.LoadCaptionerWith(ctx, cfg.ModelID, "", r.env.Resolve, r.env.Pool, gitmodel.LoadOptions{Writable: cfg.FullFinetune})
	if err != nil {
		return err
	}
	if r.cp.Adapter != nil {
		return fmt.Errorf("--model_id %s is an adapter; give the base model (and the adapter as --init_adapter)", cfg.ModelID)
	}
	for _, w := range r.cp.Warnings {
		r.msg("warning: %s", w)
	}
	m := r.cp.Model
	if maxPos := m.Config.MaxPositionEmbeddings; cfg.BlockSize > maxPos {
		if cfg.BlockSize != DefaultConfig().BlockSize {
			r.msg("warning: --block_size %d exceeds max_position_embeddings %d; using %d", cfg.BlockSize, maxPos, maxPos)
		}
		cfg.BlockSize = maxPos
	}
	if f, ok := map[int]kernels.QFormat{8: kernels.Q8, 4: kernels.NF4}[cfg.LoraBits]; ok {
		rep := m.Quantize(gitmodel.QuantizeOptions{Format: f})
		r.msg("--lora_bits %d: %d frozen Linear weights stored as %v (%.0f MB → %.0f MB)",
			cfg.LoraBits, rep.Layers, f, float64(rep.BytesBefore)/1e6, float64(rep.BytesAfter)/1e6)
	}
	trainable, err := r.setupParams()
	if err != nil {
		return err
	}
	if r.env.Device != nil {
		if r.dev, err = r.env.Device(m, trainable); err != nil {
			return err
		}
	}
	r.tr = gitmodel.NewTrainer(m, trainable, cfg.WeightDecay, cfg.Seed)
	r.tr.Checkpoint = cfg.GradientCheckpointing
	r.tr.Dropout = true
	if err := r.setupData(); err != nil {
		return err
	}
	r.microPer = dataset.NumBatches(len(r.ds.Train), cfg.BatchSize)
	r.stepsPer = (r.microPer + cfg.GradAccum - 1) / cfg.GradAccum
	r.total = r.stepsPer * cfg.Epochs
	if err := r.openLogs(); err != nil {
		return err
	}
	n := 0
	for _, p := range r.tr.Params {
		n += len(p.Value)
	}
	r.msg("training %d parameters in %d tensors (%s) on %d examples: %d epochs × %d steps",
		n, len(r.tr.Params), map[bool]string{true: "full fine-tune", false: "LoRA"}[cfg.FullFinetune], len(r.ds.Train), cfg.Epochs, r.stepsPer)
	return nil
}

// setupParams attaches the adapters (fresh or --init_adapter) and lists what trains.
func (r *run) setupParams() ([]nn.NamedTensor, error) {
	cfg, m := &r.cfg, r.cp.Model
	if cfg.FullFinetune {
		if cfg.InitAdapter != "" {
			return nil, fmt.Errorf("--init_adapter and --full_finetune do not go together")
		}
		return m.Params, nil
	}
	base := cfg.ModelID
	if cfg.InitAdapter != "" {
		a, err := gitmodel.LoadAdapter(cfg.InitAdapter)
		if err != nil {
			return nil, err
		}
		a.Writable = true
		err = a.Apply(m)
		a.Close()
		if err != nil {
			return nil, err
		}
		ac := *a.Config
		ac.BaseModelNameOrPath, ac.LoraDropout = &base, cfg.Dropout
		for _, nl := range m.Linears() {
			if nl.Linear.LoRA != nil {
				nl.Linear.LoRA.Dropout = float32(cfg.Dropout)
			}
		}
		if ac.R != cfg.Rank || ac.LoraAlpha != cfg.Alpha {
			r.msg("note: --init_adapter sets r=%d alpha=%g (flags said r=%d alpha=%g)", ac.R, ac.LoraAlpha, cfg.Rank, cfg.Alpha)
		}
		r.adapter = &ac
		return m.LoRAParams(), nil
	}
	task := "CAUSAL_LM"
	r.adapter = &nn.AdapterConfig{PeftType: "LORA", TaskType: &task, BaseModelNameOrPath: &base, R: cfg.Rank,
		LoraAlpha: cfg.Alpha, LoraDropout: cfg.Dropout, TargetModules: cfg.TargetModules, UseRslora: cfg.RSLoRA, Bias: "none"}
	if _, err := m.AddLoRA(r.adapter, rand.New(rand.NewPCG(cfg.Seed, 0x853c49e6748fea9b))); err != nil {
		return nil, fmt.Errorf("--target_modules: %w", err)
	}
	return m.LoRAParams(), nil
}

func (r *run) setupData() error {
	cfg := &r.cfg
	ds, err := dataset.Load(cfg.Dataset, dataset.Options{CaptionColumn: cfg.CaptionColumn,
		CaptionFileSuffix: cfg.CaptionSuffix, Recursive: cfg.Recursive, Strict: cfg.Strict})
	if err != nil {
		return err
	}
	for _, w := range ds.Warnings {
		r.msg("warning: %s", w)
	}
	if ds.Skipped > 0 {
		r.msg("warning: %s", ds.Summary())
	}
	if len(ds.Train) == 0 {
		return fmt.Errorf("%s: no training examples", cfg.Dataset)
	}
	r.skipped = ds.Skipped
	r.ds = ds
	r.col = &dataset.Collator{Tok: r.cp.Tokenizer, Proc: r.cp.Processor, BlockSize: cfg.BlockSize,
		Captions:   dataset.CaptionAug{Shuffle: cfg.ShuffleCaptions, FrozenParts: cfg.FrozenParts, Dropout: cfg.CaptionDropout},
		CacheBytes: 1 << 30}
	if cfg.AugmentImages {
		a := dataset.DefaultImageAug()
		r.col.Augment = &a
	}
	return nil
}

// openLogs creates OUTPUT_DIR/logs, once the model and data have loaded
// (a run that fails before that leaves nothing behind), and opens the logs.
func (r *run) openLogs() error {
	if err := os.MkdirAll(filepath.Join(r.cfg.OutputDir, "logs"), 0o755); err != nil {
		return err
	}
	path := filepath.Join(r.cfg.OutputDir, "logs", "train.jsonl")
	if r.cfg.Resume {
		r.prevLog, _ = os.ReadFile(path)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	r.jsonl = f
	if r.cfg.tensorboard() {
		if r.tb, err = tblog.Open(filepath.Join(r.cfg.OutputDir, "logs")); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) logStep(s StepLog) error {
	b, _ := json.Marshal(s)
	if _, err := r.jsonl.Write(append(b, '\n')); err != nil {
		return err
	}
	if r.tb != nil {
		now := r.env.Clock()
		r.tb.Scalar("train/loss", int64(s.Step), s.Loss, now)
		r.tb.Scalar("train/lr", int64(s.Step), s.LR, now)
		r.tb.Scalar("train/grad_norm", int64(s.Step), s.GradNorm, now)
		r.tb.Flush()
	}
	if r.env.Step != nil {
		r.env.Step(s, r.total)
	}
	return nil
}

// position is where a run stands: the next micro-batch to run.
type position struct {
	Step  int `json:"global_step"` // optimizer steps done
	Epoch int `json:"epoch"`       // current epoch (0-based)
	Micro int `json:"micro_batch"` // next micro-batch of that epoch
}

func (r *run) loop(ctx context.Context) (*Summary, error) {
	cfg, tr := &r.cfg, r.tr
	pos := position{}
	if cfg.Resume {
		p, err := r.restore()
		if err != nil {
			return nil, err
		}
		pos = p
		// the earlier run's log lines up to the checkpoint stay; later ones
		// (steps redone after a crash) are dropped
		if err := r.trimLog(pos.Step); err != nil {
			return nil, err
		}
		r.msg("resuming at step %d (epoch %d, batch %d)", pos.Step, pos.Epoch+1, pos.Micro)
	}
	sum := &Summary{OutputDir: cfg.OutputDir, ValidationLoss: math.NaN()}
	start := r.env.Clock()
	stepsRun, examples := 0, 0
	sampler := dataset.Sampler{N: len(r.ds.Train), Shuffle: cfg.Shuffle, Seed: cfg.Seed}
	for epoch := pos.Epoch; epoch < cfg.Epochs; epoch++ {
		batches := dataset.Batches(sampler.Epoch(epoch), cfg.BatchSize)
		micro := 0
		if epoch == pos.Epoch {
			micro = pos.Micro
		}
		var accLoss float64
		inAcc := 0
		for ; micro < len(batches); micro++ {
			if inAcc == 0 && ctx.Err() != nil {
				if err := r.save(position{pos.Step, epoch, micro}); err != nil {
					return nil, err
				}
				sum.Interrupted, sum.Steps = true, pos.Step
				return sum, fmt.Errorf("%w at step %d: checkpoint saved; run again with --resume to continue", ErrInterrupted, pos.Step)
			}
			b, errs := r.col.Collate(dataset.Select(r.ds.Train, batches[micro]), dataset.BatchRand(cfg.Seed, epoch, micro))
			for _, e := range errs {
				r.msg("warning: skipping %v", e)
				if cfg.Strict {
					return nil, e
				}
				r.skipped++
			}
			if b != nil {
				loss, _, err := tr.Accumulate(modelBatch(b), 1/float64(cfg.GradAccum))
				if err != nil {
					return nil, err
				}
				accLoss += loss / float64(cfg.GradAccum)
				examples += b.B
			}
			inAcc++
			if inAcc < cfg.GradAccum && micro < len(batches)-1 {
				continue
			}
			lr := cfg.LearningRate * cfg.Scheduler.Factor(pos.Step, cfg.WarmupSteps, r.total)
			norm := tr.Update(lr, cfg.MaxGradNorm)
			if r.dev != nil && r.dev.Err() != nil {
				// The failed products were computed on the CPU: the
				// step is right; the rest of the run stays there.
				r.msg("warning: %v; going on on the CPU", r.dev.Err())
				r.dev.Close()
				r.dev = nil
			}
			pos.Step++
			stepsRun++
			s := StepLog{Step: pos.Step, Epoch: float64(epoch) + float64(micro+1)/float64(len(batches)), Loss: accLoss, LR: lr, GradNorm: norm}
			if err := r.logStep(s); err != nil {
				return nil, err
			}
			sum.FinalLoss = accLoss
			accLoss, inAcc = 0, 0
			next := position{pos.Step, epoch, micro + 1}
			if next.Micro == len(batches) {
				next = position{pos.Step, epoch + 1, 0}
			}
			if cfg.SaveEveryNSteps > 0 && pos.Step%cfg.SaveEveryNSteps == 0 {
				if err := r.snapshot(fmt.Sprintf("_step-%d", pos.Step), next); err != nil {
					return nil, err
				}
			}
			if cfg.SampleEveryNSteps > 0 && pos.Step%cfg.SampleEveryNSteps == 0 {
				r.sample()
			}
		}
		// end of epoch
		e := epoch + 1
		if len(r.ds.Validation) > 0 {
			vl, err := r.validate()
			if err != nil {
				return nil, err
			}
			sum.ValidationLoss = vl
			r.msg("epoch %d: validation loss %.4f (perplexity %.2f)", e, vl, math.Exp(vl))
			r.logValidation(e, pos.Step, vl)
		}
		if err := r.save(position{pos.Step, e, 0}); err != nil {
			return nil, err
		}
		if cfg.SaveEveryNEpochs > 0 && e%cfg.SaveEveryNEpochs == 0 && e < cfg.Epochs {
			if err := r.snapshot(fmt.Sprintf("_epoch-%d", e), position{pos.Step, e, 0}); err != nil {
				return nil, err
			}
		}
		if cfg.SampleEveryNEpochs > 0 && e%cfg.SampleEveryNEpochs == 0 {
			r.sample()
		}
	}
	if err := r.writeOutput(cfg.OutputDir); err != nil {
		return nil, err
	}
	elapsed := r.env.Clock().Sub(start).Seconds()
	sum.Steps, sum.Epochs, sum.Skipped = pos.Step, cfg.Epochs, r.skipped
	if stepsRun > 0 {
		sum.SecondsPerStep = elapsed / float64(stepsRun)
		sum.ExamplesPerSecs = float64(examples) / math.Max(elapsed, 1e-9)
	}
	return sum, nil
}

// modelBatch converts a collated batch to the model's input.
func modelBatch(b *dataset.Batch) gitmodel.Batch {
	return gitmodel.Batch{Pixels: b.Pixels, B: b.B, T: b.T, IDs: b.IDs, Mask: b.Mask, Labels: b.Labels}
}

// validate is the token-weighted loss over the validation split (eval mode).
func (r *run) validate() (float64, error) {
	var nll float64
	count := 0
	for _, idx := range dataset.Batches(dataset.EpochOrder(len(r.ds.Validation), false, 0, 0), r.cfg.BatchSize) {
		b, _ := r.col.Collate(dataset.Select(r.ds.Validation, idx), nil)
		if b == nil {
			continue
		}
		loss, n, err := r.tr.EvalLoss(modelBatch(b))
		if err != nil {
			return 0, err
		}
		if n > 0 {
			nll += loss * float64(n)
			count += n
		}
	}
	if count == 0 {
		return math.NaN(), nil
	}
	return nll / float64(count), nil
}

func (r *run) logValidation(epoch, step int, loss float64) {
	f, err := os.OpenFile(filepath.Join(r.cfg.OutputDir, "logs", "validation.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err == nil {
		b, _ := json.Marshal(map[string]any{"epoch": epoch, "step": step, "loss": loss, "perplexity": math.Exp(loss)})
		f.Write(append(b, '\n'))
		f.Close()
	}
	if r.tb != nil {
		r.tb.Scalar("val/loss", int64(step), loss, r.env.Clock())
		r.tb.Flush()
	}
}

// sample captions a few images (validation split if any) and prints them
// beside their reference captions.
func (r *run) sample() {
	ex := r.ds.Validation
	if len(ex) == 0 {
		ex = r.ds.Train
	}
	ex = ex[:min(4, len(ex))]
	b, _ := r.col.Collate(ex, nil)
	if b == nil {
		return
	}
	g := r.cp.Generation
	g.MaxNewTokens = 40
	res, err := r.cp.Caption(b.Pixels, b.B, g)
	if err != nil {
		r.msg("sample: %v", err)
		return
	}
	var gen []string
	for i, x := range res {
		r.msg("Gen: %s\nCap: %s", x.Texts[0], b.Captions[i])
		gen = append(gen, x.Texts[0])
	}
	if r.env.sampled != nil {
		r.env.sampled(b.Files, gen)
	}
}

// writeOutput saves the trained result in dir: a PEFT adapter, or for full
// fine-tuning a complete model folder.
func (r *run) writeOutput(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	m := r.cp.Model
	if r.adapter != nil {
		return m.SaveAdapter(dir, r.adapter)
	}
	if err := m.SaveWeights(filepath.Join(dir, "model.safetensors")); err != nil {
		return err
	}
	if err := m.Config.Save(filepath.Join(dir, "config.json")); err != nil {
		return err
	}
	return gitmodel.CopyCompanionFiles(r.cp.BaseDir, dir)
}

// trimLog writes back into logs/train.jsonl (emptied by openLogs) the
// earlier run's lines up to step.
func (r *run) trimLog(step int) error {
	for _, line := range strings.SplitAfter(string(r.prevLog), "\n") {
		var s StepLog
		if json.Unmarshal([]byte(line), &s) == nil && s.Step <= step {
			if _, err := r.jsonl.WriteString(line); err != nil {
				return err
			}
		}
	}
	return nil
}
