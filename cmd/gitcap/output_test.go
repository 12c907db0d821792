package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// writeFolder: a failure leaves the folder as it was; a symbolic link to a
// folder is written through and stays a link; an existing folder gets the
// new files, each replaced whole.
func TestWriteFolder(t *testing.T) {
	root := t.TempDir()
	write := func(dir, name, body string) error { return os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644) }
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			return "<" + err.Error() + ">"
		}
		return string(b)
	}

	out := filepath.Join(root, "new")
	if err := writeFolder(out, func(dir string) error { return write(dir, "a", "1") }); err != nil {
		t.Fatal(err)
	}
	if got := read(filepath.Join(out, "a")); got != "1" {
		t.Errorf("new folder: a = %q", got)
	}

	boom := errors.New("disk full")
	err := writeFolder(out, func(dir string) error {
		if err := write(dir, "a", "2"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || read(filepath.Join(out, "a")) != "1" {
		t.Errorf("failed write: err %v, a = %q (want the old 1)", err, read(filepath.Join(out, "a")))
	}
	if m, _ := filepath.Glob(filepath.Join(root, ".new.tmp-*")); len(m) != 0 {
		t.Errorf("temporary folders left: %v", m)
	}

	if err := writeFolder(out, func(dir string) error { return write(dir, "b", "3") }); err != nil {
		t.Fatal(err)
	}
	if read(filepath.Join(out, "a")) != "1" || read(filepath.Join(out, "b")) != "3" {
		t.Errorf("existing folder: a = %q, b = %q", read(filepath.Join(out, "a")), read(filepath.Join(out, "b")))
	}

	target := filepath.Join(root, "target")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := writeFolder(link, func(dir string) error { return write(dir, "c", "4") }); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", st, err)
	}
	if got := read(filepath.Join(target, "c")); got != "4" {
		t.Errorf("through the link: target/c = %q", got)
	}
}
