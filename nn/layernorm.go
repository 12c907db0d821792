package nn

import (
	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/tensor"
)

// LayerNorm normalises over the last axis: y = (x-mean)/sqrt(var+eps)·Weight + Bias.
// x: (N, C) → y: (N, C). Weight, Bias: (C).
type LayerNorm struct {
	Weight, Bias *tensor.Tensor
	Eps          float32
}

// Forward normalises n rows of x into y (y may alias x).
func (ln *LayerNorm) Forward(y, x []float32, n int) {
	c := ln.Weight.Dim(0)
	mean, rstd := make([]float32, n), make([]float32, n)
	kernels.LayerNorm(y, mean, rstd, x, ln.Weight.Data(), ln.Bias.Data(), n, c, ln.Eps)
}

// LoadLayerNorm reads "<prefix>.weight" and "<prefix>.bias", both (C).
func LoadLayerNorm(w *Weights, c int, eps float64) *LayerNorm {
	return &LayerNorm{Weight: w.GetInit("weight", InitOnes, c), Bias: w.GetInit("bias", InitZeros, c), Eps: float32(eps)}
}

// Embedding looks rows up in a table. ids: (N) → y: (N, C). Weight: (V, C).
type Embedding struct {
	Weight *tensor.Tensor
	// Rows, when set, reads the same table's rows from elsewhere (the
	// checkpoint file, see safetensors.RowReader) so that the table's
	// memory-mapped pages are never touched. It must return exactly
	// Weight's values; on an error Forward copies from Weight instead.
	Rows RowReader
}

// RowReader reads rows ids of a (V, C) table into dst (len(ids)·C values).
type RowReader interface {
	ReadRows(dst []float32, ids []int) error
}

// Forward copies row ids[i] of the table into y[i]. Ids must be in range
// (callers validate user input first).
func (e *Embedding) Forward(y []float32, ids []int) {
	c := e.Weight.Dim(1)
	if e.Rows != nil && e.Rows.ReadRows(y[:len(ids)*c], ids) == nil {
		return
	}
	w := e.Weight.Data()
	for i, id := range ids {
		copy(y[i*c:(i+1)*c], w[id*c:(id+1)*c])
	}
}
