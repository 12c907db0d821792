// This file reads COCO captions JSON (captions_train2014.json and the like):
// images[] {id, file_name} joined with annotations[] {image_id, caption}, all
// captions of an image becoming its caption list. Everything is train.

package dataset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

type cocoImage struct {
	ID       json.RawMessage `json:"id"`
	FileName *string         `json:"file_name"`
}

type cocoAnnotation struct {
	ID      json.RawMessage `json:"id"`
	ImageID json.RawMessage `json:"image_id"`
	Caption json.RawMessage `json:"caption"`
}

// CocoImageDirs lists, in the order Load tries them, the folders a COCO
// file's images[].file_name may be relative to: the JSON's folder, its
// images/ subfolder, and for a JSON inside an annotations/ folder the parent
// folder, the parent's images/, and folders named after the JSON
// (captions_train2014.json -> train2014/, images/train2014/). Load uses the
// first folder holding any of the first 50 images.
func CocoImageDirs(jsonPath string) []string {
	dir := filepath.Dir(jsonPath)
	dirs := []string{dir, filepath.Join(dir, "images")}
	if b := strings.ToLower(filepath.Base(dir)); b == "annotations" || b == "annotation" {
		parent := filepath.Dir(dir)
		tag := strings.TrimSuffix(filepath.Base(jsonPath), filepath.Ext(jsonPath))
		tag = strings.TrimPrefix(tag, "captions_")
		dirs = append(dirs, parent, filepath.Join(parent, "images"),
			filepath.Join(parent, tag), filepath.Join(parent, "images", tag))
	}
	return dirs
}

func (l *loader) loadCOCO(jsonPath string) error {
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	var top struct {
		Images      *[]json.RawMessage `json:"images"`
		Annotations *[]json.RawMessage `json:"annotations"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &top); err != nil {
		return fmt.Errorf("dataset: %s: not a COCO captions file: %v", jsonPath, err)
	}
	if top.Images == nil || top.Annotations == nil {
		return fmt.Errorf("dataset: %s: not a COCO captions file (want \"images\" and \"annotations\" lists)", jsonPath)
	}
	base := filepath.Base(jsonPath)

	// Captions by image id, in annotation order.
	captions := map[string][]string{}
	orphans := 0
	for i, raw := range *top.Annotations {
		var a cocoAnnotation
		where := fmt.Sprintf("%s annotations[%d]", base, i)
		if err := json.Unmarshal(raw, &a); err != nil || len(a.ImageID) == 0 {
			if err := l.minor(where, BadRow, "no image_id or not an object (ignored)"); err != nil {
				return err
			}
			continue
		}
		key := idKey(a.ImageID)
		var c string
		switch {
		case !utf8.Valid(a.Caption):
			err = l.minor(where, InvalidUTF8, "image_id %s: caption is not valid UTF-8 (ignored)", key)
		case json.Unmarshal(a.Caption, &c) != nil:
			err = l.minor(where, BadRow, "image_id %s: caption is not a string (ignored)", key)
		case strings.TrimSpace(c) == "":
			err = l.minor(where, EmptyCaption, "image_id %s: empty caption (ignored)", key)
		default:
			captions[key] = append(captions[key], c)
			continue
		}
		if err != nil {
			return err
		}
	}

	type entry struct {
		key, name, origin string
	}
	var entries []entry
	seen := map[string]string{}
	for i, raw := range *top.Images {
		origin := fmt.Sprintf("%s images[%d]", base, i)
		var im cocoImage
		if err := json.Unmarshal(raw, &im); err != nil || im.FileName == nil || len(im.ID) == 0 {
			l.ds.Total++
			if err := l.skip(origin, BadRow, "want an object with id and file_name"); err != nil {
				return err
			}
			continue
		}
		name := filepath.ToSlash(*im.FileName)
		key := idKey(im.ID)
		l.ds.Total++
		if strings.TrimSpace(name) == "" {
			if err := l.skip(origin, BadRow, "empty file_name"); err != nil {
				return err
			}
			continue
		}
		if !filepath.IsAbs(name) {
			name = path.Clean(name)
		}
		if prev, dup := seen[key]; dup {
			if err := l.skip(name, Duplicate, "image id %s listed twice (%s and %s)", key, prev, origin); err != nil {
				return err
			}
			continue
		}
		seen[key] = origin
		entries = append(entries, entry{key, name, origin})
	}
	for key := range captions {
		if _, ok := seen[key]; !ok {
			orphans++
		}
	}
	if orphans > 0 {
		l.note("%s: %d image_id(s) of annotations are not in images[] (their captions are ignored)", base, orphans)
	}

	// Where the images are.
	if l.opt.ImageDir != "" {
		l.root = l.opt.ImageDir
	} else {
		dirs := CocoImageDirs(jsonPath)
		l.root = dirs[0]
	search:
		for _, d := range dirs {
			for i, e := range entries {
				if i == 50 {
					break
				}
				if filepath.IsAbs(e.name) {
					continue
				}
				if fileExists(filepath.Join(d, filepath.FromSlash(e.name))) {
					l.root = d
					break search
				}
			}
		}
	}

	for _, e := range entries {
		caps := captions[e.key]
		if len(caps) == 0 {
			if err := l.skip(e.name, MissingCaption, "no caption annotation for image id %s (%s)", e.key, e.origin); err != nil {
				return err
			}
			continue
		}
		if err := l.add(e.name, e.origin, caps, splitTrain); err != nil {
			return err
		}
	}
	return nil
}

// idKey normalises a JSON id (number or string) for joining.
func idKey(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(bytes.TrimSpace(raw))
}
