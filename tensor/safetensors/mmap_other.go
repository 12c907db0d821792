//go:build !(linux || darwin)

package safetensors

import "os"

// mapFile reads the whole file: memory mapping is implemented only for Linux
// and macOS.
func mapFile(path string) ([]byte, *os.File, func() error, error) {
	return readWhole(path)
}
