package safetensors

import (
	"fmt"
	"io"
	"os"
	"unsafe"
)

// RowReader reads single rows of a 2-D F32, F16 or BF16 tensor (an
// embedding table) as float32, for lookups that touch a few rows of a large
// table: from a memory-mapped file it reads with pread(2) on the file
// descriptor behind the mapping, so the rows pass through the page cache
// but never enter the process's resident set. Touching the mapping instead
// makes the kernel map whole large folios and fault-around windows (tens of
// kilobytes to megabytes) for each 3 KB row; measured on git-base's
// 30522×768 table, a 20-token caption left 10–30 MB of it resident. For a
// file read into memory (Parse, or Open's fallback) rows are copied from
// there.
//
// A RowReader is safe for concurrent use; it must not be used after its
// File is closed.
type RowReader struct {
	f          *File
	name       string
	dtype      DType
	off        int64 // of row 0: in the file when f.fd is set, else in f.buf
	rows, cols int
}

// RowReader returns a reader for the named 2-D F32, F16 or BF16 tensor.
func (f *File) RowReader(name string) (*RowReader, error) {
	t, _, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	switch t.DType {
	case F32, F16, BF16:
	default:
		return nil, tensorErr(f.name, name, "dtype %s cannot be read as float32 rows (want F32, F16 or BF16)", t.DType)
	}
	if len(t.Shape) != 2 {
		return nil, tensorErr(f.name, name, "shape %v is not 2-D (rows, columns)", t.Shape)
	}
	r := &RowReader{f: f, name: name, dtype: t.DType, off: t.Begin, rows: int(t.Shape[0]), cols: int(t.Shape[1])}
	if f.fd != nil {
		r.off += int64(len(f.data) - len(f.buf)) // 8 + header length
	}
	return r, nil
}

// RowReader is File.RowReader on the shard holding name.
func (s *Set) RowReader(name string) (*RowReader, error) {
	f, err := s.file(name)
	if err != nil {
		return nil, err
	}
	return f.RowReader(name)
}

// Shape returns the tensor's (rows, columns).
func (r *RowReader) Shape() (rows, cols int) { return r.rows, r.cols }

// ReadRows writes row ids[i] of the tensor to dst[i·cols : (i+1)·cols].
// dst must hold len(ids)·cols values. An id outside [0, rows), a closed
// file or a failed or short read is an error; dst is then partly written.
func (r *RowReader) ReadRows(dst []float32, ids []int) error {
	c := r.cols
	if len(dst) < len(ids)*c {
		return tensorErr(r.f.name, r.name, "ReadRows: %d values of room for %d rows of %d", len(dst), len(ids), c)
	}
	if r.f.closed {
		return fileErr(r.f.name, "file is closed")
	}
	rowBytes := int64(c) * int64(r.dtype.Bits()/8)
	direct := r.dtype == F32 && hostLittleEndian // the file's bytes are the values
	var scratch []byte
	for i, id := range ids {
		if id < 0 || id >= r.rows {
			return tensorErr(r.f.name, r.name, "row %d outside [0, %d)", id, r.rows)
		}
		out := dst[i*c : (i+1)*c]
		at := r.off + int64(id)*rowBytes
		switch {
		case c == 0:
		case r.f.fd == nil:
			widen(out, r.f.buf[at:at+rowBytes], r.dtype)
		case direct:
			if err := readFull(r.f.fd, unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), rowBytes), at); err != nil {
				return tensorErr(r.f.name, r.name, "reading row %d: %v", id, err)
			}
		default:
			if scratch == nil {
				scratch = make([]byte, rowBytes)
			}
			if err := readFull(r.f.fd, scratch, at); err != nil {
				return tensorErr(r.f.name, r.name, "reading row %d: %v", id, err)
			}
			widen(out, scratch, r.dtype)
		}
	}
	return nil
}

// readFull is ReadAt that reports a short read (a file truncated since it
// was opened) as an error.
func readFull(fd *os.File, b []byte, at int64) error {
	n, err := fd.ReadAt(b, at)
	if n == len(b) {
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("short read, %d of %d bytes at offset %d (file truncated since it was opened?): %w", n, len(b), at, err)
}
