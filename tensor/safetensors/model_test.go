package safetensors

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeShards writes two shards and returns the index JSON that lists them.
func writeShards(t *testing.T, dir string) {
	t.Helper()
	a, _ := FromFloat32s("a.weight", F32, []int64{2}, []float32{1, 2})
	b, _ := FromFloat32s("b.weight", BF16, []int64{1}, []float32{3})
	c, _ := FromInt64s("c.ids", []int64{3}, []int64{7, 8, 9})
	pt := map[string]string{"format": "pt"}
	if err := WriteFile(filepath.Join(dir, "model-00001-of-00002.safetensors"), []Tensor{a, b}, pt); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "model-00002-of-00002.safetensors"), []Tensor{c}, pt); err != nil {
		t.Fatal(err)
	}
}

const goodIndex = `{"metadata":{"total_size":34},"weight_map":{
 "a.weight":"model-00001-of-00002.safetensors",
 "b.weight":"model-00001-of-00002.safetensors",
 "c.ids":"model-00002-of-00002.safetensors"}}`

func writeIndex(t *testing.T, dir, index string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, IndexFileName), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenModelSharded(t *testing.T) {
	dir := t.TempDir()
	writeShards(t, dir)
	writeIndex(t, dir, goodIndex)
	s, err := OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Names(); !reflect.DeepEqual(got, []string{"a.weight", "b.weight", "c.ids"}) {
		t.Errorf("Names %v", got)
	}
	if len(s.Files()) != 2 {
		t.Errorf("%d files open, want 2 (each shard once)", len(s.Files()))
	}
	if v, err := s.Float32s("a.weight"); err != nil || !reflect.DeepEqual(v, []float32{1, 2}) {
		t.Errorf("a.weight %v %v", v, err)
	}
	if v, err := s.Float32s("b.weight"); err != nil || !reflect.DeepEqual(v, []float32{3}) {
		t.Errorf("b.weight %v %v", v, err)
	}
	if v, err := s.Int64s("c.ids"); err != nil || !reflect.DeepEqual(v, []int64{7, 8, 9}) {
		t.Errorf("c.ids %v %v", v, err)
	}
	if info, ok := s.Info("c.ids"); !ok || info.DType != I64 || info.Begin != 0 {
		t.Errorf("Info %+v %v", info, ok)
	}
	if b, err := s.Bytes("b.weight"); err != nil || len(b) != 2 {
		t.Errorf("Bytes %v %v", b, err)
	}
	if _, err := s.Uint16s("b.weight"); err != nil {
		t.Error(err)
	}
	if _, err := s.Uint8s("b.weight"); err == nil {
		t.Error("Uint8s on BF16 succeeded")
	}
	if _, err := s.Float32s("zzz"); err == nil || !strings.Contains(err.Error(), `no tensor "zzz"`) {
		t.Errorf("missing: %v", err)
	}
	if _, ok := s.Info("zzz"); ok {
		t.Error("Info found a missing tensor")
	}

	// model.safetensors wins over the index when both exist.
	one, _ := FromFloat32s("only", F32, []int64{1}, []float32{5})
	if err := WriteFile(filepath.Join(dir, SingleFileName), []Tensor{one}, nil); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := s2.Names(); !reflect.DeepEqual(got, []string{"only"}) {
		t.Errorf("single-file Names %v", got)
	}
}

func TestOpenModelGolden(t *testing.T) {
	s, err := OpenModel("testdata/golden/tiny")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Names()) < 10 || s.Names()[0] > s.Names()[1] {
		t.Errorf("names %v", s.Names())
	}
}

func TestOpenModelErrors(t *testing.T) {
	cases := []struct {
		name  string
		index string // "" = no index file
		setup func(dir string)
		want  []string
	}{
		{"nothing", "", nil, []string{"neither model.safetensors nor model.safetensors.index.json exists"}},
		{"bad-json", `{"weight_map":`, nil, []string{IndexFileName, "invalid index JSON"}},
		{"no-weight-map", `{"metadata":{"total_size":1}}`, nil, []string{IndexFileName, `no "weight_map" object`}},
		{"weight-map-not-strings", `{"weight_map":{"a.weight":1}}`, nil, []string{IndexFileName, "invalid index JSON"}},
		{"duplicate-key", `{"weight_map":{"a.weight":"model-00001-of-00002.safetensors","a.weight":"model-00002-of-00002.safetensors"}}`, nil, []string{IndexFileName, `duplicate key "a.weight"`}},
		{"missing-shard", `{"weight_map":{"a.weight":"model-00003-of-00003.safetensors"}}`, nil, []string{IndexFileName, `shard "model-00003-of-00003.safetensors"`, "no such file"}},
		{"tensor-not-in-shard", `{"weight_map":{"c.ids":"model-00001-of-00002.safetensors"}}`, nil, []string{IndexFileName, `tensor "c.ids"`, `shard "model-00001-of-00002.safetensors", which has no such tensor`}},
		{"path-traversal", `{"weight_map":{"a.weight":"../model-00001-of-00002.safetensors"}}`, nil, []string{IndexFileName, `tensor "a.weight"`, "not a plain file name"}},
		{"corrupt-shard", goodIndex, func(dir string) {
			os.WriteFile(filepath.Join(dir, "model-00002-of-00002.safetensors"), []byte("garbage!!"), 0o644)
		}, []string{IndexFileName, `shard "model-00002-of-00002.safetensors"`, "header length N"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeShards(t, dir)
			if c.index != "" {
				writeIndex(t, dir, c.index)
			}
			if c.setup != nil {
				c.setup(dir)
			}
			s, err := OpenModel(dir)
			if err == nil {
				s.Close()
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
