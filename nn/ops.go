package nn

import (
	"fmt"
	"math"

	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/tensor"
)

// The ops, each forward next to its backward. Shapes: x (N, In) etc.

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
	y := t.out(n, out, x.needGrad || trainW || trainB || trainLoRA)
	l.Forward(p, y.Data, x.Data, n)
	if a == nil {
		t.push(y.needGrad, func() { t.linearBack(l, x, y, trainW, trainB) })
		return y
	}
	// Forward already added the adapter without dropout; with dropout, redo
	// the adapter term on the masked input.
	r := a.Rank()
	xd, mask := x.Data, []float32(nil)
	if t.Train && a.Dropout > 0 {
		xd, mask = t.dropout(x.Data, a.Dropout)
		h := make([]float32, n*r)
		kernels.Sgemm(p, false, true, n, r, in, 1, x.Data, in, a.A.Data(), in, 0, h, r)
		kernels.Sgemm(p, false, true, n, out, r, -a.Scaling, h, r, a.B.Data(), r, 1, y.Data, out)
		kernels.Sgemm(p, false, true, n, r, in, 1, xd, in, a.A.Data(), in, 0, h, r)
		kernels.Sgemm(p, false, true, n, out, r, a.Scaling, h, r, a.B.Data(), r, 1, y.Data, out)
	}
	t.push(y.needGrad, func() {
		t.linearBack(l, x, y, trainW, trainB)
		dy := y.Grad
		h := make([]float32, n*r) // drop(x)·Aᵀ
		kernels.Sgemm(p, false, true, n, r, in, 1, xd, in, a.A.Data(), in, 0, h, r)
		if gB := g.Of(a.B); gB != nil { // dB += s·dyᵀ·h   (Out, r)
			kernels.Sgemm(p, true, false, out, r, n, a.Scaling, dy, out, h, r, 1, gB, r)
		}
		dh := make([]float32, n*r) // s·dy·B   (N, r)
		kernels.Sgemm(p, false, false, n, r, out, a.Scaling, dy, out, a.B.Data(), r, 0, dh, r)
		if gA := g.Of(a.A); gA != nil { // dA += dhᵀ·drop(x)   (r, In)
			kernels.Sgemm(p, true, false, r, in, n, 1, dh, r, xd, in, 1, gA, in)
		}
		if x.needGrad {
			dxd := make([]float32, n*in) // dh·A
			kernels.Sgemm(p, false, false, n, in, r, 1, dh, r, a.A.Data(), in, 0, dxd, in)
			dx := x.grad()
			for i, v := range dxd {
				if mask != nil {
					v *= mask[i]
				}
				dx[i] += v
			}
		}
	})
	return y
}

func (t *Tape) linearBack(l *Linear, x, y *Var, trainW, trainB bool) {
	in, out, n, p := l.In(), l.Out(), x.Rows, t.Pool
	dy := y.Grad
	if x.needGrad { // dx += dy·W   (N, In)
		if l.Q != nil {
			kernels.QMatMulT(p, x.grad(), dy, n, l.Q)
		} else {
			kernels.Sgemm(p, false, false, n, in, out, 1, dy, out, l.Weight.Data(), in, 1, x.grad(), in)
		}
	}
	if trainW { // dW += dyᵀ·x   (Out, In)
		kernels.Sgemm(p, true, false, out, in, n, 1, dy, out, x.Data, in, 1, t.Grads.Of(l.Weight), in)
	}
	if trainB {
		db := t.Grads.Of(l.Bias)
		for r := 0; r < n; r++ {
			kernels.Axpy(1, dy[r*out:(r+1)*out], db)
		}
	}
}

// dropout returns x with each value zeroed with probability p and the rest
// scaled by 1/(1-p), and the mask (0 or 1/(1-p)) it used.
func (t *Tape) dropout(x []float32, p float32) (y, mask []float32) {
	if t.RNG == nil {
		panic("nn: dropout in training mode needs Tape.RNG")
	}
	keep := 1 / (1 - p)
	y, mask = make([]float32, len(x)), make([]float32, len(x))
	thr := uint64(float64(p) * (1 << 53))
	for i, v := range x {
		if t.RNG.Uint64()>>11 >= thr {
			mask[i] = keep
			y[i] = v * keep
		}
	}
	return y, mask
}

