// This file reads Hugging Face imagefolder metadata files (metadata.jsonl,
// metadata.csv): one row per image, file_name relative to the metadata
// file's folder, and a caption column holding a string or (JSONL only) a list
// of strings. Rows that cannot be used are skipped with a warning each.

package dataset

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

const (
	metadataJSONL = "metadata.jsonl"
	metadataCSV   = "metadata.csv"
)

// defaultCaptionColumns are tried in order when Options.CaptionColumn is "".
var defaultCaptionColumns = []string{"text", "caption", "prompt", "captions"}

var utf8BOM = []byte("\xef\xbb\xbf")

// loadMetadata reads one metadata file, rel being its path relative to the
// root and dir its folder (relative, "." for the root).
func (l *loader) loadMetadata(rel, dir string) error {
	data, err := os.ReadFile(l.abs(rel))
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if strings.HasSuffix(rel, ".csv") {
		return l.loadCSV(rel, dir, data)
	}
	return l.loadJSONL(rel, dir, data)
}

func (l *loader) loadJSONL(rel, dir string, data []byte) error {
	lineNo := 0
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte("\n"))
		lineNo++
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		origin := fmt.Sprintf("%s:%d", rel, lineNo)
		var row map[string]json.RawMessage
		if err := json.Unmarshal(line, &row); err != nil {
			l.ds.Total++
			if err := l.skip(origin, BadRow, "not a JSON object: %v", err); err != nil {
				return err
			}
			continue
		}
		var fileName string
		if raw, ok := row["file_name"]; !ok || json.Unmarshal(raw, &fileName) != nil {
			l.ds.Total++
			if err := l.skip(origin, BadRow, "no file_name string (columns: %s)", strings.Join(sortedKeys(row), ", ")); err != nil {
				return err
			}
			continue
		}
		err := l.row(origin, dir, fileName, func() ([]string, ProblemKind, string) {
			col, raw, ok := l.captionColumn(row)
			if !ok {
				return nil, MissingCaption, fmt.Sprintf("no caption column (want %s; columns: %s)",
					l.wantColumns(), strings.Join(sortedKeys(row), ", "))
			}
			if !utf8.Valid(raw) {
				return nil, InvalidUTF8, fmt.Sprintf("%q is not valid UTF-8", col)
			}
			return parseCaptionJSON(col, raw)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) loadCSV(rel, dir string, data []byte) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	if err == io.EOF {
		return fmt.Errorf("dataset: %s: empty file (want a header with file_name and a caption column)", l.abs(rel))
	}
	if err != nil {
		return fmt.Errorf("dataset: %s: header: %w", l.abs(rel), err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	fileCol := slices.Index(header, "file_name")
	if fileCol < 0 {
		return fmt.Errorf("dataset: %s: no file_name column (columns: %s)", l.abs(rel), strings.Join(header, ", "))
	}
	capCol := -1
	for _, c := range l.columns() {
		if capCol = slices.Index(header, c); capCol >= 0 {
			break
		}
	}
	if capCol < 0 {
		return fmt.Errorf("dataset: %s: no caption column (want %s; columns: %s)", l.abs(rel), l.wantColumns(), strings.Join(header, ", "))
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			l.ds.Total++
			if err := l.skip(fmt.Sprintf("%s:%d", rel, pe.StartLine), BadRow, "invalid CSV: %v", pe.Err); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("dataset: %s: %w", l.abs(rel), err)
		}
		line, _ := r.FieldPos(0)
		origin := fmt.Sprintf("%s:%d", rel, line)
		if fileCol >= len(rec) {
			l.ds.Total++
			if err := l.skip(origin, BadRow, "row has %d fields, no file_name", len(rec)); err != nil {
				return err
			}
			continue
		}
		err = l.row(origin, dir, rec[fileCol], func() ([]string, ProblemKind, string) {
			if capCol >= len(rec) {
				return nil, MissingCaption, fmt.Sprintf("row has %d fields, no %q", len(rec), header[capCol])
			}
			if !utf8.ValidString(rec[capCol]) {
				return nil, InvalidUTF8, fmt.Sprintf("%q is not valid UTF-8", header[capCol])
			}
			return []string{rec[capCol]}, 0, ""
		})
		if err != nil {
			return err
		}
	}
}

// row checks a row's file_name, reads its captions with caps and adds it.
func (l *loader) row(origin, dir, fileName string, caps func() ([]string, ProblemKind, string)) error {
	who := fileName
	if !utf8.ValidString(fileName) {
		who = strings.ToValidUTF8(fileName, "\uFFFD")
	}
	rel, kind, cause := cleanRel(dir, fileName)
	if kind != 0 {
		l.ds.Total++
		return l.skip(origin, kind, "file_name %q: %s", who, cause)
	}
	split := splitOfPath(rel)
	if !l.wanted(split) {
		return nil
	}
	l.ds.Total++
	if l.referenced == nil {
		l.referenced = map[string]bool{}
	}
	l.referenced[rel] = true
	c, kind, cause := caps()
	if kind != 0 {
		return l.skip(rel, kind, "%s (%s)", cause, origin)
	}
	return l.add(rel, origin, c, split)
}

// cleanRel resolves a metadata file_name against the metadata file's folder.
// Absolute paths and ".." are rejected, as HF imagefolder does.
func cleanRel(dir, name string) (string, ProblemKind, string) {
	switch {
	case strings.TrimSpace(name) == "":
		return "", BadRow, "empty"
	case path.IsAbs(name) || filepath.IsAbs(name) || strings.HasPrefix(name, `\`) ||
		(len(name) >= 2 && name[1] == ':'):
		return "", BadPath, "absolute paths are not allowed (paths are relative to the metadata file)"
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", BadPath, `".." is not allowed (paths must stay inside the metadata file's folder)`
		}
	}
	return path.Join(dir, path.Clean(name)), 0, ""
}

func (l *loader) columns() []string {
	if l.opt.CaptionColumn != "" {
		return []string{l.opt.CaptionColumn}
	}
	return defaultCaptionColumns
}

func (l *loader) wantColumns() string { return strings.Join(l.columns(), " or ") }

func (l *loader) captionColumn(row map[string]json.RawMessage) (string, json.RawMessage, bool) {
	for _, c := range l.columns() {
		if raw, ok := row[c]; ok {
			return c, raw, true
		}
	}
	return "", nil, false
}

// parseCaptionJSON accepts a string or a list of strings.
func parseCaptionJSON(col string, raw json.RawMessage) ([]string, ProblemKind, string) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, MissingCaption, fmt.Sprintf("%q is null", col)
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, BadRow, fmt.Sprintf("%q: %v", col, err)
		}
		return []string{s}, 0, ""
	case raw[0] == '[':
		var list []any
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, BadRow, fmt.Sprintf("%q: %v", col, err)
		}
		out := make([]string, 0, len(list))
		for i, v := range list {
			s, ok := v.(string)
			if !ok {
				return nil, BadRow, fmt.Sprintf("%q[%d] is a %s, want a string", col, i, jsonType(v))
			}
			out = append(out, s)
		}
		return out, 0, ""
	}
	var v any
	_ = json.Unmarshal(raw, &v)
	return nil, BadRow, fmt.Sprintf("%q is a %s, want a string or a list of strings", col, jsonType(v))
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "list"
	}
	return "object"
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkUnlisted warns about images that no metadata row names.
func (l *loader) checkUnlisted(images []string) {
	var unlisted []string
	for _, im := range images {
		if !l.referenced[im] && l.wanted(splitOfPath(im)) {
			unlisted = append(unlisted, im)
		}
	}
	if len(unlisted) == 0 {
		return
	}
	shown := unlisted
	more := ""
	if len(shown) > 5 {
		shown, more = shown[:5], fmt.Sprintf(", ... (%d more)", len(unlisted)-5)
	}
	l.note("%d image(s) not named by any metadata row are ignored: %s%s", len(unlisted), strings.Join(shown, ", "), more)
}
