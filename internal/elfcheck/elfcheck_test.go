package elfcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The default gitcap binary must be static for amd64 and arm64; a file that
// is not ELF and a dynamically linked system binary must be refused.
func TestGitcapIsStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	for _, arch := range []string{"amd64", "arm64"} {
		out := filepath.Join(dir, "gitcap-"+arch)
		cmd := exec.Command("go", "build", "-o", out, "github.com/gitcap/gitcap/cmd/gitcap")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", arch, err, b)
		}
		if err := Static(out); err != nil {
			t.Errorf("%s: %v", arch, err)
		}
	}
}

func TestRefusesDynamicAndNonELF(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "not-elf")
	os.WriteFile(bad, []byte("#!/bin/sh\n"), 0o755)
	if err := Static(bad); err == nil {
		t.Error("a shell script passed as a static ELF")
	}
	for _, p := range []string{"/bin/sh", "/usr/bin/env", "/bin/ls"} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		err := Static(p)
		if err == nil || !strings.Contains(err.Error(), "dynamic") && !strings.Contains(err.Error(), "interpreter") {
			t.Errorf("%s: want a dynamic-linking error, got %v", p, err)
		}
		return
	}
	t.Log("no dynamically linked system binary found to check against")
}
