package nn

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/tensor"
)

// The ops, each forward next to its backward. Shapes: x (N, In) etc.
//
// Memory rule: a backward closure captures gradient slots (gx, gy) and only
// the value slices its formula reads, never a whole Var, so activations that
// no backward needs are freed as soon as the forward moves on.

// Linear: y = x·Wᵀ + b + s·(drop(x)·Aᵀ)·Bᵀ. x: (N, In) → y: (N, Out).
// Backward: dx += dy·W + s·((dy·B)·A)∘mask; dW += dyᵀ·x; db += Σ_rows dy;
// dB += s·dyᵀ·h; dA += s·(dy·B)ᵀ·drop(x), with h = drop(x)·Aᵀ.
func (t *Tape) Linear(l *Linear, x *Var) *Var {
	in, out := l.In(), l.Out()
	if x.Cols != in {
		panic(fmt.Sprintf("nn: Linear: input has %d columns, layer takes %d", x.Cols, in))
	}
	n, p, g := x.Rows, t.Pool, t.Grads
	a := l.LoRA
	trainW, trainB := g.Trainable(l.Weight), g.Trainable(l.Bias)
	trainLoRA := a != nil && (g.Trainable(a.A) || g.Trainable(a.B))
	y := t.out(n, out, x.g != nil || trainW || trainB || trainLoRA)
	l.Forward(p, y.Data, x.Data, n)
	gx, gy := x.g, y.g
	var xs []float32 // the input, kept only when dW needs it
	if trainW {
		xs = x.Data
	}
	if a == nil {
		t.push(gy != nil, func() {
			if gy.v != nil {
				t.linearBack(l, gx, gy.v, xs, n, trainW, trainB)
			}
		})
		return y
	}
	// Forward already added the adapter without dropout; with dropout, redo
	// the adapter term on the masked input.
	r := a.Rank()
	xd, mask := x.Data, (*dropMask)(nil)
	if t.Train && a.Dropout > 0 {
		xd, mask = t.dropout(x.Data, a.Dropout)
		h := make([]float32, n*r)
		kernels.Sgemm(p, false, true, n, r, in, 1, x.Data, in, a.A.Data(), in, 0, h, r)
		kernels.Sgemm(p, false, true, n, out, r, -a.Scaling, h, r, a.B.Data(), r, 1, y.Data, out)
		kernels.Sgemm(p, false, true, n, r, in, 1, xd, in, a.A.Data(), in, 0, h, r)
		kernels.Sgemm(p, false, true, n, out, r, a.Scaling, h, r, a.B.Data(), r, 1, y.Data, out)
	}
	if !trainLoRA {
		xd = nil
	}
	t.push(gy != nil, func() {
		dy := gy.v
		if dy == nil {
			return
		}
		t.linearBack(l, gx, dy, xs, n, trainW, trainB)
		dh := make([]float32, n*r) // s·dy·B   (N, r)
		kernels.Sgemm(p, false, false, n, r, out, a.Scaling, dy, out, a.B.Data(), r, 0, dh, r)
		if trainLoRA {
			h := make([]float32, n*r) // drop(x)·Aᵀ
			kernels.Sgemm(p, false, true, n, r, in, 1, xd, in, a.A.Data(), in, 0, h, r)
			if gB := g.Of(a.B); gB != nil { // dB += s·dyᵀ·h   (Out, r)
				kernels.Sgemm(p, true, false, out, r, n, a.Scaling, dy, out, h, r, 1, gB, r)
			}
			if gA := g.Of(a.A); gA != nil { // dA += dhᵀ·drop(x)   (r, In)
				kernels.Sgemm(p, true, false, r, in, n, 1, dh, r, xd, in, 1, gA, in)
			}
		}
		if gx != nil {
			dxd := make([]float32, n*in) // dh·A
			kernels.Sgemm(p, false, false, n, in, r, 1, dh, r, a.A.Data(), in, 0, dxd, in)
			dx := gx.buf()
			for i, v := range dxd {
				if mask != nil {
					v *= mask.at(i)
				}
				dx[i] += v
			}
		}
	})
	return y
}

func (t *Tape) linearBack(l *Linear, gx *gradSlot, dy, x []float32, n int, trainW, trainB bool) {
	in, out, p := l.In(), l.Out(), t.Pool
	if gx != nil { // dx += dy·W   (N, In)
		l.BackwardX(p, gx.buf(), dy, n)
	}
	if trainW { // dW += dyᵀ·x   (Out, In)
		kernels.Sgemm(p, true, false, out, in, n, 1, dy, out, x, in, 1, t.Grads.Of(l.Weight), in)
	}
	if trainB {
		db := t.Grads.Of(l.Bias)
		for r := 0; r < n; r++ {
			kernels.Axpy(1, dy[r*out:(r+1)*out], db)
		}
	}
}

