// This file reads a Hugging Face model folder into a Tokenizer: vocab.txt
// with tokenizer_config.json and special_tokens_map.json, or tokenizer.json
// (the fast-tokenizer format) when there is no vocab.txt. It only reads
// settings; tokenization always follows the slow BertTokenizer.

package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
)

// File names inside a model folder.
const (
	VocabFile         = "vocab.txt"
	ConfigFile        = "tokenizer_config.json"
	SpecialTokensFile = "special_tokens_map.json"
	FastFile          = "tokenizer.json"
)

// Load reads the tokenizer of a model folder. The vocabulary comes from
// vocab.txt, or from tokenizer.json (model.vocab of a WordPiece model, and
// the BertNormalizer settings) when there is no vocab.txt. Settings in
// tokenizer_config.json (do_lower_case, strip_accents,
// tokenize_chinese_chars, never_split, model_max_length, the special tokens)
// and special_tokens_map.json override those defaults, as HF's
// from_pretrained does. Errors name the file and the field.
func Load(dir string) (*Tokenizer, error) {
	opts := DefaultOptions()
	var tokens []string

	vocabPath := filepath.Join(dir, VocabFile)
	src := vocabPath // where the vocabulary came from, for errors
	data, err := os.ReadFile(vocabPath)
	switch {
	case err == nil:
		tokens = splitLines(data)
		if len(tokens) == 0 {
			return nil, fmt.Errorf("tokenizer: %s: empty vocabulary", vocabPath)
		}
	case errors.Is(err, fs.ErrNotExist):
		fastPath := filepath.Join(dir, FastFile)
		src = fastPath
		data, err := os.ReadFile(fastPath)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("tokenizer: %s: no %s or %s", dir, VocabFile, FastFile)
		}
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
		if tokens, err = readFast(fastPath, data, &opts); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("tokenizer: %w", err)
	}

	for _, name := range []string{ConfigFile, SpecialTokensFile} {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
		if err := applyConfig(path, data, &opts, name == ConfigFile); err != nil {
			return nil, err
		}
	}

	t, err := newTokenizer(tokens, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (vocabulary from %s)", err, src)
	}
	return t, nil
}

// fieldError names the file and field of a bad setting.
func fieldError(path, field string, err error) error {
	return fmt.Errorf("tokenizer: %s: field %q: %v", path, field, err)
}

// decodeObject parses a JSON object into its raw fields.
func decodeObject(path string, data []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: invalid JSON: %v", path, err)
	}
	if m == nil {
		return nil, fmt.Errorf("tokenizer: %s: want a JSON object", path)
	}
	return m, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// applyConfig applies tokenizer_config.json (full is true) or
// special_tokens_map.json (special tokens only). Unknown fields are ignored;
// settings this package does not implement are rejected rather than
// silently ignored.
func applyConfig(path string, data []byte, opts *Options, full bool) error {
	m, err := decodeObject(path, data)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"unk_token", &opts.UnkToken}, {"sep_token", &opts.SepToken}, {"pad_token", &opts.PadToken},
		{"cls_token", &opts.ClsToken}, {"mask_token", &opts.MaskToken},
	} {
		raw, ok := m[f.name]
		if !ok || isNull(raw) {
			continue
		}
		s, err := tokenContent(raw)
		if err != nil {
			return fieldError(path, f.name, err)
		}
		*f.dst = s
	}
	if raw, ok := m["additional_special_tokens"]; ok && !isNull(raw) {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return fieldError(path, "additional_special_tokens", err)
		}
		if len(list) > 0 {
			return fieldError(path, "additional_special_tokens", errors.New("additional special tokens are not supported"))
		}
	}
	if !full {
		return nil
	}

	for _, f := range []struct {
		name string
		dst  *bool
	}{
		{"do_lower_case", &opts.DoLowerCase}, {"tokenize_chinese_chars", &opts.TokenizeChineseChars},
	} {
		if raw, ok := m[f.name]; ok {
			if err := json.Unmarshal(raw, f.dst); err != nil || isNull(raw) {
				return fieldError(path, f.name, fmt.Errorf("want true or false, got %s", raw))
			}
		}
	}
	if raw, ok := m["strip_accents"]; ok {
		mode, err := accentMode(raw)
		if err != nil {
			return fieldError(path, "strip_accents", err)
		}
		opts.StripAccents = mode
	}
	for _, name := range []string{"do_basic_tokenize", "do_split_on_punc"} {
		if raw, ok := m[name]; ok {
			var v bool
			if err := json.Unmarshal(raw, &v); err != nil || isNull(raw) {
				return fieldError(path, name, fmt.Errorf("want true or false, got %s", raw))
			}
			if !v {
				return fieldError(path, name, errors.New("only true is supported"))
			}
		}
	}
	if raw, ok := m["never_split"]; ok && !isNull(raw) {
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return fieldError(path, "never_split", fmt.Errorf("want a list of strings: %v", err))
		}
		opts.NeverSplit = list
	}
	if raw, ok := m["model_max_length"]; ok && !isNull(raw) {
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil || f < 0 || f != math.Trunc(f) {
			return fieldError(path, "model_max_length", fmt.Errorf("want a non-negative integer, got %s", raw))
		}
		opts.ModelMaxLength = 0 // HF's "no limit" is int(1e30)
		if f <= math.MaxInt32 {
			opts.ModelMaxLength = int(f)
		}
	}
	if raw, ok := m["tokenizer_class"]; ok && !isNull(raw) {
		var c string
		if err := json.Unmarshal(raw, &c); err != nil {
			return fieldError(path, "tokenizer_class", err)
		}
		if c != "BertTokenizer" && c != "BertTokenizerFast" {
			return fieldError(path, "tokenizer_class", fmt.Errorf("%q is not a BERT tokenizer", c))
		}
	}
	if raw, ok := m["added_tokens_decoder"]; ok && !isNull(raw) {
		var dec map[string]json.RawMessage
		if err := json.Unmarshal(raw, &dec); err != nil {
			return fieldError(path, "added_tokens_decoder", err)
		}
		keys := make([]string, 0, len(dec))
		for k := range dec {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s, err := tokenContent(dec[k])
			if err != nil {
				return fieldError(path, "added_tokens_decoder."+k, err)
			}
			if s != opts.UnkToken && s != opts.SepToken && s != opts.PadToken && s != opts.ClsToken && s != opts.MaskToken {
				return fieldError(path, "added_tokens_decoder."+k,
					fmt.Errorf("added token %q is not one of the five special tokens; extra added tokens are not supported", s))
			}
		}
	}
	return nil
}

