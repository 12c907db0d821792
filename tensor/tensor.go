package tensor

import (
	"fmt"
	"math"

	"github.com/gitcap/gitcap/kernels"
)

// Tensor is a strided view onto typed storage. The zero value is not usable;
// build tensors with New, Zeros, FromFloat32 or the view methods.
type Tensor struct {
	dtype   DType
	shape   []int
	strides []int // in elements
	offset  int   // in elements
	f32     []float32
	u16     []uint16
}

// New returns a zero-filled contiguous tensor.
func New(dtype DType, shape ...int) *Tensor {
	n := numel("New", shape)
	t := &Tensor{dtype: dtype, shape: cloneInts(shape), strides: contiguousStrides(shape)}
	switch dtype {
	case F32:
		t.f32 = make([]float32, n)
	case F16, BF16:
		t.u16 = make([]uint16, n)
	default:
		panic(fmt.Sprintf("tensor: New: unsupported dtype %v", dtype))
	}
	return t
}

// Zeros returns a zero-filled F32 tensor.
func Zeros(shape ...int) *Tensor { return New(F32, shape...) }

// Full returns an F32 tensor filled with v.
func Full(v float32, shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.f32 {
		t.f32[i] = v
	}
	return t
}

// FromFloat32 wraps data (not copied) as a contiguous F32 tensor.
func FromFloat32(data []float32, shape ...int) *Tensor {
	if n := numel("FromFloat32", shape); n != len(data) {
		panic(fmt.Sprintf("tensor: FromFloat32: shape %v needs %d elements, have %d", shape, n, len(data)))
	}
	return &Tensor{dtype: F32, shape: cloneInts(shape), strides: contiguousStrides(shape), f32: data}
}

// FromBits wraps 16-bit storage (not copied) as a contiguous F16 or BF16 tensor.
func FromBits(dtype DType, data []uint16, shape ...int) *Tensor {
	if dtype != F16 && dtype != BF16 {
		panic(fmt.Sprintf("tensor: FromBits: %v is not a 16-bit dtype", dtype))
	}
	if n := numel("FromBits", shape); n != len(data) {
		panic(fmt.Sprintf("tensor: FromBits: shape %v needs %d elements, have %d", shape, n, len(data)))
	}
	return &Tensor{dtype: dtype, shape: cloneInts(shape), strides: contiguousStrides(shape), u16: data}
}

// Scalar returns a rank-0 F32 tensor.
func Scalar(v float32) *Tensor { return FromFloat32([]float32{v}) }

func (t *Tensor) DType() DType { return t.dtype }

// Shape returns a copy of the shape.
func (t *Tensor) Shape() []int { return cloneInts(t.shape) }

// Strides returns a copy of the strides, in elements.
func (t *Tensor) Strides() []int { return cloneInts(t.strides) }

// Offset is the index of element (0, …, 0) in the storage.
func (t *Tensor) Offset() int { return t.offset }

func (t *Tensor) Rank() int { return len(t.shape) }

// Dim returns the size of axis i; negative i counts from the end.
func (t *Tensor) Dim(i int) int { return t.shape[t.axis("Dim", i)] }

// Numel is the number of elements.
func (t *Tensor) Numel() int {
	n := 1
	for _, d := range t.shape {
		n *= d
	}
	return n
}

// IsContiguous reports whether the view is row-major without gaps.
func (t *Tensor) IsContiguous() bool {
	want := 1
	for i := len(t.shape) - 1; i >= 0; i-- {
		if t.shape[i] != 1 && t.strides[i] != want {
			return false
		}
		want *= t.shape[i]
	}
	return true
}

// Data returns the elements of a contiguous F32 tensor as a slice that shares
// memory with the tensor. It panics for other tensors: call Contiguous first.
func (t *Tensor) Data() []float32 {
	if t.dtype != F32 {
		panic(fmt.Sprintf("tensor: Data on %v tensor (use To(F32))", t.dtype))
	}
	if !t.IsContiguous() {
		panic("tensor: Data on a non-contiguous view (use Contiguous)")
	}
	return t.f32[t.offset : t.offset+t.Numel()]
}

