package dataset

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitcap/gitcap/gitmodel/imageproc"
)

func pcg(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }

func testRGB(w, h int) *imageproc.RGB {
	img := &imageproc.RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 31)
	}
	return img
}

func TestFlipHorizontal(t *testing.T) {
	img := testRGB(5, 3)
	orig := &imageproc.RGB{W: 5, H: 3, Pix: slices.Clone(img.Pix)}
	FlipHorizontal(img)
	for y := range 3 {
		for x := range 5 {
			got := img.Pix[(y*5+x)*3 : (y*5+x)*3+3]
			want := orig.Pix[(y*5+4-x)*3 : (y*5+4-x)*3+3]
			if !slices.Equal(got, want) {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
	FlipHorizontal(img)
	if !slices.Equal(img.Pix, orig.Pix) {
		t.Error("flipping twice is not the identity")
	}
}

func TestCrop(t *testing.T) {
	img := testRGB(6, 4)
	c := Crop(img, 2, 1, 3, 2)
	for y := range 2 {
		for x := range 3 {
			got := c.Pix[(y*3+x)*3 : (y*3+x)*3+3]
			want := img.Pix[((y+1)*6+x+2)*3 : ((y+1)*6+x+2)*3+3]
			if !slices.Equal(got, want) {
				t.Fatalf("(%d,%d) %v want %v", x, y, got, want)
			}
		}
	}
}

func TestCropWindow(t *testing.T) {
	a := DefaultImageAug()
	rng := pcg(1)
	for _, sz := range [][2]int{{32, 32}, {640, 480}, {100, 30}, {3, 200}, {1, 1}} {
		w, h := sz[0], sz[1]
		for range 200 {
			x, y, cw, ch := a.CropWindow(w, h, rng)
			if x < 0 || y < 0 || cw < 1 || ch < 1 || x+cw > w || y+ch > h {
				t.Fatalf("%dx%d: window %d,%d %dx%d outside", w, h, x, y, cw, ch)
			}
			ratio := float64(cw) / float64(ch)
			area := float64(cw*ch) / float64(w*h)
			// Away from the fallback and rounding at tiny sizes, both stay in range.
			if w >= 32 && h >= 32 && float64(w)/float64(h) >= 0.75 && float64(w)/float64(h) <= 4.0/3 {
				if area < 0.75 || area > 1.05 || ratio < 0.7 || ratio > 1.4 {
					t.Errorf("%dx%d: area %.3f ratio %.3f", w, h, area, ratio)
				}
			}
		}
	}
	// Impossible aspect ratio: the fallback is torchvision's centre crop.
	if x, y, cw, ch := a.CropWindow(100, 10, pcg(3)); cw != 13 || ch != 10 || x != 43 || y != 0 {
		t.Errorf("fallback window %d,%d %dx%d, want 43,0 13x10", x, y, cw, ch)
	}
	if x, y, cw, ch := a.CropWindow(10, 100, pcg(3)); cw != 10 || ch != 13 || x != 0 || y != 43 {
		t.Errorf("fallback window %d,%d %dx%d, want 0,43 10x13", x, y, cw, ch)
	}
}

func TestImageAugDeterminism(t *testing.T) {
	ds, err := Load(tinyImages, Options{})
	if err != nil {
		t.Fatal(err)
	}
	aug := DefaultImageAug()
	collate := func(seed uint64) *Batch {
		c := tinyCollator(t)
		c.Augment = &aug
		c.CacheBytes = 1 << 20 // must not be used with augmentation
		b, errs := c.Collate(ds.Train, pcg(seed))
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		if c.CachedBytes() != 0 {
			t.Error("cache used with augmentation")
		}
		return b
	}
	a1, a2, b := collate(1), collate(1), collate(2)
	if !slices.Equal(a1.Pixels, a2.Pixels) {
		t.Error("same seed, different pixels")
	}
	if slices.Equal(a1.Pixels, b.Pixels) {
		t.Error("different seeds, same pixels")
	}
	plain, _ := tinyCollator(t).Collate(ds.Train, nil)
	if slices.Equal(a1.Pixels, plain.Pixels) {
		t.Error("augmentation changed nothing")
	}
	if !slices.Equal(a1.IDs, plain.IDs) || a1.H != 32 || a1.W != 32 {
		t.Error("augmentation changed the text or the size")
	}

	// A flip-only augmentation really mirrors the processed image.
	flip := ImageAug{Scale: [2]float64{1, 1}, Ratio: [2]float64{1, 1}, FlipP: 1}
	c := tinyCollator(t)
	c.Augment = &flip
	fb, _ := c.Collate(ds.Train[:1], pcg(5))
	for ch := range 3 {
		for y := range 32 {
			for x := range 32 {
				if fb.Pixels[ch*1024+y*32+x] != plain.Pixels[ch*1024+y*32+31-x] {
					t.Fatalf("c%d (%d,%d): not mirrored", ch, x, y)
				}
			}
		}
	}
	// With rng nil nothing is random, augmentation included.
	nb, _ := c.Collate(ds.Train[:1], nil)
	if !slices.Equal(nb.Pixels, plain.Pixels[:3*1024]) {
		t.Error("rng nil: augmentation applied")
	}
}

func TestCaptionAug(t *testing.T) {
	const caption = "a photo of a cat, orange, sleeping, on a sofa, indoors, soft light"
	parts := strings.Split(caption, ", ")
	for _, tc := range []struct {
		name string
		aug  CaptionAug
	}{
		{"shuffle", CaptionAug{Shuffle: true}},
		{"shuffle frozen 1", CaptionAug{Shuffle: true, FrozenParts: 1}},
		{"shuffle frozen 2 dropout", CaptionAug{Shuffle: true, FrozenParts: 2, Dropout: 0.5}},
		{"dropout all", CaptionAug{Dropout: 1}},
		{"dropout all frozen", CaptionAug{Dropout: 1, FrozenParts: 1}},
		{"frozen beyond parts", CaptionAug{Shuffle: true, FrozenParts: 99, Dropout: 0.9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := pcg(42)
			seen := map[string]bool{}
			for range 300 {
				got := tc.aug.Apply(caption, rng)
				seen[got] = true
				gp := strings.Split(got, ", ")
				if got == "" || slices.Contains(gp, "") {
					t.Fatalf("empty output or part: %q", got)
				}
				frozen := min(tc.aug.FrozenParts, len(parts))
				if !slices.Equal(gp[:min(frozen, len(gp))], parts[:frozen]) || len(gp) < frozen {
					t.Fatalf("frozen parts moved: %q", got)
				}
				for _, p := range gp {
					if !slices.Contains(parts, p) {
						t.Fatalf("invented part %q", p)
					}
				}
				if len(slices.Compact(slices.Sorted(slices.Values(gp)))) != len(gp) {
					t.Fatalf("repeated part: %q", got)
				}
				if tc.aug.Dropout == 0 && len(gp) != len(parts) {
					t.Fatalf("dropped without dropout: %q", got)
				}
				if tc.aug.Dropout == 1 && len(gp) != max(frozen, 1) {
					t.Fatalf("dropout 1 kept %d parts: %q", len(gp), got)
				}
			}
			if tc.aug.FrozenParts < len(parts) && !(tc.aug.Dropout >= 1 && tc.aug.FrozenParts > 0) && len(seen) < 2 {
				t.Errorf("no variation: %v", seen)
			}
			// Reproducible from the seed.
			r1, r2 := pcg(9), pcg(9)
			for range 20 {
				if a, b := tc.aug.Apply(caption, r1), tc.aug.Apply(caption, r2); a != b {
					t.Fatalf("same seed: %q vs %q", a, b)
				}
			}
		})
	}
	if got := (CaptionAug{}).Apply(" as is ,  x ", nil); got != " as is ,  x " {
		t.Errorf("inactive changed the caption: %q", got)
	}
	if got := (CaptionAug{Shuffle: true}).Apply("single part", pcg(1)); got != "single part" {
		t.Errorf("single part: %q", got)
	}
}

func TestPickCaption(t *testing.T) {
	ex := Example{Captions: []string{"a", "b", "c"}}
	if PickCaption(ex, nil) != "a" {
		t.Error("rng nil must pick the first caption")
	}
	rng := pcg(3)
	count := map[string]int{}
	for range 300 {
		count[PickCaption(ex, rng)]++
	}
	if len(count) != 3 || count["a"] < 50 || count["b"] < 50 || count["c"] < 50 {
		t.Errorf("picks %v", count)
	}
}

func TestSampler(t *testing.T) {
	s := Sampler{N: 10, Shuffle: true, Seed: 1}
	e0, e0b, e1 := s.Epoch(0), s.Epoch(0), s.Epoch(1)
	if !slices.Equal(e0, e0b) || slices.Equal(e0, e1) {
		t.Errorf("epoch 0 %v / %v, epoch 1 %v", e0, e0b, e1)
	}
	if !slices.Equal(slices.Sorted(slices.Values(e1)), Sampler{N: 10}.Epoch(1)) {
		t.Errorf("not a permutation: %v", e1)
	}
	if slices.Equal(e0, (Sampler{N: 10, Shuffle: true, Seed: 2}).Epoch(0)) {
		t.Error("seed ignored")
	}
	if got := (Sampler{N: 4, Seed: 1}).Epoch(3); !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Errorf("no shuffle: %v", got)
	}
	if got := Batches([]int{4, 3, 2, 1, 0}, 2); len(got) != 3 || !slices.Equal(got[2], []int{0}) || NumBatches(5, 2) != 3 {
		t.Errorf("batches %v", got)
	}
	if BatchRand(1, 0, 1).Uint64() == BatchRand(1, 0, 2).Uint64() || BatchRand(1, 0, 1).Uint64() != BatchRand(1, 0, 1).Uint64() {
		t.Error("BatchRand streams")
	}
	if BatchRand(1, 1, 0).Uint64() == BatchRand(1, 0, 1).Uint64() {
		t.Error("BatchRand: epoch and batch collide")
	}
}

func TestCollateBadImageAndCache(t *testing.T) {
	dir := copyTiny(t)
	// cat.png keeps its header but loses its pixel data after Load.
	ds, err := Load(dir, Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	good := readFile(t, filepath.Join(dir, "cat.png"))
	writeFile(t, filepath.Join(dir, "cat.png"), good[:60])
	c := tinyCollator(t)
	c.CacheBytes = 2 * 3 * 32 * 32 * 4 // room for two images
	b, errs := c.Collate(ds.Train, pcg(1))
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "cat.png: decode png: ") {
		t.Fatalf("errors %v", errs)
	}
	if b.B != 3 || !slices.Equal(b.Files, []string{"boat.png", "dogs.png", "people.png"}) || b.T != 16 {
		t.Fatalf("batch %v T=%d", b.Files, b.T)
	}
	if got := c.CachedBytes(); got != int64(c.CacheBytes) {
		t.Errorf("cache holds %d bytes, want the budget %d", got, c.CacheBytes)
	}
	// Cached pixels are the same as fresh ones.
	writeFile(t, filepath.Join(dir, "cat.png"), good)
	b2, errs := c.Collate(ds.Train, pcg(1))
	fresh, _ := tinyCollator(t).Collate(ds.Train, nil)
	if len(errs) != 0 || !slices.Equal(b2.Pixels, fresh.Pixels) {
		t.Errorf("cached pixels differ (errors %v)", errs)
	}
	// Every image failing: no batch.
	if b, errs := c.Collate([]Example{{Path: filepath.Join(dir, "nope.png"), FileName: "nope.png", Captions: []string{"x"}}}, nil); b != nil || len(errs) != 1 {
		t.Errorf("batch %v errors %v", b, errs)
	}
}
