// This file reads folders of images with sidecar caption files, the layout
// of caption-train and kohya-ss: x.png is captioned by x<suffix>.txt in the
// same folder, the whole file being the caption (lines joined with spaces).

package dataset

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
	"unicode/utf8"
)

// loadSidecar adds every image of images ('/'-separated, relative to the
// root) whose caption file is usable.
func (l *loader) loadSidecar(images []string) error {
	for _, rel := range images {
		split := splitOfPath(rel)
		if !l.wanted(split) {
			continue
		}
		l.ds.Total++
		capRel := CaptionFile(rel, l.opt.CaptionFileSuffix)
		data, err := os.ReadFile(l.abs(capRel))
		if err != nil {
			cause := "cannot read caption file " + path.Base(capRel) + ": " + causeOf(err)
			if errors.Is(err, fs.ErrNotExist) {
				cause = "no caption file " + path.Base(capRel)
			}
			if err := l.skip(rel, MissingCaption, "%s", cause); err != nil {
				return err
			}
			continue
		}
		if !utf8.Valid(data) {
			if err := l.skip(rel, InvalidUTF8, "caption file %s is not valid UTF-8", path.Base(capRel)); err != nil {
				return err
			}
			continue
		}
		caption := JoinLines(strings.TrimPrefix(string(data), "\ufeff"))
		if caption == "" {
			if err := l.skip(rel, EmptyCaption, "caption file %s is empty", path.Base(capRel)); err != nil {
				return err
			}
			continue
		}
		if err := l.add(rel, "", []string{caption}, split); err != nil {
			return err
		}
	}
	return nil
}

// CaptionFile returns the sidecar caption path of an image path: the
// extension replaced by suffix + ".txt" ("a/x.png", "_tags" -> "a/x_tags.txt").
func CaptionFile(image, suffix string) string {
	return strings.TrimSuffix(image, path.Ext(image)) + suffix + ".txt"
}

// JoinLines turns a caption file into one caption: each line stripped, empty
// lines dropped, the rest joined with single spaces. A one-line file is just
// stripped, as the goldens' captions are.
func JoinLines(s string) string {
	var parts []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, " ")
}
