package safetensors

import (
	"os"
	"syscall"
	"unsafe"
)

// releasePages tells the kernel that the whole pages inside b (part of a
// read-only file mapping) are not needed any more: they leave the resident
// set and are read again from the file if touched.
func releasePages(b []byte) { advise(b, syscall.MADV_DONTNEED) }

// randomPages tells the kernel that b will be read in scattered places (an
// embedding table): no read-ahead around each touched page.
func randomPages(b []byte) { advise(b, syscall.MADV_RANDOM) }

func advise(b []byte, advice int) {
	if len(b) == 0 {
		return
	}
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	skip := int((page - start%page) % page)
	if skip >= len(b) {
		return
	}
	b = b[skip:]
	n := len(b) &^ int(page-1)
	if n > 0 {
		syscall.Madvise(b[:n], advice)
	}
}
