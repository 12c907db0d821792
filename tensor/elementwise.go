package tensor

import (
	"fmt"
	"math"

	"github.com/gitcap/gitcap/kernels"
)

// BinaryOp is an elementwise operation of two tensors.
type BinaryOp uint8

const (
	OpAdd BinaryOp = iota // a + b
	OpSub                 // a - b
	OpMul                 // a * b
	OpDiv                 // a / b
	OpMax                 // max(a, b)
	OpMin                 // min(a, b)
)

func (op BinaryOp) String() string {
	return [...]string{"Add", "Sub", "Mul", "Div", "Max", "Min"}[op]
}

func (op BinaryOp) apply(x, y float32) float32 {
	switch op {
	case OpAdd:
		return x + y
	case OpSub:
		return x - y
	case OpMul:
		return x * y
	case OpDiv:
		return x / y
	case OpMax:
		return max(x, y)
	default:
		return min(x, y)
	}
}

// UnaryOp is an elementwise function of one tensor.
type UnaryOp uint8

const (
	OpNeg       UnaryOp = iota // -x
	OpAbs                      // |x|
	OpExp                      // eˣ
	OpLog                      // ln x
	OpSqrt                     // √x
	OpTanh                     // tanh x
	OpSigmoid                  // 1/(1+e⁻ˣ)
	OpRelu                     // max(x, 0)
	OpGelu                     // x·Φ(x), exact (erf)
	OpQuickGelu                // x·σ(1.702x)
)

func (op UnaryOp) String() string {
	return [...]string{"Neg", "Abs", "Exp", "Log", "Sqrt", "Tanh", "Sigmoid", "Relu", "Gelu", "QuickGelu"}[op]
}

func (op UnaryOp) apply(x float32) float32 {
	switch op {
	case OpNeg:
		return -x
	case OpAbs:
		return float32(math.Abs(float64(x)))
	case OpExp:
		return float32(math.Exp(float64(x)))
	case OpLog:
		return float32(math.Log(float64(x)))
	case OpSqrt:
		return float32(math.Sqrt(float64(x)))
	case OpTanh:
		return float32(math.Tanh(float64(x)))
	case OpSigmoid:
		return float32(1 / (1 + math.Exp(-float64(x))))
	case OpRelu:
		return max(x, 0)
	}
	panic("unreachable")
}

// BroadcastShapes returns the NumPy broadcast of two shapes, or panics.
func BroadcastShapes(a, b []int) []int {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := range out {
		da, db := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			panic(fmt.Sprintf("tensor: shapes %v and %v do not broadcast", a, b))
		}
	}
	return out
}

// Binary applies op elementwise with NumPy broadcasting; 16-bit inputs are
// widened to F32. The result is a new contiguous F32 tensor.
func Binary(op BinaryOp, a, b *Tensor) *Tensor {
	a, b = a.To(F32), b.To(F32)
	shape := BroadcastShapes(a.shape, b.shape)
	out := Zeros(shape...)
	dst := out.f32
	if sameShape(a.shape, b.shape) && a.IsContiguous() && b.IsContiguous() {
		x, y := a.Data(), b.Data()
		for i := range dst {
			dst[i] = op.apply(x[i], y[i])
		}
		return out
	}
	ab, bb := a.BroadcastTo(shape...), b.BroadcastTo(shape...)
	i := 0
	eachOffset2(shape, ab, bb, func(oa, ob int) {
		dst[i] = op.apply(a.f32[oa], b.f32[ob])
		i++
	})
	return out
}

// eachOffset2 walks two views of the same shape in row-major order.
func eachOffset2(shape []int, a, b *Tensor, fn func(oa, ob int)) {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n == 0 {
		return
	}
	r := len(shape)
	idx := make([]int, r)
	oa, ob := a.offset, b.offset
	for {
		fn(oa, ob)
		ax := r - 1
		for ; ax >= 0; ax-- {
			idx[ax]++
			oa += a.strides[ax]
			ob += b.strides[ax]
			if idx[ax] < shape[ax] {
				break
			}
			oa -= idx[ax] * a.strides[ax]
			ob -= idx[ax] * b.strides[ax]
			idx[ax] = 0
		}
		if ax < 0 {
			return
		}
	}
}

// Unary applies op elementwise; the result is a new contiguous F32 tensor.
func Unary(op UnaryOp, a *Tensor) *Tensor {
	src := a.To(F32).Contiguous()
	out := Zeros(a.shape...)
	x, y := src.Data(), out.f32
	switch op {
	case OpGelu:
		kernels.Gelu(y, x)
	case OpQuickGelu:
		kernels.QuickGelu(y, x)
	default:
		for i, v := range x {
			y[i] = op.apply(v)
		}
	}
	return out
}

func (t *Tensor) Add(b *Tensor) *Tensor { return Binary(OpAdd, t, b) }
func (t *Tensor) Sub(b *Tensor) *Tensor { return Binary(OpSub, t, b) }
func (t *Tensor) Mul(b *Tensor) *Tensor { return Binary(OpMul, t, b) }
func (t *Tensor) Div(b *Tensor) *Tensor { return Binary(OpDiv, t, b) }

// Scale returns s·t.
func (t *Tensor) Scale(s float32) *Tensor { return Binary(OpMul, t, Scalar(s)) }
