package kernels

// Run-time choice of instruction set (kernels.md §5). Each kernel family
// (Sgemm, the vector kernels, …) keeps a table of the variants this CPU can
// run, generic first; the exported kernels use one entry per family, chosen
// once per process. Tests and benchmarks walk the tables directly, so no
// package variable is ever overwritten.
//
// GITCAP_KERNELS=<name> (generic, avx2, avx512, neon) caps every family at
// that instruction set, if this CPU and build have it; an unknown or
// unavailable name prints a warning and changes nothing. The purego and
// noasm build tags leave only the generic variants.

import (
	"fmt"
	"os"
	"strings"
	"sync"
)

// isa is an instruction-set level. Within one architecture a higher level
// can run every lower one.
type isa uint8

const (
	isaGeneric isa = iota
	isaNEON
	isaAVX2
	isaAVX512
)

var isaNames = [...]string{isaGeneric: "generic", isaNEON: "neon", isaAVX2: "avx2", isaAVX512: "avx512"}

func (i isa) String() string { return isaNames[i] }

// EnvKernels is the environment variable that forces an instruction set.
const EnvKernels = "GITCAP_KERNELS"

// cpuISAs lists the instruction sets this CPU and build support, generic
// first and best last. The per-architecture files provide archISAs.
var cpuISAs = sync.OnceValue(func() []isa {
	return append([]isa{isaGeneric}, archISAs()...)
})

// selectedISA is the cap chosen once from GITCAP_KERNELS.
var selectedISA = sync.OnceValue(func() isa {
	best, msg := chooseISA(os.Getenv(EnvKernels), cpuISAs())
	if msg != "" {
		fmt.Fprintln(os.Stderr, "gitcap: warning:", msg)
	}
	return best
})

// chooseISA returns the level forced by name (empty: the best one) and a
// warning when name cannot be honoured.
func chooseISA(name string, have []isa) (isa, string) {
	best := have[len(have)-1]
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return best, ""
	}
	for _, i := range have {
		if i.String() == name {
			return i, ""
		}
	}
	avail := make([]string, len(have))
	for j, i := range have {
		avail[j] = i.String()
	}
	return best, fmt.Sprintf("%s=%q is not available on this CPU/build (have %s); using %s",
		EnvKernels, name, strings.Join(avail, ", "), best)
}

// SelectedKernels names the instruction set the exported kernels use.
func SelectedKernels() string { return selectedISA().String() }

// AvailableKernels lists the instruction sets this CPU and build can run,
// generic first.
func AvailableKernels() []string {
	var s []string
	for _, i := range cpuISAs() {
		s = append(s, i.String())
	}
	return s
}

// pickVariant returns the index of the last entry of a family table (sorted
// generic first, best last) whose level is at most the cap.
func pickVariant(levels []isa, cap isa) int {
	k := 0
	for j, l := range levels {
		if l <= cap {
			k = j
		}
	}
	return k
}
