package dataset

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pngBytes encodes a w x h image whose pixel (x, y) is (7x, 5y, x+y).
func pngBytes(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 7), uint8(y * 5), uint8(x + y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err) // cannot fail: in memory, valid image
	}
	return buf.Bytes()
}

// tree writes files: a value "PNG" becomes an 8x8 PNG.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		data := []byte(content)
		if content == "PNG" {
			data = pngBytes(8, 8)
		}
		writeFile(t, filepath.Join(dir, filepath.FromSlash(name)), data)
	}
	return dir
}

func names(ex []Example) []string {
	var out []string
	for _, e := range ex {
		out = append(out, e.FileName)
	}
	return out
}

func captions(ex []Example) [][]string {
	var out [][]string
	for _, e := range ex {
		out = append(out, e.Captions)
	}
	return out
}

func TestLoadSplitsCSV(t *testing.T) {
	dir := tree(t, map[string]string{
		"train/metadata.csv":      "file_name,text\nb.png,second image\na.png,\"first, with comma\"\nsub/c.png,third\n",
		"train/a.png":             "PNG",
		"train/b.png":             "PNG",
		"train/sub/c.png":         "PNG",
		"validation/metadata.csv": "file_name,caption\nv.png,  a validation caption  \n",
		"validation/v.png":        "PNG",
		"test/metadata.csv":       "file_name,text\nt.png,test caption\n",
		"test/t.png":              "PNG",
	})
	ds, err := Load(dir, Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Format != ImageFolder {
		t.Errorf("format %v", ds.Format)
	}
	if got, want := names(ds.Train), []string{"train/a.png", "train/b.png", "train/sub/c.png"}; !slices.Equal(got, want) {
		t.Errorf("train %v, want %v", got, want)
	}
	if got := captions(ds.Train); got[0][0] != "first, with comma" || got[2][0] != "third" {
		t.Errorf("train captions %q", got)
	}
	if got := captions(ds.Validation); len(got) != 1 || got[0][0] != "a validation caption" {
		t.Errorf("validation %q", got)
	}
	if got := names(ds.Test); !slices.Equal(got, []string{"test/t.png"}) {
		t.Errorf("test %v", got)
	}
	if ds.Train[0].Path != filepath.Join(dir, "train", "a.png") {
		t.Errorf("path %s", ds.Train[0].Path)
	}

	// Only one split.
	ds, err = Load(dir, Options{Split: SplitValidation})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Train)+len(ds.Test) != 0 || len(ds.Validation) != 1 || ds.Total != 1 {
		t.Errorf("split=validation: %d/%d/%d total %d", len(ds.Train), len(ds.Validation), len(ds.Test), ds.Total)
	}
	if _, err := Load(tinyImages, Options{Split: SplitValidation}); err == nil {
		t.Error("split=validation on a dataset without one: no error")
	}
	if _, err := Load(dir, Options{Split: "dev"}); err == nil {
		t.Error("unknown split name: no error")
	}
}

func TestSplitKeywords(t *testing.T) {
	for name, want := range map[string]int{
		"train": 0, "Training": 0, "my_train": 0, "train-00001": 0, "train2014": 0,
		"validation": 1, "val": 1, "valid": 1, "dev": 1, "val2014": 1,
		"test": 2, "testing": 2, "eval": 2,
		"trainer": -1, "devices": -1, "values": -1, "contest": -1, "images": -1,
	} {
		id, ok := splitOfDirName(name)
		got := int(id)
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("%q: split %d, want %d", name, got, want)
		}
	}
}