// Dropout zeroes values with probability p in training mode (identity otherwise).
func (t *Tape) Dropout(x *Var, p float32) *Var {
	if !t.Train || p <= 0 {
		return x
	}
	y := t.out(x.Rows, x.Cols, x.needGrad)
	var mask []float32
	y.Data, mask = t.dropout(x.Data, p)
	t.push(y.needGrad, func() {
		dx := x.grad()
		for i, m := range mask {
			dx[i] += y.Grad[i] * m
		}
	})
	return y
}

// LayerNorm over the columns. Backward: kernels.LayerNormBackward.
func (t *Tape) LayerNorm(ln *LayerNorm, x *Var) *Var {
	n, c := x.Rows, x.Cols
	trainW, trainB := t.Grads.Trainable(ln.Weight), t.Grads.Trainable(ln.Bias)
	y := t.out(n, c, x.needGrad || trainW || trainB)
	var mean, rstd []float32
	if y.needGrad {
		mean, rstd = make([]float32, n), make([]float32, n)
	}
	kernels.LayerNorm(y.Data, mean, rstd, x.Data, ln.Weight.Data(), ln.Bias.Data(), n, c, ln.Eps)
	t.push(y.needGrad, func() {
		var dx []float32
		if x.needGrad {
			dx = x.grad()
		} else {
			dx = make([]float32, n*c) // the kernel always writes dx
		}
		kernels.LayerNormBackward(dx, t.Grads.Of(ln.Weight), t.Grads.Of(ln.Bias), y.Grad, x.Data, ln.Weight.Data(), mean, rstd, n, c)
	})
	return y
}

