package safetensors

import "sort"

// Names returns the tensor names sorted byte-wise, as Set.Names does, so a
// File and a sharded Set can serve the same callers.
func (f *File) Names() []string {
	out := make([]string, len(f.infos))
	for i, t := range f.infos {
		out[i] = t.Name
	}
	sort.Strings(out)
	return out
}

// Release drops the named tensor's memory-mapped pages from the resident
// set (after its values were copied or quantized elsewhere). The tensor stays
// readable; it is paged in again if used. A no-op for files read into memory.
func (f *File) Release(name string) {
	if f.unmap == nil || f.closed {
		return
	}
	if i, ok := f.index[name]; ok {
		t := f.infos[i]
		releasePages(f.buf[t.Begin:t.End])
	}
}

// AccessRandom says the named tensor will be read in scattered rows (an
// embedding table), so the kernel reads no neighbouring pages ahead: only
// the rows used become resident. A no-op for files read into memory.
func (f *File) AccessRandom(name string) {
	if f.unmap == nil || f.closed {
		return
	}
	if i, ok := f.index[name]; ok {
		t := f.infos[i]
		randomPages(f.buf[t.Begin:t.End])
	}
}

// AccessRandom is File.AccessRandom on the shard holding name.
func (s *Set) AccessRandom(name string) {
	if f, err := s.file(name); err == nil {
		f.AccessRandom(name)
	}
}

// Release is File.Release on the shard holding name.
func (s *Set) Release(name string) {
	if f, err := s.file(name); err == nil {
		f.Release(name)
	}
}

// Metadata merges the shards' __metadata__ (later shards win on a clash).
func (s *Set) Metadata() map[string]string {
	m := map[string]string{}
	for _, f := range s.files {
		for k, v := range f.Metadata() {
			m[k] = v
		}
	}
	return m
}
