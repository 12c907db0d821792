// This file is the entry point of loading: Options, Dataset, format
// detection, split assignment, the checks every item goes through, and the
// final sort. The three formats live in imagefolder.go, sidecar.go and
// coco.go. Loading reads captions and image headers only, never pixels.

package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // image.DecodeConfig formats, as imageproc decodes them
	_ "image/jpeg"
	_ "image/png"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"

	"github.com/gitcap/gitcap/gitmodel/imageproc"
)

// Example is one image with its captions.
type Example struct {
	Path     string   // the image file: the dataset path as given joined with FileName
	FileName string   // relative to the dataset root, '/'-separated; for reports and ordering
	Captions []string // at least one, each non-empty, valid UTF-8, surrounding whitespace stripped
}

// Options control Load. The zero value loads every split with the default
// caption columns, non-recursively, skipping bad items with a warning.
type Options struct {
	// CaptionColumn is the metadata column holding captions (a string or a
	// list of strings). "" tries text, caption, prompt, captions in that
	// order, per row. Not used by sidecar folders or COCO.
	CaptionColumn string
	// CaptionFileSuffix: the caption of <stem>.<ext> is <stem><suffix>.txt
	// (--caption_file_suffix). Sidecar folders only.
	CaptionFileSuffix string
	// Recursive searches every subfolder for images and metadata files
	// (--recursive). Without it only the dataset folder and its split
	// folders (train/, validation/, ...) are read.
	Recursive bool
	// Strict makes the first bad item a fatal *ProblemError instead of a
	// skipped item with a warning.
	Strict bool
	// Split, when set to "train", "validation" or "test", loads only that
	// split (the others are not read at all); it is an error if the dataset
	// has no such split. "" loads every split.
	Split string
	// ImageDir is the folder a COCO file's images[].file_name is relative
	// to. "" searches next to the JSON file as documented on Load.
	ImageDir string
}

// Format is the detected dataset layout.
type Format uint8

const (
	// Sidecar: images with <stem><suffix>.txt captions next to them.
	Sidecar Format = iota + 1
	// ImageFolder: Hugging Face imagefolder (metadata.jsonl / metadata.csv).
	ImageFolder
	// COCO: a COCO captions JSON file (images[] + annotations[]).
	COCO
)

// String returns "sidecar", "imagefolder" or "coco".
func (f Format) String() string {
	switch f {
	case Sidecar:
		return "sidecar"
	case ImageFolder:
		return "imagefolder"
	case COCO:
		return "coco"
	}
	return fmt.Sprintf("Format(%d)", f)
}

// Dataset is the result of Load. Each split is sorted byte-wise by FileName
// (Go's sort.Strings order, Python's sorted).
type Dataset struct {
	Format                  Format
	Train, Validation, Test []Example

	// Warnings holds one line per skipped item ("cat.png: no caption file
	// cat.txt"), other notes (merged rows, images no metadata row names),
	// and, last, the summary line when items were skipped.
	Warnings []string
	Problems []Problem // the skipped items, in the order they were found
	Skipped  int       // len(Problems)
	Total    int       // items considered (images or metadata rows), skipped ones included
}

// Summary returns "skipped 3 of 120 items: 1 missing caption, ..." or "".
func (d *Dataset) Summary() string { return summary(d.Problems, d.Total) }

// Len is the number of examples over all splits.
func (d *Dataset) Len() int { return len(d.Train) + len(d.Validation) + len(d.Test) }

// Split names as accepted by Options.Split.
const (
	SplitTrain      = "train"
	SplitValidation = "validation"
	SplitTest       = "test"
)

type splitID uint8

const (
	splitTrain splitID = iota
	splitValidation
	splitTest
)

var splitNames = [...]string{SplitTrain, SplitValidation, SplitTest}