// dropMask says which values dropout kept; kept ones are scaled by Scale =
// 1/(1-p). One byte per value: a quarter of a float32 mask.
type dropMask struct {
	Keep  []bool
	Scale float32
}

// at is the mask's multiplier for value i.
func (m *dropMask) at(i int) float32 {
	if m.Keep[i] {
		return m.Scale
	}
	return 0
}

// dropout returns x with each value zeroed with probability p and the rest
// scaled by 1/(1-p), and the mask it used.
func (t *Tape) dropout(x []float32, p float32) ([]float32, *dropMask) {
	if t.RNG == nil {
		panic("nn: dropout in training mode needs Tape.RNG")
	}
	m := &dropMask{Keep: make([]bool, len(x)), Scale: 1 / (1 - p)}
	y := make([]float32, len(x))
	// 16 random bits per value, four values per draw: p is honoured to 2⁻¹⁶.
	thr := uint64(math.Round(float64(p) * (1 << 16)))
	var bits uint64
	for i, v := range x {
		if i%4 == 0 {
			bits = t.RNG.Uint64()
		}
		if bits&0xffff >= thr {
			m.Keep[i] = true
			y[i] = v * m.Scale
		}
		bits >>= 16
	}
	return y, m
}

// Dropout zeroes values with probability p in training mode (identity otherwise).
func (t *Tape) Dropout(x *Var, p float32) *Var {
	if !t.Train || p <= 0 {
		return x
	}
	y := t.out(x.Rows, x.Cols, x.g != nil)
	var mask *dropMask
	y.Data, mask = t.dropout(x.Data, p)
	gx, gy := x.g, y.g
	t.push(gy != nil, func() {
		if gy.v == nil {
			return
		}
		dx := gx.buf()
		for i, k := range mask.Keep {
			if k {
				dx[i] += gy.v[i] * mask.Scale
			}
		}
	})
	return y
}

// LayerNorm over the columns. Backward: kernels.LayerNormBackward.
func (t *Tape) LayerNorm(ln *LayerNorm, x *Var) *Var {
	n, c := x.Rows, x.Cols
	trainW, trainB := t.Grads.Trainable(ln.Weight), t.Grads.Trainable(ln.Bias)
	y := t.out(n, c, x.g != nil || trainW || trainB)
	var mean, rstd []float32
	if y.g != nil {
		mean, rstd = make([]float32, n), make([]float32, n)
	}
	w, b := ln.Weight.Data(), ln.Bias.Data()
	t.Pool.Parallel(n, func(lo, hi int) {
		var m, r []float32
		if mean != nil {
			m, r = mean[lo:hi], rstd[lo:hi]
		}
		kernels.LayerNorm(y.Data[lo*c:hi*c], m, r, x.Data[lo*c:hi*c], w, b, hi-lo, c, ln.Eps)
	})
	gx, gy, xs := x.g, y.g, x.Data
	t.push(gy != nil, func() {
		if gy.v == nil {
			return
		}
		var dx []float32
		if gx != nil {
			dx = gx.buf()
		} else {
			dx = make([]float32, n*c) // the kernel always writes dx
		}
		dw, db := t.Grads.Of(ln.Weight), t.Grads.Of(ln.Bias)
		// Rows run in parallel; trainable dw/db are summed per chunk and the
		// partial sums added in row order, so results do not depend on timing.
		var mu sync.Mutex
		partial := map[int][2][]float32{}
		t.Pool.Parallel(n, func(lo, hi int) {
			var pw, pb []float32
			if dw != nil {
				pw = make([]float32, c)
			}
			if db != nil {
				pb = make([]float32, c)
			}
			kernels.LayerNormBackward(dx[lo*c:hi*c], pw, pb, gy.v[lo*c:hi*c], xs[lo*c:hi*c], w, mean[lo:hi], rstd[lo:hi], hi-lo, c)
			mu.Lock()
			partial[lo] = [2][]float32{pw, pb}
			mu.Unlock()
		})
		starts := make([]int, 0, len(partial))
		for lo := range partial {
			starts = append(starts, lo)
		}
		sort.Ints(starts)
		for _, lo := range starts {
			if dw != nil {
				kernels.Axpy(1, partial[lo][0], dw)
			}
			if db != nil {
				kernels.Axpy(1, partial[lo][1], db)
			}
		}
	})
	return y
}