// Bits returns the raw uint16 elements of a contiguous F16/BF16 tensor, shared.
func (t *Tensor) Bits() []uint16 {
	if t.dtype != F16 && t.dtype != BF16 {
		panic(fmt.Sprintf("tensor: Bits on %v tensor", t.dtype))
	}
	if !t.IsContiguous() {
		panic("tensor: Bits on a non-contiguous view (use Contiguous)")
	}
	return t.u16[t.offset : t.offset+t.Numel()]
}

// At returns the element at idx as float32 (16-bit types are widened).
func (t *Tensor) At(idx ...int) float32 {
	return t.load(t.index("At", idx))
}

// Set stores v at idx (rounded to nearest even for 16-bit types).
func (t *Tensor) Set(v float32, idx ...int) {
	t.store(t.index("Set", idx), v)
}

func (t *Tensor) load(i int) float32 {
	switch t.dtype {
	case F32:
		return t.f32[i]
	case BF16:
		return math.Float32frombits(uint32(t.u16[i]) << 16)
	default:
		var f [1]float32
		kernels.F16ToF32(f[:], t.u16[i:i+1])
		return f[0]
	}
}

func (t *Tensor) store(i int, v float32) {
	switch t.dtype {
	case F32:
		t.f32[i] = v
	case BF16:
		t.u16[i] = kernels.BF16FromF32(v)
	default:
		kernels.F32ToF16(t.u16[i:i+1], []float32{v})
	}
}

func (t *Tensor) index(op string, idx []int) int {
	if len(idx) != len(t.shape) {
		panic(fmt.Sprintf("tensor: %s: %d indices for rank-%d tensor %v", op, len(idx), len(t.shape), t.shape))
	}
	off := t.offset
	for i, x := range idx {
		if x < 0 || x >= t.shape[i] {
			panic(fmt.Sprintf("tensor: %s: index %v out of range for shape %v", op, idx, t.shape))
		}
		off += x * t.strides[i]
	}
	return off
}

// axis normalises a possibly negative axis and panics when out of range.
func (t *Tensor) axis(op string, a int) int {
	r := len(t.shape)
	if a < 0 {
		a += r
	}
	if a < 0 || a >= r {
		panic(fmt.Sprintf("tensor: %s: axis out of range for rank-%d tensor %v", op, r, t.shape))
	}
	return a
}

// To converts to dtype, returning a new contiguous tensor (or t itself when
// it already has that dtype).
func (t *Tensor) To(dtype DType) *Tensor {
	if t.dtype == dtype {
		return t
	}
	src := t.Contiguous()
	out := New(dtype, t.shape...)
	switch {
	case src.dtype == F32 && dtype == F16:
		kernels.F32ToF16(out.u16, src.Data())
	case src.dtype == F32 && dtype == BF16:
		kernels.F32ToBF16(out.u16, src.Data())
	case src.dtype == F16 && dtype == F32:
		kernels.F16ToF32(out.f32, src.Bits())
	case src.dtype == BF16 && dtype == F32:
		kernels.BF16ToF32(out.f32, src.Bits())
	default: // between the two 16-bit types: through F32
		return src.To(F32).To(dtype)
	}
	return out
}

// Float32s returns a fresh contiguous float32 copy of the elements.
func (t *Tensor) Float32s() []float32 {
	out := make([]float32, t.Numel())
	i := 0
	t.eachOffset(func(off int) { out[i] = t.load(off); i++ })
	return out
}

// eachOffset calls fn with the storage offset of every element in row-major order.
func (t *Tensor) eachOffset(fn func(off int)) {
	n := t.Numel()
	if n == 0 {
		return
	}
	if t.IsContiguous() {
		for i := 0; i < n; i++ {
			fn(t.offset + i)
		}
		return
	}
	r := len(t.shape)
	idx := make([]int, r)
	off := t.offset
	for {
		fn(off)
		// increment the multi-index from the last axis
		a := r - 1
		for ; a >= 0; a-- {
			idx[a]++
			off += t.strides[a]
			if idx[a] < t.shape[a] {
				break
			}
			off -= idx[a] * t.strides[a]
			idx[a] = 0
		}
		if a < 0 {
			return
		}
	}
}

func numel(op string, shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: %s: negative dimension in shape %v", op, shape))
		}
		if d != 0 && n > math.MaxInt/d {
			panic(fmt.Sprintf("tensor: %s: shape %v overflows int", op, shape))
		}
		n *= d
	}
	return n
}

func contiguousStrides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

func cloneInts(x []int) []int { return append([]int(nil), x...) }

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
