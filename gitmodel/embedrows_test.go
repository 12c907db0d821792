package gitmodel

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitcap/gitcap/tensor/safetensors"
)

// A model loaded from a folder reads word-embedding rows with pread
// (safetensors.RowReader) instead of through the mapping: the logits and
// greedy captions are bit-identical to the lookup through the mapping (and
// TestForwardMatchesHF checks them against transformers).
func TestWordEmbeddingRowsExact(t *testing.T) {
	m := loadTiny(t, nil)
	if m.words == nil {
		t.Fatal("the F32 word embeddings of testdata/tiny are read through the mapping, want a RowReader")
	}
	g := golden(t)
	px := goldenF32(t, g, "inputs.pixel_values")
	run := func() ([]float32, string) {
		o, err := m.Forward(tinyBatch(t))
		if err != nil {
			t.Fatal(err)
		}
		caps, err := m.Generate(px, 2, DefaultGenerateConfig())
		if err != nil {
			t.Fatal(err)
		}
		return o.Logits, fmt.Sprint(caps)
	}
	logits, caps := run()
	words := m.words
	m.words = nil // the mapped lookup
	refLogits, refCaps := run()
	m.words = words
	for i := range refLogits {
		if logits[i] != refLogits[i] {
			t.Fatalf("logit %d: %v with pread rows, %v through the mapping", i, logits[i], refLogits[i])
		}
	}
	if caps != refCaps {
		t.Errorf("greedy captions differ:\n%s\n%s", caps, refCaps)
	}
}

// The pread lookup is used only where it must give the tensor's values: not
// for a writable (trainable) copy, a table replaced after loading, a table
// the tape trains, or an F16 table (widened into memory); models built
// without a file use the tensor.
func TestWordEmbeddingRowsOnlyWhenExact(t *testing.T) {
	w, err := LoadWith("testdata/tiny", LoadOptions{Writable: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.words != nil {
		t.Error("writable load reads embedding rows from the file, which training does not update")
	}

	// an F16 copy of the tiny checkpoint
	src, err := safetensors.Open("testdata/tiny/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var ts []safetensors.Tensor
	for _, info := range src.Tensors() {
		dt := info.DType
		if info.Name == "git.embeddings.word_embeddings.weight" {
			dt = safetensors.F16
		}
		v, err := src.Float32s(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		tt, err := safetensors.FromFloat32s(info.Name, dt, info.Shape, v)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tt)
	}
	dir := t.TempDir()
	cfg, _ := os.ReadFile("testdata/tiny/config.json")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	h, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.words != nil {
		t.Error("F16 word embeddings: rows read from the file, but the model uses a widened copy")
	}
	if _, err := h.Forward(tinyBatch(t)); err != nil {
		t.Fatal(err)
	}

	// a replaced table wins over the file
	m := loadTiny(t, nil)
	in := tinyBatch(t)
	before, _ := m.Forward(in)
	orig := m.Embeddings.WordEmbeddings
	m.Embeddings.WordEmbeddings = orig.Contiguous().Clone()
	m.Embeddings.WordEmbeddings.Data()[in.IDs[1]*m.Config.HiddenSize] += 1
	after, _ := m.Forward(in)
	same := true
	for i := range before.Logits {
		same = same && before.Logits[i] == after.Logits[i]
	}
	if same {
		t.Error("a replaced word-embedding table was ignored")
	}
	m.Embeddings.WordEmbeddings = orig

	fs, err := FromSource(&m.Config, src, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if fs.words != nil {
		t.Error("FromSource attached a row reader")
	}
}
