package imageproc

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// An image far from square is small in pixels but huge once its short side
// is scaled to 224: a 1x2000 strip becomes 224x448000 (300 MB of RGB) before
// the center crop keeps 224x224 of it. Prepare must only compute the window
// it keeps, and give the bytes Resize + CenterCrop give.
func TestPrepareExtremeAspectComputesOnlyTheCrop(t *testing.T) {
	p, err := NewProcessor(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][2]int{{1, 2000}, {2000, 1}, {3, 1500}} {
		in := randomRGB(rng, sz[0], sz[1])
		var out *RGB
		n := allocated(func() { out, err = p.Prepare(in) })
		if err != nil {
			t.Fatalf("%dx%d: %v", sz[0], sz[1], err)
		}
		if out.W != 224 || out.H != 224 {
			t.Fatalf("%dx%d: got %dx%d", sz[0], sz[1], out.W, out.H)
		}
		if n > 4<<20 {
			t.Errorf("%dx%d: Prepare allocated %d MB for a 224x224 result", sz[0], sz[1], n>>20)
		}
		// The reference: the full resize, then the crop (small enough here).
		if sz != [2]int{1, 2000} && sz != [2]int{2000, 1} {
			w, h := ResizeOutputSize(in.W, in.H, p.cfg.Size)
			full, err := Resize(in, w, h, Bicubic)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := CenterCrop(full, 224, 224)
			if !bytes.Equal(out.Pix, want.Pix) {
				t.Errorf("%dx%d: crop window differs from Resize + CenterCrop", sz[0], sz[1])
			}
		}
	}
}

// Prepare's windowed resize gives exactly Resize + CenterCrop's bytes for
// every filter, for upscaling, downscaling, one-axis resizes, odd crops and
// crops larger than the resized image (zero padding).
func TestPrepareWindowMatchesFullResize(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, f := range []Resample{Bicubic, Bilinear, Box, Lanczos, Hamming} {
		for _, c := range []struct{ w, h, edge, cw, ch int }{
			{13, 11, 7, 5, 5}, {13, 11, 7, 7, 7}, {11, 13, 7, 6, 3}, {40, 9, 20, 9, 20},
			{9, 40, 20, 20, 9}, {17, 17, 17, 9, 9}, {17, 12, 12, 17, 12}, {5, 4, 6, 9, 8},
			{1, 37, 5, 5, 5}, {37, 1, 5, 4, 6}, {30, 20, 8, 3, 4}, {8, 8, 8, 8, 8},
		} {
			in := randomRGB(rng, c.w, c.h)
			cfg := DefaultConfig()
			cfg.Resample, cfg.Size, cfg.CropWidth, cfg.CropHeight = f, Size{ShortestEdge: c.edge}, c.cw, c.ch
			p, err := NewProcessor(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Prepare(in)
			if err != nil {
				t.Fatal(err)
			}
			w, h := ResizeOutputSize(c.w, c.h, cfg.Size)
			full, err := Resize(in, w, h, f)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := CenterCrop(full, c.ch, c.cw)
			if got.W != want.W || got.H != want.H || !bytes.Equal(got.Pix, want.Pix) {
				t.Errorf("%v %dx%d edge %d crop %dx%d: windowed resize differs", f, c.w, c.h, c.edge, c.cw, c.ch)
			}
		}
	}
}

// Without a center crop the resized image is the output: one that would
// exceed the pixel limit is refused before it is allocated.
func TestPrepareRefusesHugeResizeWithoutCrop(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DoCenterCrop = false
	p, err := NewProcessor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	in := randomRGB(rand.New(rand.NewPCG(1, 2)), 1, 500000) // -> 224 x 112,000,000
	var perr error
	n := allocated(func() { _, perr = p.Prepare(in) })
	if perr == nil || !strings.Contains(perr.Error(), "pixel limit") {
		t.Fatalf("got %v, want a pixel-limit error", perr)
	}
	if n > 4<<20 {
		t.Errorf("allocated %d MB before refusing", n>>20)
	}
}

// Sizes beyond any image's are configuration errors that name the field,
// not allocations of gigabytes.
func TestParseConfigRefusesAbsurdSizes(t *testing.T) {
	for _, c := range []struct{ json, field string }{
		{`{"size": {"shortest_edge": 1073741824}}`, "size"},
		{`{"size": {"height": 100000, "width": 100000}}`, "size"},
		{`{"crop_size": {"height": 100000, "width": 100000}}`, "crop_size"},
		{`{"crop_size": 4611686018427387904}`, "crop_size"},
	} {
		_, err := ParseConfig([]byte(c.json), "preprocessor_config.json")
		if err == nil || !strings.Contains(err.Error(), `"`+c.field+`"`) {
			t.Errorf("%s: got %v, want an error naming %q", c.json, err, c.field)
		}
	}
}

// LoadConfig's errors name the file by the path it was given, so a user
// with several model folders knows which preprocessor_config.json is bad.
func TestLoadConfigErrorNamesPath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "preprocessor_config.json")
	if err := os.WriteFile(path, []byte(`{"resample": 99}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), `"resample"`) {
		t.Fatalf("got %v, want an error starting with %s", err, path)
	}
}

// FuzzPrepare checks the windowed resize of Prepare against the full
// Resize + CenterCrop for random image sizes, targets, crops and filters.
//
//	go test -run '^$' -fuzz FuzzPrepare -fuzztime 30s ./gitmodel/imageproc/
func FuzzPrepare(f *testing.F) {
	f.Add(uint8(13), uint8(11), uint8(7), uint8(5), uint8(5), uint8(3), uint64(1))
	f.Add(uint8(1), uint8(200), uint8(9), uint8(9), uint8(9), uint8(1), uint64(2))
	f.Add(uint8(5), uint8(4), uint8(6), uint8(9), uint8(8), uint8(4), uint64(3))
	f.Fuzz(func(t *testing.T, w, h, edge, cw, ch, filter uint8, seed uint64) {
		if w == 0 || h == 0 || edge == 0 || cw == 0 || ch == 0 {
			return
		}
		cfg := DefaultConfig()
		cfg.Resample = Resample(1 + filter%5)
		cfg.Size, cfg.CropWidth, cfg.CropHeight = Size{ShortestEdge: int(edge)}, int(cw), int(ch)
		p, err := NewProcessor(cfg)
		if err != nil {
			t.Fatal(err)
		}
		in := randomRGB(rand.New(rand.NewPCG(seed, 1)), int(w), int(h))
		got, err := p.Prepare(in)
		if err != nil {
			t.Fatal(err)
		}
		rw, rh := ResizeOutputSize(in.W, in.H, cfg.Size)
		if rw <= 0 || rh <= 0 {
			t.Fatalf("%dx%d -> %dx%d", w, h, rw, rh)
		}
		full, err := Resize(in, rw, rh, cfg.Resample)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := CenterCrop(full, int(ch), int(cw))
		if got.W != want.W || got.H != want.H || !bytes.Equal(got.Pix, want.Pix) {
			t.Fatalf("%dx%d edge %d crop %dx%d %v: windowed resize differs", w, h, edge, cw, ch, cfg.Resample)
		}
	})
}