// Add: y = a + b (same shape).
func (t *Tape) Add(a, b *Var) *Var {
	if a.Rows != b.Rows || a.Cols != b.Cols {
		panic(fmt.Sprintf("nn: Add: %d×%d + %d×%d", a.Rows, a.Cols, b.Rows, b.Cols))
	}
	y := t.out(a.Rows, a.Cols, a.g != nil || b.g != nil)
	copy(y.Data, a.Data)
	kernels.Axpy(1, b.Data, y.Data)
	ga, gb, gy := a.g, b.g, y.g
	t.push(gy != nil, func() {
		if gy.v == nil {
			return
		}
		for _, g := range []*gradSlot{ga, gb} {
			if g != nil {
				kernels.Axpy(1, gy.v, g.buf())
			}
		}
	})
	return y
}

// Activation is an elementwise non-linearity.
type Activation uint8

const (
	GELU      Activation = iota // exact erf GELU
	QuickGELU                   // z·σ(1.702z)
)

// Act applies the activation. Backward: kernels.GeluBackward / QuickGeluBackward.
func (t *Tape) Act(act Activation, x *Var) *Var {
	y := t.out(x.Rows, x.Cols, x.g != nil)
	t.Pool.Parallel(len(x.Data), func(lo, hi int) {
		if act == GELU {
			kernels.Gelu(y.Data[lo:hi], x.Data[lo:hi])
		} else {
			kernels.QuickGelu(y.Data[lo:hi], x.Data[lo:hi])
		}
	})
	gx, gy, xs := x.g, y.g, x.Data
	t.push(gy != nil, func() {
		if gy.v == nil {
			return
		}
		dx := gx.buf()
		t.Pool.Parallel(len(xs), func(lo, hi int) {
			if act == GELU {
				kernels.GeluBackward(dx[lo:hi], xs[lo:hi], gy.v[lo:hi])
			} else {
				kernels.QuickGeluBackward(dx[lo:hi], xs[lo:hi], gy.v[lo:hi])
			}
		})
	})
	return y
}

// Embed looks rows ids up in the table (V, C) → (len(ids), C). Backward
// scatters into the table's gradient, except row skip (padding_idx; -1: none).
func (t *Tape) Embed(table *tensor.Tensor, ids []int, skip int) *Var {
	c := table.Dim(1)
	train := t.Grads.Trainable(table)
	y := t.out(len(ids), c, train)
	(&Embedding{Weight: table}).Forward(y.Data, ids)
	gy := y.g
	t.push(gy != nil, func() {
		if gy.v == nil {
			return
		}
		g := t.Grads.Of(table)
		for i, id := range ids {
			if id != skip {
				kernels.Axpy(1, gy.v[i*c:(i+1)*c], g[id*c:(id+1)*c])
			}
		}
	})
	return y
}

// AddRows adds rows [first, first+T) of table (·, C) to every block of T
// rows of x (B·T, C): positions added to each sequence of a batch.
func (t *Tape) AddRows(x *Var, table *tensor.Tensor, first, T int) *Var {
	c, blocks := x.Cols, x.Rows/T
	train := t.Grads.Trainable(table)
	y := t.out(x.Rows, c, x.g != nil || train)
	copy(y.Data, x.Data)
	rows := table.Data()[first*c : (first+T)*c]
	for b := 0; b < blocks; b++ {
		kernels.Axpy(1, rows, y.Data[b*T*c:(b+1)*T*c])
	}
	gx, gy := x.g, y.g
	t.push(gy != nil, func() {
		if gy.v == nil {
			return
		}
		if gx != nil {
			kernels.Axpy(1, gy.v, gx.buf())
		}
		if train {
			g := t.Grads.Of(table)[first*c : (first+T)*c]
			for b := 0; b < blocks; b++ {
				kernels.Axpy(1, gy.v[b*T*c:(b+1)*T*c], g)
			}
		}
	})
	return y
}

// PrependRow puts row (C) in front of every block of T rows of x (B·T, C):
// (B·T, C) → (B·(T+1), C). Used for CLIP's class token.
func (t *Tape) PrependRow(x *Var, row *tensor.Tensor, T int) *Var {
	c, b := x.Cols, x.Rows/T
	train := t.Grads.Trainable(row)
	y := t.out(b*(T+1), c, x.g != nil || train)
	for i := 0; i < b; i++ {
		copy(y.Data[i*(T+1)*c:], row.Data())
		copy(y.Data[(i*(T+1)+1)*c:(i+1)*(T+1)*c], x.Data[i*T*c:(i+1)*T*c])
	}
	gx, gy := x.g, y.g
	t.push(gy != nil, func() {
		if gy.v == nil {
			return
		}
		for i := 0; i < b; i++ {
			if train {
				kernels.Axpy(1, gy.v[i*(T+1)*c:(i*(T+1)+1)*c], t.Grads.Of(row))
			}
			if gx != nil {
				kernels.Axpy(1, gy.v[(i*(T+1)+1)*c:(i+1)*(T+1)*c], gx.buf()[i*T*c:(i+1)*T*c])
			}
		}
	})
	return y
}

