// This file defines how the loader reports bad input: one typed Problem per
// skipped item, a warning line for each, and a one-line summary. It holds no
// I/O.

package dataset

import (
	"fmt"
	"strings"
)

// ProblemKind classifies why an item was skipped.
type ProblemKind uint8

const (
	// MissingCaption: no sidecar caption file, no caption column in a
	// metadata row, or no annotation for a COCO image.
	MissingCaption ProblemKind = iota + 1
	// EmptyCaption: the caption is empty once whitespace is stripped.
	EmptyCaption
	// InvalidUTF8: the caption is not valid UTF-8.
	InvalidUTF8
	// MissingImage: a metadata row or COCO entry names a file that does
	// not exist.
	MissingImage
	// BadImage: the file exists but its header does not decode as a
	// supported image (checked at load time), or it is too large.
	BadImage
	// Duplicate: a metadata row repeating an earlier one (same file, same
	// captions), or a COCO image listed twice.
	Duplicate
	// BadRow: a metadata line or COCO entry that cannot be read (invalid
	// JSON or CSV, no file_name, a caption of the wrong type).
	BadRow
	// BadPath: a file_name that is absolute or leaves the metadata file's
	// folder with "..", which HF imagefolder rejects too.
	BadPath
)

var kindNames = [...]string{
	MissingCaption: "missing caption",
	EmptyCaption:   "empty caption",
	InvalidUTF8:    "non-UTF-8 caption",
	MissingImage:   "missing image",
	BadImage:       "unreadable image",
	Duplicate:      "duplicate",
	BadRow:         "bad metadata row",
	BadPath:        "bad path",
}

// String returns a short lower-case name ("missing caption", ...).
func (k ProblemKind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("ProblemKind(%d)", k)
}

// Problem is one piece of bad input. File names the item: the image's
// FileName when it is known, otherwise "<metadata file>:<line>".
type Problem struct {
	File   string
	Kind   ProblemKind
	Detail string // the cause, e.g. "no caption file cat.txt"
}

// String is the warning line: "<file>: <detail>".
func (p Problem) String() string { return p.File + ": " + p.Detail }

// ProblemError is the error Load returns for the first problem when
// Options.Strict is set.
type ProblemError struct{ Problem Problem }

func (e *ProblemError) Error() string {
	return e.Problem.String() + " (strict mode: bad input is fatal)"
}

// summary returns "skipped 3 of 120 items: 2 missing caption, 1 unreadable
// image" (kinds in ProblemKind order), or "" when nothing was skipped.
func summary(problems []Problem, total int) string {
	skipped := 0
	var counts [len(kindNames)]int
	for _, p := range problems {
		if p.Kind != 0 {
			skipped++
			if int(p.Kind) < len(counts) {
				counts[p.Kind]++
			}
		}
	}
	if skipped == 0 {
		return ""
	}
	var parts []string
	for k, n := range counts {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, ProblemKind(k)))
		}
	}
	return fmt.Sprintf("skipped %d of %d items: %s", skipped, total, strings.Join(parts, ", "))
}
