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
