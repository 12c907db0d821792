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
// the values its formula reads, never a whole Var, and those through t.save
// (which holds them until the closure has run, or takes the Var's recipe
// when it can be rebuilt), so activations that no backward needs go back to
// the tape's arena, or to the garbage collector, as soon as the forward
// moves on. What each op keeps is listed in its comment.

// Linear: y = x·Wᵀ + b + s·(drop(x)·Aᵀ)·Bᵀ. x: (N, In) → y: (N, Out).
// Backward: dx += dy·W + s·((dy·B)·A)∘mask; dW += dyᵀ·x; db += Σ_rows dy;
// dB += s·dyᵀ·h; dA += s·(dy·B)ᵀ·drop(x), with h = drop(x)·Aᵀ.
//
// Kept for backward: x only when dW or the adapter's dA reads it (a frozen
// weight needs W alone for dx), h (N, r) when dropout made it, and the
// dropout mask as bits (drop(x) is rebuilt from x).
func (t *Tape) Linear(l *Linear, x *Var) *Var { return t.linear(l, x, false) }

// LinearRecompute is Linear whose output is rebuilt, by one more product
// from x, for the backward passes that read it, instead of being kept from
// the forward pass to the backward: for a wide output such as the hidden
// layer of an MLP, which its activation's backward reads.
func (t *Tape) LinearRecompute(l *Linear, x *Var) *Var { return t.linear(l, x, true) }

func (t *Tape) linear(l *Linear, x *Var, recompute bool) *Var {
	in, out := l.In(), l.Out()
	if x.Cols != in {
		panic(fmt.Sprintf("nn: Linear: input has %d columns, layer takes %d", x.Cols, in))
	}
	n, p, g := x.Rows, t.Pool, t.Grads
	a := l.LoRA
	trainW, trainB := g.Trainable(l.Weight), g.Trainable(l.Bias)
	trainLoRA := a != nil && (g.Trainable(a.A) || g.Trainable(a.B))
	y := t.out(n, out, x.g != nil || trainW || trainB || trainLoRA)
	var mask *dropMask // on the adapter's input
	if a != nil && t.Train && a.Dropout > 0 {
		mask = t.drawMask(n*in, a.Dropout)
	}
	hd := t.linearForward(l, y.Data, x.Data, n, mask) // drop(x)·Aᵀ with dropout, kept for dB
	if !trainLoRA {
		hd = nil
	}
	gx, gy := x.g, y.g
	var xs func() []float32 // the input, kept only when dW, dA or a rebuild needs it
	if gy != nil && (trainW || trainLoRA || recompute) {
		xs = t.save(x)
	}
	var re *remat
	if recompute && gy != nil {
		re = &remat{n: n * out, bufs: t.arena, build: func(dst []float32) { t.linearForward(l, dst, xs(), n, mask) }}
		y.re = re
	}
	if a == nil {
		t.push(gy, gy != nil, func() {
			re.done() // every reader of y has run
			if gy.v != nil {
				var x []float32
				if trainW {
					x = xs()
				}
				t.linearBack(l, gx, gy.v, x, n, trainW, trainB)
			}
		})
		return y
	}
	r := a.Rank()
	t.push(gy, gy != nil, func() {
		re.done() // every reader of y has run
		dy := gy.v
		if dy == nil {
			return
		}
		var x []float32
		if xs != nil && (trainW || trainLoRA) {
			x = xs()
		}
		t.linearBack(l, gx, dy, x, n, trainW, trainB)
		dh := make([]float32, n*r) // s·dy·B   (N, r)
		kernels.Sgemm(p, false, false, n, r, out, a.Scaling, dy, out, a.B.Data(), r, 0, dh, r)
		if trainLoRA {
			xd := x // drop(x)
			if mask != nil {
				xd = t.arena.get(n * in)
				defer t.arena.put(xd)
				copy(xd, x)
				mask.apply(xd)
			}
			h := hd
			if h == nil {
				h = make([]float32, n*r)
				kernels.Sgemm(p, false, true, n, r, in, 1, xd, in, a.A.Data(), in, 0, h, r)
			}
			if gB := g.Of(a.B); gB != nil { // dB += s·dyᵀ·h   (Out, r)
				kernels.Sgemm(p, true, false, out, r, n, a.Scaling, dy, out, h, r, 1, gB, r)
			}
			if gA := g.Of(a.A); gA != nil { // dA += dhᵀ·drop(x)   (r, In)
				kernels.Sgemm(p, true, false, r, in, n, 1, dh, r, xd, in, 1, gA, in)
			}
		}
		if gx != nil {
			dxd := t.arena.get(n * in) // dh·A
			kernels.Sgemm(p, false, false, n, in, r, 1, dh, r, a.A.Data(), in, 0, dxd, in)
			if mask != nil {
				mask.apply(dxd)
			}
			kernels.Axpy(1, dxd, gx.buf())
			t.arena.put(dxd)
		}
	})
	return y
}

