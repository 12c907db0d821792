//go:build linux || darwin

package kernels

import (
	"syscall"
	"unsafe"
)

// offHeap returns n zeroed floats in an anonymous private mapping, outside
// the Go heap: a large buffer that lives as long as the model (packed
// weights) then does not raise the garbage collector's heap goal, which
// would let up to GOGC% of its size in garbage pile up beside it. free
// unmaps it. If the mapping fails, the floats come from the heap.
func offHeap(n int) (s []float32, free func()) {
	if n == 0 {
		return nil, func() {}
	}
	b, err := syscall.Mmap(-1, 0, 4*n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]float32, n), func() {}
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n), func() { syscall.Munmap(b) }
}