// Split keywords of HF datasets (data_files.py); a folder name is in a split
// when it contains a keyword set off by start/end of name, '-', '_', '.', ' '
// or a digit. Checked in this order, so "train_test" is train.
var splitKeywords = [...]struct {
	id    splitID
	words []string
}{
	{splitTrain, []string{"train", "training"}},
	{splitValidation, []string{"validation", "valid", "dev", "val"}},
	{splitTest, []string{"test", "testing", "eval", "evaluation"}},
}

// splitOfDirName reports the split a folder name denotes (case-insensitive).
func splitOfDirName(name string) (splitID, bool) {
	name = strings.ToLower(name)
	isSep := func(c byte) bool {
		return c == '-' || c == '_' || c == '.' || c == ' ' || (c >= '0' && c <= '9')
	}
	for _, s := range splitKeywords {
		for _, w := range s.words {
			for i := 0; ; {
				j := strings.Index(name[i:], w)
				if j < 0 {
					break
				}
				j += i
				end := j + len(w)
				if (j == 0 || isSep(name[j-1])) && (end == len(name) || isSep(name[end])) {
					return s.id, true
				}
				i = j + 1
			}
		}
	}
	return 0, false
}

// splitOfPath: the split of a '/'-separated relative file path is given by
// its first folder; a file outside any split folder belongs to train.
func splitOfPath(rel string) splitID {
	first, _, ok := strings.Cut(rel, "/")
	if !ok {
		return splitTrain
	}
	if id, ok := splitOfDirName(first); ok {
		return id
	}
	return splitTrain
}

// Image extensions (lower case) that count as images in a folder: those
// imageproc decodes.
var imageExts = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".webp": true, ".bmp": true,
	".gif": true, ".tif": true, ".tiff": true,
}

// IsImageFile reports whether name has an image extension (png, jpg, jpeg,
// webp, bmp, gif, tif, tiff; case-insensitive).
func IsImageFile(name string) bool {
	return imageExts[strings.ToLower(filepath.Ext(name))]
}

type item struct {
	ex     Example
	split  splitID
	origin string // "metadata.jsonl:3" for rows; "" otherwise
}

type loader struct {
	root   string // dataset folder (COCO: the JSON's folder), as given
	opt    Options
	ds     *Dataset
	want   splitID // when opt.Split != ""
	items  []item
	byName map[string]int // FileName -> index in items

	referenced map[string]bool // imagefolder: every FileName a row names, skipped rows included
}

// Load reads a dataset and detects its format from path:
//
//   - a .json file: COCO captions (see coco.go: images are looked up in
//     Options.ImageDir, else next to the JSON, in an images/ folder next to
//     it, and, for a JSON inside an annotations/ folder, in the parent folder,
//     its images/ folder, or a folder named after the JSON, as
//     annotations/captions_train2014.json -> train2014/);
//   - a metadata.jsonl or metadata.csv file: an imagefolder rooted at its
//     folder;
//   - a folder holding metadata.jsonl or metadata.csv (at its top, in a split
//     folder, or with Recursive anywhere below): HF imagefolder, each row's
//     file_name relative to its metadata file; images no row names are
//     ignored with a warning;
//   - any other folder: images with sidecar <stem><suffix>.txt captions.
//
// Splits: a first-level folder whose name contains a split keyword (train,
// training; validation, valid, val, dev; test, testing, eval, evaluation)
// holds that split; everything else is train (HF would ignore files outside
// the split folders once there are any; here they train).
//
// Bad items are skipped with one warning each (see Problem), or end the load
// with a *ProblemError when opt.Strict is set. Loading ends in an error when
// no example is left.
func Load(dataPath string, opt Options) (*Dataset, error) {
	l := &loader{opt: opt, ds: &Dataset{}, byName: map[string]int{}}
	switch opt.Split {
	case "":
	case SplitTrain:
		l.want = splitTrain
	case SplitValidation:
		l.want = splitValidation
	case SplitTest:
		l.want = splitTest
	default:
		return nil, fmt.Errorf("dataset: unknown split %q (want train, validation or test)", opt.Split)
	}
	fi, err := os.Stat(dataPath)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	switch base := filepath.Base(dataPath); {
	case fi.IsDir():
		l.root = dataPath
		err = l.loadDir()
	case strings.EqualFold(filepath.Ext(dataPath), ".json"):
		l.root = filepath.Dir(dataPath)
		l.ds.Format = COCO
		err = l.loadCOCO(dataPath)
	case base == metadataJSONL || base == metadataCSV:
		l.root = filepath.Dir(dataPath)
		l.ds.Format = ImageFolder
		err = l.loadMetadata(base, "")
		if err == nil {
			l.checkUnlisted(l.listImages([]string{"."}))
		}
	default:
		return nil, fmt.Errorf("dataset: %s is not a dataset: want a folder (images with <stem>.txt captions, "+
			"or an HF imagefolder with metadata.jsonl or metadata.csv) or a COCO captions .json file", dataPath)
	}
	if err != nil {
		return nil, err
	}
	return l.finish(dataPath)
}

