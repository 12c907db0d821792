//go:build vulkan

package vkgit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/kernels"
)

// TestGitBaseOnDevice checks and times a full-size model (e.g. git-base from
// `gitcap init`) on the device: logits of one forward pass against the
// CPU, then greedy captioning of exactly 19 tokens, timed like `gitcap
// bench caption`. It runs only when GITCAP_VKGIT_MODEL names a model
// folder (bench/vulkan-device.sh sets it); GITCAP_VKGIT_BATCH (default
// 1,8) and GITCAP_VKGIT_RUNS (default 5) size the timing.
func TestGitBaseOnDevice(t *testing.T) {
	dir := os.Getenv("GITCAP_VKGIT_MODEL")
	if dir == "" {
		t.Skip("GITCAP_VKGIT_MODEL not set")
	}
	m, err := gitmodel.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	pool := kernels.NewPool(0)
	defer pool.Close()
	m.Pool = pool
	d := openDevice(t)
	t0 := time.Now()
	e, err := New(m, d)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	t.Logf("device %s; weights uploaded in %.0f ms, %.0f MiB", d, ms(time.Since(t0)), float64(d.AllocatedBytes())/(1<<20))
	cfg := &m.Config
	v := cfg.Vision
	rng := rand.New(rand.NewPCG(1, 2))
	pixels := func(b int) []float32 {
		px := make([]float32, b*v.NumChannels*v.ImageSize*v.ImageSize)
		for i := range px {
			px[i] = float32(rng.NormFloat64())
		}
		return px
	}

	// one forward pass against the CPU
	const tt = 8
	in := gitmodel.Batch{Pixels: pixels(2), B: 2, T: tt, IDs: make([]int, 2*tt)}
	for i := range in.IDs {
		in.IDs[i] = 1000 + rng.IntN(cfg.VocabSize-1000)
	}
	in.IDs[0], in.IDs[tt] = cfg.BosTokenID, cfg.BosTokenID
	t1 := time.Now()
	got, err := e.Forward(in)
	if err != nil {
		t.Fatal(err)
	}
	devMs := ms(time.Since(t1))
	t1 = time.Now()
	want, err := m.Forward(in)
	if err != nil {
		t.Fatal(err)
	}
	rel, mx := nerr(got, want.Logits)
	t.Logf("forward B=2 T=%d: normalised error %.3g, max |diff| %.3g (device %.0f ms incl. first-use, CPU %.0f ms)", tt, rel, mx, devMs, ms(time.Since(t1)))
	if !(rel < 1e-4) {
		t.Errorf("forward logits: normalised error %.3g ≥ 1e-4", rel)
	}

	// greedy captioning, 19 tokens per image
	g := gitmodel.DefaultGenerateConfig()
	g.MaxLength, g.MinLength = 20, 20
	px1 := pixels(1)
	dev, err := m.GenerateWith(e, px1, 1, g)
	if err != nil {
		t.Fatal(err)
	}
	cpu, err := m.Generate(px1, 1, g)
	if err != nil {
		t.Fatal(err)
	}
	same := fmt.Sprint(dev[0][0].IDs) == fmt.Sprint(cpu[0][0].IDs)
	t.Logf("greedy ids device == CPU: %v (device %v)", same, dev[0][0].IDs)
	if !same {
		t.Logf("CPU ids %v (random weights have near-ties; compare logits above)", cpu[0][0].IDs)
	}
	runs := envInt("GITCAP_VKGIT_RUNS", 5)
	batches := []int{1, 8}
	if s := os.Getenv("GITCAP_VKGIT_BATCH"); s != "" {
		batches = nil
		for _, f := range splitComma(s) {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				t.Fatalf("GITCAP_VKGIT_BATCH=%q", s)
			}
			batches = append(batches, n)
		}
	}
	for _, b := range batches {
		px := pixels(b)
		var enc, tok, tot []float64
		for r := 0; r <= runs; r++ {
			var tm gitmodel.GenerateTimings
			g.Timings = &tm
			start := time.Now()
			if _, err := m.GenerateWith(e, px, b, g); err != nil {
				t.Fatal(err)
			}
			total := ms(time.Since(start))
			if r == 0 {
				continue
			}
			en := ms(tm.Encode)
			enc, tok, tot = append(enc, en), append(tok, (total-en)/float64(tm.Steps)), append(tot, total)
		}
		tm := median(tot)
		fmt.Printf("vulkan caption batch=%d encoder_ms=%.1f per_token_ms=%.2f total_ms=%.1f images_per_s=%.3f (median of %d)\n",
			b, median(enc), median(tok), tm, float64(b)/(tm/1000), runs)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

// nerr is ‖got−want‖₂/‖want‖₂ and the largest |got−want|.
func nerr(got, want []float32) (rel, maxAbs float64) {
	var num, den float64
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		num += (g - w) * (g - w)
		den += w * w
		maxAbs = math.Max(maxAbs, math.Abs(g-w))
	}
	return math.Sqrt(num / den), maxAbs
}
