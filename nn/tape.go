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
//
// Training memory, per op output that a backward reads: the values are held
// (save) until the last such backward has run, or, when they are cheap to
// rebuild from what the maker keeps anyway (a LayerNorm's input, an
// attention's q, k, v, a LinearRecompute's input), rebuilt then (remat).
// Buffers go back to the tape's arena when nothing needs them (Free from the
// model code, gradients after their op's backward, held values after the
// last reader's), and the arena passes from one step's tape to the next
// (Reuse), so that a training step allocates almost nothing.

// Var is a 2-D activation, Rows × Cols, row-major. Its gradient lives in a
// separate slot so that backward closures can hold the gradient without
// holding the values: an activation's memory is kept only by the ops whose
// backward really reads it.
type Var struct {
	Data       []float32
	Rows, Cols int
	g          *gradSlot // nil when no gradient flows into this Var
	re         *remat    // non-nil: backward can rebuild Data (see save)
	bufs       *arena    // where Data came from (a recording tape's op output); nil: not recycled
	holds      int       // backward closures that read Data
}

// remat rebuilds a Var's values in backward. The op that made the Var sets
// it when rebuilding is cheap from what its own backward keeps anyway (a
// LayerNorm from its input, an attention from q, k and v), or when asked to
// (LinearRecompute); ops that read the Var in backward then hold this
// recipe instead of the values (save), so the values are freed as soon as
// the forward pass moves on. The rebuilt values are cached from the first
// reader's backward until the maker's backward, which runs after every
// reader's, drops them.
type remat struct {
	build func(dst []float32)
	n     int
	bufs  *arena
	data  []float32
}

// values returns the rebuilt values (built on the first call). Backward
// closures call it outside parallel regions.
func (r *remat) values() []float32 {
	if r.data == nil {
		r.data = r.bufs.get(r.n)
		r.build(r.data)
	}
	return r.data
}

// done drops the rebuilt values: the maker's backward calls it, after every
// reader's.
func (r *remat) done() {
	if r != nil && r.data != nil {
		r.bufs.put(r.data)
		r.data = nil
	}
}

// save returns what the backward closure of the op being recorded reads to
// get x's values: x's recipe when it has one, else x.Data, which is then
// held until that closure has run (see push and run). Ops call it only when
// they push a closure.
func (t *Tape) save(x *Var) func() []float32 {
	if r := x.re; r != nil {
		return r.values
	}
	t.hold(x)
	d := x.Data
	return func() []float32 { return d }
}

// hold keeps x.Data until the closure of the op being recorded has run.
func (t *Tape) hold(x *Var) {
	x.holds++
	t.pending = append(t.pending, x)
}

// gradSlot is a Var's gradient, allocated on the first accumulation.
type gradSlot struct {
	v    []float32
	n    int
	bufs *arena
}