// wanted reports whether items of split s are to be loaded.
func (l *loader) wanted(s splitID) bool { return l.opt.Split == "" || s == l.want }

// abs turns a '/'-separated path relative to the root into a file path.
// An absolute path (COCO file_name only) is kept.
func (l *loader) abs(rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(l.root, filepath.FromSlash(rel))
}

// skip records a bad item; with Strict it returns the fatal error.
func (l *loader) skip(file string, kind ProblemKind, format string, args ...any) error {
	p := Problem{File: file, Kind: kind, Detail: fmt.Sprintf(format, args...)}
	if l.opt.Strict {
		return &ProblemError{p}
	}
	l.ds.Problems = append(l.ds.Problems, p)
	l.ds.Warnings = append(l.ds.Warnings, p.String())
	return nil
}

// minor records bad input that skips no item (a COCO annotation, an empty
// entry of a caption list): a warning, or with Strict the fatal error.
func (l *loader) minor(file string, kind ProblemKind, format string, args ...any) error {
	p := Problem{File: file, Kind: kind, Detail: fmt.Sprintf(format, args...)}
	if l.opt.Strict {
		return &ProblemError{p}
	}
	l.ds.Warnings = append(l.ds.Warnings, p.String())
	return nil
}

// note records a warning that skips no item (Strict does not make it fatal).
func (l *loader) note(format string, args ...any) {
	l.ds.Warnings = append(l.ds.Warnings, fmt.Sprintf(format, args...))
}

// loadDir scans the folder and dispatches to imagefolder or sidecar loading.
func (l *loader) loadDir() error {
	dirs, err := l.scanDirs()
	if err != nil {
		return err
	}
	var metas []string // '/'-separated, relative to root
	for _, d := range dirs {
		hasJSONL := fileExists(l.abs(path.Join(d, metadataJSONL)))
		hasCSV := fileExists(l.abs(path.Join(d, metadataCSV)))
		switch {
		case hasJSONL && hasCSV:
			l.note("%s: both %s and %s: using %s, ignoring %s", displayDir(d), metadataJSONL, metadataCSV, metadataJSONL, metadataCSV)
			metas = append(metas, path.Join(d, metadataJSONL))
		case hasJSONL:
			metas = append(metas, path.Join(d, metadataJSONL))
		case hasCSV:
			metas = append(metas, path.Join(d, metadataCSV))
		}
		if fileExists(l.abs(path.Join(d, "metadata.parquet"))) {
			l.note("%s: metadata.parquet is not supported (convert it to metadata.jsonl or metadata.csv)", displayDir(d))
		}
	}
	images := l.listImages(dirs)
	if len(metas) > 0 {
		l.ds.Format = ImageFolder
		for _, m := range metas {
			if err := l.loadMetadata(m, path.Dir(m)); err != nil {
				return err
			}
		}
		l.checkUnlisted(images)
		return nil
	}
	l.ds.Format = Sidecar
	if len(images) == 0 {
		hint := ""
		if !l.opt.Recursive {
			hint = " (subfolders other than split folders are searched only with --recursive)"
		}
		return fmt.Errorf("dataset: %s: no images (png, jpg, jpeg, webp, bmp, gif, tiff) and no metadata.jsonl or metadata.csv%s", l.root, hint)
	}
	return l.loadSidecar(images)
}

