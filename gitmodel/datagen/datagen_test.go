package datagen

import (
	"bytes"
	"image"
	"image/png"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/gitmodel/dataset"
	"github.com/gitcap/gitcap/gitmodel/imageproc"
	"github.com/gitcap/gitcap/gitmodel/tokenizer"
)

func TestCaptionGrammar(t *testing.T) {
	red, blue, green := BaseColours[0], BaseColours[2], BaseColours[1]
	col := Scene{Layout: Column, Objects: []Object{
		{Shape: Circle, Colour: red}, {Shape: Square, Colour: blue, Small: true}}}
	row := Scene{Layout: Row, Objects: []Object{
		{Shape: Triangle, Colour: green}, {Shape: Circle, Colour: red}, {Shape: Square, Colour: blue, Small: true}}}
	one := Scene{Layout: Single, Objects: []Object{{Shape: Triangle, Colour: green, Small: true}}}
	for _, c := range []struct {
		s             Scene
		base, reverse string
	}{
		{col, "a red circle above a small blue square", "a small blue square below a red circle"},
		{row, "a green triangle left of a red circle left of a small blue square",
			"a small blue square right of a red circle right of a green triangle"},
		{one, "a small green triangle", "a small green triangle"},
	} {
		if got := c.s.Caption(VariantBase); got != c.base {
			t.Errorf("base caption %q, want %q", got, c.base)
		}
		if got := c.s.Caption(VariantReversed); got != c.reverse {
			t.Errorf("reversed caption %q, want %q", got, c.reverse)
		}
	}
}

// derive reads a scene back from the pixels alone: every pixel close to a
// palette colour belongs to the object of that colour (colours are distinct
// within an image); the object's bounding box gives its size and centre,
// the share of the box it fills gives its shape (square 1, circle π/4,
// triangle 1/2), and the spread of the centres gives the layout.
func derive(t *testing.T, img image.Image) Scene {
	t.Helper()
	type acc struct{ n, x0, y0, x1, y1 int }
	found := map[int]*acc{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if ci := colourAt(img, x, y); ci >= 0 {
				a := found[ci]
				if a == nil {
					a = &acc{x0: x, y0: y, x1: x, y1: y}
					found[ci] = a
				}
				a.n++
				a.x0, a.y0, a.x1, a.y1 = min(a.x0, x), min(a.y0, y), max(a.x1, x), max(a.y1, y)
			}
		}
	}
	size := float64(b.Dx())
	var s Scene
	for ci, a := range found {
		w, h := a.x1-a.x0+1, a.y1-a.y0+1
		fill := float64(a.n) / float64(w*h)
		o := Object{Colour: BaseColours[ci], CX: (float64(a.x0+a.x1) + 1) / 2 / size, CY: (float64(a.y0+a.y1) + 1) / 2 / size}
		corner := func(x, y int) bool { return colourAt(img, x, y) == ci }
		switch {
		case fill < 0.65:
			o.Shape = Triangle
		case corner(a.x0, a.y0) && corner(a.x1, a.y0) && corner(a.x0, a.y1) && corner(a.x1, a.y1):
			o.Shape = Square
		default:
			o.Shape = Circle
		}
		o.Small = float64(max(w, h)) < 0.2*size
		s.Objects = append(s.Objects, o)
	}
	switch len(s.Objects) {
	case 0:
		t.Fatal("no object found in the pixels")
	case 1:
		s.Layout = Single
	default:
		var xs, ys []float64
		for _, o := range s.Objects {
			xs, ys = append(xs, o.CX), append(ys, o.CY)
		}
		if spread(xs) > spread(ys) {
			s.Layout = Row
			sort.Slice(s.Objects, func(i, j int) bool { return s.Objects[i].CX < s.Objects[j].CX })
		} else {
			s.Layout = Column
			sort.Slice(s.Objects, func(i, j int) bool { return s.Objects[i].CY < s.Objects[j].CY })
		}
	}
	return s
}

