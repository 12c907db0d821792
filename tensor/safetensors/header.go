package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxHeaderSize is the largest header length N the reader accepts
// (Rust MAX_HEADER_SIZE).
const MaxHeaderSize = 100_000_000

const metadataKey = "__metadata__"

// mulNonNeg multiplies two non-negative int64s, reporting overflow.
func mulNonNeg(a, b int64) (int64, bool) {
	if a != 0 && b > math.MaxInt64/a {
		return 0, false
	}
	return a * b, true
}

// sizeOf returns the element count and byte length of a tensor of dtype d and
// the given shape, or a message saying why there is none. The element count is
// the product of the dimensions folded left to right with overflow checks (as
// the Rust reader does), so [2^62, 4, 0] is an overflow, not 0 elements.
func sizeOf(d DType, shape []int64) (numel, nbytes int64, problem string) {
	numel = 1
	for i, dim := range shape {
		if dim < 0 {
			return 0, 0, fmt.Sprintf("negative dimension %d at index %d of shape %s", dim, i, shapeString(shape))
		}
		var ok bool
		if numel, ok = mulNonNeg(numel, dim); !ok {
			return 0, 0, fmt.Sprintf("shape %s: element count overflows int64", shapeString(shape))
		}
	}
	bits, ok := mulNonNeg(numel, int64(d.Bits()))
	if !ok {
		return 0, 0, fmt.Sprintf("%s %s: size in bits overflows int64", d, shapeString(shape))
	}
	if bits%8 != 0 {
		return 0, 0, fmt.Sprintf("%s %s: %d elements of %d bits do not end on a byte boundary", d, shapeString(shape), numel, d.Bits())
	}
	return numel, bits / 8, ""
}

// headerParser walks the header JSON token by token. encoding/json's map
// decoding would silently keep the last of duplicate keys and ignore unknown
// structure, so the header is checked with a json.Decoder instead.
type headerParser struct {
	file string
	dec  *json.Decoder
}

// parseHeader validates and decodes a header (the N bytes after the length
// prefix, trailing spaces included). It returns the metadata (nil if there is
// no __metadata__ key) and the tensors in the order they appear in the header.
func parseHeader(file string, hdr []byte) (map[string]string, []TensorInfo, error) {
	if len(hdr) == 0 {
		return nil, nil, fileErr(file, "header is empty (N = 0); it must be a JSON object starting with '{'")
	}
	if !utf8.Valid(hdr) {
		off := 0
		for off < len(hdr) {
			r, size := utf8.DecodeRune(hdr[off:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			off += size
		}
		return nil, nil, fileErr(file, "header is not valid UTF-8 (bad byte 0x%02x at header offset %d)", hdr[off], off)
	}
	if hdr[0] != '{' {
		return nil, nil, fileErr(file, "header does not start with '{' (first byte %q)", hdr[0])
	}
	p := &headerParser{file: file, dec: json.NewDecoder(bytes.NewReader(hdr))}
	p.dec.UseNumber()
	if err := p.delim('{', "header"); err != nil {
		return nil, nil, err
	}
	var (
		meta    map[string]string
		infos   []TensorInfo
		seen    = make(map[string]bool)
		hasMeta bool
	)
	for p.dec.More() {
		key, err := p.str("header key")
		if err != nil {
			return nil, nil, err
		}
		if seen[key] {
			if key == metadataKey {
				return nil, nil, fileErr(file, "duplicate key %q in header", key)
			}
			return nil, nil, tensorErr(file, key, "duplicate key in header")
		}
		seen[key] = true
		if key == metadataKey {
			hasMeta = true
			if meta, err = p.metadata(); err != nil {
				return nil, nil, err
			}
			continue
		}
		info, err := p.tensor(key)
		if err != nil {
			return nil, nil, err
		}
		infos = append(infos, info)
	}
	if err := p.delim('}', "header"); err != nil {
		return nil, nil, err
	}
	// serde_json::from_str accepts trailing JSON whitespace; the writer pads
	// with spaces only.
	off := p.dec.InputOffset()
	for i := off; i < int64(len(hdr)); i++ {
		switch hdr[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return nil, nil, fileErr(file, "unexpected %q at header offset %d after the JSON object (only spaces may follow it)", hdr[i], i)
		}
	}
	if hasMeta && meta == nil {
		meta = map[string]string{}
	}
	return meta, infos, nil
}

// token reads the next token, turning decoder errors into FormatErrors.
func (p *headerParser) token(what string) (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fileErr(p.file, "header JSON ends early (reading %s)", what)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fileErr(p.file, "header is not valid JSON at offset %d (reading %s): %v", se.Offset, what, err)
		}
		return nil, fileErr(p.file, "header is not valid JSON (reading %s): %v", what, err)
	}
	return tok, nil
}

func (p *headerParser) delim(want json.Delim, what string) error {
	tok, err := p.token(what)
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fileErr(p.file, "%s: expected %q, found %s", what, string(want), describe(tok))
	}
	return nil
}

func (p *headerParser) str(what string) (string, error) {
	tok, err := p.token(what)
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fileErr(p.file, "%s: expected a string, found %s", what, describe(tok))
	}
	return s, nil
}

