//go:build vulkan

package vkgit

import (
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/kernels/vulkan"
	"github.com/gitcap/gitcap/tensor/safetensors"
)

// The tiny model on the device against Hugging Face's outputs
// (../testdata/tiny/cases.safetensors, transformers 4.36.2), with the same
// tolerances as gitmodel's CPU tests. Without a Vulkan driver the tests
// skip, unless GITCAP_REQUIRE_VULKAN=1.

const tiny = "../testdata/tiny"

func openDevice(t *testing.T) *vulkan.Device { return openDeviceWith(t, vulkan.Options{}) }

func openDeviceWith(t *testing.T, opt vulkan.Options) *vulkan.Device {
	t.Helper()
	d, err := vulkan.Open(opt)
	if err != nil {
		if os.Getenv("GITCAP_REQUIRE_VULKAN") == "1" {
			t.Fatalf("GITCAP_REQUIRE_VULKAN=1 but no Vulkan device: %v", err)
		}
		t.Skipf("no Vulkan device: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func loadTiny(t *testing.T) *gitmodel.Model {
	t.Helper()
	m, err := gitmodel.Load(tiny)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func engine(t *testing.T) (*Engine, *gitmodel.Model) { return engineWith(t, vulkan.Options{}) }

func engineWith(t *testing.T, opt vulkan.Options) (*Engine, *gitmodel.Model) {
	t.Helper()
	d := openDeviceWith(t, opt)
	m := loadTiny(t)
	e, err := New(m, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, m
}

type golden struct {
	t *testing.T
	f *safetensors.File
}

func openGolden(t *testing.T) golden {
	f, err := safetensors.Open(tiny + "/cases.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return golden{t, f}
}

func (g golden) f32(name string) []float32 {
	x, err := g.f.Float32s(name)
	if err != nil {
		g.t.Fatal(err)
	}
	return x
}

func (g golden) ints(name string) []int {
	x, err := g.f.Int64s(name)
	if err != nil {
		g.t.Fatal(err)
	}
	out := make([]int, len(x))
	for i, v := range x {
		out[i] = int(v)
	}
	return out
}

// closeTo fails unless |got-want| ≤ atol + rtol·|want| everywhere, and
// logs the largest difference.
func closeTo(t *testing.T, what string, got, want []float32, atol, rtol float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst, at, bad := 0.0, 0, 0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if !(d <= atol+rtol*math.Abs(float64(want[i]))) {
			bad++
		}
		if d > worst || d != d {
			worst, at = d, i
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values off; worst |diff| %.3g at %d (%g vs %g)", what, bad, len(got), worst, at, got[at], want[at])
	} else {
		t.Logf("%s: max |diff| %.3g", what, worst)
	}
	return worst
}

func trimPad(ids []int) []int {
	for i, id := range ids {
		if id == 102 {
			return ids[:i+1]
		}
	}
	return ids
}

// The whole forward pass, on mapped and on staged device memory.
func TestForwardMatchesHF(t *testing.T) {
	for _, staged := range []bool{false, true} {
		e, _ := engineWith(t, vulkan.Options{Staged: staged})
		g := openGolden(t)
		in := gitmodel.Batch{
			Pixels: g.f32("inputs.pixel_values"), B: 2, T: 7,
			IDs: g.ints("inputs.input_ids"), Mask: g.ints("inputs.attention_mask"),
		}
		logits, err := e.Forward(in)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("device: %s", e.Device())
		closeTo(t, "logits", logits, g.f32("out.logits"), 1e-4, 1e-4)
	}
}

func TestGreedyMatchesHF(t *testing.T) {
	e, m := engine(t)
	g := openGolden(t)
	px := g.f32("inputs.pixel_values")
	want := g.ints("gen.greedy.sequences") // (2, 20)
	stepLogits := g.f32("gen.greedy.step_logits")
	cfg := gitmodel.DefaultGenerateConfig()
	var got [][]float32
	cfg.StepLogits = func(step int, l []float32) { got = append(got, append([]float32(nil), l...)) }
	caps, err := m.GenerateWith(e, px, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; b < 2; b++ {
		w := trimPad(want[b*20 : (b+1)*20])
		if fmt.Sprint(caps[b][0].IDs) != fmt.Sprint(w) {
			t.Errorf("row %d: ids %v, want %v", b, caps[b][0].IDs, w)
		} else {
			t.Logf("row %d: ids %v (exact)", b, caps[b][0].IDs)
		}
		worst := 0.0
		for s := 0; s < len(w)-1; s++ {
			worst = math.Max(worst, closeTo(t, fmt.Sprintf("row %d step %d logits", b, s), got[s][b*120:(b+1)*120], stepLogits[(s*2+b)*120:(s*2+b+1)*120], 1e-4, 1e-4))
		}
		t.Logf("row %d: step logits max |diff| %.3g over %d steps", b, worst, len(w)-1)
	}
}

// Beam search exercises Gather and Reorder of the device cache.
func TestBeamMatchesHF(t *testing.T) {
	e, m := engine(t)
	g := openGolden(t)
	px := g.f32("inputs.pixel_values")
	want := g.ints("gen.beam3.sequences") // (2, 19)
	scores := g.f32("gen.beam3.sequences_scores")
	cfg := gitmodel.DefaultGenerateConfig()
	cfg.NumBeams = 3
	caps, err := m.GenerateWith(e, px, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; b < 2; b++ {
		if w := trimPad(want[b*19 : (b+1)*19]); fmt.Sprint(caps[b][0].IDs) != fmt.Sprint(w) {
			t.Errorf("row %d: ids %v, want %v", b, caps[b][0].IDs, w)
		}
		if d := math.Abs(caps[b][0].Score - float64(scores[b])); d > 1e-4 {
			t.Errorf("row %d: score %v, want %v", b, caps[b][0].Score, scores[b])
		}
	}
}

// A prompt makes the first step feed several tokens (the causal step
// mask); the device must agree with the CPU engine.
func TestPromptMatchesCPU(t *testing.T) {
	e, m := engine(t)
	g := openGolden(t)
	px := g.f32("inputs.pixel_values")
	cfg := gitmodel.DefaultGenerateConfig()
	cfg.Prompt = []int{7, 33, 5}
	cfg.MaxLength = 12
	var dev, cpu [][]float32
	cfg.StepLogits = func(step int, l []float32) { dev = append(dev, append([]float32(nil), l...)) }
	got, err := m.GenerateWith(e, px, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.StepLogits = func(step int, l []float32) { cpu = append(cpu, append([]float32(nil), l...)) }
	want, err := m.Generate(px, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) && !sameIDs(got, want) {
		t.Errorf("device %v, CPU %v", got, want)
	}
	for s := range min(len(dev), len(cpu)) {
		closeTo(t, fmt.Sprintf("step %d logits", s), dev[s], cpu[s], 1e-4, 1e-4)
	}
}

func sameIDs(a, b [][]gitmodel.Caption) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		for j := range a[i] {
			if fmt.Sprint(a[i][j].IDs) != fmt.Sprint(b[i][j].IDs) {
				return false
			}
		}
	}
	return true
}

func TestBadInputs(t *testing.T) {
	e, _ := engine(t)
	if _, err := e.Prefill(make([]float32, 10), 1, 5); err == nil {
		t.Error("Prefill accepted 10 pixel values")
	}
	px := openGolden(t).f32("inputs.pixel_values")[:3*32*32]
	s, err := e.Prefill(px, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Step([]int{500}, 1); err == nil {
		t.Error("Step accepted token 500 of a 120-word vocabulary")
	}
	if _, err := s.Step([]int{101, 5, 6}, 3); err == nil {
		t.Error("Step overflowed the cache")
	}
	if _, err := s.Gather([]int{3}).Step([]int{101}, 1); err == nil {
		t.Error("Gather of a missing row did not fail")
	}
}

// Quantized weights are refused with a clear error.
func TestRefusesQuantized(t *testing.T) {
	d := openDevice(t)
	m := loadTiny(t)
	m.Layers[0].Query.Quantize(kernels.Q8)
	if _, err := New(m, d); err == nil {
		t.Fatal("a quantized model was accepted")
	} else {
		t.Log(err)
	}
}