// colourAt is the index of the palette colour of a pixel that the colour
// covers fully (or nearly), else -1.
func colourAt(img image.Image, x, y int) int {
	r, g, b, _ := img.At(x, y).RGBA()
	for ci, c := range BaseColours {
		dr, dg, db := int(r>>8)-int(c.R), int(g>>8)-int(c.G), int(b>>8)-int(c.B)
		if dr*dr+dg*dg+db*db <= 30*30 {
			return ci
		}
	}
	return -1
}

func spread(v []float64) float64 { return slices.Max(v) - slices.Min(v) }

// TestCaptionsFollowFromPixels re-derives every caption of a generated
// dataset from its PNG files alone, for both variants and two image sizes.
func TestCaptionsFollowFromPixels(t *testing.T) {
	for _, tc := range []struct {
		variant string
		size    int
	}{{VariantBase, 64}, {VariantReversed, 64}, {VariantBase, 96}} {
		dir := t.TempDir()
		if _, err := Write(dir, Options{N: 150, Validation: 50, Seed: 7, ImageSize: tc.size, Variant: tc.variant}); err != nil {
			t.Fatal(err)
		}
		ds, err := dataset.Load(dir, dataset.Options{Strict: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds.Train) != 150 || len(ds.Validation) != 50 || len(ds.Warnings) != 0 {
			t.Fatalf("%s: %d train, %d validation, warnings %q", dir, len(ds.Train), len(ds.Validation), ds.Warnings)
		}
		counts := map[int]int{}
		for _, ex := range append(ds.Train, ds.Validation...) {
			f, err := os.Open(ex.Path)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds().Dx() != tc.size || img.Bounds().Dy() != tc.size {
				t.Fatalf("%s is %v, want %d×%d", ex.Path, img.Bounds(), tc.size, tc.size)
			}
			s := derive(t, img)
			counts[len(s.Objects)]++
			if got := s.Caption(tc.variant); got != ex.Captions[0] {
				t.Errorf("%s (%s, %d px): pixels say %q, caption is %q", ex.FileName, tc.variant, tc.size, got, ex.Captions[0])
			}
			side, err := os.ReadFile(strings.TrimSuffix(ex.Path, ".png") + ".txt")
			if err != nil || strings.TrimSpace(string(side)) != ex.Captions[0] {
				t.Errorf("%s: sidecar caption %q, metadata %q (%v)", ex.FileName, side, ex.Captions[0], err)
			}
		}
		lo := 1
		if tc.variant == VariantReversed {
			lo = 2
		}
		for n := lo; n <= 3; n++ {
			if counts[n] < 20 {
				t.Errorf("%s: only %d of 200 images hold %d objects (%v)", tc.variant, counts[n], n, counts)
			}
		}
	}
}

// TestScenesAreWellFormed: objects inside the image, apart from each other,
// distinct colours, relations unambiguous.
func TestScenesAreWellFormed(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		s := Sample(r, SceneOptions{MinObjects: 1, MaxObjects: 3})
		seen := map[string]bool{}
		for j, o := range s.Objects {
			if o.CX-o.Half < 0.02 || o.CX+o.Half > 0.98 || o.CY-o.Half < 0.02 || o.CY+o.Half > 0.98 {
				t.Fatalf("scene %d: object %d leaves the image: %+v", i, j, o)
			}
			if seen[o.Colour.Name] {
				t.Fatalf("scene %d: colour %s twice", i, o.Colour.Name)
			}
			seen[o.Colour.Name] = true
			if j == 0 {
				continue
			}
			p := s.Objects[j-1]
			along, across := o.CX-p.CX, o.CY-p.CY
			if s.Layout == Column {
				along, across = across, along
			}
			if gap := along - o.Half - p.Half; gap < 0.01 {
				t.Fatalf("scene %d: objects %d and %d overlap or touch (gap %.3f)", i, j-1, j, gap)
			}
			if across < -0.1 || across > 0.1 || along < 0.25 {
				t.Fatalf("scene %d: relation of objects %d and %d is ambiguous (along %.3f, across %.3f)", i, j-1, j, along, across)
			}
		}
	}
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestDeterministicPerSeed(t *testing.T) {
	o := Options{N: 40, Validation: 10, Seed: 3}
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if _, err := Write(d, o); err != nil {
			t.Fatal(err)
		}
	}
	o.Seed = 4
	if _, err := Write(c, o); err != nil {
		t.Fatal(err)
	}
	fa, fb, fc := readTree(t, a), readTree(t, b), readTree(t, c)
	if len(fa) != 2*50+2+1+6 {
		t.Errorf("wrote %d files, want %d", len(fa), 2*50+2+1+6)
	}
	same := 0
	for name, data := range fa {
		if !bytes.Equal(data, fb[name]) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
		if bytes.Equal(data, fc[name]) {
			same++
		}
	}
	// the vocabulary and model config do not depend on the seed; images do
	if bytes.Equal(fa["train/metadata.jsonl"], fc["train/metadata.jsonl"]) || same > 12 {
		t.Errorf("seeds 3 and 4 share %d of %d files", same, len(fa))
	}
}