func TestLoadSidecarSplitsAndRecursive(t *testing.T) {
	files := map[string]string{
		"x.png": "PNG", "x.txt": "root\n",
		"train/B.PNG": "PNG", "train/B_c.txt": "upper case\r\n\r\nsecond line\n",
		"train/a.jpeg": "PNG", "train/a_c.txt": "jpeg named\n",
		"val/v.webp": "PNG", "val/v_c.txt": "val",
		"other/deep.png": "PNG", "other/deep_c.txt": "deep",
		"x_c.txt": "root with suffix",
	}
	dir := tree(t, files)
	// PNG bytes under .jpeg/.webp names are fine: formats are sniffed.
	ds, err := Load(dir, Options{CaptionFileSuffix: "_c", Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(ds.Train), []string{"train/B.PNG", "train/a.jpeg", "x.png"}; !slices.Equal(got, want) {
		t.Errorf("train %v, want %v", got, want)
	}
	if got := ds.Train[0].Captions[0]; got != "upper case second line" {
		t.Errorf("multi-line caption %q", got)
	}
	if got := names(ds.Validation); !slices.Equal(got, []string{"val/v.webp"}) {
		t.Errorf("validation %v", got)
	}
	ds, err = Load(dir, Options{CaptionFileSuffix: "_c", Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(ds.Train), []string{"other/deep.png", "train/B.PNG", "train/a.jpeg", "x.png"}; !slices.Equal(got, want) {
		t.Errorf("recursive train %v, want %v", got, want)
	}
}

func TestLoadCOCO(t *testing.T) {
	coco := `{"info": {}, "images": [
	  {"id": 2, "file_name": "b.jpg", "width": 8, "height": 8},
	  {"id": 1, "file_name": "a.jpg"}],
	 "annotations": [
	  {"id": 10, "image_id": 1, "caption": "A dog on a couch."},
	  {"id": 11, "image_id": 2, "caption": "Only caption of b"},
	  {"id": 12, "image_id": 1, "caption": " Another dog caption "}]}`
	for _, tc := range []struct {
		name, json string
		files      map[string]string
		opt        func(dir string) Options
	}{
		{"next to the json", "captions.json", map[string]string{"a.jpg": "PNG", "b.jpg": "PNG"}, nil},
		{"images folder", "captions.json", map[string]string{"images/a.jpg": "PNG", "images/b.jpg": "PNG"}, nil},
		{"annotations layout", "annotations/captions_train2014.json",
			map[string]string{"train2014/a.jpg": "PNG", "train2014/b.jpg": "PNG"}, nil},
		{"image dir option", "c.json", map[string]string{"elsewhere/a.jpg": "PNG", "elsewhere/b.jpg": "PNG"},
			func(dir string) Options { return Options{ImageDir: filepath.Join(dir, "elsewhere")} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.files[tc.json] = coco
			dir := tree(t, tc.files)
			opt := Options{Strict: true}
			if tc.opt != nil {
				opt = tc.opt(dir)
				opt.Strict = true
			}
			ds, err := Load(filepath.Join(dir, tc.json), opt)
			if err != nil {
				t.Fatal(err)
			}
			if ds.Format != COCO || !slices.Equal(names(ds.Train), []string{"a.jpg", "b.jpg"}) {
				t.Fatalf("format %v, train %v", ds.Format, names(ds.Train))
			}
			if got := ds.Train[0].Captions; !slices.Equal(got, []string{"A dog on a couch.", "Another dog caption"}) {
				t.Errorf("captions of a.jpg %q", got)
			}
			if !fileExists(ds.Train[1].Path) {
				t.Errorf("path %s does not exist", ds.Train[1].Path)
			}
		})
	}
}

// TestBadInput: every kind of bad input is skipped with one warning naming
// the file and the cause, counted in the summary, and fatal with Strict.
func TestBadInput(t *testing.T) {
	truncated := string(pngBytes(8, 8)[:40]) // header intact, data cut
	for _, tc := range []struct {
		name    string
		files   map[string]string
		load    string // path to load, relative; "" = the folder
		kind    ProblemKind
		warning string // substring of the warning line (file and cause)
		good    int    // examples left
	}{
		{"missing caption file", map[string]string{"a.png": "PNG", "a.txt": "ok", "b.png": "PNG"}, "",
			MissingCaption, "b.png: no caption file b.txt", 1},
		{"empty caption", map[string]string{"a.png": "PNG", "a.txt": "ok", "b.png": "PNG", "b.txt": " \n\t\n"}, "",
			EmptyCaption, "b.png: caption file b.txt is empty", 1},
		{"non-UTF-8 caption", map[string]string{"a.png": "PNG", "a.txt": "ok", "b.png": "PNG", "b.txt": "caf\xe9"}, "",
			InvalidUTF8, "b.png: caption file b.txt is not valid UTF-8", 1},
		{"unreadable image", map[string]string{"a.png": "PNG", "a.txt": "ok", "b.png": "not an image", "b.txt": "x"}, "",
			BadImage, "b.png: unreadable image: not a png", 1},
		{"empty image", map[string]string{"a.png": "PNG", "a.txt": "ok", "b.png": "", "b.txt": "x"}, "",
			BadImage, "b.png: unreadable image: empty file", 1},
		{"broken header", map[string]string{"a.png": "PNG", "a.txt": "ok", "b.png": truncated[:20], "b.txt": "x"}, "",
			BadImage, "b.png: unreadable image: png header", 1},
		{"metadata row naming a missing file", map[string]string{"a.png": "PNG",
			"metadata.jsonl": `{"file_name": "a.png", "text": "ok"}` + "\n" + `{"file_name": "gone.png", "text": "x"}` + "\n"}, "",
			MissingImage, "gone.png: no such file (metadata.jsonl:2)", 1},
		{"metadata empty caption", map[string]string{"a.png": "PNG", "b.png": "PNG",
			"metadata.jsonl": `{"file_name": "a.png", "text": "ok"}` + "\n" + `{"file_name": "b.png", "text": "  "}` + "\n"}, "",
			EmptyCaption, "b.png: empty caption (metadata.jsonl:2)", 1},
		{"metadata non-UTF-8 caption", map[string]string{"a.png": "PNG", "b.png": "PNG",
			"metadata.jsonl": `{"file_name": "a.png", "text": "ok"}` + "\n" + `{"file_name": "b.png", "text": "caf` + "\xe9" + `"}` + "\n"}, "",
			InvalidUTF8, `b.png: "text" is not valid UTF-8 (metadata.jsonl:2)`, 1},
		{"metadata no caption column", map[string]string{"a.png": "PNG", "b.png": "PNG",
			"metadata.jsonl": `{"file_name": "a.png", "text": "ok"}` + "\n" + `{"file_name": "b.png", "label": 3}` + "\n"}, "",
			MissingCaption, "b.png: no caption column (want text or caption or prompt or captions; columns: file_name, label)", 1},
		{"metadata caption of the wrong type", map[string]string{"a.png": "PNG", "b.png": "PNG",
			"metadata.jsonl": `{"file_name": "a.png", "text": "ok"}` + "\n" + `{"file_name": "b.png", "text": 3}` + "\n"}, "",
			BadRow, `b.png: "text" is a number`, 1},
		{"metadata invalid JSON", map[string]string{"a.png": "PNG",
			"metadata.jsonl": `{"file_name": "a.png", "text": "ok"}` + "\n" + `{"file_name": ` + "\n"}, "",
			BadRow, "metadata.jsonl:2: not a JSON object", 1},
		{"metadata absolute path", map[string]string{"a.png": "PNG",
			"metadata.jsonl": `{"file_name": "a.png", "text": "ok"}` + "\n" + `{"file_name": "/etc/passwd", "text": "x"}` + "\n"}, "",
			BadPath, `metadata.jsonl:2: file_name "/etc/passwd": absolute paths are not allowed`, 1},
		{"metadata dot-dot path", map[string]string{"a.png": "PNG", "sub/metadata.csv": "file_name,text\n../a.png,x\nb.png,y\n", "sub/b.png": "PNG"},
			"sub", BadPath, `metadata.csv:2: file_name "../a.png": ".." is not allowed`, 1},
		{"metadata duplicate row", map[string]string{"a.png": "PNG",
			"metadata.csv": "file_name,text\na.png,same\na.png,same\n"}, "",
			Duplicate, "a.png: duplicate row (metadata.csv:3) repeats metadata.csv:2", 1},
		{"metadata unreadable image", map[string]string{"a.png": "PNG", "b.png": "GIF89a",
			"metadata.csv": "file_name,text\na.png,x\nb.png,y\n"}, "",
			BadImage, "b.png: unreadable image: gif header", 1},
		{"coco image without annotation", map[string]string{"a.png": "PNG", "b.png": "PNG",
			"c.json": `{"images": [{"id": 1, "file_name": "a.png"}, {"id": 2, "file_name": "b.png"}], "annotations": [{"image_id": 1, "caption": "x"}]}`},
			"c.json", MissingCaption, "b.png: no caption annotation for image id 2", 1},
		{"coco missing image", map[string]string{"a.png": "PNG",
			"c.json": `{"images": [{"id": 1, "file_name": "a.png"}, {"id": 2, "file_name": "b.png"}], "annotations": [{"image_id": 1, "caption": "x"}, {"image_id": 2, "caption": "y"}]}`},
			"c.json", MissingImage, "b.png: no such file (c.json images[1])", 1},
		{"coco duplicate image", map[string]string{"a.png": "PNG",
			"c.json": `{"images": [{"id": 1, "file_name": "a.png"}, {"id": 1, "file_name": "a.png"}], "annotations": [{"image_id": 1, "caption": "x"}]}`},
			"c.json", Duplicate, "a.png: image id 1 listed twice", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tree(t, tc.files)
			p := filepath.Join(dir, filepath.FromSlash(tc.load))
			ds, err := Load(p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if ds.Len() != tc.good || ds.Skipped != 1 || len(ds.Problems) != 1 {
				t.Fatalf("%d examples, %d skipped, warnings %q", ds.Len(), ds.Skipped, ds.Warnings)
			}
			if ds.Problems[0].Kind != tc.kind {
				t.Errorf("kind %v, want %v", ds.Problems[0].Kind, tc.kind)
			}
			if !strings.Contains(ds.Warnings[0], tc.warning) {
				t.Errorf("warning %q does not contain %q", ds.Warnings[0], tc.warning)
			}
			sum := ds.Warnings[len(ds.Warnings)-1]
			if want := "skipped 1 of "; !strings.HasPrefix(sum, want) || !strings.Contains(sum, "1 "+tc.kind.String()) {
				t.Errorf("summary %q", sum)
			}
			_, err = Load(p, Options{Strict: true})
			var pe *ProblemError
			if !errors.As(err, &pe) || pe.Problem.Kind != tc.kind || !strings.Contains(err.Error(), tc.warning) {
				t.Errorf("strict: %v", err)
			}
		})
	}
}

func TestLoadNothingLeft(t *testing.T) {
	dir := tree(t, map[string]string{"a.png": "PNG", "b.png": "junk", "b.txt": "x"})
	_, err := Load(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "no usable examples") || !strings.Contains(err.Error(), "skipped 2 of 2 items: 1 missing caption, 1 unreadable image") {
		t.Errorf("err = %v", err)
	}
	if _, err := Load(t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), "no images") {
		t.Errorf("empty folder: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "nope"), Options{}); err == nil {
		t.Error("missing path: no error")
	}
	dir = tree(t, map[string]string{"x.json": `{"foo": 1}`, "notes.txt": "x"})
	if _, err := Load(filepath.Join(dir, "x.json"), Options{}); err == nil || !strings.Contains(err.Error(), "not a COCO") {
		t.Errorf("non-COCO json: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "notes.txt"), Options{}); err == nil || !strings.Contains(err.Error(), "not a dataset") {
		t.Errorf("txt file: %v", err)
	}
}

func TestLoadMetadataNotes(t *testing.T) {
	dir := tree(t, map[string]string{
		"a.png": "PNG", "b.png": "PNG", "extra.png": "PNG",
		"metadata.jsonl": `{"file_name": "a.png", "captions": ["one", "two", ""]}` + "\n\n" +
			`{"file_name": "b.png", "text": "first"}` + "\n" +
			`{"file_name": "./b.png", "text": "second"}` + "\n",
	})
	ds, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := captions(ds.Train); len(got) != 2 || !slices.Equal(got[0], []string{"one", "two"}) || !slices.Equal(got[1], []string{"first", "second"}) {
		t.Errorf("captions %q", got)
	}
	joined := strings.Join(ds.Warnings, "\n")
	for _, want := range []string{"a.png: 1 empty caption(s) in the list ignored", "b.png: row (metadata.jsonl:4) adds 1 caption(s)",
		"1 image(s) not named by any metadata row are ignored: extra.png"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings %q lack %q", joined, want)
		}
	}
	if ds.Skipped != 0 {
		t.Errorf("skipped %d", ds.Skipped)
	}
	// An explicit caption column.
	dir = tree(t, map[string]string{"a.png": "PNG", "metadata.csv": "file_name,text,alt\na.png,t,alt caption\n"})
	ds, err = Load(dir, Options{CaptionColumn: "alt"})
	if err != nil || ds.Train[0].Captions[0] != "alt caption" {
		t.Errorf("caption column alt: %v %v", ds, err)
	}
	if _, err := Load(dir, Options{CaptionColumn: "nope"}); err == nil || !strings.Contains(err.Error(), "no caption column") {
		t.Errorf("missing csv column: %v", err)
	}
}
