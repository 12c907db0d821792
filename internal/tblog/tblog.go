// tblog.go holds the record framing, the hand-written protobuf encoding and
// the buffered Writer. It writes scalars only: no histograms, images or text.

package tblog

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// FileVersion is the file_version string of the first event, which marks the
// file as the current event-file format.
const FileVersion = "brain.Event:2"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is the CRC32C of b, masked as TFRecord stores it (a CRC of data
// that itself contains CRCs is then not trivially related to them).
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

// appendRecord appends data framed as one TFRecord.
func appendRecord(dst, data []byte) []byte {
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], uint64(len(data)))
	dst = append(dst, hdr[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, maskedCRC(hdr[:]))
	dst = append(dst, data...)
	return binary.LittleEndian.AppendUint32(dst, maskedCRC(data))
}

// Protobuf wire types and helpers (proto3 encoding).
const (
	wireVarint = 0
	wire64     = 1
	wireBytes  = 2
	wire32     = 5
)

func appendTag(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field)<<3|uint64(wire))
}

func appendBytesField(b []byte, field int, v []byte) []byte {
	b = appendTag(b, field, wireBytes)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// eventBytes serializes an Event. As proto3 does, wall_time and step are left
// out when zero; summary is left out when nil. A negative step is written as
// its 64-bit two's complement, as protobuf encodes int64.
func eventBytes(wallTime float64, step int64, fileVersion string, summary []byte) []byte {
	var b []byte
	if wallTime != 0 {
		b = appendTag(b, 1, wire64)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(wallTime))
	}
	if step != 0 {
		b = appendTag(b, 2, wireVarint)
		b = binary.AppendUvarint(b, uint64(step))
	}
	if fileVersion != "" {
		b = appendBytesField(b, 3, []byte(fileVersion))
	}
	if summary != nil {
		b = appendBytesField(b, 5, summary)
	}
	return b
}

// scalarSummary serializes Summary{value{tag, simple_value}}. simple_value is
// written even when 0: it is a oneof member, and TensorBoard uses the member
// that is present to tell what kind of value it has.
func scalarSummary(tag string, v float32) []byte {
	var val []byte
	if tag != "" {
		val = appendBytesField(val, 1, []byte(tag))
	}
	val = appendTag(val, 2, wire32)
	val = binary.LittleEndian.AppendUint32(val, math.Float32bits(v))
	return appendBytesField(nil, 1, val)
}

// wallSeconds is t as fractional Unix seconds, TensorBoard's wall_time.
func wallSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

// ErrClosed is returned by a Writer's methods after Close.
var ErrClosed = errors.New("tblog: writer is closed")

// Writer appends events to one event file. Its methods are safe for
// concurrent use. Writes are buffered: they reach the file on Flush, on Close,
// or when the buffer fills. TensorBoard skips a truncated last record, so a
// crash loses at most the unflushed events.
type Writer struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	path string
	buf  []byte // reused record buffer
	err  error  // first write error; sticky
}

// Open creates dir if needed and a new event file in it named
// events.out.tfevents.<Unix seconds, 10 digits>.<hostname>, and writes the
// file_version event. If that name is taken (two writers in the same second),
// ".1", ".2", … is appended.
func Open(dir string) (*Writer, error) { return OpenWithSuffix(dir, "") }

// OpenWithSuffix is Open with suffix appended to the file name, as PyTorch's
// SummaryWriter(filename_suffix=…) does; TensorBoard needs only the
// "tfevents" part of the name.
func OpenWithSuffix(dir, suffix string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tblog: %w", err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	now := time.Now()
	base := filepath.Join(dir, fmt.Sprintf("events.out.tfevents.%010d.%s%s", now.Unix(), host, suffix))
	var f *os.File
	path := base
	for i := 1; ; i++ {
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || i > 1000 {
			return nil, fmt.Errorf("tblog: %w", err)
		}
		path = fmt.Sprintf("%s.%d", base, i)
	}
	wr := &Writer{f: f, w: bufio.NewWriterSize(f, 64<<10), path: path}
	wr.write(eventBytes(wallSeconds(now), 0, FileVersion, nil))
	if err := wr.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	return wr, nil
}

// Path returns the event file's path.
func (w *Writer) Path() string { return w.path }

// Scalar records value under tag at step. TensorBoard stores the value as a
// float32. A zero wall time means now.
func (w *Writer) Scalar(tag string, step int64, value float64, wall time.Time) error {
	if wall.IsZero() {
		wall = time.Now()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return ErrClosed
	}
	w.write(eventBytes(wallSeconds(wall), step, "", scalarSummary(tag, float32(value))))
	return w.err
}

// write frames data as a record and buffers it; the caller holds mu or owns w.
func (w *Writer) write(data []byte) {
	if w.err != nil {
		return
	}
	w.buf = appendRecord(w.buf[:0], data)
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = fmt.Errorf("tblog: %w", err)
	}
}

// Flush writes buffered events to the file.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return ErrClosed
	}
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if w.err == nil {
		if err := w.w.Flush(); err != nil {
			w.err = fmt.Errorf("tblog: %w", err)
		}
	}
	return w.err
}

// Close flushes and closes the file. Later calls return ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return ErrClosed
	}
	err := w.flushLocked()
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("tblog: %w", cerr)
	}
	w.f = nil
	return err
}
