package tensor

import (
	"fmt"
	"math"
)

// ReduceOp combines the elements along one axis.
type ReduceOp uint8

const (
	ReduceSum  ReduceOp = iota // Σ
	ReduceMean                 // Σ / n
	ReduceMax                  // max
	ReduceMin                  // min
)

func (op ReduceOp) String() string { return [...]string{"Sum", "Mean", "Max", "Min"}[op] }

// Reduce applies op along axis, accumulating in float64. With keepdim the
// reduced axis stays with size 1. Max/Min of an empty axis panic.
func Reduce(op ReduceOp, t *Tensor, axis int, keepdim bool) *Tensor {
	axis = t.axis("Reduce"+op.String(), axis)
	n := t.shape[axis]
	if n == 0 && (op == ReduceMax || op == ReduceMin) {
		panic(fmt.Sprintf("tensor: Reduce%v over empty axis %d of %v", op, axis, t.shape))
	}
	outShape := cloneInts(t.shape)
	outShape[axis] = 1
	out := Zeros(outShape...)
	// rest: the input with the reduced axis selected at 0, walked in row-major order.
	rest := t.Narrow(axis, 0, min(n, 1))
	stride := t.strides[axis]
	i := 0
	rest.eachOffset(func(off int) {
		var acc float64
		switch op {
		case ReduceMax:
			acc = math.Inf(-1)
		case ReduceMin:
			acc = math.Inf(1)
		}
		for j := 0; j < n; j++ {
			v := float64(t.load(off + j*stride))
			switch op {
			case ReduceSum, ReduceMean:
				acc += v
			case ReduceMax:
				acc = math.Max(acc, v)
			case ReduceMin:
				acc = math.Min(acc, v)
			}
		}
		if op == ReduceMean {
			acc /= float64(n)
		}
		out.f32[i] = float32(acc)
		i++
	})
	if n == 0 { // empty axis: rest had no elements; sums stay 0, means are NaN
		if op == ReduceMean {
			for k := range out.f32 {
				out.f32[k] = float32(math.NaN())
			}
		}
	}
	if !keepdim {
		return out.Squeeze(axis)
	}
	return out
}

func (t *Tensor) Sum(axis int, keepdim bool) *Tensor  { return Reduce(ReduceSum, t, axis, keepdim) }
func (t *Tensor) Mean(axis int, keepdim bool) *Tensor { return Reduce(ReduceMean, t, axis, keepdim) }
func (t *Tensor) Max(axis int, keepdim bool) *Tensor  { return Reduce(ReduceMax, t, axis, keepdim) }

// ArgMax returns, for every position of the other axes in row-major order,
// the index of the largest element along axis (the first one on ties; NaN
// counts as largest, as in PyTorch).
func (t *Tensor) ArgMax(axis int) []int {
	axis = t.axis("ArgMax", axis)
	n := t.shape[axis]
	if n == 0 {
		panic(fmt.Sprintf("tensor: ArgMax over empty axis %d of %v", axis, t.shape))
	}
	stride := t.strides[axis]
	var out []int
	t.Narrow(axis, 0, 1).eachOffset(func(off int) {
		best, bi := t.load(off), 0
		for j := 1; j < n && best == best; j++ {
			if v := t.load(off + j*stride); v > best || v != v {
				best, bi = v, j
			}
		}
		out = append(out, bi)
	})
	return out
}