func displayDir(d string) string {
	if d == "." {
		return "./"
	}
	return d + "/"
}

// scanDirs lists the folders to read, '/'-separated relative to the root,
// sorted: the root and its split folders, or with Recursive every folder
// except hidden ones (".git", ...). Folders of unwanted splits are left out.
func (l *loader) scanDirs() ([]string, error) {
	keep := func(rel string) bool { return rel == "." || l.wanted(splitOfPath(rel+"/x")) }
	dirs := []string{}
	if l.opt.Recursive {
		err := filepath.WalkDir(l.root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == l.root {
					return err
				}
				l.note("%s: cannot read: %v (skipped)", p, err)
				return nil
			}
			if !d.IsDir() {
				return nil
			}
			rel, rerr := filepath.Rel(l.root, p)
			if rerr != nil {
				return rerr
			}
			rel = filepath.ToSlash(rel)
			if rel != "." && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !keep(rel) {
				return filepath.SkipDir
			}
			dirs = append(dirs, rel)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
	} else {
		ents, err := os.ReadDir(l.root)
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		dirs = append(dirs, ".")
		for _, e := range ents {
			if !isDirEntry(l.root, e) || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if _, ok := splitOfDirName(e.Name()); ok && keep(e.Name()) {
				dirs = append(dirs, e.Name())
			}
		}
	}
	slices.Sort(dirs)
	return dirs, nil
}

// isDirEntry follows a symbolic link to tell whether e is a folder.
func isDirEntry(parent string, e fs.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&fs.ModeSymlink != 0 {
		fi, err := os.Stat(filepath.Join(parent, e.Name()))
		return err == nil && fi.IsDir()
	}
	return false
}

