package nn

import (
	"fmt"
	"math/rand/v2"
	"unsafe"

	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/tensor"
)

// Reverse-mode autograd, llm.c style: each op below computes its forward on
// row-major buffers and, when the tape records, appends a closure that runs
// its hand-written backward. Backward replays the closures in reverse. There
// is no goroutine per node: parallelism lives inside the kernels.
//
// One code path serves inference and training: a Tape built by Inference
// records nothing and keeps no activations; one built by NewTape records,
// and applies dropout when Train is set.

// Var is a 2-D activation, Rows × Cols, row-major. Its gradient lives in a
// separate slot so that backward closures can hold the gradient without
// holding the values: an activation's memory is kept only by the ops whose
// backward really reads it.
type Var struct {
	Data       []float32
	Rows, Cols int
	g          *gradSlot // nil when no gradient flows into this Var
}

// gradSlot is a Var's gradient, allocated on the first accumulation.
type gradSlot struct {
	v []float32
	n int
}

func (g *gradSlot) buf() []float32 {
	if g.v == nil {
		g.v = make([]float32, g.n)
	}
	return g.v
}

// Const wraps data as a Var that takes no gradient.
func Const(data []float32, rows, cols int) *Var {
	if len(data) < rows*cols {
		panic(fmt.Sprintf("nn: Const: %d values for %d×%d", len(data), rows, cols))
	}
	return &Var{Data: data[:rows*cols], Rows: rows, Cols: cols}
}

// NeedsGrad reports whether a gradient flows into v.
func (v *Var) NeedsGrad() bool { return v.g != nil }

// Grad is v's accumulated gradient (nil before any).
func (v *Var) Grad() []float32 {
	if v.g == nil {
		return nil
	}
	return v.g.v
}

// Grads holds the gradients of the trainable parameters. Parameters are
// identified by their storage, so views of one tensor share a gradient.
type Grads struct {
	m     map[*float32][]float32
	order []*tensor.Tensor
}

// NewGrads makes every listed tensor trainable, with a zero gradient.
func NewGrads(params ...*tensor.Tensor) *Grads {
	g := &Grads{m: map[*float32][]float32{}}
	for _, p := range params {
		g.Add(p)
	}
	return g
}

// Add makes p trainable.
func (g *Grads) Add(p *tensor.Tensor) {
	k := key(p)
	if _, ok := g.m[k]; !ok {
		g.m[k] = make([]float32, p.Numel())
		g.order = append(g.order, p)
	}
}

// Trainable reports whether p takes a gradient. A nil *Grads trains nothing.
func (g *Grads) Trainable(p *tensor.Tensor) bool {
	if g == nil || p == nil {
		return false
	}
	_, ok := g.m[key(p)]
	return ok
}

// Of returns p's gradient (nil if p is not trainable).
func (g *Grads) Of(p *tensor.Tensor) []float32 {
	if g == nil || p == nil {
		return nil
	}
	return g.m[key(p)]
}

// Params lists the trainable tensors in the order they were added.
func (g *Grads) Params() []*tensor.Tensor { return g.order }

// Zero clears every gradient.
func (g *Grads) Zero() {
	for _, d := range g.m {
		clear(d)
	}
}

func key(p *tensor.Tensor) *float32 { return unsafe.SliceData(p.Data()) }

// Tape records the backward closures of one forward pass.
type Tape struct {
	Pool   *kernels.Pool
	Grads  *Grads    // trainable parameters; nil: none
	Train  bool      // dropout active
	RNG    *rand.PCG // dropout masks; required when Train (a PCG so checkpointing can replay it)
	record bool
	back   []func()
	arena  *arena // inference only: buffers recycled between layers
}

// arena recycles activation buffers of an inference tape: Scope hands the
// buffers an op sequence allocated back for reuse once it is over, which
// keeps the garbage collector out of the inner loop.
type arena struct {
	free  map[int][][]float32
	taken [][]float32 // allocated inside the current Scope
	depth int         // Scopes open
}

func (a *arena) get(n int) []float32 {
	var b []float32
	if l := a.free[n]; len(l) > 0 {
		b = l[len(l)-1]
		a.free[n] = l[:len(l)-1]
		clear(b)
	} else {
		b = make([]float32, n)
	}
	if a.depth > 0 { // outside every Scope the garbage collector owns it
		a.taken = append(a.taken, b)
	}
	return b
}