// describe names a token for error messages.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return strconv.Quote(string(v))
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return "string " + strconv.Quote(v)
	case json.Number:
		return "number " + string(v)
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// metadata reads the __metadata__ value: a flat object of string to string.
func (p *headerParser) metadata() (map[string]string, error) {
	tok, err := p.token(metadataKey)
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fileErr(p.file, "%s must be an object of strings, found %s", metadataKey, describe(tok))
	}
	meta := make(map[string]string)
	for p.dec.More() {
		k, err := p.str(metadataKey + " key")
		if err != nil {
			return nil, err
		}
		if _, dup := meta[k]; dup {
			return nil, fileErr(p.file, "duplicate key %q in %s", k, metadataKey)
		}
		tok, err := p.token(metadataKey + " value")
		if err != nil {
			return nil, err
		}
		v, ok := tok.(string)
		if !ok {
			return nil, fileErr(p.file, "%s[%q] must be a string, found %s (metadata is a flat string-to-string object)", metadataKey, k, describe(tok))
		}
		meta[k] = v
	}
	if err := p.delim('}', metadataKey); err != nil {
		return nil, err
	}
	return meta, nil
}

// tensor reads one {"dtype":..., "shape":[...], "data_offsets":[b, e]} entry
// and checks it on its own (dims, overflow, byte length). Layout across
// tensors is checked later.
func (p *headerParser) tensor(name string) (TensorInfo, error) {
	info := TensorInfo{Name: name}
	tok, err := p.token("tensor entry")
	if err != nil {
		return info, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return info, tensorErr(p.file, name, "entry must be an object {\"dtype\", \"shape\", \"data_offsets\"}, found %s", describe(tok))
	}
	var hasDType, hasShape, hasOffsets bool
	for p.dec.More() {
		field, err := p.str("tensor field name")
		if err != nil {
			return info, err
		}
		switch field {
		case "dtype":
			if hasDType {
				return info, tensorErr(p.file, name, "duplicate field \"dtype\"")
			}
			hasDType = true
			tok, err := p.token("dtype")
			if err != nil {
				return info, err
			}
			s, ok := tok.(string)
			if !ok {
				return info, tensorErr(p.file, name, "dtype must be a string, found %s", describe(tok))
			}
			if info.DType, err = ParseDType(s); err != nil {
				return info, tensorErr(p.file, name, "%v", err)
			}
		case "shape":
			if hasShape {
				return info, tensorErr(p.file, name, "duplicate field \"shape\"")
			}
			hasShape = true
			if info.Shape, err = p.ints(name, "shape", -1); err != nil {
				return info, err
			}
		case "data_offsets":
			if hasOffsets {
				return info, tensorErr(p.file, name, "duplicate field \"data_offsets\"")
			}
			hasOffsets = true
			offs, err := p.ints(name, "data_offsets", 2)
			if err != nil {
				return info, err
			}
			info.Begin, info.End = offs[0], offs[1]
		default:
			return info, tensorErr(p.file, name, "unknown field %q (expected dtype, shape, data_offsets)", field)
		}
	}
	if err := p.delim('}', fmt.Sprintf("tensor %q", name)); err != nil {
		return info, err
	}
	var missing []string
	if !hasDType {
		missing = append(missing, "dtype")
	}
	if !hasShape {
		missing = append(missing, "shape")
	}
	if !hasOffsets {
		missing = append(missing, "data_offsets")
	}
	if len(missing) > 0 {
		return info, tensorErr(p.file, name, "missing field(s) %s", strings.Join(missing, ", "))
	}
	if info.Begin > info.End {
		return info, tensorErr(p.file, name, "data_offsets [%d, %d]: begin is after end", info.Begin, info.End)
	}
	_, nbytes, problem := sizeOf(info.DType, info.Shape)
	if problem != "" {
		return info, tensorErr(p.file, name, "%s", problem)
	}
	if got := info.End - info.Begin; got != nbytes {
		return info, tensorErr(p.file, name, "data_offsets [%d, %d] but %s %s needs %d bytes", info.Begin, info.End, info.DType, shapeString(info.Shape), nbytes)
	}
	return info, nil
}

// ints reads an array of non-negative integers; want < 0 means any length.
// Negative values are returned (for shape) so the caller can name the index;
// they are rejected here for data_offsets.
func (p *headerParser) ints(name, field string, want int) ([]int64, error) {
	tok, err := p.token(field)
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, tensorErr(p.file, name, "%s must be an array of integers, found %s", field, describe(tok))
	}
	vals := []int64{}
	for p.dec.More() {
		tok, err := p.token(field + " element")
		if err != nil {
			return nil, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, tensorErr(p.file, name, "%s must contain only integers, found %s", field, describe(tok))
		}
		s := string(num)
		if strings.ContainsAny(s, ".eE") {
			return nil, tensorErr(p.file, name, "%s element %s is not an integer", field, s)
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, tensorErr(p.file, name, "%s element %s does not fit in int64", field, s)
		}
		if v < 0 && field == "data_offsets" {
			return nil, tensorErr(p.file, name, "data_offsets element %d is negative", v)
		}
		if v < 0 {
			return nil, tensorErr(p.file, name, "negative dimension %d at index %d of %s", v, len(vals), field)
		}
		vals = append(vals, v)
	}
	if err := p.delim(']', fmt.Sprintf("tensor %q %s", name, field)); err != nil {
		return nil, err
	}
	if want >= 0 && len(vals) != want {
		return nil, tensorErr(p.file, name, "%s must have exactly %d integers, found %d", field, want, len(vals))
	}
	return vals, nil
}
