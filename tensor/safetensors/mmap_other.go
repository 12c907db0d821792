//go:build !(linux || darwin)

package safetensors

// mapFile reads the whole file: memory mapping is implemented only for Linux
// and macOS.
func mapFile(path string) ([]byte, func() error, error) {
	return readWhole(path)
}
