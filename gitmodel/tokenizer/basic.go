// This file is HF's BasicTokenizer (transformers 4.36,
// models/bert/tokenization_bert.py), written out by hand: text cleaning, CJK
// spacing, NFC, whitespace split, lower-casing, accent stripping and
// punctuation split. It is not WordPiece (wordpiece.go) and does not see
// special tokens, which tokenize.go cuts out first.
//
// Character classes follow Python's unicodedata, which HF uses; comments name
// the Python function each helper mirrors.

package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// basicTokenize is BasicTokenizer.tokenize(text, never_split=special
// tokens), where t.neverSplit holds Options.NeverSplit and the special tokens.
func (t *Tokenizer) basicTokenize(text string, out []string) []string {
	text = cleanText(text, t.opts.TokenizeChineseChars)
	text = norm.NFC.String(text)
	lower := t.opts.DoLowerCase
	strip := t.opts.StripAccents == AccentsStrip ||
		(lower && t.opts.StripAccents == AccentsFollowLowerCase)
	for _, tok := range splitPySpace(text) {
		if _, keep := t.neverSplit[tok]; keep {
			out = append(out, tok)
			continue
		}
		if lower {
			tok = pyLower(tok)
		}
		if strip {
			tok = stripAccents(tok)
		}
		if _, keep := t.neverSplit[tok]; keep {
			// _run_split_on_punc checks never_split again after casing.
			out = append(out, tok)
			continue
		}
		out = splitOnPunc(tok, out)
	}
	return out
}

// cleanText is _clean_text followed by _tokenize_chinese_chars: it drops
// NUL, U+FFFD (which is also what Go yields for invalid UTF-8) and control
// characters, turns whitespace into ' ', and puts spaces around CJK
// ideographs when cjk is set.
func cleanText(text string, cjk bool) string {
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range text {
		switch {
		case r == 0 || r == unicode.ReplacementChar || isControl(r):
		case isWhitespace(r):
			b.WriteByte(' ')
		case cjk && isChineseChar(r):
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isWhitespace is _is_whitespace: space, \t, \n, \r and category Zs only.
func isWhitespace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || unicode.Is(unicode.Zs, r)
}

// isControl is _is_control: any category C* (Cc, Cf, Cs, Co and unassigned
// Cn) except \t, \n, \r, which count as whitespace.
func isControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.Is(unicode.C, r) || isUnassigned(r)
}

// assigned lists every category except C; a rune in none of them and not in
// C is unassigned (Cn), which Go's tables do not list.
var assigned = []*unicode.RangeTable{unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.C}

func isUnassigned(r rune) bool {
	return !unicode.IsOneOf(assigned, r)
}

// isChineseChar is _is_chinese_char: the CJK Unified Ideographs blocks and
// extensions A-F, and the two compatibility blocks. Hangul and kana are not
// included.
func isChineseChar(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}

// isPySpace is Python's str.isspace for one character (bidi class WS, B or
// S, or category Zs), which str.split() uses in whitespace_tokenize. After
// cleanText only ' ', U+2028 and U+2029 can still occur, but the full set
// keeps this helper honest on its own.
func isPySpace(r rune) bool {
	switch {
	case r >= 0x09 && r <= 0x0D, r >= 0x1C && r <= 0x20, r == 0x85, r == 0xA0,
		r == 0x1680, r >= 0x2000 && r <= 0x200A, r == 0x2028, r == 0x2029,
		r == 0x202F, r == 0x205F, r == 0x3000:
		return true
	}
	return unicode.Is(unicode.Zs, r)
}

// splitPySpace is whitespace_tokenize: text.strip().split().
func splitPySpace(text string) []string {
	return strings.FieldsFunc(text, isPySpace)
}

// pyLower is Python's str.lower() for text without a capital sigma in a
// final position: Go's simple case mapping plus the one unconditional
// special case, U+0130 → "i̇" (i + U+0307). HF lower-cases each character on
// its own first (PreTrainedTokenizer.tokenize), where Σ is never "final", so
// the final-sigma rule never applies.
func pyLower(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		writeLower(&b, r)
	}
	return b.String()
}

// writeLower writes Python's lower-case form of r.
func writeLower(b *strings.Builder, r rune) {
	if r == 'İ' {
		b.WriteString("i\u0307")
		return
	}
	b.WriteRune(unicode.ToLower(r))
}

// stripAccents is _run_strip_accents: NFD, then drop nonspacing marks (Mn).
// NFD also splits Hangul syllables into jamo, as in Python.
func stripAccents(s string) string {
	s = norm.NFD.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isPunctuation is _is_punctuation: every non-alphanumeric printable ASCII
// character (33-47, 58-64, 91-96, 123-126, so also $ + < = > ^ ` | ~) and
// every Unicode category P*.
func isPunctuation(r rune) bool {
	if (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126) {
		return true
	}
	return unicode.Is(unicode.P, r)
}

// splitOnPunc is _run_split_on_punc: each punctuation character becomes its
// own token. Empty tokens are never produced.
func splitOnPunc(tok string, out []string) []string {
	start := 0
	for i, r := range tok {
		if !isPunctuation(r) {
			continue
		}
		if start < i {
			out = append(out, tok[start:i])
		}
		end := i + utf8.RuneLen(r)
		out = append(out, tok[i:end])
		start = end
	}
	if start < len(tok) {
		out = append(out, tok[start:])
	}
	return out
}
