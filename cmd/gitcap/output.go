// This file checks output paths before any work is done and writes output
// folders all at once. It does not write the files themselves (gitmodel's
// atomic writers do).

package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// checkOutputFile fails fast, before a model is loaded, when the file that
// --<flag> names could not be written at the end: the path is a folder, its
// folder does not exist or is not a folder, or nothing can be created there
// (read-only). "" (stdout) is always fine.
func checkOutputFile(flag, path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("--%s %s is a folder; name the file to write", flag, path)
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("--%s %s: folder %s does not exist", flag, path, dir)
	}
	if !st.IsDir() {
		return fmt.Errorf("--%s %s: %s is not a folder", flag, path, dir)
	}
	probe, err := os.CreateTemp(dir, "."+filepath.Base(path)+".probe-*")
	if err != nil {
		return fmt.Errorf("--%s %s: cannot create files in %s: %v", flag, path, dir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// checkOutputDir refuses an --output_dir that exists and is not a folder,
// or that is one of the folders the command reads from (writing a model
// over the one it was loaded from would replace the user's original).
func checkOutputDir(out string, inputs ...string) error {
	st, err := os.Stat(out)
	if err != nil {
		return nil // created when written
	}
	if !st.IsDir() {
		return fmt.Errorf("--output_dir %s exists and is not a folder", out)
	}
	for _, in := range inputs {
		if ist, err := os.Stat(in); in != "" && err == nil && os.SameFile(st, ist) {
			return fmt.Errorf("--output_dir %s is the folder the model is read from; write to a new folder", out)
		}
	}
	return nil
}

// writeFolder has fill write a folder's files into a fresh temporary folder
// next to out, then moves them into place, so that a failure while writing
// (disk full, an unreadable companion file) leaves out as it was: a new (or
// empty) out appears in one rename; into an existing folder the files move
// one by one, each replaced atomically, once all are complete (files of an
// earlier run that this one does not write stay). A symbolic link to a
// folder is written through, not replaced.
func writeFolder(out string, fill func(dir string) error) error {
	if err := checkOutputDir(out); err != nil {
		return err
	}
	if st, err := os.Lstat(out); err == nil && st.Mode()&os.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(out)
		if err != nil {
			return fmt.Errorf("--output_dir %s: %v", out, err)
		}
		out = target
	}
	parent := filepath.Dir(filepath.Clean(out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(filepath.Clean(out))+".tmp-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		return err
	}
	os.Remove(out) // only succeeds if it is an empty folder
	if err := os.Rename(tmp, out); err == nil {
		return nil
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if st, err := os.Stat(filepath.Join(out, e.Name())); err == nil && st.IsDir() {
			return fmt.Errorf("--output_dir %s: %s is a folder, cannot replace it with a file; nothing written", out, e.Name())
		}
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(out, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
