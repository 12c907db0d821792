// Package tensor is gitcap's n-dimensional array: a typed storage plus a view
// (shape, strides, offset) onto it.
//
// A view never copies. Strides are counted in elements, not bytes, and an
// element at index (i0, i1, …) lives at
//
//	storage[Offset + i0*Strides[0] + i1*Strides[1] + …]
//
// so a transpose swaps two strides, a narrow moves the offset, and a
// broadcast sets a stride to 0:
//
//	x: shape [2 3], strides [3 1], offset 0     storage: a b c d e f
//	x.Transpose(0,1): shape [3 2], strides [1 3]      reads a d b e c f
//	x.Narrow(1,1,2):  shape [2 2], strides [3 1], offset 1   reads b c e f
//
// Storage is float32 for F32 and uint16 bit patterns for F16 and BF16.
// Arithmetic runs in float32; 16-bit tensors are widened with To(F32) first.
//
// Programmer errors (shape mismatches, axes out of range) panic with a
// message naming the operation; I/O lives at the package boundary
// (subpackage safetensors) and returns errors.
package tensor
