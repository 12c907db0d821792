// Package elfcheck tells whether an ELF executable is statically linked:
// no program interpreter, no dynamic section, no needed libraries. It backs
// `make static` and the test that keeps the default gitcap binary static.
package elfcheck

import (
	"debug/elf"
	"fmt"
)

// Static returns nil when the ELF file at path is statically linked, and an
// error naming what makes it dynamic otherwise.
func Static(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			return fmt.Errorf("%s: has a program interpreter (PT_INTERP): dynamically linked", path)
		case elf.PT_DYNAMIC:
			libs, _ := f.ImportedLibraries()
			return fmt.Errorf("%s: has a dynamic section (PT_DYNAMIC), needs %v", path, libs)
		}
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		return fmt.Errorf("%s: needs shared libraries %v", path, libs)
	}
	return nil
}
