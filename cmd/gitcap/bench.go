package main

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"syscall"
	"time"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/gitmodel/training"
	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/nn"
	"github.com/urfave/cli/v2"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "measure end-to-end speed",
		Subcommands: []*cli.Command{{
			Name:  "caption",
			Usage: "time greedy captioning of random images: exactly 19 generated tokens per image",
			Description: "Prints one line per run, then the medians:\n" +
				"caption batch=B threads=T encoder_ms=… per_token_ms=… total_ms=… images_per_s=…\n" +
				"encoder_ms covers the vision tower, the projection and the image tokens through the\n" +
				"decoder; per_token_ms is the rest divided by the 19 decoding steps. vision_ms times\n" +
				"the vision tower and projection alone (on the CPU), and vision_gflops is their\n" +
				"arithmetic (35.3 GFLOP per 224×224 git-base image) divided by it.",
			Flags: append(modelFlags(),
				intFlag("batch_size", 1, "images per generate call"),
				intFlag("runs", 5, "timed runs (after one warm-up)"),
				boolFlag("quiet", true, "no progress bar"),
			),
			Action: runBenchCaption,
		}, {
			Name:  "train",
			Usage: "time training steps (forward + backward + AdamW) on random data",
			Description: "LoRA r=4 on the default targets (or --full_finetune); prints one line per step,\n" +
				"then: train_step batch=B tokens=T threads=N step_ms=<median> peak_rss_mb=<peak resident memory>",
			Flags: append(modelFlags(),
				intFlag("batch_size", 4, "images per step"),
				intFlag("text_len", 32, "text tokens per caption"),
				intFlag("steps", 4, "timed steps (after one warm-up)"),
				boolFlag("gradient_checkpointing", false, "recompute layers in backward"),
				boolFlag("full_finetune", false, "train every parameter"),
				intFlag("lora_bits", 16, "frozen base weights: 16 as loaded, 8 = Q8, 4 = NF4"),
				boolFlag("quiet", true, "no progress bar"),
			),
			Action: runBenchTrain,
		}},
	}
}

func runBenchCaption(c *cli.Context) error {
	pool := newPool(c)
	defer pool.Close()
	cp, err := loadCaptioner(c, pool)
	if err != nil {
		return err
	}
	defer cp.Close()
	b, runs := c.Int("batch_size"), c.Int("runs")
	if b < 1 || runs < 1 {
		return cli.Exit("bench caption: --batch_size and --runs must be at least 1", 2)
	}
	v := cp.Model.Config.Vision
	px := make([]float32, b*v.NumChannels*v.ImageSize*v.ImageSize)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range px {
		px[i] = float32(rng.NormFloat64())
	}
	g := gitmodel.DefaultGenerateConfig()
	g.MaxLength, g.MinLength = 20, 20 // [CLS] + exactly 19 generated tokens
	var enc, tok, tot, vis []float64
	for r := 0; r <= runs; r++ {
		// The vision tower and projection alone (issue 4's 35.3 GFLOP
		// per 224×224 image), timed on the CPU model.
		vs := time.Now()
		cp.Model.EncodeImages(px, b)
		if r > 0 {
			vis = append(vis, ms(time.Since(vs)))
		}
		var tm gitmodel.GenerateTimings
		g.Timings = &tm
		start := time.Now()
		if _, err := cp.Model.GenerateWith(cp.Runner(), px, b, g); err != nil {
			return err
		}
		total := time.Since(start)
		if r == 0 {
			continue // warm-up
		}
		e := ms(tm.Encode)
		per := (ms(total) - e) / float64(tm.Steps)
		enc, tok, tot = append(enc, e), append(tok, per), append(tot, ms(total))
		fmt.Fprintf(c.App.ErrWriter, "run %d: encoder_ms=%.1f per_token_ms=%.2f total_ms=%.1f\n", r, e, per, ms(total))
	}
	t, vms := median(tot), median(vis)
	fmt.Fprintf(c.App.Writer, "caption batch=%d threads=%d encoder_ms=%.1f per_token_ms=%.2f total_ms=%.1f images_per_s=%.3f vision_ms=%.1f vision_gflops=%.1f\n",
		b, pool.Workers(), median(enc), median(tok), t, float64(b)/(t/1000), vms, float64(b)*visionGFLOP(cp.Model.Config)/(vms/1000))
	return nil
}

