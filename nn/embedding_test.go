package nn

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gitcap/gitcap/tensor"
	"github.com/gitcap/gitcap/tensor/safetensors"
)

// rowsFunc is a RowReader made of a function.
type rowsFunc func(dst []float32, ids []int) error

func (f rowsFunc) ReadRows(dst []float32, ids []int) error { return f(dst, ids) }

// With Rows, Forward takes the rows from the reader and never reads Weight;
// when the reader fails it copies from Weight.
func TestEmbeddingRows(t *testing.T) {
	table := tensor.FromFloat32([]float32{0, 0, 1, 2, 3, 4}, 3, 2)
	calls := 0
	e := &Embedding{Weight: table, Rows: rowsFunc(func(dst []float32, ids []int) error {
		calls++
		for i, id := range ids {
			dst[2*i], dst[2*i+1] = float32(10*id), float32(10*id+1)
		}
		return nil
	})}
	y := make([]float32, 6)
	e.Forward(y, []int{2, 0, 1})
	if want := []float32{20, 21, 0, 1, 10, 11}; !reflect.DeepEqual(y, want) || calls != 1 {
		t.Errorf("through Rows: %v (%d calls), want %v", y, calls, want)
	}
	e.Rows = rowsFunc(func(dst []float32, ids []int) error {
		dst[0] = 99 // partly written, then failed
		return errors.New("disk on fire")
	})
	e.Forward(y, []int{2, 0, 1})
	if want := []float32{3, 4, 0, 0, 1, 2}; !reflect.DeepEqual(y, want) {
		t.Errorf("after a failed read: %v, want %v", y, want)
	}
}

// A table read through a safetensors.RowReader gives the rows of the
// tensor Weights loads from the same file, bit for bit.
func TestEmbeddingRowsFromCheckpoint(t *testing.T) {
	vals := make([]float32, 50*6)
	for i := range vals {
		vals[i] = float32(i)*0.37 - 5
	}
	w, _ := safetensors.FromFloat32s("emb.weight", safetensors.F32, []int64{50, 6}, vals)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := safetensors.WriteFile(path, []safetensors.Tensor{w}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ws := NewWeights(f, path)
	table := ws.Push("emb").Get("weight", 50, 6)
	if err := ws.Err(); err != nil {
		t.Fatal(err)
	}
	r, err := f.RowReader("emb.weight")
	if err != nil {
		t.Fatal(err)
	}
	ids := []int{49, 0, 17, 17, 3}
	got, want := make([]float32, len(ids)*6), make([]float32, len(ids)*6)
	(&Embedding{Weight: table, Rows: r}).Forward(got, ids)
	(&Embedding{Weight: table}).Forward(want, ids)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows from the file %v\nfrom the mapping %v", got, want)
	}
}
