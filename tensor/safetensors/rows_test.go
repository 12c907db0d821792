package safetensors

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// rowsFile writes a file with a (7, 5) table in each float dtype (values
// with odd bits, so a wrong offset or dtype shows), plus tensors that are
// not tables, and returns its path.
func rowsFile(t *testing.T) string {
	t.Helper()
	vals := make([]float32, 7*5)
	for i := range vals {
		vals[i] = float32(i)*1.375 - 17.0625
	}
	var ts []Tensor
	for _, dt := range []DType{F32, F16, BF16} {
		tt, err := FromFloat32s("table."+dt.String(), dt, []int64{7, 5}, vals)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tt)
	}
	vec, _ := FromFloat32s("vector", F32, []int64{35}, vals)
	ids, _ := FromInt64s("ids", []int64{2, 2}, []int64{1, 2, 3, 4})
	empty, _ := FromFloat32s("empty", F32, []int64{3, 0}, nil)
	path := filepath.Join(t.TempDir(), "rows.safetensors")
	if err := WriteFile(path, append(ts, vec, ids, empty), nil); err != nil {
		t.Fatal(err)
	}
	return path
}

// ReadRows returns exactly the rows of Float32s, from the mapped file
// (pread) and from memory, in any order and with repeats.
func TestRowReader(t *testing.T) {
	path := rowsFile(t)
	mapped, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer mapped.Close()
	raw, _ := os.ReadFile(path)
	inMem, err := Parse(path, raw)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int{6, 0, 3, 3, 1}
	for _, f := range []*File{mapped, inMem} {
		for _, dt := range []DType{F32, F16, BF16} {
			name := "table." + dt.String()
			all, err := f.Float32s(name)
			if err != nil {
				t.Fatal(err)
			}
			r, err := f.RowReader(name)
			if err != nil {
				t.Fatal(err)
			}
			if rows, cols := r.Shape(); rows != 7 || cols != 5 {
				t.Errorf("%s: shape %d×%d", name, rows, cols)
			}
			got := make([]float32, len(ids)*5+1)
			got[len(got)-1] = 42 // past the rows: untouched
			if err := r.ReadRows(got, ids); err != nil {
				t.Fatalf("%s (fd %v): %v", name, f.fd != nil, err)
			}
			var want []float32
			for _, id := range ids {
				want = append(want, all[id*5:(id+1)*5]...)
			}
			if !reflect.DeepEqual(got[:len(want)], want) || got[len(got)-1] != 42 {
				t.Errorf("%s (fd %v): rows %v\nwant %v", name, f.fd != nil, got, want)
			}
			if err := r.ReadRows(nil, nil); err != nil {
				t.Errorf("no rows: %v", err)
			}
		}
		r, err := f.RowReader("empty")
		if err != nil {
			t.Fatal(err)
		}
		if err := r.ReadRows(nil, []int{2, 0}); err != nil {
			t.Errorf("0 columns: %v", err)
		}
	}
	if mapped.fd == nil {
		t.Log("the file was read into memory (no mmap here): only the in-memory path ran")
	}
}

// Bad requests and damaged files give errors naming the file and tensor.
func TestRowReaderErrors(t *testing.T) {
	path := rowsFile(t)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, c := range []struct{ name, want string }{
		{"vector", "not 2-D"},
		{"ids", "dtype I64 cannot be read as float32 rows"},
		{"nope", "no such tensor"},
	} {
		if _, err := f.RowReader(c.name); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	r, err := f.RowReader("table.F32")
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 10)
	for _, c := range []struct {
		dst  []float32
		ids  []int
		want string
	}{
		{dst, []int{0, 7}, "row 7 outside [0, 7)"},
		{dst, []int{-1}, "row -1 outside [0, 7)"},
		{dst[:9], []int{0, 1}, "9 values of room for 2 rows of 5"},
	} {
		if err := r.ReadRows(c.dst, c.ids); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `"table.F32"`) {
			t.Errorf("ReadRows(%d values, %v): %v, want %q", len(c.dst), c.ids, err, c.want)
		}
	}
	if f.fd != nil {
		// a file truncated under the mapping: a short read, not a crash
		last := f.infos[len(f.infos)-1]
		name := last.Name
		if !strings.HasPrefix(name, "table.") {
			t.Fatalf("last tensor %q: test layout changed", name)
		}
		rl, _ := f.RowReader(name)
		if err := os.Truncate(path, int64(len(f.data))-4); err != nil {
			t.Fatal(err)
		}
		if err := rl.ReadRows(dst[:5], []int{6}); err == nil || !strings.Contains(err.Error(), "short read") {
			t.Errorf("truncated file: %v", err)
		}
	}
	f.Close()
	if err := r.ReadRows(dst, []int{0}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("after Close: %v", err)
	}
	if _, err := f.RowReader("table.F32"); err == nil {
		t.Error("RowReader on a closed file succeeded")
	}
}

func TestSetRowReader(t *testing.T) {
	dir := t.TempDir()
	a, _ := FromFloat32s("a.table", F32, []int64{2, 2}, []float32{1, 2, 3, 4})
	b, _ := FromFloat32s("b.table", BF16, []int64{3, 1}, []float32{5, 6, 7})
	pt := map[string]string{"format": "pt"}
	if err := WriteFile(filepath.Join(dir, "s1.safetensors"), []Tensor{a}, pt); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "s2.safetensors"), []Tensor{b}, pt); err != nil {
		t.Fatal(err)
	}
	writeIndex(t, dir, `{"weight_map":{"a.table":"s1.safetensors","b.table":"s2.safetensors"}}`)
	s, err := OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := make([]float32, 2)
	if r, err := s.RowReader("b.table"); err != nil || r.ReadRows(got, []int{2, 0}) != nil || !reflect.DeepEqual(got, []float32{7, 5}) {
		t.Errorf("b.table rows %v (%v)", got, err)
	}
	if r, err := s.RowReader("a.table"); err != nil || r.ReadRows(got, []int{1}) != nil || !reflect.DeepEqual(got, []float32{3, 4}) {
		t.Errorf("a.table rows %v (%v)", got, err)
	}
	if _, err := s.RowReader("c"); err == nil || !strings.Contains(err.Error(), `no tensor "c"`) {
		t.Errorf("missing: %v", err)
	}
}

// One decoding step's lookup (batch 1, git-base's width): pread against a
// copy out of the mapping, both on warm pages. Compare with the ~5 ms of a
// git-base decoding step.
func BenchmarkReadRows(b *testing.B) {
	const rows, cols = 4096, 768
	vals := make([]float32, rows*cols)
	table, _ := FromFloat32s("table", F32, []int64{rows, cols}, vals)
	path := filepath.Join(b.TempDir(), "t.safetensors")
	if err := WriteFile(path, []Tensor{table}, nil); err != nil {
		b.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r, _ := f.RowReader("table")
	view, _ := f.Float32s("table")
	dst := make([]float32, cols)
	b.Run("pread", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if err := r.ReadRows(dst, []int{i * 7919 % rows}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mapping", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			id := i * 7919 % rows
			copy(dst, view[id*cols:(id+1)*cols])
		}
	})
}
