package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Names of the files OpenModel looks for.
const (
	SingleFileName = "model.safetensors"
	IndexFileName  = "model.safetensors.index.json"
)

// Set is the weights of a model folder: one file, or the shards named by a
// model.safetensors.index.json. Its lookups mirror those of *File.
type Set struct {
	files  []*File
	byName map[string]*File
	names  []string // sorted
}

// OpenModel opens the weights in dir: dir/model.safetensors when it exists,
// otherwise dir/model.safetensors.index.json
// ({"metadata":{"total_size":N},"weight_map":{tensor: shard file}}), whose
// distinct shards are each opened once. Every weight_map entry must exist in
// its shard. With an index, the Set exposes exactly the weight_map tensors
// (transformers' view); metadata.total_size is not checked.
func OpenModel(dir string) (*Set, error) {
	single := filepath.Join(dir, SingleFileName)
	if _, err := os.Stat(single); err == nil {
		f, err := Open(single)
		if err != nil {
			return nil, err
		}
		s := &Set{files: []*File{f}, byName: make(map[string]*File, len(f.infos))}
		for _, t := range f.infos {
			s.byName[t.Name] = f
			s.names = append(s.names, t.Name)
		}
		sort.Strings(s.names)
		return s, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("safetensors: %w", err)
	}

	indexPath := filepath.Join(dir, IndexFileName)
	raw, err := os.ReadFile(indexPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("safetensors: %s: neither %s nor %s exists", dir, SingleFileName, IndexFileName)
		}
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	weightMap, err := parseIndex(indexPath, raw)
	if err != nil {
		return nil, err
	}

	s := &Set{byName: make(map[string]*File, len(weightMap))}
	shards := make(map[string]*File)
	// Open shards in a stable order so errors are reproducible.
	var shardNames []string
	for _, shard := range weightMap {
		if _, ok := shards[shard]; !ok {
			shards[shard] = nil
			shardNames = append(shardNames, shard)
		}
	}
	sort.Strings(shardNames)
	for _, shard := range shardNames {
		f, err := Open(filepath.Join(dir, shard))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("%s: shard %q: %w", indexPath, shard, err)
		}
		shards[shard] = f
		s.files = append(s.files, f)
	}
	for name := range weightMap {
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	for _, name := range s.names {
		shard := weightMap[name]
		f := shards[shard]
		if _, ok := f.index[name]; !ok {
			s.Close()
			return nil, &FormatError{File: indexPath, Tensor: name, Msg: fmt.Sprintf("weight_map names shard %q, which has no such tensor", shard)}
		}
		s.byName[name] = f
	}
	return s, nil
}

// parseIndex decodes a shard index, rejecting duplicate keys and shard names
// that are not plain file names in the same folder.
func parseIndex(path string, raw []byte) (map[string]string, error) {
	if err := checkDuplicateKeys(raw); err != nil {
		return nil, fileErr(path, "%v", err)
	}
	var idx struct {
		Metadata  map[string]any     `json:"metadata"`
		WeightMap *map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fileErr(path, "invalid index JSON: %v", err)
	}
	if idx.WeightMap == nil {
		return nil, fileErr(path, "no \"weight_map\" object")
	}
	for name, shard := range *idx.WeightMap {
		if shard == "" || shard == "." || shard == ".." || strings.ContainsAny(shard, `/\`) || filepath.Base(shard) != shard {
			return nil, &FormatError{File: path, Tensor: name, Msg: fmt.Sprintf("shard %q is not a plain file name in the model folder", shard)}
		}
	}
	return *idx.WeightMap, nil
}

// checkDuplicateKeys reports the first object key that appears twice in the
// same object anywhere in a JSON document.
func checkDuplicateKeys(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	type frame struct {
		obj     bool
		keys    map[string]bool
		wantKey bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("invalid JSON: %v", err)
		}
		if n := len(stack); n > 0 && stack[n-1].obj {
			top := &stack[n-1]
			if top.wantKey {
				if k, ok := tok.(string); ok {
					if top.keys[k] {
						return fmt.Errorf("duplicate key %q", k)
					}
					top.keys[k] = true
					top.wantKey = false
					continue
				}
			} else {
				top.wantKey = true // this token starts the value
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{obj: true, keys: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}

// Close closes every file of the set and returns the first error.
func (s *Set) Close() error {
	var first error
	for _, f := range s.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Files returns the opened files (one, or one per distinct shard in name order).
func (s *Set) Files() []*File { return append([]*File{}, s.files...) }

// Names returns the tensor names in ascending order.
func (s *Set) Names() []string { return append([]string{}, s.names...) }

func (s *Set) file(name string) (*File, error) {
	f, ok := s.byName[name]
	if !ok {
		return nil, fmt.Errorf("safetensors: model has no tensor %q", name)
	}
	return f, nil
}

// Info returns the description of the named tensor (offsets are relative
// to its shard's data buffer).
func (s *Set) Info(name string) (TensorInfo, bool) {
	f, ok := s.byName[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Info(name)
}

// Bytes is [File.Bytes] on the shard holding name.
func (s *Set) Bytes(name string) ([]byte, error) {
	f, err := s.file(name)
	if err != nil {
		return nil, err
	}
	return f.Bytes(name)
}

// Float32s is [File.Float32s] on the shard holding name.
func (s *Set) Float32s(name string) ([]float32, error) {
	f, err := s.file(name)
	if err != nil {
		return nil, err
	}
	return f.Float32s(name)
}

// Uint16s is [File.Uint16s] on the shard holding name.
func (s *Set) Uint16s(name string) ([]uint16, error) {
	f, err := s.file(name)
	if err != nil {
		return nil, err
	}
	return f.Uint16s(name)
}

// Int64s is [File.Int64s] on the shard holding name.
func (s *Set) Int64s(name string) ([]int64, error) {
	f, err := s.file(name)
	if err != nil {
		return nil, err
	}
	return f.Int64s(name)
}

// Uint8s is [File.Uint8s] on the shard holding name.
func (s *Set) Uint8s(name string) ([]uint8, error) {
	f, err := s.file(name)
	if err != nil {
		return nil, err
	}
	return f.Uint8s(name)
}