// TestVocabAndModelConfig: the tokenizer of model-config/ covers every
// caption word of both variants without [UNK] or word pieces, every vocab
// word is used, and the folder loads as a model config and CLIP processor
// whose special ids match the vocabulary.
func TestVocabAndModelConfig(t *testing.T) {
	dir := t.TempDir()
	sum, err := Write(dir, Options{N: 300, Validation: 0, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(sum.ModelConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := gitmodel.LoadConfig(filepath.Join(sum.ModelConfig, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != cfg.VocabSize || tok.CLS() != cfg.BosTokenID || tok.SEP() != cfg.EosTokenID || tok.PAD() != cfg.PadTokenID {
		t.Fatalf("tokenizer (size %d, cls %d, sep %d, pad %d) does not match config.json (%d, %d, %d, %d)",
			tok.VocabSize(), tok.CLS(), tok.SEP(), tok.PAD(), cfg.VocabSize, cfg.BosTokenID, cfg.EosTokenID, cfg.PadTokenID)
	}
	if pc, err := imageproc.LoadConfig(filepath.Join(sum.ModelConfig, "preprocessor_config.json")); err != nil || pc.CropHeight != cfg.Vision.ImageSize {
		t.Fatalf("preprocessor config: %+v, %v (model image size %d)", pc, err, cfg.Vision.ImageSize)
	}
	if vocab, _ := os.ReadFile(filepath.Join(dir, "vocab.txt")); !bytes.Equal(vocab, VocabFile()) {
		t.Error("dir/vocab.txt differs from model-config/vocab.txt")
	}
	used := map[string]bool{}
	items, _ := Generate(Options{N: 300, Seed: 5})
	rev, _ := Generate(Options{N: 300, Seed: 5, Variant: VariantReversed})
	for _, it := range append(items, rev...) {
		ids := tok.Encode(it.Caption, true)
		words := strings.Fields(it.Caption)
		if len(ids) != len(words)+2 {
			t.Fatalf("%q: %d ids for %d words", it.Caption, len(ids), len(words))
		}
		for i, w := range words {
			if ids[i+1] == tok.UNK() || tok.IDToken(ids[i+1]) != w {
				t.Fatalf("%q: word %q is token %q", it.Caption, w, tok.IDToken(ids[i+1]))
			}
			used[w] = true
		}
		if got := tok.Decode(ids, true, true); got != it.Caption {
			t.Fatalf("decode(encode(%q)) = %q", it.Caption, got)
		}
	}
	for _, w := range Words() {
		if !used[w] {
			t.Errorf("vocabulary word %q appears in no caption", w)
		}
	}
	if m := cfg.MaxPositionEmbeddings; m < 3*5+2+2 {
		t.Errorf("max_position_embeddings %d is too short for the longest caption", m)
	}
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Options{
		{N: 0}, {N: 5, Variant: "nope"}, {N: 5, MaxObjects: 4}, {N: 5, MinObjects: 3, MaxObjects: 2}, {N: 5, ImageSize: 8},
	} {
		if _, err := Generate(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
