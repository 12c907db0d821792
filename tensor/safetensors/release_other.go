//go:build !linux

package safetensors

// releasePages is a no-op outside Linux.
func releasePages([]byte) {}

// randomPages is a no-op outside Linux.
func randomPages([]byte) {}
