package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"sort"
	"unsafe"

	"github.com/x448/float16"
)

// TensorInfo describes one tensor of a file. Begin and End are byte offsets
// into the data buffer (not the file); End is exclusive.
type TensorInfo struct {
	Name       string
	DType      DType
	Shape      []int64
	Begin, End int64
}

// NumElements returns the product of the dimensions (1 for a scalar, shape []).
// For infos returned by this package it never overflows.
func (t TensorInfo) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is a parsed safetensors file. Its lookups are safe for concurrent use;
// Close must not run concurrently with them. Slices returned by Bytes,
// Float32s (for F32), Uint16s, Int64s and Uint8s may alias the file's memory:
// they are read-only (writing to a memory-mapped file's slice crashes the
// process) and become invalid after Close.
type File struct {
	name   string
	data   []byte // whole file
	buf    []byte // data buffer: data[8+N:]
	meta   map[string]string
	infos  []TensorInfo // offset order
	index  map[string]int
	unmap  func() error // nil unless the file is memory-mapped
	fd     *os.File     // the mapped file (RowReader's pread); nil unless mapped
	closed bool
}

// Parse parses a safetensors file held in memory. name is used only in error
// messages. The returned File aliases data, which must not change while the
// File is in use. Every rule of formats.md §1.2 is enforced (see the package
// documentation); any violation is returned as a *FormatError.
func Parse(name string, data []byte) (*File, error) {
	if len(data) < 8 {
		return nil, fileErr(name, "file is %d bytes, shorter than the 8-byte header length prefix", len(data))
	}
	n := binary.LittleEndian.Uint64(data[:8])
	if n > MaxHeaderSize {
		return nil, fileErr(name, "header length N = %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return nil, fileErr(name, "header length N = %d runs past the end of the file (8+N = %d > file size %d)", n, n+8, len(data))
	}
	hdrEnd := 8 + int(n)
	meta, infos, err := parseHeader(name, data[8:hdrEnd])
	if err != nil {
		return nil, err
	}
	buf := data[hdrEnd:]

	index := make(map[string]int, len(infos))
	sort.SliceStable(infos, func(i, j int) bool {
		if infos[i].Begin != infos[j].Begin {
			return infos[i].Begin < infos[j].Begin
		}
		return infos[i].End < infos[j].End
	})
	var prevEnd int64
	for i, t := range infos {
		if t.Begin != prevEnd {
			switch {
			case i == 0:
				return nil, tensorErr(name, t.Name, "data_offsets [%d, %d]: the first tensor in the data buffer must begin at 0", t.Begin, t.End)
			case t.Begin < prevEnd:
				return nil, tensorErr(name, t.Name, "data_offsets [%d, %d] overlap tensor %q, which ends at %d", t.Begin, t.End, infos[i-1].Name, prevEnd)
			default:
				return nil, tensorErr(name, t.Name, "data_offsets [%d, %d] leave a gap of %d bytes after tensor %q, which ends at %d", t.Begin, t.End, t.Begin-prevEnd, infos[i-1].Name, prevEnd)
			}
		}
		prevEnd = t.End
		index[t.Name] = i
	}
	if prevEnd != int64(len(buf)) {
		if prevEnd > int64(len(buf)) {
			return nil, tensorErr(name, infos[len(infos)-1].Name, "data_offsets end at %d, past the end of the %d-byte data buffer (file truncated?)", prevEnd, len(buf))
		}
		return nil, fileErr(name, "tensors cover %d bytes of data but the data buffer (after the %d-byte header) has %d: %d trailing bytes", prevEnd, n, len(buf), int64(len(buf))-prevEnd)
	}
	return &File{name: name, data: data, buf: buf, meta: meta, infos: infos, index: index}, nil
}

// Name returns the name given to Open or Parse.
func (f *File) Name() string { return f.name }

// Close releases the memory mapping (if any). Slices obtained from the File
// must not be used afterwards. Close is idempotent.
func (f *File) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	f.buf, f.data = nil, nil
	if f.unmap != nil {
		u := f.unmap
		f.unmap, f.fd = nil, nil
		if err := u(); err != nil {
			return fmt.Errorf("%s: munmap: %w", f.name, err)
		}
	}
	return nil
}

// Metadata returns a copy of the __metadata__ object, or nil if the header
// has none.
func (f *File) Metadata() map[string]string {
	if f.meta == nil {
		return nil
	}
	m := make(map[string]string, len(f.meta))
	for k, v := range f.meta {
		m[k] = v
	}
	return m
}