// ConcatSeq joins per batch row: a (B·Na, C) and b (B·Nb, C) → (B·(Na+Nb), C).
func (t *Tape) ConcatSeq(a, b *Var, batch int) *Var {
	c := a.Cols
	na, nb := a.Rows/batch, b.Rows/batch
	y := t.out(a.Rows+b.Rows, c, a.g != nil || b.g != nil)
	for i := 0; i < batch; i++ {
		copy(y.Data[i*(na+nb)*c:], a.Data[i*na*c:(i+1)*na*c])
		copy(y.Data[(i*(na+nb)+na)*c:], b.Data[i*nb*c:(i+1)*nb*c])
	}
	ga, gb, gy := a.g, b.g, y.g
	t.push(gy != nil, func() {
		if gy.v == nil {
			return
		}
		for i := 0; i < batch; i++ {
			if ga != nil {
				kernels.Axpy(1, gy.v[i*(na+nb)*c:(i*(na+nb)+na)*c], ga.buf()[i*na*c:(i+1)*na*c])
			}
			if gb != nil {
				kernels.Axpy(1, gy.v[(i*(na+nb)+na)*c:(i+1)*(na+nb)*c], gb.buf()[i*nb*c:(i+1)*nb*c])
			}
		}
	})
	return y
}

// Rows gathers rows idx of x: (len(idx), C).
func (t *Tape) Rows(x *Var, idx []int) *Var {
	c := x.Cols
	y := t.out(len(idx), c, x.g != nil)
	for i, r := range idx {
		copy(y.Data[i*c:(i+1)*c], x.Data[r*c:(r+1)*c])
	}
	gx, gy := x.g, y.g
	t.push(gy != nil, func() {
		if gy.v == nil {
			return
		}
		dx := gx.buf()
		for i, r := range idx {
			kernels.Axpy(1, gy.v[i*c:(i+1)*c], dx[r*c:(r+1)*c])
		}
	})
	return y
}

// CrossEntropy is the mean of -log softmax(logits)[label] over the rows
// whose label is not -100, computed in float64; a 1×1 Var. Backward:
// dlogits = (softmax - onehot)·dloss/count.
func (t *Tape) CrossEntropy(logits *Var, labels []int) (*Var, int) {
	v := logits.Cols
	loss := t.out(1, 1, logits.g != nil)
	var probs []float32
	if loss.g != nil {
		probs = make([]float32, len(logits.Data))
	}
	count := 0
	var sum float64
	for r, y := range labels {
		if y == -100 {
			continue
		}
		if y < 0 || y >= v {
			panic(fmt.Sprintf("nn: CrossEntropy: label %d outside [0, %d)", y, v))
		}
		row := logits.Data[r*v : (r+1)*v]
		lse := LogSumExp(row)
		sum += lse - float64(row[y])
		if probs != nil {
			for j, z := range row {
				probs[r*v+j] = float32(math.Exp(float64(z) - lse))
			}
		}
		count++
	}
	if count > 0 {
		loss.Data[0] = float32(sum / float64(count))
	} else {
		loss.Data[0] = float32(math.NaN())
	}
	gl, gloss := logits.g, loss.g
	t.push(gloss != nil && count > 0, func() {
		if gloss.v == nil {
			return
		}
		scale := gloss.v[0] / float32(count)
		dl := gl.buf()
		for r, y := range labels {
			if y == -100 {
				continue
			}
			for j := 0; j < v; j++ {
				dl[r*v+j] += probs[r*v+j] * scale
			}
			dl[r*v+y] -= scale
		}
	})
	return loss, count
}

// LogSumExp is log Σ exp(x) in float64, shifted by the maximum for safety.
func LogSumExp(x []float32) float64 {
	mx := math.Inf(-1)
	for _, z := range x {
		mx = math.Max(mx, float64(z))
	}
	if math.IsInf(mx, -1) {
		return mx
	}
	var se float64
	for _, z := range x {
		se += math.Exp(float64(z) - mx)
	}
	return mx + math.Log(se)
}