func (g *gradSlot) buf() []float32 {
	if g.v == nil {
		g.v = g.bufs.get(g.n)
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
	Pool    *kernels.Pool
	Grads   *Grads    // trainable parameters; nil: none
	Train   bool      // dropout active
	RNG     *rand.PCG // dropout masks; required when Train (a PCG so checkpointing can replay it)
	record  bool
	back    []backStep
	pending []*Var      // inputs saved by the op being recorded
	masks   []*dropMask // dropout masks drawn by the op being recorded
	arena   *arena      // buffers recycled between layers (see arena)
}

// backStep is one recorded op: its backward, the gradient of its output
// (dead once the op has run: every reader of the output ran before), and the
// inputs whose values it holds.
type backStep struct {
	fn    func()
	out   *gradSlot
	held  []*Var
	masks []*dropMask
}

// arena recycles float32 buffers, matched by length, so that the garbage
// collector stays out of the inner loop and the heap does not grow with
// garbage. On an inference tape Scope hands back every buffer an op
// sequence allocated, except its result's. On a recording tape buffers come
// back one by one: activations the caller frees (Free) and no backward
// reads, gradients once their op's backward has run, activations once the
// last backward that read them has run, and backward temporaries.
type arena struct {
	free map[int][][]float32
	// taken lists the buffers handed out inside the open Scopes, the
	// innermost Scope's last; nil marks one handed back early (release).
	taken [][]float32
	depth int                // Scopes open
	words map[int][][]uint64 // dropout masks' bits, by length
}

func newArena() *arena { return &arena{free: map[int][][]float32{}, words: map[int][][]uint64{}} }

// getWords returns n zeroed words; a nil arena allocates.
func (a *arena) getWords(n int) []uint64 {
	if a != nil {
		if l := a.words[n]; len(l) > 0 {
			w := l[len(l)-1]
			l[len(l)-1] = nil
			a.words[n] = l[:len(l)-1]
			clear(w)
			return w
		}
	}
	return make([]uint64, n)
}

// putWords hands w back for reuse.
func (a *arena) putWords(w []uint64) {
	if a != nil && len(w) > 0 {
		a.words[len(w)] = append(a.words[len(w)], w)
	}
}

// get returns n zeroed values; a nil arena allocates.
func (a *arena) get(n int) []float32 {
	if a == nil {
		return make([]float32, n)
	}
	// The exact length, else the shortest free buffer up to 1.5×n long
	// (the decoder's rows are a few more than the vision tower's).
	c := n
	if len(a.free[n]) == 0 {
		c = 0
		for m, l := range a.free {
			if len(l) > 0 && m > n && 2*m <= 3*n && (c == 0 || m < c) {
				c = m
			}
		}
	}
	var b []float32
	if l := a.free[c]; c > 0 && len(l) > 0 {
		b = l[len(l)-1][:n]
		l[len(l)-1] = nil // the list must not keep it alive once it is out
		a.free[c] = l[:len(l)-1]
		clear(b)
	} else {
		b = make([]float32, n)
	}
	if a.depth > 0 { // outside every Scope the garbage collector owns it
		a.taken = append(a.taken, b)
	}
	return b
}

// put hands b back for reuse; its holder must not touch it again. A nil
// arena lets the garbage collector have it; inside a Scope, which hands
// back what it took when it ends, it is left to that.
func (a *arena) put(b []float32) {
	if a == nil || a.depth > 0 || cap(b) == 0 {
		return
	}
	for _, f := range a.free[cap(b)] { // a few per size: cheap insurance
		if unsafe.SliceData(f) == unsafe.SliceData(b) {
			panic("nn: a buffer was handed back twice")
		}
	}
	a.free[cap(b)] = append(a.free[cap(b)], b[:cap(b)])
}

// trim drops the free buffers that free ones at most 1.5× as long can stand
// in for (as many as there are), to the garbage collector: when a forward
// pass is over, what it left free waits through the backward, and the
// shorter buffers (of the vision tower's shapes, say) are the ones to spare.
func (a *arena) trim() {
	if a == nil || a.depth > 0 {
		return
	}
	for c, l := range a.free {
		if len(l) == 0 {
			continue
		}
		for m, big := range a.free {
			if m > c && 2*m <= 3*c && len(big) >= len(l) {
				clear(l)
				a.free[c] = l[:0]
				break
			}
		}
	}
}

// TrimFree drops the free buffers that longer free ones can stand in for
// (see trim) now, rather than when Backward starts: a caller that collects
// garbage between the forward and Backward (Trainer) then has their memory
// back for what backward allocates, instead of holding it as garbage
// through the backward's peak.
func (t *Tape) TrimFree() { t.arena.trim() }

// release takes b, if an open Scope handed it out, back early, for reuse;
// it reports whether it did. (Not only the innermost Scope's: a layer run
// in its own Scope frees its input, the enclosing Scope's.)
func (a *arena) release(b []float32) bool {
	i := a.find(b)
	if i < 0 {
		return false
	}
	c := a.taken[i]
	a.taken[i] = nil // the Scope that took it skips it
	a.free[cap(c)] = append(a.free[cap(c)], c[:cap(c)])
	return true
}

// owns reports whether an open Scope handed b out (and has not taken it
// back): whoever frees it next may reuse it.
func (a *arena) owns(b []float32) bool { return a.find(b) >= 0 }

// find is the index in taken of b's buffer, or -1.
func (a *arena) find(b []float32) int {
	p := unsafe.SliceData(b)
	for i := len(a.taken) - 1; i >= 0; i-- {
		if c := a.taken[i]; c != nil && unsafe.SliceData(c) == p {
			return i
		}
	}
	return -1
}

// Scope runs fn; on an inference tape every activation fn allocates, except
// the result's, is recycled afterwards (the caller must not keep them).
// fn may Free x, even when an enclosing Scope made it: the caller must not
// read x afterwards.
// A recording tape just runs fn.
func (t *Tape) Scope(x *Var, fn func(t *Tape, x *Var) *Var) *Var {
	if t.record {
		return fn(t, x)
	}
	if t.arena == nil {
		t.arena = newArena()
	}
	a := t.arena
	mark := len(a.taken)
	a.depth++
	y := fn(t, x)
	a.depth--
	keep := unsafe.SliceData(y.Data)
	var kept []float32
	for _, b := range a.taken[mark:] {
		switch {
		case b == nil: // released early
		case unsafe.SliceData(b) == keep:
			kept = b
		default:
			a.free[cap(b)] = append(a.free[cap(b)], b[:cap(b)])
		}
	}
	clear(a.taken[mark:])
	a.taken = a.taken[:mark]
	if kept != nil && a.depth > 0 {
		a.taken = append(a.taken, kept) // the enclosing Scope's now
	}
	return y
}

// DropFree hands the free buffers of t's arena to the garbage collector:
// between passes of different needs (a vision tower, then a decoder with
// fewer activations alive at once), so that what the next pass allocates,
// or what is allocated in between, can take their memory instead of the
// arena keeping buffers it will not use.
func (t *Tape) DropFree() {
	if a := t.arena; a != nil {
		clear(a.free)
	}
}

// Inference returns a tape that records nothing (no activations kept).
func Inference(pool *kernels.Pool) *Tape { return &Tape{Pool: pool} }

// NewTape returns a recording tape for a training (or gradient) pass.
func NewTape(pool *kernels.Pool, grads *Grads, train bool, rng *rand.PCG) *Tape {
	return &Tape{Pool: pool, Grads: grads, Train: train, RNG: rng, record: true, arena: newArena()}
}

// Reuse gives t the free buffers of prev, an earlier recording tape of the
// same model that will not be used again (its Backward has run, or it is
// dropped): consecutive training steps then share their memory instead of
// the next one growing the heap while the last one's is garbage.
func (t *Tape) Reuse(prev *Tape) {
	if t.record && prev != nil && prev.record && prev.arena != nil && prev.arena.depth == 0 {
		t.arena = prev.arena
		prev.arena = nil
	}
}

// Recording reports whether ops keep what backward needs.
func (t *Tape) Recording() bool { return t.record }

// push records an op's backward closure when some input or parameter needs
// it; out is the gradient of the op's output (nil if none), which fn reads.
// The inputs fn reads through save are held until it has run, and so are
// the dropout masks the op drew (see drawMask).
func (t *Tape) push(out *gradSlot, needed bool, fn func()) {
	held, masks := t.pending, t.masks
	t.pending, t.masks = nil, nil
	if t.record && needed {
		t.back = append(t.back, backStep{fn: fn, out: out, held: held, masks: masks})
		return
	}
	for _, x := range held {
		x.holds--
	}
	for _, m := range masks { // the forward was their only use
		t.arena.putWords(m.bits)
	}
}

// out makes an op's result; it takes a gradient when any input does.
func (t *Tape) out(rows, cols int, needGrad bool) *Var {
	v := &Var{Data: t.arena.get(rows * cols), Rows: rows, Cols: cols}
	if t.record {
		v.bufs = t.arena
		if needGrad {
			v.g = &gradSlot{n: rows * cols, bufs: t.arena}
		}
	}
	return v
}

// Free tells a recording tape that the caller will not read the Vars
// again: the memory of those that no backward reads (see save) goes to
// later activations and gradients instead of waiting for the garbage
// collector. A freed Var keeps its shape and gradient but loses Data. On an
// inference tape, inside a Scope, the Vars an open Scope made are recycled
// at once instead of when that Scope ends.
func (t *Tape) Free(vs ...*Var) {
	for _, v := range vs {
		switch {
		case v.Data == nil:
		case t.record:
			if v.bufs != nil && v.bufs == t.arena && v.holds == 0 {
				t.arena.put(v.Data)
				v.Data = nil
			}
		case t.arena != nil:
			if t.arena.release(v.Data) {
				v.Data = nil
			}
		}
	}
}

// Backward seeds loss.Grad with 1 (a 1×1 loss) and runs the tape in reverse,
// accumulating into every Var and trainable parameter on the way. The tape
// is emptied, and the memory of its activations and of the gradients of its
// ops' outputs is recycled as it goes: afterwards only the parameters'
// gradients and those of Vars made outside the tape's ops remain.
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
	t.arena.trim()
	t.run()
}

