// This file holds the Tokenizer type and its public methods: vocabulary
// reading (FromVocab), Tokenize/Encode/EncodeBatch/Decode and the id
// accessors. Model folders are read in load.go; the text pipeline lives in
// basic.go and wordpiece.go.

package tokenizer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// AccentMode is HF's strip_accents setting, which is a tri-state in Python.
type AccentMode uint8

const (
	// AccentsFollowLowerCase strips accents exactly when lower-casing
	// (strip_accents: null, the BERT default).
	AccentsFollowLowerCase AccentMode = iota
	// AccentsStrip always strips accents (strip_accents: true).
	AccentsStrip
	// AccentsKeep never strips accents (strip_accents: false).
	AccentsKeep
)

// Options are the BertTokenizer settings. The zero value is not BERT's
// default (Go bools default to false); start from DefaultOptions.
type Options struct {
	DoLowerCase          bool       // do_lower_case
	StripAccents         AccentMode // strip_accents
	TokenizeChineseChars bool       // tokenize_chinese_chars
	NeverSplit           []string   // never_split: words kept whole by the basic tokenizer and WordPiece

	// Special tokens; empty means the BERT default ("[UNK]", "[CLS]", ...).
	// Each must be in the vocabulary.
	UnkToken, SepToken, PadToken, ClsToken, MaskToken string

	MaxInputCharsPerWord int // WordPiece limit; 0 means 100
	ModelMaxLength       int // model_max_length, informational; 0 means unknown
}

// DefaultOptions returns bert-base-uncased's settings (those of git-base).
func DefaultOptions() Options {
	return Options{
		DoLowerCase:          true,
		StripAccents:         AccentsFollowLowerCase,
		TokenizeChineseChars: true,
		UnkToken:             "[UNK]",
		SepToken:             "[SEP]",
		PadToken:             "[PAD]",
		ClsToken:             "[CLS]",
		MaskToken:            "[MASK]",
		MaxInputCharsPerWord: 100,
	}
}

// Tokenizer is a BERT WordPiece tokenizer with the behaviour of
// transformers 4.36's slow BertTokenizer. It is safe for concurrent use.
type Tokenizer struct {
	opts Options

	vocab  map[string]int // token → id; for repeated lines the last id wins, as in HF
	idTok  []string       // id → token; "" where hasTok is false
	hasTok []bool         // false for ids shadowed by a later duplicate line

	wp *wordPiece

	unk, sep, pad, cls, mask int
	specials                 []string            // the five special token strings, longest first
	specialStart             [256]bool           // first bytes of specials
	specialIDs               map[int]bool        // ids skipped by Decode(skipSpecial)
	neverSplit               map[string]struct{} // NeverSplit ∪ specials (basic tokenizer)
	userNeverSplit           map[string]struct{} // NeverSplit only (skips WordPiece)
}

// FromVocab reads a vocab.txt (one token per line; the line number, from 0,
// is the id) and builds a Tokenizer with opts. Lines are split the way
// Python's text-mode readlines splits them (\n, \r\n or \r), so a CRLF file
// reads like an LF one. It fails on an empty vocabulary, on invalid UTF-8
// and when a special token is missing from the vocabulary.
func FromVocab(r io.Reader, opts Options) (*Tokenizer, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: reading vocabulary: %w", err)
	}
	tokens := splitLines(data)
	if len(tokens) == 0 {
		return nil, errors.New("tokenizer: empty vocabulary")
	}
	return newTokenizer(tokens, opts)
}

// splitLines splits like Python's universal-newline readlines followed by
// rstrip("\n"): lines end at \n, \r\n or \r, and a final line end does not
// start an extra line.
func splitLines(data []byte) []string {
	var out []string
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			out = append(out, string(data))
			break
		}
		out = append(out, string(data[:i]))
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return out
}