// linearForward computes the op's output into y: l.Forward and, with a
// dropout mask on the adapter's input, the adapter term again on drop(x)
// (Forward added it on x). It returns h = drop(x)·Aᵀ (N, r) then, else nil.
func (t *Tape) linearForward(l *Linear, y, x []float32, n int, mask *dropMask) []float32 {
	l.Forward(t.Pool, y, x, n)
	if mask == nil {
		return nil
	}
	a, p := l.LoRA, t.Pool
	in, out, r := l.In(), l.Out(), a.Rank()
	xd := t.arena.get(n * in)
	copy(xd, x)
	mask.apply(xd)
	h := make([]float32, n*r)
	kernels.Sgemm(p, false, true, n, r, in, 1, x, in, a.A.Data(), in, 0, h, r)
	kernels.Sgemm(p, false, true, n, out, r, -a.Scaling, h, r, a.B.Data(), r, 1, y, out)
	kernels.Sgemm(p, false, true, n, r, in, 1, xd, in, a.A.Data(), in, 0, h, r)
	kernels.Sgemm(p, false, true, n, out, r, a.Scaling, h, r, a.B.Data(), r, 1, y, out)
	t.arena.put(xd)
	return h
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

// dropMask is a dropout mask, one bit per value: 1 keeps the value (scaled
// by 1/(1-p)), 0 drops it. Each value takes 16 random bits, four values per
// draw, so p is honoured to 2⁻¹⁶.
type dropMask struct {
	bits  []uint64
	scale float32 // 1/(1-p)
}

// drawMask draws a mask for n values from t.RNG: value i is kept when
// 16-bit lane i%4 of draw i/4 (lane 0 the lowest) is at least p·2¹⁶. The
// op that draws it must push next: the mask lives until its closure has run.
func (t *Tape) drawMask(n int, p float32) *dropMask {
	if t.RNG == nil {
		panic("nn: dropout in training mode needs Tape.RNG")
	}
	m := &dropMask{bits: t.arena.getWords((n + 63) / 64), scale: 1 / (1 - p)}
	t.masks = append(t.masks, m) // for the op's closure (push)
	thr := uint64(math.Round(float64(p) * (1 << 16)))
	// Lanes 0 and 2 (then 1 and 3) in 32-bit slots: lane + 2¹⁶ - thr
	// reaches bit 16 of its slot exactly when lane ≥ thr.
	const lanes = 0x0000ffff0000ffff
	k := (1<<16 - thr) * 0x0000000100000001
	for d := 0; d < (n+3)/4; d++ {
		r := t.RNG.Uint64()
		a, b := r&lanes+k, (r>>16)&lanes+k
		m.bits[d>>4] |= (a>>16&1 | b>>15&2 | a>>46&4 | b>>45&8) << (4 * (d & 15))
	}
	if n%64 != 0 { // no bits past the end
		m.bits[n/64] &= 1<<(n%64) - 1
	}
	return m
}

// keep is all ones if value i is kept, else zero: a float32 bit mask.
func (m *dropMask) keep(i int) uint32 { return -uint32(m.bits[i>>6] >> (i & 63) & 1) }

// mul sets dst[j] = src[j]/(1-p) if value off+j is kept, else 0 (exactly:
// the bits are masked, without branches).
func (m *dropMask) mul(dst, src []float32, off int) {
	src = src[:len(dst)]
	j := 0
	for ; j < len(dst) && (off+j)%64 != 0; j++ {
		dst[j] = math.Float32frombits(math.Float32bits(src[j]*m.scale) & m.keep(off+j))
	}
	for ; j+64 <= len(dst); j += 64 { // whole words
		w := m.bits[(off+j)/64]
		d, s := dst[j:j+64:j+64], src[j:j+64:j+64]
		for i := range d {
			d[i] = math.Float32frombits(math.Float32bits(s[i]*m.scale) & -uint32(w>>i&1))
		}
	}
	for ; j < len(dst); j++ {
		dst[j] = math.Float32frombits(math.Float32bits(src[j]*m.scale) & m.keep(off+j))
	}
}

// apply drops x in place: x[i] ← x[i]/(1-p) if value i is kept, else 0.
func (m *dropMask) apply(x []float32) { m.mul(x, x, 0) }

// Dropout zeroes values with probability p in training mode (identity
// otherwise). Backward keeps the mask only, one bit per value.
func (t *Tape) Dropout(x *Var, p float32) *Var {
	if !t.Train || p <= 0 {
		return x
	}
	y := t.out(x.Rows, x.Cols, x.g != nil)
	copy(y.Data, x.Data)
	mask := t.drawMask(len(y.Data), p)
	mask.apply(y.Data)
	gx, gy := x.g, y.g
	t.push(gy, gy != nil, func() {
		if gy.v == nil {
			return
		}
		d := t.arena.get(len(gy.v))
		mask.mul(d, gy.v, 0)
		kernels.Axpy(1, d, gx.buf())
		t.arena.put(d)
	})
	return y
}

// LayerNorm over the columns. Backward: kernels.LayerNormBackward from x,
// mean and rstd; readers of the output rebuild it from those (remat).
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
	gx, gy := x.g, y.g
	var xv func() []float32
	var re *remat
	if t.record && gy != nil {
		xv = t.save(x)
		// Readers of y may rebuild it from what this backward keeps.
		re = &remat{n: n * c, bufs: t.arena, build: func(dst []float32) {
			xs := xv()
			t.Pool.Parallel(n, func(lo, hi int) {
				kernels.LayerNorm(dst[lo*c:hi*c], nil, nil, xs[lo*c:hi*c], w, b, hi-lo, c, ln.Eps)
			})
		}}
		y.re = re
	}
	t.push(gy, gy != nil, func() {
		re.done() // every reader of y has run
		if gy.v == nil {
			return
		}
		xs := xv()
		var dx []float32
		if gx != nil {
			dx = gx.buf()
		} else {
			dx = t.arena.get(n * c) // the kernel always writes dx
			defer t.arena.put(dx)
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
	t.push(gy, gy != nil, func() {
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

// Act applies the activation. Backward: kernels.GeluBackward / QuickGeluBackward,
// into the memory of the output's gradient when it is x's first.
func (t *Tape) Act(act Activation, x *Var) *Var {
	y := t.out(x.Rows, x.Cols, x.g != nil)
	t.act(act, y.Data, x.Data)
	gx, gy := x.g, y.g
	var xv func() []float32
	if gy != nil {
		xv = t.save(x)
	}
	t.push(gy, gy != nil, func() {
		if gy.v == nil {
			return
		}
		xs := xv()
		if gx.v == nil {
			// The first gradient into x (an MLP's hidden layer, N×I values)
			// is written over dy, which dies with this step, instead of
			// into fresh memory: chunk by chunk, dy is copied aside and
			// its place zeroed, then accumulated into as a fresh buffer
			// would be (the same values, bit for bit).
			dx := gy.v
			t.Pool.Parallel(len(xs), func(lo, hi int) {
				var dy [1024]float32
				for c := lo; c < hi; c += len(dy) {
					e := min(c+len(dy), hi)
					copy(dy[:e-c], dx[c:e])
					clear(dx[c:e])
					actBackward(act, dx[c:e], xs[c:e], dy[:e-c])
				}
			})
			gx.v, gy.v = dx, nil
			return
		}
		dx := gx.v
		t.Pool.Parallel(len(xs), func(lo, hi int) { actBackward(act, dx[lo:hi], xs[lo:hi], gy.v[lo:hi]) })
	})
	return y
}

// actBackward adds dy·act'(x) to dx.
func actBackward(act Activation, dx, x, dy []float32) {
	if act == GELU {
		kernels.GeluBackward(dx, x, dy)
	} else {
		kernels.QuickGeluBackward(dx, x, dy)
	}
}

// ActFree is Act followed by Free(x): the caller does not read x again. On
// an inference tape, when an open Scope made x, y is written over x in
// place, so that the two (an MLP's hidden layer, N×I values each) never
// take memory at once; the values are Act's either way.
func (t *Tape) ActFree(act Activation, x *Var) *Var {
	if t.record || t.arena == nil || !t.arena.owns(x.Data) {
		y := t.Act(act, x)
		t.Free(x)
		return y
	}
	y := &Var{Data: x.Data, Rows: x.Rows, Cols: x.Cols}
	x.Data = nil
	t.act(act, y.Data, y.Data)
	return y
}

// act computes y = act(x) elementwise on the pool (y may be x).
func (t *Tape) act(act Activation, y, x []float32) {
	t.Pool.Parallel(len(x), func(lo, hi int) {
		if act == GELU {
			kernels.Gelu(y[lo:hi], x[lo:hi])
		} else {
			kernels.QuickGelu(y[lo:hi], x[lo:hi])
		}
	})
}

// Embed looks rows ids up in the table (V, C) → (len(ids), C). Backward
// scatters into the table's gradient, except row skip (padding_idx; -1: none).
func (t *Tape) Embed(table *tensor.Tensor, ids []int, skip int) *Var {
	c := table.Dim(1)
	train := t.Grads.Trainable(table)
	y := t.out(len(ids), c, train)
	(&Embedding{Weight: table}).Forward(y.Data, ids)
	gy := y.g
	t.push(gy, gy != nil, func() {
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
	t.push(gy, gy != nil, func() {
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
	t.push(gy, gy != nil, func() {
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
	t.push(gy, gy != nil, func() {
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
	t.push(gy, gy != nil, func() {
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
//
// Kept for backward: the logits and each row's log-sum-exp; backward
// writes the gradient over the logits when nothing else reads them (the
// LM head's output, Rows×V values, is then the only such buffer): after
// Backward, logits.Data is then nil and its memory holds dlogits.
func (t *Tape) CrossEntropy(logits *Var, labels []int) (*Var, int) {
	v := logits.Cols
	loss := t.out(1, 1, logits.g != nil)
	var lses []float64 // per row; 0 for rows without a target
	if loss.g != nil {
		lses = make([]float64, len(labels))
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
		if lses != nil {
			lses[r] = lse
		}
		count++
	}
	if count > 0 {
		loss.Data[0] = float32(sum / float64(count))
	} else {
		loss.Data[0] = float32(math.NaN())
	}
	gl, gloss := logits.g, loss.g
	var xs func() []float32
	if gloss != nil && count > 0 {
		t.hold(logits)
		z := logits.Data
		xs = func() []float32 { return z }
	}
	t.push(gloss, gloss != nil && count > 0, func() {
		if gloss.v == nil {
			return
		}
		scale := gloss.v[0] / float32(count)
		z := xs()
		// softmax row r into p (p may be z)
		probs := func(p, z []float32, r int) {
			lse := lses[r]
			for j, x := range z {
				p[j] = float32(math.Exp(float64(x) - lse))
			}
		}
		if gl.v == nil && logits.holds == 1 && logits.bufs == t.arena {
			// The first gradient into the logits, which only this op
			// reads: written over them, in place (0 + p·s is p·s), rather
			// than into fresh memory; run does not recycle them again.
			logits.Data = nil
			for r, y := range labels {
				row := z[r*v : (r+1)*v]
				if y == -100 {
					clear(row)
					continue
				}
				probs(row, row, r)
				for j := range row {
					row[j] *= scale
				}
				row[y] -= scale
			}
			gl.v = z
			return
		}
		dl := gl.buf()
		p := t.arena.get(v)
		defer t.arena.put(p)
		for r, y := range labels {
			if y == -100 {
				continue
			}
			probs(p, z[r*v:(r+1)*v], r)
			for j := 0; j < v; j++ {
				dl[r*v+j] += p[j] * scale
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
