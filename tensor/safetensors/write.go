package safetensors

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/gitcap/gitcap/kernels"
	"github.com/x448/float16"
)

// Tensor is one tensor to write: Data holds exactly
// NumElements(Shape) × DType.Bits() / 8 little-endian bytes.
type Tensor struct {
	Name  string
	DType DType
	Shape []int64
	Data  []byte
}

const writeName = "safetensors write"

// Write writes tensors and metadata as a safetensors file laid out exactly
// as the reference (Rust) writer does (formats.md §1.4):
//
//  1. tensors sorted by dtype descending in enum order (U64 first, BOOL
//     last), ties by name in ascending byte order;
//  2. data offsets assigned back to back in that order;
//  3. compact JSON header written by hand: "__metadata__" first (only when
//     metadata is non-nil; an empty non-nil map gives {}), metadata keys in
//     ascending byte order, then the tensors in offset order with fields
//     dtype, shape, data_offsets; strings escaped as serde_json does;
//  4. the header padded with spaces to a multiple of 8 bytes.
//
// Tensor names and metadata must be valid UTF-8, names unique and not
// "__metadata__", dtypes valid, dimensions non-negative and len(Data) must
// match; otherwise Write returns a *FormatError before writing anything.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header, order, err := buildHeader(tensors, metadata)
	if err != nil {
		return err
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	for _, i := range order {
		if _, err := w.Write(tensors[i].Data); err != nil {
			return err
		}
	}
	return nil
}

// buildHeader validates the tensors and returns the padded header and the
// order in which their data must follow it.
func buildHeader(tensors []Tensor, metadata map[string]string) ([]byte, []int, error) {
	seen := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		switch {
		case !utf8.ValidString(t.Name):
			return nil, nil, tensorErr(writeName, t.Name, "name is not valid UTF-8")
		case t.Name == metadataKey:
			return nil, nil, tensorErr(writeName, t.Name, "%q is reserved for metadata", metadataKey)
		case seen[t.Name]:
			return nil, nil, tensorErr(writeName, t.Name, "duplicate tensor name")
		case !t.DType.Valid():
			return nil, nil, tensorErr(writeName, t.Name, "invalid dtype %v", t.DType)
		}
		seen[t.Name] = true
		_, nbytes, problem := sizeOf(t.DType, t.Shape)
		if problem != "" {
			return nil, nil, tensorErr(writeName, t.Name, "%s", problem)
		}
		if int64(len(t.Data)) != nbytes {
			return nil, nil, tensorErr(writeName, t.Name, "%d data bytes but %s %s needs %d", len(t.Data), t.DType, shapeString(t.Shape), nbytes)
		}
	}
	keys := make([]string, 0, len(metadata))
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, nil, fileErr(writeName, "metadata entry %q: key and value must be valid UTF-8", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)

	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		ta, tb := &tensors[order[a]], &tensors[order[b]]
		if ta.DType != tb.DType {
			return ta.DType > tb.DType
		}
		return ta.Name < tb.Name
	})

	h := []byte{'{'}
	if metadata != nil {
		h = appendJSONString(h, metadataKey)
		h = append(h, ':', '{')
		for i, k := range keys {
			if i > 0 {
				h = append(h, ',')
			}
			h = appendJSONString(h, k)
			h = append(h, ':')
			h = appendJSONString(h, metadata[k])
		}
		h = append(h, '}')
		if len(tensors) > 0 {
			h = append(h, ',')
		}
	}
	var offset int64
	for j, i := range order {
		t := &tensors[i]
		if j > 0 {
			h = append(h, ',')
		}
		h = appendJSONString(h, t.Name)
		h = append(h, `:{"dtype":`...)
		h = appendJSONString(h, t.DType.String())
		h = append(h, `,"shape":[`...)
		for k, d := range t.Shape {
			if k > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendInt(h, d, 10)
		}
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendInt(h, offset, 10)
		h = append(h, ',')
		if int64(len(t.Data)) > math.MaxInt64-offset {
			return nil, nil, tensorErr(writeName, t.Name, "total data size overflows int64")
		}
		offset += int64(len(t.Data))
		h = strconv.AppendInt(h, offset, 10)
		h = append(h, ']', '}')
	}
	h = append(h, '}')
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	if len(h) > MaxHeaderSize {
		return nil, nil, fileErr(writeName, "header would be %d bytes, over the %d-byte limit readers accept", len(h), MaxHeaderSize)
	}
	return h, order, nil
}

