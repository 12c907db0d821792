//go:build vulkan

// Command linkcheck verifies that binaries built with -tags vulkan link
// dynamically against nothing but glibc's libc, libdl and libpthread (what
// purego's fakecgo imports, kernels.md §8.2): libvulkan itself is opened
// at run time, so a binary that needs it at link time, or anything else,
// fails.
//
//	go run -tags vulkan ./kernels/vulkan/linkcheck bin/vulkan/gitcap
package main

import (
	"debug/elf"
	"fmt"
	"os"
	"strings"
)

var allowed = map[string]bool{"libc.so.6": true, "libdl.so.2": true, "libpthread.so.0": true}

func check(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		return err
	}
	var bad []string
	for _, l := range libs {
		if !allowed[l] {
			bad = append(bad, l)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("links %s (only %s allowed)", strings.Join(bad, ", "), "libc.so.6, libdl.so.2, libpthread.so.0")
	}
	interp := ""
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err == nil {
				interp = strings.TrimRight(string(b), "\x00")
			}
		}
	}
	fmt.Printf("%s: dynamic, needs %v, interpreter %s\n", path, libs, interp)
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: linkcheck BINARY...")
		os.Exit(2)
	}
	ok := true
	for _, p := range os.Args[1:] {
		if err := check(p); err != nil {
			fmt.Fprintf(os.Stderr, "linkcheck: %s: %v\n", p, err)
			ok = false
		}
	}
	if !ok {
		os.Exit(1)
	}
}
