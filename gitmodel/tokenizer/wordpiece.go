// This file is the WordPiece step: greedy longest-match-first over one
// pre-tokenized word, done by gotokenizers' wordpiecemodel behind a thin
// re-encoding that fixes its handling of 3-byte UTF-8 characters. It is not
// the basic tokenizer (basic.go) and knows nothing of special tokens.

package tokenizer

import (
	"strings"
	"sync"

	"github.com/nlpodyssey/gotokenizers/models/wordpiecemodel"
	"github.com/nlpodyssey/gotokenizers/vocabulary"
)

// wordPiece wraps gotokenizers' WordPieceModel.
//
// The model shortens its candidate substring by
// len(string(lastByte)), i.e. it treats the last byte as a rune: 1 byte for
// ASCII, 2 bytes for anything ≥ 0x80. That is right for 1-, 2- and 4-byte
// UTF-8 characters but skips one byte too many after a 3-byte character
// (U+0800..U+FFFF: kana, Hangul jamo, Devanagari, ...), so "タワー" became
// [UNK] instead of タ ##ワ ##ー. We therefore hand the model a re-encoded
// vocabulary and word in which every rune in U+0800..U+FFFF is moved to
// U+F0800..U+FFFFF (4 bytes in UTF-8, in the supplementary private use
// area). Rune counts and the order of candidates are unchanged, so the
// greedy search is exactly HF's; the matched pieces are mapped back.
//
// Real input never contains U+F0000..U+10FFFF at this point: they are
// private-use characters (category Co), which the basic tokenizer deletes as
// control characters, just as HF's _clean_text does.
//
// The model is built on the first tokenize: its vocabulary keeps two maps
// over every token (3.4 MB for BERT's 30522), which decoding, all that
// captioning without a prompt does, never reads.
type wordPiece struct {
	once     sync.Once
	tokens   []string // the vocabulary, as newWordPiece got it (shared)
	unk      string
	maxChars int
	model    *wordpiecemodel.WordPieceModel
}

const (
	shiftLo  = 0x800
	shiftHi  = 0xFFFF
	shiftBy  = 0xF0000
	wpPrefix = "##"
)

// shift re-encodes s for the model (see wordPiece).
func shift(s string) string {
	if !needsShift(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/3)
	for _, r := range s {
		if r >= shiftLo && r <= shiftHi {
			r += shiftBy
		}
		b.WriteRune(r)
	}
	return b.String()
}

// unshift undoes shift.
func unshift(s string) string {
	if !needsUnshift(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= shiftLo+shiftBy && r <= shiftHi+shiftBy {
			r -= shiftBy
		}
		b.WriteRune(r)
	}
	return b.String()
}

// needsShift reports whether s holds a 3-byte UTF-8 sequence (lead byte
// 0xE0..0xEF).
func needsShift(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i]&0xF0 == 0xE0 {
			return true
		}
	}
	return false
}

// needsUnshift reports whether s may hold a shifted rune (4-byte lead 0xF3).
func needsUnshift(s string) bool {
	return strings.IndexByte(s, 0xF3) >= 0
}

// newWordPiece returns the model over the vocabulary tokens (which it
// keeps, unchanged, and reads on the first tokenize). Duplicate tokens, and
// empty ones, are harmless: the model only asks whether a (non-empty) piece
// exists, and ids are looked up afterwards in the Tokenizer's own map.
func newWordPiece(tokens []string, unk string, maxChars int) *wordPiece {
	return &wordPiece{tokens: tokens, unk: unk, maxChars: maxChars}
}

// build makes the model: every token, re-encoded (see wordPiece).
func (w *wordPiece) build() {
	v := vocabulary.NewVocabulary()
	for _, t := range w.tokens {
		v.AddTerm(shift(t)) // newTokenizer has checked that t is valid UTF-8
	}
	w.model = wordpiecemodel.New(v, shift(w.unk), wpPrefix, w.maxChars)
}

// tokenize splits one word (no whitespace) into WordPiece tokens: HF's
// WordpieceTokenizer.tokenize for a single word. A word longer than the
// character limit, or one that cannot be covered, becomes the unknown token.
func (w *wordPiece) tokenize(word string, out []string) []string {
	w.once.Do(w.build)
	pieces, err := w.model.Tokenize(shift(word))
	if err != nil {
		// Only ErrUnknownTokenOutOfVocabulary; FromVocab checks that the
		// unknown token is in the vocabulary, so this is unreachable.
		return append(out, w.unk)
	}
	for _, p := range pieces {
		out = append(out, unshift(p.Value))
	}
	return out
}