// appendJSONString appends s as a JSON string the way serde_json writes it:
// '"' and '\\' escaped, \b \f \n \r \t short forms, other control characters
// below 0x20 as \u00xx with lower-case hex, everything else (including
// non-ASCII, '<', '>', '&' and 0x7f) as is. s must be valid UTF-8.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b = append(b, '\\', '"')
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// WriteFile writes the file atomically: it writes a temporary file in the
// same directory, fsyncs it, renames it over path and fsyncs the directory
// (best effort). On error path is left untouched. The file gets mode 0644.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) (err error) {
	// Validate first so a bad request never creates a temporary file.
	if _, _, err := buildHeader(tensors, metadata); err != nil {
		return err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err = Write(bw, tensors, metadata); err != nil {
		return fmt.Errorf("safetensors: writing %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: writing %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("safetensors: fsync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // not supported everywhere; the rename already happened
		d.Close()
	}
	return nil
}

// FromFloat32s builds a tensor of dtype F32, F16 or BF16 from float32 values.
// F16 narrowing rounds to nearest even (github.com/x448/float16); BF16
// narrowing rounds to nearest even and keeps NaN a quiet NaN, as
// kernels.BF16FromF32 and PyTorch do.
func FromFloat32s(name string, dtype DType, shape []int64, values []float32) (Tensor, error) {
	if err := checkCount(name, shape, len(values)); err != nil {
		return Tensor{}, err
	}
	var data []byte
	switch dtype {
	case F32:
		data = make([]byte, 4*len(values))
		for i, v := range values {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
		}
	case F16:
		data = make([]byte, 2*len(values))
		for i, v := range values {
			binary.LittleEndian.PutUint16(data[2*i:], float16.Fromfloat32(v).Bits())
		}
	case BF16:
		data = make([]byte, 2*len(values))
		for i, v := range values {
			binary.LittleEndian.PutUint16(data[2*i:], kernels.BF16FromF32(v))
		}
	default:
		return Tensor{}, tensorErr(writeName, name, "FromFloat32s: dtype %v is not F32, F16 or BF16", dtype)
	}
	return Tensor{Name: name, DType: dtype, Shape: append([]int64{}, shape...), Data: data}, nil
}

// FromInt64s builds an I64 tensor (token ids, attention masks).
func FromInt64s(name string, shape []int64, values []int64) (Tensor, error) {
	if err := checkCount(name, shape, len(values)); err != nil {
		return Tensor{}, err
	}
	data := make([]byte, 8*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint64(data[8*i:], uint64(v))
	}
	return Tensor{Name: name, DType: I64, Shape: append([]int64{}, shape...), Data: data}, nil
}

// FromUint8s builds a U8 tensor (images, boolean masks); values is copied.
func FromUint8s(name string, shape []int64, values []uint8) (Tensor, error) {
	if err := checkCount(name, shape, len(values)); err != nil {
		return Tensor{}, err
	}
	return Tensor{Name: name, DType: U8, Shape: append([]int64{}, shape...), Data: append([]byte{}, values...)}, nil
}

func checkCount(name string, shape []int64, n int) error {
	numel, _, problem := sizeOf(U8, shape)
	if problem != "" {
		return tensorErr(writeName, name, "%s", problem)
	}
	if numel != int64(n) {
		return tensorErr(writeName, name, "shape %s has %d elements but %d values were given", shapeString(shape), numel, n)
	}
	return nil
}
