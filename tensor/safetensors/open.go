package safetensors

import (
	"fmt"
	"os"
)

// Open memory-maps the file at path read-only (on Linux and macOS; elsewhere,
// for empty files, or when mapping fails it reads the file into memory) and
// parses it with [Parse]. Error messages name path as given. The mapping is
// released by Close; the file must not be truncated while it is open.
func Open(path string) (*File, error) {
	data, fd, unmap, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(path, data)
	if err != nil {
		if unmap != nil {
			_ = unmap()
		}
		return nil, err
	}
	f.unmap, f.fd = unmap, fd
	return f, nil
}

// readWhole is the fallback of mapFile.
func readWhole(path string) ([]byte, *os.File, func() error, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	return data, nil, nil, nil
}