// visionGFLOP counts the multiply-adds (×2) of one image through the vision
// tower and the visual projection: patch embedding, per layer the q/k/v/out
// projections, q·kᵀ, p·v and the MLP, then the projection. git-base at
// 224×224: 35.3.
func visionGFLOP(c gitmodel.Config) float64 {
	v := c.Vision
	p := float64(v.ImageSize / v.PatchSize)
	n, d, f := p*p+1, float64(v.HiddenSize), float64(v.IntermediateSize)
	patch := p * p * d * float64(v.NumChannels*v.PatchSize*v.PatchSize)
	layer := 4*n*d*d + 2*n*n*d + 2*n*d*f
	proj := n * d * float64(c.HiddenSize)
	return 2 * (patch + float64(v.NumHiddenLayers)*layer + proj) / 1e9
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func runBenchTrain(c *cli.Context) error {
	pool := newPool(c)
	defer pool.Close()
	if c.Int("bits") != 32 {
		return cli.Exit("bench train: use --lora_bits for the base precision", 2)
	}
	full := c.Bool("full_finetune")
	cp, err := gitmodel.LoadCaptionerWith(c.Context, c.String("model_path"), c.String("model_id"), hubResolver(c), pool, gitmodel.LoadOptions{Writable: full})
	if err != nil {
		return err
	}
	defer cp.Close()
	m := cp.Model
	b, t, steps := c.Int("batch_size"), c.Int("text_len"), c.Int("steps")
	if b < 1 || t < 2 || steps < 1 || t > m.Config.MaxPositionEmbeddings {
		return cli.Exit("bench train: need --batch_size ≥ 1, 2 ≤ --text_len ≤ max_position_embeddings, --steps ≥ 1", 2)
	}
	trainable := m.Params
	if lb := c.Int("lora_bits"); lb != 16 {
		f, ok := map[int]kernels.QFormat{8: kernels.Q8, 4: kernels.NF4}[lb]
		if !ok || full {
			return cli.Exit("bench train: --lora_bits takes 16, 8 or 4, and only with LoRA", 2)
		}
		m.Quantize(gitmodel.QuantizeOptions{Format: f})
	}
	if !full {
		acfg := &nn.AdapterConfig{PeftType: "LORA", R: 4, LoraAlpha: 4, LoraDropout: 0.25, TargetModules: nn.TargetModules{Names: training.DefaultTargets}}
		if _, err := m.AddLoRA(acfg, rand.New(rand.NewPCG(1, 1))); err != nil {
			return err
		}
		trainable = m.LoRAParams()
	}
	mk, err := trainDevice(c)
	if err != nil {
		return err
	}
	if mk != nil {
		dev, err := mk(m, trainable)
		if err != nil {
			return err
		}
		if dev != nil {
			defer dev.Close()
		}
	}
	tr := gitmodel.NewTrainer(m, trainable, 0.01, 1)
	tr.Checkpoint, tr.Dropout = c.Bool("gradient_checkpointing"), true
	rng := rand.New(rand.NewPCG(3, 4))
	v := m.Config.Vision
	batch := gitmodel.Batch{B: b, T: t, Pixels: make([]float32, b*v.NumChannels*v.ImageSize*v.ImageSize)}
	for i := range batch.Pixels {
		batch.Pixels[i] = float32(rng.NormFloat64())
	}
	for i := 0; i < b*t; i++ {
		id := rng.IntN(m.Config.VocabSize)
		if i%t == 0 {
			id = m.Config.BosTokenID
		}
		batch.IDs = append(batch.IDs, id)
		batch.Labels = append(batch.Labels, id)
	}
	var times []float64
	for s := 0; s <= steps; s++ {
		start := time.Now()
		if _, _, err := tr.Accumulate(batch, 1); err != nil {
			return err
		}
		tr.Update(1e-4, 1)
		d := ms(time.Since(start))
		if s > 0 {
			times = append(times, d)
			fmt.Fprintf(c.App.ErrWriter, "step %d: %.0f ms\n", s, d)
		}
	}
	fmt.Fprintf(c.App.Writer, "train_step batch=%d tokens=%d threads=%d step_ms=%.0f peak_rss_mb=%.0f\n",
		b, t, pool.Workers(), median(times), peakRSSMB())
	return nil
}

// peakRSSMB is the process's peak resident set size (getrusage ru_maxrss, in KiB on Linux).
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}
