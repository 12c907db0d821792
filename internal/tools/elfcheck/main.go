// Command elfcheck exits non-zero unless every named file is a statically
// linked ELF executable. Used by `make static` and .ci/run.
package main

import (
	"fmt"
	"os"

	"github.com/gitcap/gitcap/internal/elfcheck"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: elfcheck FILE...")
		os.Exit(2)
	}
	failed := false
	for _, p := range os.Args[1:] {
		if err := elfcheck.Static(p); err != nil {
			fmt.Fprintln(os.Stderr, "elfcheck:", err)
			failed = true
			continue
		}
		fmt.Println(p + ": static")
	}
	if failed {
		os.Exit(1)
	}
}
