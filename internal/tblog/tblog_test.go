package tblog

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// CRC32C known answer: the standard check value of the Castagnoli CRC.
func TestCRC32CKnownAnswer(t *testing.T) {
	if got := crc32.Checksum([]byte("123456789"), castagnoli); got != 0xE3069283 {
		t.Fatalf("crc32c(123456789) = %#08x, want 0xe3069283", got)
	}
	// mask: rotate right by 15, add 0xa282ead8. For 0xE3069283:
	// rotr15 = (0xE3069283 >> 15) | (0xE3069283 << 17) = 0x0001C60D | 0x25060000
	//        = 0x2507C60D; + 0xA282EAD8 = 0xC78AB0E5.
	if got := maskedCRC([]byte("123456789")); got != 0xC78AB0E5 {
		t.Fatalf("masked crc32c(123456789) = %#08x, want 0xc78ab0e5", got)
	}
}

// Golden records. The data bytes are derived by hand; the CRCs come from the
// known-answer-tested CRC above and agree with the worked example in
// shared/docs/formats.md §6.2, produced by an independent encoder.
//
// Scalar event, wall_time 1.5, step 3, tag "loss", value 0.25:
//
//	09 000000000000f83f   field 1 (wall_time), wire 1: 1.5 = 0x3FF8000000000000 LE
//	10 03                 field 2 (step), varint 3
//	2a 0d                 field 5 (summary), 13 bytes:
//	  0a 0b                 field 1 (value), 11 bytes:
//	    0a 04 6c6f7373        field 1 (tag) "loss"
//	    15 0000803e           field 2 (simple_value), wire 5: 0.25f = 0x3E800000 LE
//
// 9+2+2+13 = 26 = 0x1a data bytes, framed as
// 1a00000000000000 | crc(len) 129bd82d | data | crc(data) d054b255.
func TestGoldenRecords(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"file_version", eventBytes(1.5, 0, FileVersion, nil),
			"1800000000000000" + "a37f4b22" +
				"09000000000000f83f" + "1a0d" + hex.EncodeToString([]byte("brain.Event:2")) +
				"2a28646c"},
		{"scalar", eventBytes(1.5, 3, "", scalarSummary("loss", 0.25)),
			"1a00000000000000" + "129bd82d" +
				"09000000000000f83f" + "1003" + "2a0d" + "0a0b" + "0a046c6f7373" + "150000803e" +
				"d054b255"},
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(appendRecord(nil, tt.data)); got != tt.want {
			t.Errorf("%s record\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

// Encoding corner cases: a zero value is still written (oneof member), a
// negative step is a 10-byte varint, a zero step and wall time are omitted.
func TestEncodingCorners(t *testing.T) {
	ev := decodeEvent(t, eventBytes(0, -1, "", scalarSummary("z", 0)))
	if ev.step != -1 || ev.hasWall || len(ev.values) != 1 || !ev.values[0].hasSimple || ev.values[0].simple != 0 {
		t.Errorf("decoded %+v", ev)
	}
	if b := eventBytes(0, -1, "", nil); len(b) != 11 || b[0] != 0x10 {
		t.Errorf("step -1 encoded as %x, want 10 followed by a 10-byte varint", b)
	}
	if b := eventBytes(0, 0, "", nil); len(b) != 0 {
		t.Errorf("empty event encoded as %x", b)
	}
}

func TestWriterRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "exp1") // Open creates it
	w, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Unix(1717171717, 250_000_000)
	type sc struct {
		tag   string
		step  int64
		value float64
	}
	want := []sc{{"avg_loss", 1, 2.5}, {"lr", 1, 1e-4}, {"avg_loss", 2, 2.25}, {"global_step", 0, 0}, {"neg", 1 << 40, -3.75}}
	for i, s := range want {
		if err := w.Scalar(s.tag, s.step, s.value, base.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	// Buffered: nothing but the file_version record is on disk before Flush.
	if recs := readRecords(t, w.Path()); len(recs) != 1 {
		t.Errorf("before Flush: %d records on disk, want 1", len(recs))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if recs := readRecords(t, w.Path()); len(recs) != 1+len(want) {
		t.Errorf("after Flush: %d records, want %d", len(recs), 1+len(want))
	}
	if err := w.Scalar("late", 9, 1, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Scalar("x", 1, 1, base); !errors.Is(err, ErrClosed) {
		t.Errorf("Scalar after Close: %v, want ErrClosed", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}

	name := filepath.Base(w.Path())
	host, _ := os.Hostname()
	if !regexp.MustCompile(`^events\.out\.tfevents\.\d{10}\.`).MatchString(name) || (host != "" && !strings.HasSuffix(name, "."+host)) {
		t.Errorf("file name %q, want events.out.tfevents.<10 digits>.%s", name, host)
	}

	recs := readRecords(t, w.Path())
	if len(recs) != 2+len(want) {
		t.Fatalf("%d records, want %d", len(recs), 2+len(want))
	}
	first := decodeEvent(t, recs[0])
	if first.fileVersion != FileVersion || !first.hasWall || first.wall < 1e9 || len(first.values) != 0 {
		t.Errorf("first event %+v, want file_version %q and a wall time", first, FileVersion)
	}
	for i, s := range want {
		ev := decodeEvent(t, recs[1+i])
		if ev.step != s.step || len(ev.values) != 1 {
			t.Fatalf("event %d: %+v", i, ev)
		}
		v := ev.values[0]
		if v.tag != s.tag || !v.hasSimple || v.simple != float32(s.value) {
			t.Errorf("event %d: tag %q value %v, want %q %v", i, v.tag, v.simple, s.tag, float32(s.value))
		}
		if wantWall := 1717171717.25 + float64(i); math.Abs(ev.wall-wantWall) > 1e-6 {
			t.Errorf("event %d: wall_time %f, want %f", i, ev.wall, wantWall)
		}
	}
	late := decodeEvent(t, recs[len(recs)-1])
	if late.values[0].tag != "late" || late.step != 9 || math.Abs(late.wall-float64(time.Now().Unix())) > 60 {
		t.Errorf("zero wall time not replaced by now: %+v", late)
	}
}

func TestOpenSameSecond(t *testing.T) {
	dir := t.TempDir()
	seen := map[string]bool{}
	for range 3 {
		w, err := OpenWithSuffix(dir, ".gitcap")
		if err != nil {
			t.Fatal(err)
		}
		if seen[w.Path()] || !strings.Contains(w.Path(), ".gitcap") {
			t.Errorf("path %q reused or lacks suffix", w.Path())
		}
		seen[w.Path()] = true
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// readRecords parses a TFRecord file, checking both CRCs of every record; a
// truncated last record is skipped, as TensorBoard does.
func readRecords(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for len(b) > 0 {
		if len(b) < 12 {
			break
		}
		n := binary.LittleEndian.Uint64(b)
		if got, want := binary.LittleEndian.Uint32(b[8:]), maskedCRC(b[:8]); got != want {
			t.Fatalf("record %d: length CRC %#x, want %#x", len(recs), got, want)
		}
		if uint64(len(b)-16) < n {
			break
		}
		data := b[12 : 12+n]
		if got, want := binary.LittleEndian.Uint32(b[12+n:]), maskedCRC(data); got != want {
			t.Fatalf("record %d: data CRC %#x, want %#x", len(recs), got, want)
		}
		recs = append(recs, data)
		b = b[16+n:]
	}
	return recs
}

type testValue struct {
	tag       string
	simple    float32
	hasSimple bool
}

type testEvent struct {
	wall        float64
	hasWall     bool
	step        int64
	fileVersion string
	values      []testValue
}

// decodeEvent is a minimal protobuf decoder for Event, Summary and
// Summary.Value; it fails on any field or wire type the writer never emits.
func decodeEvent(t *testing.T, b []byte) testEvent {
	t.Helper()
	var ev testEvent
	for _, f := range decodeFields(t, b) {
		switch {
		case f.num == 1 && f.wire == 1:
			ev.wall, ev.hasWall = math.Float64frombits(f.fixed), true
		case f.num == 2 && f.wire == 0:
			ev.step = int64(f.fixed)
		case f.num == 3 && f.wire == 2:
			ev.fileVersion = string(f.bytes)
		case f.num == 5 && f.wire == 2:
			for _, sf := range decodeFields(t, f.bytes) {
				if sf.num != 1 || sf.wire != 2 {
					t.Fatalf("Summary: unexpected field %d/%d", sf.num, sf.wire)
				}
				var v testValue
				for _, vf := range decodeFields(t, sf.bytes) {
					switch {
					case vf.num == 1 && vf.wire == 2:
						v.tag = string(vf.bytes)
					case vf.num == 2 && vf.wire == 5:
						v.simple, v.hasSimple = math.Float32frombits(uint32(vf.fixed)), true
					default:
						t.Fatalf("Value: unexpected field %d/%d", vf.num, vf.wire)
					}
				}
				ev.values = append(ev.values, v)
			}
		default:
			t.Fatalf("Event: unexpected field %d/%d", f.num, f.wire)
		}
	}
	return ev
}

type testField struct {
	num, wire int
	fixed     uint64 // varint, fixed64 or fixed32 value
	bytes     []byte
}

func decodeFields(t *testing.T, b []byte) []testField {
	t.Helper()
	var out []testField
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatalf("bad key varint in %x", b)
		}
		b = b[n:]
		f := testField{num: int(key >> 3), wire: int(key & 7)}
		switch f.wire {
		case 0:
			f.fixed, n = binary.Uvarint(b)
			if n <= 0 {
				t.Fatalf("bad varint")
			}
			b = b[n:]
		case 1:
			f.fixed, b = binary.LittleEndian.Uint64(b), b[8:]
		case 5:
			f.fixed, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				t.Fatalf("bad length")
			}
			f.bytes, b = b[n:n+int(l)], b[n+int(l):]
		default:
			t.Fatalf("wire type %d", f.wire)
		}
		out = append(out, f)
	}
	return out
}

func Example() {
	dir, _ := os.MkdirTemp("", "tblog")
	defer os.RemoveAll(dir)
	w, err := Open(filepath.Join(dir, "caption-train"))
	if err != nil {
		panic(err)
	}
	for step := int64(1); step <= 3; step++ {
		w.Scalar("avg_loss", step, 3/float64(step), time.Now())
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	b, _ := os.ReadFile(w.Path())
	fmt.Println(strings.HasPrefix(filepath.Base(w.Path()), "events.out.tfevents."), bytes.Contains(b, []byte("brain.Event:2")))
	// Output: true true
}
