package gitmodel

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gitcap/gitcap/tensor/safetensors"
)

// SaveWeights writes every parameter to path as F32 safetensors with
// {"format": "pt"} metadata (what transformers expects), atomically.
func (m *Model) SaveWeights(path string) error {
	var ts []safetensors.Tensor
	for _, p := range m.Params {
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
	return safetensors.WriteFile(path, ts, map[string]string{"format": "pt"})
}

// WriteFileAtomic writes data to path through a temporary file in the same
// folder and a rename, so readers never see a half-written file.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
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
