package main

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/gitcap/gitcap/gitmodel"
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
				"decoder; per_token_ms is the rest divided by the 19 decoding steps.",
			Flags: append(modelFlags(),
				intFlag("batch_size", 1, "images per generate call"),
				intFlag("runs", 5, "timed runs (after one warm-up)"),
				boolFlag("quiet", true, "no progress bar"),
			),
			Action: runBenchCaption,
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
	var enc, tok, tot []float64
	for r := 0; r <= runs; r++ {
		var tm gitmodel.GenerateTimings
		g.Timings = &tm
		start := time.Now()
		if _, err := cp.Model.Generate(px, b, g); err != nil {
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
	t := median(tot)
	fmt.Fprintf(c.App.Writer, "caption batch=%d threads=%d encoder_ms=%.1f per_token_ms=%.2f total_ms=%.1f images_per_s=%.3f\n",
		b, pool.Workers(), median(enc), median(tok), t, float64(b)/(t/1000))
	return nil
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