// Tensors returns the tensors in data-buffer (offset) order; tensors at the
// same offset (zero-sized ones) keep their header order.
func (f *File) Tensors() []TensorInfo {
	out := make([]TensorInfo, len(f.infos))
	for i, t := range f.infos {
		t.Shape = append([]int64{}, t.Shape...)
		out[i] = t
	}
	return out
}

// Info returns the description of the named tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	t := f.infos[i]
	t.Shape = append([]int64{}, t.Shape...)
	return t, true
}

func (f *File) lookup(name string) (TensorInfo, []byte, error) {
	if f.closed {
		return TensorInfo{}, nil, fileErr(f.name, "file is closed")
	}
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, nil, tensorErr(f.name, name, "no such tensor")
	}
	t := f.infos[i]
	return t, f.buf[t.Begin:t.End:t.End], nil
}

// Bytes returns the raw little-endian bytes of the named tensor, without
// copying (see the File comment on aliasing).
func (f *File) Bytes(name string) ([]byte, error) {
	_, b, err := f.lookup(name)
	return b, err
}

// Float32s returns the named tensor as float32s. F32 data is returned as a
// zero-copy view when it is 4-byte aligned and the host is little-endian
// (otherwise it is copied); F16 and BF16 are widened into a new slice. Other
// dtypes are an error.
func (f *File) Float32s(name string) ([]float32, error) {
	t, b, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	switch t.DType {
	case F32:
		return viewOrDecode(b, binary.LittleEndian.Uint32, math.Float32frombits), nil
	case F16, BF16:
		out := make([]float32, len(b)/2)
		widen(out, b, t.DType)
		return out, nil
	}
	return nil, tensorErr(f.name, name, "dtype %s cannot be read as float32 (want F32, F16 or BF16)", t.DType)
}

// widen decodes the little-endian F32, F16 or BF16 values in b into dst
// (len(b)/size of them).
func widen(dst []float32, b []byte, dt DType) {
	switch dt {
	case F32:
		for i := range len(b) / 4 {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case F16:
		for i := range len(b) / 2 {
			dst[i] = float16.Frombits(binary.LittleEndian.Uint16(b[2*i:])).Float32()
		}
	case BF16:
		for i := range len(b) / 2 {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
		}
	}
}

// Uint16s returns the raw 16-bit values of an F16, BF16, U16 or I16 tensor
// (I16 reinterpreted), zero-copy when aligned on a little-endian host.
func (f *File) Uint16s(name string) ([]uint16, error) {
	t, b, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	switch t.DType {
	case F16, BF16, U16, I16:
		return viewOrDecode(b, binary.LittleEndian.Uint16, func(u uint16) uint16 { return u }), nil
	}
	return nil, tensorErr(f.name, name, "dtype %s cannot be read as uint16 (want F16, BF16, U16 or I16)", t.DType)
}

// Int64s returns an I64 tensor (token ids, masks), zero-copy when aligned on
// a little-endian host.
func (f *File) Int64s(name string) ([]int64, error) {
	t, b, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	if t.DType != I64 {
		return nil, tensorErr(f.name, name, "dtype %s cannot be read as int64 (want I64)", t.DType)
	}
	return viewOrDecode(b, binary.LittleEndian.Uint64, func(u uint64) int64 { return int64(u) }), nil
}

// Uint8s returns a U8 or BOOL tensor without copying.
func (f *File) Uint8s(name string) ([]uint8, error) {
	t, b, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	if t.DType != U8 && t.DType != Bool {
		return nil, tensorErr(f.name, name, "dtype %s cannot be read as uint8 (want U8 or BOOL)", t.DType)
	}
	return b, nil
}

// hostLittleEndian reports whether the host stores integers little-endian.
var hostLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// viewOrDecode reinterprets b as []T when that is valid (little-endian host,
// aligned start) and otherwise decodes each element with get and conv into a
// new slice. U is the unsigned integer type of the same size as T.
func viewOrDecode[T any, U uint16 | uint32 | uint64](b []byte, get func([]byte) U, conv func(U) T) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	n := len(b) / size
	if n == 0 {
		return []T{}
	}
	if hostLittleEndian && uintptr(unsafe.Pointer(&b[0]))%uintptr(size) == 0 {
		return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]T, n)
	for i := range out {
		out[i] = conv(get(b[i*size:]))
	}
	return out
}