// Scope runs fn; on an inference tape every activation fn allocates, except
// the result's, is recycled afterwards (the caller must not keep them).
// A recording tape just runs fn.
func (t *Tape) Scope(x *Var, fn func(t *Tape, x *Var) *Var) *Var {
	if t.record {
		return fn(t, x)
	}
	if t.arena == nil {
		t.arena = &arena{free: map[int][][]float32{}}
	}
	a := t.arena
	outer := a.taken
	a.taken = nil
	a.depth++
	y := fn(t, x)
	a.depth--
	keep := unsafe.SliceData(y.Data)
	for _, b := range a.taken {
		if unsafe.SliceData(b) == keep {
			if a.depth > 0 {
				outer = append(outer, b) // the enclosing Scope's now
			}
			continue
		}
		a.free[len(b)] = append(a.free[len(b)], b)
	}
	a.taken = outer
	return y
}

// Inference returns a tape that records nothing (no activations kept).
func Inference(pool *kernels.Pool) *Tape { return &Tape{Pool: pool} }

// NewTape returns a recording tape for a training (or gradient) pass.
func NewTape(pool *kernels.Pool, grads *Grads, train bool, rng *rand.PCG) *Tape {
	return &Tape{Pool: pool, Grads: grads, Train: train, RNG: rng, record: true}
}

// Recording reports whether ops keep what backward needs.
func (t *Tape) Recording() bool { return t.record }

// push records a backward closure when some input or parameter needs it.
func (t *Tape) push(needed bool, fn func()) {
	if t.record && needed {
		t.back = append(t.back, fn)
	}
}

// out makes an op's result; it takes a gradient when any input does.
func (t *Tape) out(rows, cols int, needGrad bool) *Var {
	var data []float32
	if t.arena != nil && !t.record {
		data = t.arena.get(rows * cols)
	} else {
		data = make([]float32, rows*cols)
	}
	v := &Var{Data: data, Rows: rows, Cols: cols}
	if t.record && needGrad {
		v.g = &gradSlot{n: rows * cols}
	}
	return v
}

// Backward seeds loss.Grad with 1 (a 1×1 loss) and runs the tape in reverse,
// accumulating into every Var and trainable parameter on the way. The tape
// is emptied.
func (t *Tape) Backward(loss *Var) { t.BackwardScaled(loss, 1) }

// BackwardScaled is Backward with the loss gradient seeded to s: the
// gradients of s·loss (gradient accumulation divides by the step count).
func (t *Tape) BackwardScaled(loss *Var, s float32) {
	if loss.Rows*loss.Cols != 1 {
		panic("nn: Backward needs a scalar loss")
	}
	if loss.g == nil {
		return // nothing trainable reaches the loss
	}
	loss.g.buf()[0] = s
	t.run()
}

func (t *Tape) run() {
	for i := len(t.back) - 1; i >= 0; i-- {
		t.back[i]()
		t.back[i] = nil
	}
	t.back = t.back[:0]
}

// Checkpoint runs fn(x) without keeping its activations; backward runs fn
// again on a recording tape and backpropagates through that recomputation
// (gradient checkpointing). Dropout masks are replayed from a snapshot of the
// generator, so the recomputation sees the same masks.
func (t *Tape) Checkpoint(x *Var, fn func(t *Tape, x *Var) *Var) *Var {
	if !t.record {
		return fn(t, x)
	}
	var snap []byte
	if t.RNG != nil {
		snap, _ = t.RNG.MarshalBinary()
	}
	fwd := &Tape{Pool: t.Pool, Grads: t.Grads, Train: t.Train, RNG: t.RNG}
	y := fn(fwd, x)
	out := &Var{Data: y.Data, Rows: y.Rows, Cols: y.Cols}
	if x.g != nil || t.hasTrainable() {
		out.g = &gradSlot{n: len(y.Data)}
	}
	gout := out.g
	t.push(gout != nil, func() {
		sub := &Tape{Pool: t.Pool, Grads: t.Grads, Train: t.Train, record: true}
		if snap != nil {
			sub.RNG = &rand.PCG{}
			if err := sub.RNG.UnmarshalBinary(snap); err != nil {
				panic(err)
			}
		}
		y2 := fn(sub, x)
		if gout.v == nil || y2.g == nil {
			return
		}
		y2.g.v = gout.v
		sub.run()
	})
	return out
}

func (t *Tape) hasTrainable() bool { return t.Grads != nil && len(t.Grads.order) > 0 }
