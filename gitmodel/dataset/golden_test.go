package dataset

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/gitcap/gitcap/gitmodel/imageproc"
	"github.com/gitcap/gitcap/gitmodel/tokenizer"
	"github.com/gitcap/gitcap/tensor/safetensors"
)

const (
	tinyImages = "testdata/tiny-cli/images"
	tinyModel  = "testdata/tiny-cli/model"
)

// The captions of shared/golden/tiny-cli/README.md, "The data".
var tinyCaptions = []struct{ file, caption string }{
	{"boat.png", "a red boat."},
	{"cat.png", "a brown cat sleeping quietly on the wooden table by the window."},
	{"dogs.png", "two dogs playing in the snowy field"},
	{"people.png", "an old man and a young woman, walking near the sea."},
}

func tinyCollator(t *testing.T) *Collator {
	t.Helper()
	tok, err := tokenizer.Load(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := imageproc.LoadConfig(filepath.Join(tinyModel, "preprocessor_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	proc, err := imageproc.NewProcessor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &Collator{Tok: tok, Proc: proc, BlockSize: 64}
}

// copyTiny copies the golden images folder, leaving out the files drop names.
func copyTiny(t *testing.T, drop ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, tc := range tinyCaptions {
		for _, f := range []string{tc.file, CaptionFile(tc.file, "")} {
			if !slices.Contains(drop, f) {
				writeFile(t, filepath.Join(dir, f), readFile(t, filepath.Join(tinyImages, f)))
			}
		}
	}
	if !slices.Contains(drop, "metadata.jsonl") {
		writeFile(t, filepath.Join(dir, "metadata.jsonl"), readFile(t, filepath.Join(tinyImages, "metadata.jsonl")))
	}
	return dir
}

func TestLoadTinyCLI(t *testing.T) {
	for _, tc := range []struct {
		name   string
		path   func(t *testing.T) string
		format Format
	}{
		{"imagefolder", func(t *testing.T) string { return tinyImages }, ImageFolder},
		{"metadata file", func(t *testing.T) string { return filepath.Join(tinyImages, "metadata.jsonl") }, ImageFolder},
		{"sidecar", func(t *testing.T) string { return copyTiny(t, "metadata.jsonl") }, Sidecar},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.path(t)
			ds, err := Load(p, Options{Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			if ds.Format != tc.format {
				t.Errorf("format %v, want %v", ds.Format, tc.format)
			}
			if len(ds.Warnings) != 0 || ds.Skipped != 0 || ds.Total != 4 {
				t.Errorf("warnings %q, skipped %d, total %d", ds.Warnings, ds.Skipped, ds.Total)
			}
			if len(ds.Train) != len(tinyCaptions) || len(ds.Validation)+len(ds.Test) != 0 {
				t.Fatalf("train %d, validation %d, test %d", len(ds.Train), len(ds.Validation), len(ds.Test))
			}
			for i, want := range tinyCaptions {
				ex := ds.Train[i]
				if ex.FileName != want.file || !slices.Equal(ex.Captions, []string{want.caption}) {
					t.Errorf("example %d: %s %q, want %s %q", i, ex.FileName, ex.Captions, want.file, want.caption)
				}
				if ex.Path != filepath.Join(filepath.Dir(filepath.Join(p, "x")), want.file) && ex.Path != filepath.Join(filepath.Dir(p), want.file) {
					t.Errorf("example %d: path %s", i, ex.Path)
				}
			}
		})
	}
}

// TestCollateGolden reproduces expected/inputs.safetensors bit for bit.
func TestCollateGolden(t *testing.T) {
	ds, err := Load(tinyImages, Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	c := tinyCollator(t)
	b, errs := c.Collate(ds.Train, nil)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	f, err := safetensors.Open("testdata/tiny-cli/expected/inputs.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	wantPx, err := f.Float32s("pixel_values")
	if err != nil {
		t.Fatal(err)
	}
	if b.B != 4 || b.H != 32 || b.W != 32 || len(b.Pixels) != len(wantPx) {
		t.Fatalf("B=%d H=%d W=%d len(pixels)=%d, want 4, 32, 32, %d", b.B, b.H, b.W, len(b.Pixels), len(wantPx))
	}
	for i := range wantPx {
		if b.Pixels[i] != wantPx[i] {
			t.Fatalf("pixel_values[%d] = %v, want %v (bit-exact)", i, b.Pixels[i], wantPx[i])
		}
	}
	info, _ := f.Info("input_ids")
	if want := []int64{4, int64(b.T)}; !slices.Equal(info.Shape, want) {
		t.Fatalf("input_ids shape %v, batch T = %d", info.Shape, b.T)
	}
	for _, tc := range []struct {
		name string
		got  []int
	}{{"input_ids", b.IDs}, {"attention_mask", b.Mask}, {"labels", b.Labels}} {
		want, err := f.Int64s(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != len(tc.got) {
			t.Fatalf("%s: %d values, want %d", tc.name, len(tc.got), len(want))
		}
		for i := range want {
			if int64(tc.got[i]) != want[i] {
				t.Fatalf("%s[%d,%d] = %d, want %d\ngot  %v\nwant %v", tc.name, i/b.T, i%b.T, tc.got[i], want[i], tc.got, want)
			}
		}
	}
	if b.T != 17 || b.NumTargets != 47 {
		t.Errorf("T=%d targets=%d, want 17 and 47 (eval.json dataset_loss)", b.T, b.NumTargets)
	}
	if !slices.Equal(b.Files, []string{"boat.png", "cat.png", "dogs.png", "people.png"}) {
		t.Errorf("files %v", b.Files)
	}
}

// TestMicroBatchesGolden: the accumulation golden's micro-batches
// (tiny-cli/README.md "Training": batch size 2, no shuffling).
func TestMicroBatchesGolden(t *testing.T) {
	ds, err := Load(tinyImages, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := tinyCollator(t)
	wantFiles := [][]string{{"boat.png", "cat.png"}, {"dogs.png", "people.png"}}
	wantT, wantTargets := []int{17, 16}, []int{21, 26}
	for epoch := range 2 {
		order := Sampler{N: len(ds.Train), Shuffle: false, Seed: 7}.Epoch(epoch)
		batches := Batches(order, 2)
		if len(batches) != 2 {
			t.Fatalf("%d batches", len(batches))
		}
		for i, idx := range batches {
			b, errs := c.Collate(Select(ds.Train, idx), BatchRand(0, epoch, i))
			if len(errs) != 0 {
				t.Fatal(errs)
			}
			if !slices.Equal(b.Files, wantFiles[i]) || b.T != wantT[i] || b.NumTargets != wantTargets[i] {
				t.Errorf("epoch %d micro-batch %d: files %v T=%d targets=%d, want %v T=%d targets=%d",
					epoch, i, b.Files, b.T, b.NumTargets, wantFiles[i], wantT[i], wantTargets[i])
			}
			// Row 0 of batch 1 (dogs) is padded: 12 tokens then 4 pads.
			if i == 1 {
				row := b.Labels[:b.T]
				if row[11] != 102 || row[12] != IgnoreIndex || b.Mask[12] != 0 || b.IDs[12] != 0 {
					t.Errorf("dogs row: ids %v labels %v", b.IDs[:b.T], row)
				}
			}
		}
	}
}

func TestBlockSizeTruncation(t *testing.T) {
	ds, err := Load(tinyImages, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := tinyCollator(t)
	full, _ := c.Collate(ds.Train[1:2], nil) // cat: 17 tokens with [CLS] and [SEP]
	c2 := tinyCollator(t)
	c2.BlockSize = 6
	b, _ := c2.Collate(ds.Train[1:2], nil)
	want := append(slices.Clone(full.IDs[:5]), 102)
	if b.T != 6 || !slices.Equal(b.IDs, want) || b.NumTargets != 5 {
		t.Errorf("truncated ids %v (T=%d, targets %d), want %v", b.IDs, b.T, b.NumTargets, want)
	}
}