func (t *Tape) run() {
	for i := len(t.back) - 1; i >= 0; i-- {
		st := t.back[i]
		st.fn()
		if st.out != nil && st.out.v != nil {
			t.arena.put(st.out.v)
			st.out.v = nil
		}
		for _, x := range st.held {
			if x.holds--; x.holds == 0 && x.bufs == t.arena && x.Data != nil {
				t.arena.put(x.Data)
				x.Data = nil
			}
		}
		for _, m := range st.masks {
			t.arena.putWords(m.bits)
		}
		t.back[i] = backStep{}
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
	// The forward's temporaries are recycled (a Scope on the tape's arena);
	// its result, out's values, goes back once nothing reads it.
	fwd := &Tape{Pool: t.Pool, Grads: t.Grads, Train: t.Train, RNG: t.RNG, arena: t.arena}
	y := fwd.Scope(x, fn)
	out := &Var{Data: y.Data, Rows: y.Rows, Cols: y.Cols, bufs: t.arena}
	if x.g != nil || t.hasTrainable() {
		out.g = &gradSlot{n: len(y.Data), bufs: t.arena}
	}
	gout := out.g
	if gout != nil {
		t.hold(x) // the recomputation reads x
	}
	t.push(gout, gout != nil, func() {
		sub := &Tape{Pool: t.Pool, Grads: t.Grads, Train: t.Train, record: true, arena: t.arena}
		if snap != nil {
			sub.RNG = &rand.PCG{}
			if err := sub.RNG.UnmarshalBinary(snap); err != nil {
				panic(err)
			}
		}
		y2 := fn(sub, x)
		defer sub.Free(y2) // its values (out's) are not read
		if gout.v == nil || y2.g == nil {
			return
		}
		y2.g.v, gout.v = gout.v, nil // sub's run recycles it
		sub.run()
	})
	return out
}

func (t *Tape) hasTrainable() bool { return t.Grads != nil && len(t.Grads.order) > 0 }
