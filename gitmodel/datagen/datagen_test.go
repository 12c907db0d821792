package datagen

import (
	"bytes"
	"image"
	"image/png"
	"io/fs"
	"math"
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

// derive reads a scene back from the pixels alone. Each pixel is read as a
// blend of the background (the top-left pixel) and one palette colour
// (colours are distinct within an image), which gives every colour a
// coverage map α. Per colour: the area A = Σα, the centre = the α-weighted
// mean position; a skewed row profile means a triangle, else A/(W·H) (W, H
// the largest row and column sums) tells a square (1) from a circle (π/4);
// the width implied by A and the shape gives the size, and the spread of
// the centres the layout.
func derive(t *testing.T, img image.Image, smallBelow float64) Scene {
	t.Helper()
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	rgb := func(x, y int) [3]float64 {
		r, g, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
		return [3]float64{float64(r >> 8), float64(g >> 8), float64(bb >> 8)}
	}
	bg := rgb(0, 0)
	size := float64(w)
	var s Scene
	for _, c := range BaseColours {
		d := [3]float64{float64(c.R) - bg[0], float64(c.G) - bg[1], float64(c.B) - bg[2]}
		dd := d[0]*d[0] + d[1]*d[1] + d[2]*d[2]
		rows, cols := make([]float64, h), make([]float64, w)
		var area, sx, sy float64
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				p := rgb(x, y)
				v := [3]float64{p[0] - bg[0], p[1] - bg[1], p[2] - bg[2]}
				a := (v[0]*d[0] + v[1]*d[1] + v[2]*d[2]) / dd
				var res float64
				for k := range v {
					e := v[k] - a*d[k]
					res += e * e
				}
				if a < 0.2 || res > 12*12 { // not this colour, or a faint edge of another
					continue
				}
				a = min(a, 1)
				rows[y] += a
				cols[x] += a
				area += a
				sx += a * (float64(x) + 0.5)
				sy += a * (float64(y) + 0.5)
			}
		}
		if area < 4 {
			continue
		}
		width, height := slices.Max(rows), slices.Max(cols)
		o := Object{Colour: c, CX: sx / area / size, CY: sy / area / size}
		// the row profile of an apex-up triangle grows linearly downwards
		// (skewness -0.57); those of circles and squares are symmetric
		var m2, m3 float64
		for y, r := range rows {
			dy := float64(y) + 0.5 - sy/area
			m2 += r * dy * dy / area
			m3 += r * dy * dy * dy / area
		}
		shapeArea := 1.0 // area / width²
		switch skew := m3 / math.Pow(m2, 1.5); {
		case skew < -0.3:
			o.Shape, shapeArea = Triangle, 0.5
		case area/(width*height) > 0.9:
			o.Shape = Square
		default:
			o.Shape, shapeArea = Circle, math.Pi/4
		}
		o.Small = math.Sqrt(area/shapeArea) < smallBelow*size
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

func spread(v []float64) float64 { return slices.Max(v) - slices.Min(v) }

// TestCaptionsFollowFromPixels re-derives every caption of a generated
// dataset from its PNG files alone, for both variants and two image sizes.
func TestCaptionsFollowFromPixels(t *testing.T) {
	for _, tc := range []struct {
		variant       string
		size, objects int
	}{{VariantBase, 48, 3}, {VariantReversed, 48, 3}, {VariantBase, 32, 2}, {VariantReversed, 32, 2}, {VariantBase, 96, 3}} {
		dir := t.TempDir()
		if _, err := Write(dir, Options{N: 150, Validation: 50, Seed: 7, ImageSize: tc.size, Variant: tc.variant, MaxObjects: tc.objects}); err != nil {
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
			// widths: small objects at most 2·0.085·k, others at least
			// 2·0.115·k of the image (k = 1.4 without three-object scenes)
			smallBelow := 0.2
			if tc.objects < 3 {
				smallBelow = 0.28
			}
			s := derive(t, img, smallBelow)
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
		for n := lo; n <= tc.objects; n++ {
			if counts[n] < 30 {
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