// Add: y = a + b (same shape).
func (t *Tape) Add(a, b *Var) *Var {
	if a.Rows != b.Rows || a.Cols != b.Cols {
		panic(fmt.Sprintf("nn: Add: %d×%d + %d×%d", a.Rows, a.Cols, b.Rows, b.Cols))
	}
	y := t.out(a.Rows, a.Cols, a.needGrad || b.needGrad)
	copy(y.Data, a.Data)
	kernels.Axpy(1, b.Data, y.Data)
	t.push(y.needGrad, func() {
		for _, v := range []*Var{a, b} {
			if v.needGrad {
				kernels.Axpy(1, y.Grad, v.grad())
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
	y := t.out(x.Rows, x.Cols, x.needGrad)
	if act == GELU {
		kernels.Gelu(y.Data, x.Data)
	} else {
		kernels.QuickGelu(y.Data, x.Data)
	}
	t.push(y.needGrad, func() {
		if act == GELU {
			kernels.GeluBackward(x.grad(), x.Data, y.Grad)
		} else {
			kernels.QuickGeluBackward(x.grad(), x.Data, y.Grad)
		}
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
	t.push(train, func() {
		g := t.Grads.Of(table)
		for i, id := range ids {
			if id != skip {
				kernels.Axpy(1, y.Grad[i*c:(i+1)*c], g[id*c:(id+1)*c])
			}
		}
	})
	return y
}

// AddRows adds rows [first, first+T) of table (·, C) to every block of T
// rows of x (B·T, C): positions added to each sequence of a batch.
func (t *Tape) AddRows(x *Var, table *tensor.Tensor, first, T int) *Var {
	c := x.Cols
	train := t.Grads.Trainable(table)
	y := t.out(x.Rows, c, x.needGrad || train)
	copy(y.Data, x.Data)
	rows := table.Data()[first*c : (first+T)*c]
	for b := 0; b < x.Rows/T; b++ {
		kernels.Axpy(1, rows, y.Data[b*T*c:(b+1)*T*c])
	}
	t.push(y.needGrad, func() {
		if x.needGrad {
			kernels.Axpy(1, y.Grad, x.grad())
		}
		if train {
			g := t.Grads.Of(table)[first*c : (first+T)*c]
			for b := 0; b < x.Rows/T; b++ {
				kernels.Axpy(1, y.Grad[b*T*c:(b+1)*T*c], g)
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
	y := t.out(b*(T+1), c, x.needGrad || train)
	for i := 0; i < b; i++ {
		copy(y.Data[i*(T+1)*c:], row.Data())
		copy(y.Data[(i*(T+1)+1)*c:(i+1)*(T+1)*c], x.Data[i*T*c:(i+1)*T*c])
	}
	t.push(y.needGrad, func() {
		for i := 0; i < b; i++ {
			if train {
				kernels.Axpy(1, y.Grad[i*(T+1)*c:(i*(T+1)+1)*c], t.Grads.Of(row))
			}
			if x.needGrad {
				kernels.Axpy(1, y.Grad[(i*(T+1)+1)*c:(i+1)*(T+1)*c], x.grad()[i*T*c:(i+1)*T*c])
			}
		}
	})
	return y
}

// ConcatSeq joins per batch row: a (B·Na, C) and b (B·Nb, C) → (B·(Na+Nb), C).
func (t *Tape) ConcatSeq(a, b *Var, batch int) *Var {
	c := a.Cols
	na, nb := a.Rows/batch, b.Rows/batch
	y := t.out(a.Rows+b.Rows, c, a.needGrad || b.needGrad)
	for i := 0; i < batch; i++ {
		copy(y.Data[i*(na+nb)*c:], a.Data[i*na*c:(i+1)*na*c])
		copy(y.Data[(i*(na+nb)+na)*c:], b.Data[i*nb*c:(i+1)*nb*c])
	}
	t.push(y.needGrad, func() {
		for i := 0; i < batch; i++ {
			if a.needGrad {
				kernels.Axpy(1, y.Grad[i*(na+nb)*c:(i*(na+nb)+na)*c], a.grad()[i*na*c:(i+1)*na*c])
			}
			if b.needGrad {
				kernels.Axpy(1, y.Grad[(i*(na+nb)+na)*c:(i+1)*(na+nb)*c], b.grad()[i*nb*c:(i+1)*nb*c])
			}
		}
	})
	return y
}

// Rows gathers rows idx of x: (len(idx), C).
func (t *Tape) Rows(x *Var, idx []int) *Var {
	c := x.Cols
	y := t.out(len(idx), c, x.needGrad)
	for i, r := range idx {
		copy(y.Data[i*c:(i+1)*c], x.Data[r*c:(r+1)*c])
	}
	t.push(y.needGrad, func() {
		dx := x.grad()
		for i, r := range idx {
			kernels.Axpy(1, y.Grad[i*c:(i+1)*c], dx[r*c:(r+1)*c])
		}
	})
	return y
}

// CrossEntropy is the mean of -log softmax(logits)[label] over the rows
// whose label is not -100, computed in float64; a 1×1 Var. Backward:
// dlogits = (softmax - onehot)·dloss/count.
func (t *Tape) CrossEntropy(logits *Var, labels []int) (*Var, int) {
	v := logits.Cols
	loss := t.out(1, 1, logits.needGrad)
	probs := make([]float32, len(logits.Data))
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
		mx := math.Inf(-1)
		for _, z := range row {
			mx = math.Max(mx, float64(z))
		}
		var se float64
		for _, z := range row {
			se += math.Exp(float64(z) - mx)
		}
		lse := mx + math.Log(se)
		sum += lse - float64(row[y])
		for j, z := range row {
			probs[r*v+j] = float32(math.Exp(float64(z) - lse))
		}
		count++
	}
	if count > 0 {
		loss.Data[0] = float32(sum / float64(count))
	} else {
		loss.Data[0] = float32(math.NaN())
	}
	t.push(loss.needGrad && count > 0, func() {
		scale := loss.Grad[0] / float32(count)
		dl := logits.grad()
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