// newTokenizer builds a Tokenizer from the vocabulary in id order.
func newTokenizer(tokens []string, opts Options) (*Tokenizer, error) {
	def := DefaultOptions()
	for _, p := range []struct {
		v *string
		d string
	}{
		{&opts.UnkToken, def.UnkToken}, {&opts.SepToken, def.SepToken}, {&opts.PadToken, def.PadToken},
		{&opts.ClsToken, def.ClsToken}, {&opts.MaskToken, def.MaskToken},
	} {
		if *p.v == "" {
			*p.v = p.d
		}
	}
	if opts.MaxInputCharsPerWord <= 0 {
		opts.MaxInputCharsPerWord = def.MaxInputCharsPerWord
	}
	if opts.StripAccents > AccentsKeep {
		return nil, fmt.Errorf("tokenizer: invalid AccentMode %d", opts.StripAccents)
	}

	for id, tok := range tokens {
		if !utf8.ValidString(tok) {
			// Python reads vocab.txt as strict UTF-8 and fails the same way.
			return nil, fmt.Errorf("tokenizer: vocabulary line %d (id %d) is not valid UTF-8", id+1, id)
		}
	}
	t := &Tokenizer{
		opts:   opts,
		vocab:  make(map[string]int, len(tokens)),
		idTok:  make([]string, len(tokens)),
		hasTok: make([]bool, len(tokens)),
	}
	for id, tok := range tokens {
		if prev, dup := t.vocab[tok]; dup {
			t.idTok[prev], t.hasTok[prev] = "", false
		}
		t.vocab[tok] = id
		t.idTok[id], t.hasTok[id] = tok, true
	}

	t.specialIDs = make(map[int]bool, 5)
	t.neverSplit = make(map[string]struct{})
	t.userNeverSplit = make(map[string]struct{})
	for _, s := range []struct {
		name, tok string
		id        *int
	}{
		{"unk_token", opts.UnkToken, &t.unk}, {"sep_token", opts.SepToken, &t.sep},
		{"pad_token", opts.PadToken, &t.pad}, {"cls_token", opts.ClsToken, &t.cls},
		{"mask_token", opts.MaskToken, &t.mask},
	} {
		id, ok := t.vocab[s.tok]
		if !ok {
			return nil, fmt.Errorf("tokenizer: %s %q is not in the vocabulary", s.name, s.tok)
		}
		*s.id = id
		t.specialIDs[id] = true
		t.neverSplit[s.tok] = struct{}{}
		if !containsString(t.specials, s.tok) {
			t.specials = append(t.specials, s.tok)
			t.specialStart[s.tok[0]] = true
		}
	}
	// Longest first, so that splitSpecial finds the longest match at a
	// position, as HF's trie does.
	for i := 1; i < len(t.specials); i++ {
		for j := i; j > 0 && len(t.specials[j]) > len(t.specials[j-1]); j-- {
			t.specials[j], t.specials[j-1] = t.specials[j-1], t.specials[j]
		}
	}
	for _, w := range opts.NeverSplit {
		t.neverSplit[w] = struct{}{}
		t.userNeverSplit[w] = struct{}{}
	}
	t.wp = newWordPiece(t.idTok, opts.UnkToken, opts.MaxInputCharsPerWord) // every token ("" for a repeated one's earlier ids)
	return t, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Options returns the settings in effect (defaults filled in).
func (t *Tokenizer) Options() Options {
	o := t.opts
	o.NeverSplit = append([]string(nil), o.NeverSplit...)
	return o
}

// Tokenize returns the WordPiece tokens of text, as
// BertTokenizer.tokenize(text). Literal special tokens ("[CLS]", ...) in the
// text are kept as single tokens.
func (t *Tokenizer) Tokenize(text string) []string {
	if t.opts.DoLowerCase {
		text = t.lowerOutsideSpecials(text)
	}
	var out, words []string
	for _, chunk := range t.splitSpecial(text) {
		if chunk.special {
			out = append(out, chunk.text)
			continue
		}
		words = t.basicTokenize(chunk.text, words[:0])
		for _, w := range words {
			if _, keep := t.userNeverSplit[w]; keep {
				out = append(out, w)
				continue
			}
			out = t.wp.tokenize(w, out)
		}
	}
	return out
}

// lowerOutsideSpecials is the first lower-casing pass of HF's
// PreTrainedTokenizer.tokenize when do_lower_case is set: every character
// outside a special token is lower-cased on its own (re.sub with
// "(special|...)|(.+?)"). Lower-casing happens before special tokens are
// cut out, so "[cls]" is not a special token but "[CLS]" is.
func (t *Tokenizer) lowerOutsideSpecials(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); {
		if s := t.specialAt(text[i:]); s != "" {
			b.WriteString(s)
			i += len(s)
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		writeLower(&b, r) // invalid UTF-8 becomes U+FFFD, which cleaning drops
		i += size
	}
	return b.String()
}

// specialAt returns the longest special token that s starts with, or "".
func (t *Tokenizer) specialAt(s string) string {
	if s == "" || !t.specialStart[s[0]] {
		return ""
	}
	for _, sp := range t.specials {
		if strings.HasPrefix(s, sp) {
			return sp
		}
	}
	return ""
}

type chunk struct {
	text    string
	special bool
}

// splitSpecial cuts text at every literal special token, like HF's
// tokens_trie.split. BERT's special tokens have lstrip/rstrip false, so the
// text around them keeps its whitespace (which the basic tokenizer then
// drops). Empty chunks are left out.
func (t *Tokenizer) splitSpecial(text string) []chunk {
	var out []chunk
	start := 0
	for i := 0; i < len(text); {
		s := t.specialAt(text[i:])
		if s == "" {
			i++
			continue
		}
		if start < i {
			out = append(out, chunk{text: text[start:i]})
		}
		out = append(out, chunk{text: s, special: true})
		i += len(s)
		start = i
	}
	if start < len(text) {
		out = append(out, chunk{text: text[start:]})
	}
	return out
}

// TokenID returns the id of a vocabulary token.
func (t *Tokenizer) TokenID(tok string) (int, bool) {
	id, ok := t.vocab[tok]
	return id, ok
}

// IDToken returns the token of id, or the unknown token for an id outside
// the vocabulary (HF's _convert_id_to_token).
func (t *Tokenizer) IDToken(id int) string {
	if id >= 0 && id < len(t.idTok) && t.hasTok[id] {
		return t.idTok[id]
	}
	return t.opts.UnkToken
}

// Encode returns the ids of text, wrapped in [CLS] ... [SEP] when
// addSpecial is set. Tokens outside the vocabulary cannot occur (WordPiece
// maps them to [UNK]). There is no truncation; see EncodeBatch.
func (t *Tokenizer) Encode(text string, addSpecial bool) []int {
	toks := t.Tokenize(text)
	n := len(toks)
	if addSpecial {
		n += 2
	}
	ids := make([]int, 0, n)
	if addSpecial {
		ids = append(ids, t.cls)
	}
	for _, tok := range toks {
		id, ok := t.vocab[tok]
		if !ok {
			id = t.unk
		}
		ids = append(ids, id)
	}
	if addSpecial {
		ids = append(ids, t.sep)
	}
	return ids
}

// EncodeBatch encodes each text and right-pads every row with the PAD id to
// the longest row; mask is 1 for real tokens and 0 for padding (HF
// padding=True, padding_side="right"). When maxLength > 0 a longer row is
// cut to maxLength, keeping [CLS] + the first maxLength-2 tokens + [SEP]
// with addSpecial (HF truncation=True). As in HF, a row whose special
// tokens alone exceed maxLength is left untruncated.
func (t *Tokenizer) EncodeBatch(texts []string, addSpecial bool, maxLength int) (ids [][]int, mask [][]int) {
	if len(texts) == 0 {
		return nil, nil
	}
	ids = make([][]int, len(texts))
	longest := 0
	for i, text := range texts {
		row := t.Encode(text, false)
		if maxLength > 0 {
			row = truncate(row, addSpecial, maxLength)
		}
		if addSpecial {
			row = append(append(append(make([]int, 0, len(row)+2), t.cls), row...), t.sep)
		}
		ids[i] = row
		longest = max(longest, len(row))
	}
	mask = make([][]int, len(texts))
	for i, row := range ids {
		m := make([]int, longest)
		for j := range row {
			m[j] = 1
		}
		for len(row) < longest {
			row = append(row, t.pad)
		}
		ids[i], mask[i] = row, m
	}
	return ids, mask
}

// truncate is HF's truncate_sequences for a single sequence with
// truncation_side "right": remove total-maxLength ids from the end, where
// total counts the two special tokens; if that would remove every id, HF
// logs an error and keeps the sequence whole.
func truncate(ids []int, addSpecial bool, maxLength int) []int {
	total := len(ids)
	if addSpecial {
		total += 2
	}
	remove := total - maxLength
	if remove <= 0 || len(ids) <= remove {
		return ids
	}
	return ids[:len(ids)-remove]
}

// Decode turns ids back into text, as BertTokenizer.decode: tokens joined by
// spaces with " ##" removed, then trimmed. skipSpecial drops the ids of all
// five special tokens ([UNK] included); an id outside the vocabulary decodes
// to the unknown token even then, as in HF. cleanUp applies HF's
// clean_up_tokenization (" ." → ".", " n't" → "n't", ...).
func (t *Tokenizer) Decode(ids []int, skipSpecial, cleanUp bool) string {
	var b strings.Builder
	first := true
	for _, id := range ids {
		if skipSpecial && t.specialIDs[id] {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(t.IDToken(id))
	}
	s := strings.ReplaceAll(b.String(), " ##", "")
	s = strings.TrimFunc(s, isPySpace)
	if cleanUp {
		s = cleanUpTokenization(s)
	}
	return s
}

// cleanUpReplacer is HF's clean_up_tokenization. The replacements are
// applied one after another over the whole string, as Python's chained
// str.replace calls do (a strings.Replacer would apply them in one pass).
var cleanUpPairs = [][2]string{
	{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
	{" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
}

func cleanUpTokenization(s string) string {
	for _, p := range cleanUpPairs {
		s = strings.ReplaceAll(s, p[0], p[1])
	}
	return s
}

// VocabSize is the number of distinct vocabulary tokens (HF's vocab_size,
// len(vocab)); it equals the number of lines unless a line repeats.
func (t *Tokenizer) VocabSize() int { return len(t.vocab) }

// ModelMaxLength is model_max_length from tokenizer_config.json (0 when
// unknown or unbounded). Encode does not apply it.
func (t *Tokenizer) ModelMaxLength() int { return t.opts.ModelMaxLength }

// CLS returns the id of the classifier token ([CLS], 101 in BERT's vocabulary).
func (t *Tokenizer) CLS() int { return t.cls }

// SEP returns the id of the separator token ([SEP], 102).
func (t *Tokenizer) SEP() int { return t.sep }

// PAD returns the id of the padding token ([PAD], 0).
func (t *Tokenizer) PAD() int { return t.pad }

// UNK returns the id of the unknown token ([UNK], 100).
func (t *Tokenizer) UNK() int { return t.unk }

// MASK returns the id of the mask token ([MASK], 103).
func (t *Tokenizer) MASK() int { return t.mask }
