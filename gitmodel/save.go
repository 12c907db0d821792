package gitmodel

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gitcap/gitcap/nn"
	"github.com/gitcap/gitcap/tensor/safetensors"
)

// SaveWeights writes every parameter to path as safetensors with
// {"format": "pt"} metadata (what transformers expects), atomically: F32,
// except Linear weights that were quantized, which are stored in their
// format as nn.QuantTensors describes (transformers cannot read those).
func (m *Model) SaveWeights(path string) error {
	var ts []safetensors.Tensor
	meta := map[string]string{"format": "pt"}
	quantized := map[string]bool{}
	for _, nl := range m.Linears() {
		if q := nl.Linear.Q; q != nil {
			name := nl.Name + ".weight"
			qt, desc, err := nn.QuantTensors(name, q)
			if err != nil {
				return err
			}
			ts = append(ts, qt...)
			meta[nn.QuantMetaKey(name)] = desc
			quantized[name] = true
		}
	}
	for _, p := range m.Params {
		if quantized[p.Name] {
			continue
		}
		shape := make([]int64, p.Tensor.Rank())
		for i, d := range p.Tensor.Shape() {
			shape[i] = int64(d)
		}
		t, err := safetensors.FromFloat32s(p.Name, safetensors.F32, shape, p.Tensor.Contiguous().Data())
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	return safetensors.WriteFile(path, ts, meta)
}

// AtomicFile is a file written under a temporary name in the destination
// folder and renamed into place by Commit, so readers never see it half
// written and an interrupted run leaves the previous file untouched. Its
// errors name the destination, not the temporary file.
type AtomicFile struct {
	*bufio.Writer
	f    *os.File
	path string
	done bool
}

// CreateAtomic starts writing path.
func CreateAtomic(path string) (*AtomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, atomicErr(path, "cannot create a temporary file in its folder", err)
	}
	a := &AtomicFile{f: f, path: path}
	a.Writer = bufio.NewWriter(atomicWriter{a})
	return a, nil
}

// atomicWriter writes to the temporary file, naming the destination in errors.
type atomicWriter struct{ a *AtomicFile }

func (w atomicWriter) Write(p []byte) (int, error) {
	n, err := w.a.f.Write(p)
	if err != nil {
		err = atomicErr(w.a.path, "writing", err)
	}
	return n, err
}

// atomicErr names path (the destination) and keeps the cause, dropping the
// temporary file's name that an *fs.PathError or *os.LinkError carries.
func atomicErr(path, doing string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("%s: %s: %w", path, doing, err)
}

// Commit flushes, syncs and renames the file into place (mode 0644).
func (a *AtomicFile) Commit() error {
	if a.done {
		return nil
	}
	a.done = true
	err := a.Flush()
	if err != nil {
		a.f.Close()
		os.Remove(a.f.Name())
		return err // named by atomicWriter
	}
	doing := "syncing"
	err = a.f.Sync()
	if cerr := a.f.Close(); err == nil {
		doing, err = "closing", cerr
	}
	if err == nil {
		doing, err = "setting the file mode", os.Chmod(a.f.Name(), 0o644)
	}
	if err == nil {
		doing, err = "renaming into place", os.Rename(a.f.Name(), a.path)
	}
	if err != nil {
		os.Remove(a.f.Name())
		return atomicErr(a.path, doing, err)
	}
	return nil
}

// Abort discards what was written (a no-op after Commit).
func (a *AtomicFile) Abort() {
	if !a.done {
		a.done = true
		a.f.Close()
		os.Remove(a.f.Name())
	}
}

// WriteFileAtomic writes data to path through an AtomicFile.
func WriteFileAtomic(path string, data []byte) error {
	a, err := CreateAtomic(path)
	if err != nil {
		return err
	}
	if _, err := a.Write(data); err != nil {
		a.Abort()
		return err
	}
	return a.Commit()
}

// SaveConfig writes config.json (every field, defaults included, which
// transformers reads the same way).
func (c *Config) Save(path string) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(data, '\n'))
}

// CompanionFiles are the non-weight files of a model folder that travel
// with its weights (processor, tokenizer, generation settings).
var CompanionFiles = []string{
	"generation_config.json", "preprocessor_config.json", "tokenizer_config.json",
	"special_tokens_map.json", "vocab.txt", "tokenizer.json",
}

// CopyCompanionFiles copies the CompanionFiles that exist in src into dst.
func CopyCompanionFiles(src, dst string) error {
	for _, f := range CompanionFiles {
		data, err := os.ReadFile(filepath.Join(src, f))
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			return err
		}
		if err := WriteFileAtomic(filepath.Join(dst, f), data); err != nil {
			return err
		}
	}
	return nil
}