// tokenContent reads a special token written as a string or as a
// serialized AddedToken ({"content": "[CLS]", ...}).
func tokenContent(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return "", errors.New("empty token")
		}
		return s, nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Content == nil || *obj.Content == "" {
		return "", fmt.Errorf("want a token string or {\"content\": ...}, got %s", raw)
	}
	return *obj.Content, nil
}

// accentMode reads strip_accents: null, true or false.
func accentMode(raw json.RawMessage) (AccentMode, error) {
	if isNull(raw) {
		return AccentsFollowLowerCase, nil
	}
	var v bool
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, fmt.Errorf("want null, true or false, got %s", raw)
	}
	if v {
		return AccentsStrip, nil
	}
	return AccentsKeep, nil
}

// readFast reads a tokenizer.json: the WordPiece vocabulary (ids must be
// 0..n-1) and, into opts, the model's unknown token and character limit and
// the BertNormalizer settings.
func readFast(path string, data []byte, opts *Options) ([]string, error) {
	m, err := decodeObject(path, data)
	if err != nil {
		return nil, err
	}
	rawModel, ok := m["model"]
	if !ok || isNull(rawModel) {
		return nil, fieldError(path, "model", errors.New("missing"))
	}
	var model struct {
		Type                    string          `json:"type"`
		UnkToken                *string         `json:"unk_token"`
		ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    *int            `json:"max_input_chars_per_word"`
		Vocab                   json.RawMessage `json:"vocab"`
	}
	if err := json.Unmarshal(rawModel, &model); err != nil {
		return nil, fieldError(path, "model", err)
	}
	if model.Type != "WordPiece" {
		return nil, fieldError(path, "model.type", fmt.Errorf("want \"WordPiece\", got %q", model.Type))
	}
	if model.ContinuingSubwordPrefix != nil && *model.ContinuingSubwordPrefix != wpPrefix {
		return nil, fieldError(path, "model.continuing_subword_prefix",
			fmt.Errorf("only %q is supported, got %q", wpPrefix, *model.ContinuingSubwordPrefix))
	}
	if model.UnkToken != nil {
		opts.UnkToken = *model.UnkToken
	}
	if model.MaxInputCharsPerWord != nil {
		if *model.MaxInputCharsPerWord <= 0 {
			return nil, fieldError(path, "model.max_input_chars_per_word", fmt.Errorf("want > 0, got %d", *model.MaxInputCharsPerWord))
		}
		opts.MaxInputCharsPerWord = *model.MaxInputCharsPerWord
	}
	var vocab map[string]int
	if err := json.Unmarshal(model.Vocab, &vocab); err != nil || len(vocab) == 0 {
		if err == nil {
			err = errors.New("empty vocabulary")
		}
		return nil, fieldError(path, "model.vocab", err)
	}
	tokens := make([]string, len(vocab))
	seen := make([]bool, len(vocab))
	for tok, id := range vocab {
		if id < 0 || id >= len(vocab) || seen[id] {
			return nil, fieldError(path, "model.vocab", fmt.Errorf("ids must be 0..%d, each once; %q has %d", len(vocab)-1, tok, id))
		}
		tokens[id], seen[id] = tok, true
	}

	if raw, ok := m["normalizer"]; ok && !isNull(raw) {
		var n map[string]json.RawMessage
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, fieldError(path, "normalizer", err)
		}
		var typ string
		_ = json.Unmarshal(n["type"], &typ)
		if typ != "BertNormalizer" {
			return nil, fieldError(path, "normalizer.type", fmt.Errorf("want \"BertNormalizer\", got %s", n["type"]))
		}
		for _, f := range []struct {
			name string
			dst  *bool
		}{{"lowercase", &opts.DoLowerCase}, {"handle_chinese_chars", &opts.TokenizeChineseChars}} {
			if raw, ok := n[f.name]; ok {
				if err := json.Unmarshal(raw, f.dst); err != nil || isNull(raw) {
					return nil, fieldError(path, "normalizer."+f.name, fmt.Errorf("want true or false, got %s", raw))
				}
			}
		}
		if raw, ok := n["strip_accents"]; ok {
			mode, err := accentMode(raw)
			if err != nil {
				return nil, fieldError(path, "normalizer.strip_accents", err)
			}
			opts.StripAccents = mode
		}
		if raw, ok := n["clean_text"]; ok {
			var v bool
			if err := json.Unmarshal(raw, &v); err != nil || !v {
				return nil, fieldError(path, "normalizer.clean_text", fmt.Errorf("only true is supported, got %s", raw))
			}
		}
	}
	return tokens, nil
}