// listImages returns the image files directly inside dirs, relative to the
// root, sorted byte-wise. Hidden files (".x.png", macOS "._x.png") are not
// images, as in HF datasets.
func (l *loader) listImages(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		ents, err := os.ReadDir(l.abs(d))
		if err != nil {
			l.note("%s: cannot read: %v (skipped)", displayDir(d), err)
			continue
		}
		for _, e := range ents {
			if IsImageFile(e.Name()) && !strings.HasPrefix(e.Name(), ".") && !isDirEntry(l.abs(d), e) {
				out = append(out, path.Join(d, e.Name()))
			}
		}
	}
	slices.Sort(out)
	return out
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// cleanCaptions strips each caption and drops empty ones; it also returns
// how many it dropped.
func cleanCaptions(caps []string) ([]string, int) {
	out := make([]string, 0, len(caps))
	for _, c := range caps {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out, len(caps) - len(out)
}

// add runs the checks shared by every format on a candidate example and
// keeps it: captions (already UTF-8 checked), duplicates, image existence
// and header.
func (l *loader) add(rel, origin string, caps []string, split splitID) error {
	who := rel
	caps, dropped := cleanCaptions(caps)
	if len(caps) == 0 {
		return l.skip(who, EmptyCaption, "empty caption%s", at(origin))
	}
	if dropped > 0 {
		if err := l.minor(who, EmptyCaption, "%d empty caption(s) in the list ignored%s", dropped, at(origin)); err != nil {
			return err
		}
	}
	if i, ok := l.byName[rel]; ok {
		prev := &l.items[i].ex
		var extra []string
		for _, c := range caps {
			if !slices.Contains(prev.Captions, c) && !slices.Contains(extra, c) {
				extra = append(extra, c)
			}
		}
		if len(extra) == 0 {
			return l.skip(who, Duplicate, "duplicate row%s repeats %s", at(origin), l.items[i].origin)
		}
		prev.Captions = append(prev.Captions, extra...)
		l.note("%s: row%s adds %d caption(s) to %s (a list-valued caption: one is picked per epoch)",
			who, at(origin), len(extra), l.items[i].origin)
		return nil
	}
	abs := l.abs(rel)
	if cause := checkImage(abs); cause != "" {
		kind := BadImage
		if strings.HasPrefix(cause, "no such file") || strings.HasPrefix(cause, "is a folder") {
			kind = MissingImage
		}
		return l.skip(who, kind, "%s%s", cause, at(origin))
	}
	l.byName[rel] = len(l.items)
	l.items = append(l.items, item{ex: Example{Path: abs, FileName: rel, Captions: caps}, split: split, origin: origin})
	return nil
}

// causeOf drops the path a *fs.PathError repeats ("open x: permission
// denied" -> "permission denied").
func causeOf(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func at(origin string) string {
	if origin == "" {
		return ""
	}
	return " (" + origin + ")"
}

// checkImage reads just the header of an image file (image.DecodeConfig with
// the formats imageproc decodes) and returns "" when it looks decodable, or
// the cause. Corruption past the header shows at collate time instead.
func checkImage(p string) (cause string) {
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "no such file"
		}
		return "cannot open: " + causeOf(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return "is a folder, not an image"
	} else if err == nil && fi.Size() == 0 {
		return "unreadable image: empty file (0 bytes)"
	}
	defer func() {
		if r := recover(); r != nil {
			cause = fmt.Sprintf("unreadable image: decoder panic reading the header: %v", r)
		}
	}()
	cfg, format, err := image.DecodeConfig(bufio.NewReader(f))
	switch {
	case errors.Is(err, image.ErrFormat):
		return "unreadable image: not a png, jpeg, gif, webp, bmp or tiff file"
	case err != nil:
		return "unreadable image: " + format + " header: " + err.Error()
	case cfg.Width <= 0 || cfg.Height <= 0:
		return fmt.Sprintf("unreadable image: %s header says %dx%d", format, cfg.Width, cfg.Height)
	case int64(cfg.Width)*int64(cfg.Height) > imageproc.DefaultMaxPixels:
		return fmt.Sprintf("unreadable image: %dx%d is over the limit of %d pixels", cfg.Width, cfg.Height, imageproc.DefaultMaxPixels)
	}
	return ""
}

// finish sorts, splits and summarises.
func (l *loader) finish(dataPath string) (*Dataset, error) {
	ds := l.ds
	for _, it := range l.items {
		switch it.split {
		case splitTrain:
			ds.Train = append(ds.Train, it.ex)
		case splitValidation:
			ds.Validation = append(ds.Validation, it.ex)
		case splitTest:
			ds.Test = append(ds.Test, it.ex)
		}
	}
	for _, s := range [][]Example{ds.Train, ds.Validation, ds.Test} {
		slices.SortFunc(s, func(a, b Example) int { return strings.Compare(a.FileName, b.FileName) })
	}
	ds.Skipped = len(ds.Problems)
	if s := ds.Summary(); s != "" {
		ds.Warnings = append(ds.Warnings, s)
	}
	if ds.Len() == 0 {
		what := "no usable examples"
		if l.opt.Split != "" {
			what = "no usable examples in the " + l.opt.Split + " split"
		}
		if s := ds.Summary(); s != "" {
			what += " (" + s + ")"
		}
		// The caller gets no Dataset: put the first warnings in the error.
		lines := ds.Warnings
		if n := len(lines); n > 0 && lines[n-1] == ds.Summary() {
			lines = lines[:n-1]
		}
		if len(lines) > 5 {
			lines = append(lines[:5:5], fmt.Sprintf("... (%d more)", len(lines)-5))
		}
		for _, w := range lines {
			what += "\n\t" + w
		}
		return nil, fmt.Errorf("dataset: %s: %s", dataPath, what)
	}
	return ds, nil
}
