package tensor

import "fmt"

// Views: each method returns a new *Tensor sharing storage with t, except
// Contiguous and Clone (which copy) and Reshape of a non-contiguous view.

func (t *Tensor) view(shape, strides []int, offset int) *Tensor {
	return &Tensor{dtype: t.dtype, shape: shape, strides: strides, offset: offset, f32: t.f32, u16: t.u16}
}

// Reshape returns a view with a new shape of the same number of elements; one
// dimension may be -1 and is inferred. A non-contiguous tensor is copied first.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	shape = cloneInts(shape)
	infer, known := -1, 1
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			panic(fmt.Sprintf("tensor: Reshape: bad shape %v", shape))
		default:
			known *= d
		}
	}
	n := t.Numel()
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			panic(fmt.Sprintf("tensor: Reshape: cannot infer -1 in %v from %v", shape, t.shape))
		}
		shape[infer] = n / known
	} else if known != n {
		panic(fmt.Sprintf("tensor: Reshape: %v (%d elements) to %v (%d elements)", t.shape, n, shape, known))
	}
	src := t.Contiguous()
	return src.view(shape, contiguousStrides(shape), src.offset)
}

// Permute reorders axes: result axis i is input axis axes[i].
func (t *Tensor) Permute(axes ...int) *Tensor {
	r := len(t.shape)
	if len(axes) != r {
		panic(fmt.Sprintf("tensor: Permute: %d axes for rank-%d tensor", len(axes), r))
	}
	seen := make([]bool, r)
	shape, strides := make([]int, r), make([]int, r)
	for i, a := range axes {
		a = t.axis("Permute", a)
		if seen[a] {
			panic(fmt.Sprintf("tensor: Permute: axis %d repeated in %v", a, axes))
		}
		seen[a] = true
		shape[i], strides[i] = t.shape[a], t.strides[a]
	}
	return t.view(shape, strides, t.offset)
}

// Transpose swaps axes a and b.
func (t *Tensor) Transpose(a, b int) *Tensor {
	a, b = t.axis("Transpose", a), t.axis("Transpose", b)
	shape, strides := cloneInts(t.shape), cloneInts(t.strides)
	shape[a], shape[b] = shape[b], shape[a]
	strides[a], strides[b] = strides[b], strides[a]
	return t.view(shape, strides, t.offset)
}

// Narrow keeps indices [start, start+length) of axis.
func (t *Tensor) Narrow(axis, start, length int) *Tensor {
	axis = t.axis("Narrow", axis)
	if start < 0 || length < 0 || start+length > t.shape[axis] {
		panic(fmt.Sprintf("tensor: Narrow: [%d, %d) out of range for axis %d of %v", start, start+length, axis, t.shape))
	}
	shape := cloneInts(t.shape)
	shape[axis] = length
	return t.view(shape, cloneInts(t.strides), t.offset+start*t.strides[axis])
}

// Select takes index i of axis and removes that axis.
func (t *Tensor) Select(axis, i int) *Tensor {
	axis = t.axis("Select", axis)
	if i < 0 || i >= t.shape[axis] {
		panic(fmt.Sprintf("tensor: Select: index %d out of range for axis %d of %v", i, axis, t.shape))
	}
	shape := append(cloneInts(t.shape[:axis]), t.shape[axis+1:]...)
	strides := append(cloneInts(t.strides[:axis]), t.strides[axis+1:]...)
	return t.view(shape, strides, t.offset+i*t.strides[axis])
}

// Unsqueeze inserts an axis of size 1 at position axis (0…rank).
func (t *Tensor) Unsqueeze(axis int) *Tensor {
	r := len(t.shape)
	if axis < 0 {
		axis += r + 1
	}
	if axis < 0 || axis > r {
		panic(fmt.Sprintf("tensor: Unsqueeze: axis out of range for rank %d", r))
	}
	stride := 1
	if axis < r {
		stride = t.strides[axis] * t.shape[axis]
	}
	shape := append(append(cloneInts(t.shape[:axis]), 1), t.shape[axis:]...)
	strides := append(append(cloneInts(t.strides[:axis]), stride), t.strides[axis:]...)
	return t.view(shape, strides, t.offset)
}

// Squeeze removes axis, which must have size 1.
func (t *Tensor) Squeeze(axis int) *Tensor {
	axis = t.axis("Squeeze", axis)
	if t.shape[axis] != 1 {
		panic(fmt.Sprintf("tensor: Squeeze: axis %d of %v is not 1", axis, t.shape))
	}
	return t.Select(axis, 0)
}

// BroadcastTo expands size-1 axes (and missing leading axes) to shape,
// without copying: expanded axes get stride 0.
func (t *Tensor) BroadcastTo(shape ...int) *Tensor {
	r := len(shape)
	if len(t.shape) > r {
		panic(fmt.Sprintf("tensor: BroadcastTo: %v has more axes than %v", t.shape, shape))
	}
	strides := make([]int, r)
	lead := r - len(t.shape)
	for i := range shape {
		if i < lead {
			continue // new leading axis: stride 0
		}
		d := t.shape[i-lead]
		switch d {
		case shape[i]:
			strides[i] = t.strides[i-lead]
		case 1:
			strides[i] = 0
		default:
			panic(fmt.Sprintf("tensor: BroadcastTo: cannot broadcast %v to %v", t.shape, shape))
		}
	}
	return t.view(cloneInts(shape), strides, t.offset)
}

// Contiguous returns t when it is already row-major without gaps, otherwise
// a packed copy.
func (t *Tensor) Contiguous() *Tensor {
	if t.IsContiguous() {
		return t
	}
	return t.Clone()
}

// Clone returns a packed copy that shares nothing with t.
func (t *Tensor) Clone() *Tensor {
	out := New(t.dtype, t.shape...)
	i := 0
	if t.dtype == F32 {
		t.eachOffset(func(off int) { out.f32[i] = t.f32[off]; i++ })
	} else {
		t.eachOffset(func(off int) { out.u16[i] = t.u16[off]; i++ })
	}
	return out
}
