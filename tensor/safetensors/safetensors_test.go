package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"unsafe"
)

// sharedGolden is /work/shared/golden seen from this package's folder.
const sharedGolden = "../../../shared/golden"

func goldenFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".safetensors") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// rewrite reads path and writes its tensors and metadata back.
func rewrite(t *testing.T, f *File) []byte {
	t.Helper()
	var ts []Tensor
	for _, info := range f.Tensors() {
		b, err := f.Bytes(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, Tensor{Name: info.Name, DType: info.DType, Shape: info.Shape, Data: b})
	}
	var buf bytes.Buffer
	if err := Write(&buf, ts, f.Metadata()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func checkRoundTrip(t *testing.T, path string) {
	t.Helper()
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := rewrite(t, f)
	if !bytes.Equal(got, want) {
		n := 0
		for n < len(got) && n < len(want) && got[n] == want[n] {
			n++
		}
		t.Errorf("%s: rewrite differs from the original at byte %d (got %d bytes, want %d)", path, n, len(got), len(want))
	}
}

// TestGoldenRoundTrip: every golden file read and written back is byte-identical.
func TestGoldenRoundTrip(t *testing.T) {
	files := goldenFiles(t, "testdata/golden")
	if len(files) < 5 {
		t.Fatalf("testdata/golden has %d files, want 5", len(files))
	}
	for _, p := range files {
		checkRoundTrip(t, p)
	}
	if st, err := os.Stat(sharedGolden); err != nil || !st.IsDir() {
		t.Logf("%s not present: checked only the %d copies in testdata/golden", sharedGolden, len(files))
		return
	}
	shared := goldenFiles(t, sharedGolden)
	for _, p := range shared {
		checkRoundTrip(t, p)
	}
	t.Logf("round-tripped %d testdata files and %d files under %s", len(files), len(shared), sharedGolden)
}

func TestGoldenContents(t *testing.T) {
	f, err := Open("testdata/golden/tiny/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.Metadata(); !reflect.DeepEqual(got, map[string]string{"format": "pt"}) {
		t.Errorf("metadata %v", got)
	}
	infos := f.Tensors()
	for i := 1; i < len(infos); i++ {
		if infos[i].Begin != infos[i-1].End {
			t.Fatalf("Tensors() not in offset order at %d", i)
		}
	}
	names := f.Names()
	if len(names) != len(infos) || !sort.StringsAreSorted(names) {
		t.Errorf("Names() = %d names, sorted %v", len(names), sort.StringsAreSorted(names))
	}
	info, ok := f.Info("git.embeddings.word_embeddings.weight")
	if !ok || info.DType != F32 || !reflect.DeepEqual(info.Shape, []int64{120, 32}) || info.NumElements() != 3840 {
		t.Fatalf("word embeddings info %+v %v", info, ok)
	}
	v, err := f.Float32s(info.Name)
	if err != nil || len(v) != 3840 {
		t.Fatal(len(v), err)
	}
	b, _ := f.Bytes(info.Name)
	if unsafe.Pointer(&v[0]) != unsafe.Pointer(&b[0]) {
		t.Error("Float32s on aligned F32 data copied instead of returning a view")
	}
	if v[5] != math.Float32frombits(binary.LittleEndian.Uint32(b[20:])) {
		t.Error("Float32s value mismatch")
	}
	if _, err := f.Int64s(info.Name); err == nil || !strings.Contains(err.Error(), "dtype F32 cannot be read as int64") {
		t.Errorf("Int64s on F32: %v", err)
	}
	if _, err := f.Bytes("nope"); err == nil || !strings.Contains(err.Error(), `tensor "nope": no such tensor`) {
		t.Errorf("missing tensor: %v", err)
	}

	in, err := Open("testdata/golden/tiny-cli/expected/inputs.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	ids, err := in.Int64s("input_ids")
	if err != nil || len(ids) != 4*17 || ids[0] != 101 {
		t.Fatalf("input_ids %v %v", ids, err)
	}
	if in.Metadata() != nil {
		t.Error("inputs.safetensors has no __metadata__; Metadata() should be nil")
	}
	if _, err := in.Float32s("input_ids"); err == nil || !strings.Contains(err.Error(), `tensor "input_ids": dtype I64 cannot be read as float32`) {
		t.Errorf("Float32s on I64: %v", err)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Bytes("input_ids"); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Bytes after Close: %v", err)
	}
	if err := in.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestWorkedExample is formats.md §1.4 byte for byte.
func TestWorkedExample(t *testing.T) {
	a, err := FromFloat32s("a", F32, []int64{2}, []float32{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, []Tensor{a}, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	want := []byte{0x58, 0, 0, 0, 0, 0, 0, 0}
	want = append(want, `{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}   `...)
	want = append(want, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("got\n%q\nwant\n%q", buf.Bytes(), want)
	}
	f, err := Parse("example", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.Float32s("a")
	if err != nil || !reflect.DeepEqual(v, []float32{1, 2}) {
		t.Fatal(v, err)
	}
}

// TestValidation: one crafted file per rule; the error names file, tensor and problem.
func TestValidation(t *testing.T) {
	for _, c := range invalidCases() {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse("bad.safetensors", c.data)
			if err == nil {
				t.Fatalf("accepted: %+v", f.Tensors())
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FormatError: %v", err, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "bad.safetensors: ") {
				t.Errorf("message does not start with the file name: %s", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q\ndoes not mention %q", msg, w)
				}
			}
		})
	}
}

// TestValidEdgeCases: things the format allows.
func TestValidEdgeCases(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		n    int
	}{
		{"empty-header", craft(`{}`, nil), 0},
		{"empty-header-padded", craft(`{}      `, nil), 0},
		{"metadata-only", craft(`{"__metadata__":{}}`, nil), 0},
		{"whitespace-tail", craft("{} \t\r\n", nil), 0},
		{"json-whitespace-inside", craft("{ \"a\" : { \"shape\" : [ ] , \"data_offsets\":[0,4],\"dtype\":\"F32\"}\n}", zeros(4)), 1},
		{"scalar", craft(hdr(entry("s", "F64", "[]", "[0,8]")), zeros(8)), 1},
		{"zero-dim", craft(hdr(entry("z", "F32", "[0,5]", "[0,0]"), entry("a", "F32", "[1]", "[0,4]")), zeros(4)), 2},
		{"zero-dims-same-offset", craft(hdr(entry("z", "F32", "[0]", "[4,4]"), entry("y", "I8", "[0]", "[4,4]"), entry("a", "F32", "[1]", "[0,4]")), zeros(4)), 3},
		{"f4-even", craft(hdr(entry("q", "F4", "[2,3]", "[0,3]")), zeros(3)), 1},
		{"f6-four", craft(hdr(entry("q", "F6_E3M2", "[4]", "[0,3]")), zeros(3)), 1},
		{"unsorted-entries", craft(hdr(entry("b", "F32", "[1]", "[4,8]"), entry("a", "F32", "[1]", "[0,4]")), zeros(8)), 2},
		{"empty-name", craft(hdr(entry("", "U8", "[1]", "[0,1]")), zeros(1)), 1},
		{"escaped-name", craft(hdr(entry(`a\"\u00e9\n`, "U8", "[1]", "[0,1]")), zeros(1)), 1},
	}
	for _, c := range cases {
		f, err := Parse(c.name, c.data)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := len(f.Tensors()); got != c.n {
			t.Errorf("%s: %d tensors, want %d", c.name, got, c.n)
		}
	}
	f, _ := Parse("x", craft(hdr(entry(`a\"\u00e9\n`, "U8", "[1]", "[0,1]")), []byte{7}))
	if v, err := f.Uint8s("a\"é\n"); err != nil || v[0] != 7 {
		t.Errorf("escaped name lookup: %v %v", v, err)
	}
	f, _ = Parse("x", craft(hdr(entry("b", "F32", "[1]", "[4,8]"), entry("a", "F32", "[1]", "[0,4]")), zeros(8)))
	if ts := f.Tensors(); ts[0].Name != "a" || ts[1].Name != "b" {
		t.Errorf("Tensors() not in offset order: %+v", ts)
	}
}

// TestOpenBadFiles: zero-byte, truncated and lying-length files on disk.
func TestOpenBadFiles(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("testdata/golden/tiny/lora_text/adapter_model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	lying := append([]byte{}, good...)
	binary.LittleEndian.PutUint64(lying, uint64(len(good))) // N past EOF
	shortN := append([]byte{}, good...)
	binary.LittleEndian.PutUint64(shortN, binary.LittleEndian.Uint64(good)-8) // N cuts the JSON
	longN := append([]byte{}, good...)
	binary.LittleEndian.PutUint64(longN, binary.LittleEndian.Uint64(good)+8) // N swallows data
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"zero.safetensors", nil, "zero.safetensors: file is 0 bytes, shorter than the 8-byte header length prefix"},
		{"seven.safetensors", good[:7], "shorter than the 8-byte"},
		{"truncated-header.safetensors", good[:200], "runs past the end of the file"},
		{"truncated-data.safetensors", good[:len(good)-1], "past the end of the"},
		{"extra.safetensors", append(append([]byte{}, good...), 0), "1 trailing bytes"},
		{"lying.safetensors", lying, "runs past the end of the file"},
		{"short-n.safetensors", shortN, "header JSON ends early"},
		{"long-n.safetensors", longN, "not valid"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Open(p)
		if err == nil {
			f.Close()
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: error %q does not contain %q and the file name", c.name, err, c.want)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing.safetensors")); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestHalfUpcast checks F16 and BF16 widening against known values.
func TestHalfUpcast(t *testing.T) {
	f16 := []struct {
		bits uint16
		want float32
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 5.9604645e-08}, {0x0400, 6.1035156e-05},
		{0x3555, 0.33325195}, {0x7c00, float32(math.Inf(1))}, {0xfc00, float32(math.Inf(-1))},
		{0x8000, float32(math.Copysign(0, -1))}, {0x3bff, 0.99951172},
	}
	bf16 := []struct {
		bits uint16
		want float32
	}{
		{0x3f80, 1}, {0xc040, -3}, {0x4049, 3.140625}, {0x7f80, float32(math.Inf(1))},
		{0x0001, math.Float32frombits(0x00010000)}, {0x7f7f, 3.3895314e+38}, {0x3e80, 0.25},
	}
	var h16, hb []byte
	for _, c := range f16 {
		h16 = binary.LittleEndian.AppendUint16(h16, c.bits)
	}
	for _, c := range bf16 {
		hb = binary.LittleEndian.AppendUint16(hb, c.bits)
	}
	hb = binary.LittleEndian.AppendUint16(hb, 0x7fc1) // NaN
	h16 = binary.LittleEndian.AppendUint16(h16, 0x7e01)
	var buf bytes.Buffer
	err := Write(&buf, []Tensor{
		{Name: "h", DType: F16, Shape: []int64{int64(len(f16) + 1)}, Data: h16},
		{Name: "b", DType: BF16, Shape: []int64{int64(len(bf16) + 1)}, Data: hb},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Parse from an odd offset too, so the copy (unaligned) path runs.
	for _, shift := range []int{0, 1} {
		mem := make([]byte, shift+buf.Len())
		copy(mem[shift:], buf.Bytes())
		f, err := Parse("half", mem[shift:])
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Float32s("h")
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range f16 {
			if math.Float32bits(got[i]) != math.Float32bits(c.want) {
				t.Errorf("F16 %#04x: got %g, want %g", c.bits, got[i], c.want)
			}
		}
		if !math.IsNaN(float64(got[len(f16)])) {
			t.Errorf("F16 NaN widened to %g", got[len(f16)])
		}
		got, err = f.Float32s("b")
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range bf16 {
			if math.Float32bits(got[i]) != math.Float32bits(c.want) {
				t.Errorf("BF16 %#04x: got %g, want %g", c.bits, got[i], c.want)
			}
		}
		if !math.IsNaN(float64(got[len(bf16)])) {
			t.Errorf("BF16 NaN widened to %g", got[len(bf16)])
		}
		raw, err := f.Uint16s("b")
		if err != nil || raw[0] != 0x3f80 {
			t.Errorf("Uint16s: %v %v", raw, err)
		}
	}
}

// TestNarrowing checks FromFloat32s rounding (nearest even) and the
// F32 copy path of Float32s.
func TestNarrowing(t *testing.T) {
	in := []float32{1, 1.00390625, 1.01171875, -2.5, 65504, 65520, 1.00048828125, 3.4e38}
	wantBF := []uint16{0x3f80, 0x3f80, 0x3f82, 0xc020, 0x4780, 0x4780, 0x3f80, 0x7f80}
	wantH := []uint16{0x3c00, 0x3c04, 0x3c0c, 0xc100, 0x7bff, 0x7c00, 0x3c00, 0x7c00}
	for _, c := range []struct {
		dt   DType
		want []uint16
	}{{BF16, wantBF}, {F16, wantH}} {
		ts, err := FromFloat32s("x", c.dt, []int64{2, 4}, in)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range c.want {
			if got := binary.LittleEndian.Uint16(ts.Data[2*i:]); got != w {
				t.Errorf("%v(%g) = %#04x, want %#04x", c.dt, in[i], got, w)
			}
		}
	}
	if _, err := FromFloat32s("x", I32, []int64{8}, in); err == nil {
		t.Error("FromFloat32s accepted I32")
	}
	if _, err := FromFloat32s("x", F32, []int64{3}, in); err == nil || !strings.Contains(err.Error(), "shape [3] has 3 elements but 8 values") {
		t.Errorf("count mismatch: %v", err)
	}
	ts, _ := FromFloat32s("x", F32, []int64{8}, in)
	var buf bytes.Buffer
	if err := Write(&buf, []Tensor{ts}, nil); err != nil {
		t.Fatal(err)
	}
	mem := make([]byte, buf.Len()+2)
	copy(mem[2:], buf.Bytes())
	f, err := Parse("odd", mem[2:])
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Float32s("x")
	if err != nil || !reflect.DeepEqual(got, in) {
		t.Errorf("unaligned F32 read: %v %v", got, err)
	}
}

// TestWriterOrderAndEscaping checks the dtype-descending sort and serde_json escaping.
func TestWriterOrderAndEscaping(t *testing.T) {
	ts := []Tensor{
		{Name: "z", DType: Bool, Shape: []int64{1}, Data: []byte{1}},
		{Name: "b", DType: F32, Shape: []int64{}, Data: zeros(4)},
		{Name: "a", DType: U64, Shape: []int64{1}, Data: zeros(8)},
		{Name: "a2", DType: F32, Shape: []int64{1}, Data: zeros(4)},
		{Name: "B", DType: F32, Shape: []int64{0, 3}, Data: nil},
		{Name: "c", DType: F16, Shape: []int64{2}, Data: zeros(4)},
		{Name: "q\"\\\n\t\x01\x1f\x7f<>&é", DType: F4, Shape: []int64{2, 1}, Data: zeros(1)},
	}
	var buf bytes.Buffer
	if err := Write(&buf, ts, map[string]string{"z": "1", "a": "<&>", "m": "\b\f\r"}); err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(buf.Bytes())
	header := string(buf.Bytes()[8 : 8+n])
	want := `{"__metadata__":{"a":"<&>","m":"\b\f\r","z":"1"},` +
		`"a":{"dtype":"U64","shape":[1],"data_offsets":[0,8]},` +
		`"B":{"dtype":"F32","shape":[0,3],"data_offsets":[8,8]},` +
		`"a2":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},` +
		`"b":{"dtype":"F32","shape":[],"data_offsets":[12,16]},` +
		`"c":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},` +
		`"q\"\\\n\t\u0001\u001f` + "\x7f<>&é" + `":{"dtype":"F4","shape":[2,1],"data_offsets":[20,21]},` +
		`"z":{"dtype":"BOOL","shape":[1],"data_offsets":[21,22]}}`
	if strings.TrimRight(header, " ") != want || len(header)%8 != 0 {
		t.Errorf("header\n%s\nwant\n%s", header, want)
	}
	f, err := Parse("w", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rewrite(t, f), buf.Bytes()) {
		t.Error("second write differs")
	}
	if m := f.Metadata(); m["m"] != "\b\f\r" || m["a"] != "<&>" {
		t.Errorf("metadata %q", m)
	}
	// nil metadata: no key at all; no tensors: "{}" padded.
	buf.Reset()
	if err := Write(&buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	if want := "\x08\x00\x00\x00\x00\x00\x00\x00{}      "; buf.String() != want {
		t.Errorf("empty file %q", buf.String())
	}
}

func TestWriterRejects(t *testing.T) {
	ok := Tensor{Name: "a", DType: F32, Shape: []int64{1}, Data: zeros(4)}
	cases := []struct {
		name string
		ts   []Tensor
		meta map[string]string
		want string
	}{
		{"dup", []Tensor{ok, ok}, nil, `tensor "a": duplicate tensor name`},
		{"reserved", []Tensor{{Name: "__metadata__", DType: U8, Shape: []int64{0}}}, nil, "reserved"},
		{"invalid-dtype", []Tensor{{Name: "x", Shape: []int64{0}}}, nil, `tensor "x": invalid dtype DType(0)`},
		{"bad-len", []Tensor{{Name: "x", DType: F32, Shape: []int64{2, 3}, Data: zeros(12)}}, nil, `tensor "x": 12 data bytes but F32 [2,3] needs 24`},
		{"neg", []Tensor{{Name: "x", DType: F32, Shape: []int64{-1}}}, nil, "negative dimension -1"},
		{"overflow", []Tensor{{Name: "x", DType: F32, Shape: []int64{1 << 62, 4}}}, nil, "overflows int64"},
		{"subbyte", []Tensor{{Name: "x", DType: F4, Shape: []int64{1}, Data: zeros(1)}}, nil, "byte boundary"},
		{"utf8-name", []Tensor{{Name: "x\xff", DType: U8, Shape: []int64{0}}}, nil, "not valid UTF-8"},
		{"utf8-meta", []Tensor{ok}, map[string]string{"k": "\xff"}, `metadata entry "k"`},
	}
	for _, c := range cases {
		err := Write(&bytes.Buffer{}, c.ts, c.meta)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.safetensors")
	ids, _ := FromInt64s("ids", []int64{2, 2}, []int64{101, -100, 0, 1 << 40})
	img, _ := FromUint8s("img", []int64{3}, []uint8{0, 128, 255})
	if err := WriteFile(p, []Tensor{ids, img}, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := f.Int64s("ids")
	if err != nil || !reflect.DeepEqual(got, []int64{101, -100, 0, 1 << 40}) {
		t.Errorf("ids %v %v", got, err)
	}
	u, err := f.Uint8s("img")
	if err != nil || !bytes.Equal(u, []byte{0, 128, 255}) {
		t.Errorf("img %v %v", u, err)
	}
	// Overwrite while the old file is mapped: the mapping stays valid.
	if err := WriteFile(p, []Tensor{img}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Int64s("ids"); got[0] != 101 {
		t.Error("old mapping changed after atomic replace")
	}
	// A rejected request leaves nothing behind.
	if err := WriteFile(filepath.Join(dir, "bad.safetensors"), []Tensor{{Name: "x"}}, nil); err == nil {
		t.Error("WriteFile accepted an invalid tensor")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "out.safetensors" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want only out.safetensors", names)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st.Mode())
	}
	if err := WriteFile(filepath.Join(dir, "no/such/dir/x.safetensors"), []Tensor{img}, nil); err == nil {
		t.Error("WriteFile into a missing folder succeeded")
	}
}

func TestDType(t *testing.T) {
	order := "BOOL F4 F6_E2M3 F6_E3M2 U8 I8 F8_E5M2 F8_E4M3 F8_E8M0 F8_E4M3FNUZ F8_E5M2FNUZ I16 U16 F16 BF16 I32 U32 F32 C64 F64 I64 U64"
	bits := []int{8, 4, 6, 6, 8, 8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 32, 32, 32, 64, 64, 64, 64}
	for i, s := range strings.Fields(order) {
		d, err := ParseDType(s)
		if err != nil || d != DType(i+1) || d.String() != s || d.Bits() != bits[i] || !d.Valid() {
			t.Errorf("%s: %v %v bits %d", s, d, err, d.Bits())
		}
	}
	if Invalid.Valid() || Invalid.Bits() != 0 || DType(200).String() != "DType(200)" {
		t.Error("invalid dtype handling")
	}
	if _, err := ParseDType("bf16"); err == nil {
		t.Error("ParseDType is case-insensitive")
	}
}
