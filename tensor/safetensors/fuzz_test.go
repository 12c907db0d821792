package safetensors

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the crafted seeds in testdata/fuzz/FuzzParse")

// notInCorpus names invalidCases left out of the checked-in corpus because
// another seed covers the same path (FuzzParse still adds them with f.Add).
var notInCorpus = map[string]bool{
	"short-file": true, "leading-space": true, "json-missing-colon": true,
	"trailing-nul": true, "entry-null": true, "entry-string": true,
	"metadata-array": true, "lowercase-dtype": true, "dtype-number": true,
	"exp-dim": true, "string-dim": true, "shape-not-array": true,
	"f6-misaligned": true, "offsets-three": true, "offsets-object": true,
	"no-tensors-trailing-bytes": true,
}

// TestWriteFuzzCorpus writes invalidCases as go fuzz v1 seed files
// (testdata/fuzz/FuzzParse/crafted-*) when run with -update-corpus:
//
//	go test ./tensor/safetensors/ -run TestWriteFuzzCorpus -args -update-corpus
//
// Otherwise it checks that they are present and current.
func TestWriteFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	for _, c := range invalidCases() {
		if notInCorpus[c.name] {
			continue
		}
		p := filepath.Join(dir, "crafted-"+c.name)
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", c.data)
		if *updateCorpus {
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != content {
			t.Errorf("%s missing or stale; run go test -run TestWriteFuzzCorpus -update-corpus", p)
		}
	}
}

// FuzzParse: Parse never panics; a file it accepts has every tensor in range,
// and writing its tensors back then parsing again gives the same tensors,
// metadata and (on a second write) the same bytes.
func FuzzParse(f *testing.F) {
	for _, c := range invalidCases() {
		f.Add(c.data)
	}
	if files, err := filepath.Glob("testdata/golden/*/*/*.safetensors"); err == nil {
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil && len(data) <= 16<<10 {
				f.Add(data)
			}
		}
	}
	f.Add(craft(hdr(entry("b", "F32", "[1]", "[4,8]"), entry("a", "I64", "[]", "[8,16]"), entry("z", "U8", "[0]", "[0,0]"), entry("c", "F16", "[2]", "[0,4]")), zeros(16)))
	f.Add(craft(`{"__metadata__":{"format":"pt","k":"v\u0001"},"q":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}`, zeros(1)))

	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz", data)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), "fuzz: ") {
				t.Fatalf("error %T %q is not a *FormatError naming the file", err, err)
			}
			return
		}
		infos := file.Tensors()
		var ts []Tensor
		var prev int64
		for _, info := range infos {
			b, err := file.Bytes(info.Name)
			if err != nil {
				t.Fatal(err)
			}
			if info.Begin != prev || info.End < info.Begin || int64(len(b)) != info.End-info.Begin {
				t.Fatalf("tensor %q: bad range [%d, %d), %d bytes", info.Name, info.Begin, info.End, len(b))
			}
			prev = info.End
			switch info.DType {
			case F32, F16, BF16:
				v, err := file.Float32s(info.Name)
				if err != nil || int64(len(v)) != info.NumElements() {
					t.Fatalf("Float32s(%q): %d values, %v", info.Name, len(v), err)
				}
			}
			ts = append(ts, Tensor{Name: info.Name, DType: info.DType, Shape: info.Shape, Data: b})
		}
		if n := int64(len(data)); prev > n {
			t.Fatalf("data ends at %d, file has %d bytes", prev, n)
		}
		var out bytes.Buffer
		if err := Write(&out, ts, file.Metadata()); err != nil {
			t.Fatalf("Write of a parsed file failed: %v", err)
		}
		again, err := Parse("rewritten", out.Bytes())
		if err != nil {
			t.Fatalf("Parse of the rewritten file failed: %v", err)
		}
		if !reflect.DeepEqual(file.Metadata(), again.Metadata()) {
			t.Fatalf("metadata %q became %q", file.Metadata(), again.Metadata())
		}
		if len(again.Tensors()) != len(infos) {
			t.Fatalf("%d tensors became %d", len(infos), len(again.Tensors()))
		}
		for _, info := range infos {
			got, ok := again.Info(info.Name)
			if !ok || got.DType != info.DType || !reflect.DeepEqual(got.Shape, info.Shape) {
				t.Fatalf("tensor %q: %+v became %+v", info.Name, info, got)
			}
			b1, _ := file.Bytes(info.Name)
			b2, _ := again.Bytes(info.Name)
			if !bytes.Equal(b1, b2) {
				t.Fatalf("tensor %q: data changed", info.Name)
			}
		}
		var out2 bytes.Buffer
		if err := Write(&out2, tensorsOf(t, again), again.Metadata()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), out2.Bytes()) {
			t.Fatal("writing the rewritten file again changed its bytes")
		}
	})
}

func tensorsOf(t *testing.T, f *File) []Tensor {
	t.Helper()
	var ts []Tensor
	for _, info := range f.Tensors() {
		b, err := f.Bytes(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, Tensor{Name: info.Name, DType: info.DType, Shape: info.Shape, Data: b})
	}
	return ts
}
