//go:build linux || darwin

package safetensors

import (
	"fmt"
	"os"
	"syscall"
)

// mapFile maps path read-only and returns the bytes, the open file (kept
// for RowReader's pread, so rows come from the same inode as the mapping
// even if path is replaced meanwhile) and a function that unmaps the bytes
// and closes the file. It falls back to reading the file (no fd, no unmap)
// for sizes mmap cannot map (0 bytes, or more than the address space) and
// when mmap fails.
func mapFile(path string) ([]byte, *os.File, func() error, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	st, err := fd.Stat()
	if err != nil {
		fd.Close()
		return nil, nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	size := st.Size()
	if !st.Mode().IsRegular() || size <= 0 || int64(int(size)) != size {
		fd.Close()
		return readWhole(path)
	}
	data, err := syscall.Mmap(int(fd.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		fd.Close()
		return readWhole(path)
	}
	return data, fd, func() error {
		err := syscall.Munmap(data)
		if cerr := fd.Close(); err == nil {
			err = cerr
		}
		return err
	}, nil
}
