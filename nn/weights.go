package nn

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gitcap/gitcap/tensor"
	"github.com/gitcap/gitcap/tensor/safetensors"
)

// Source is a set of named checkpoint tensors: a *safetensors.File or a
// sharded *safetensors.Set.
type Source interface {
	Names() []string
	Info(name string) (safetensors.TensorInfo, bool)
	Float32s(name string) ([]float32, error)
}

// Weights reads tensors from a Source under a name prefix, the way candle's
// VarBuilder does: w.Push("encoder").Push("layer.0").Get("weight", 32, 32)
// reads "encoder.layer.0.weight" and checks its shape. Errors are collected
// (every missing or misshapen tensor, not just the first) and reported by
// Err, so layer constructors stay free of error plumbing.
type Weights struct {
	st     *loadState
	prefix string
}

type loadState struct {
	src    Source
	file   string // for messages
	used   map[string]bool
	errs   []error  // the first errShow problems (see fail)
	nerrs  int      // every problem, counted
	init   InitFunc // instead of src: create fresh tensors
	params []NamedTensor
	copy   bool              // copy out of the (read-only, memory-mapped) source
	meta   map[string]string // checkpoint metadata (quantized weights)
}

// NamedTensor is a parameter with its checkpoint name.
type NamedTensor struct {
	Name   string
	Tensor *tensor.Tensor
}

// Init says how a freshly created parameter starts (Hugging Face's
// _init_weights): weights normal, biases zero, LayerNorm weights one.
type Init uint8

const (
	InitNormal Init = iota
	InitZeros
	InitOnes
)

// InitFunc creates the named parameter of the given shape.
type InitFunc func(name string, kind Init, shape []int) *tensor.Tensor

// NewInitWeights returns a loader that creates every tensor with fn instead
// of reading a checkpoint (random initialisation, `gitcap init`).
func NewInitWeights(fn InitFunc) *Weights {
	return &Weights{st: &loadState{init: fn, file: "init", used: map[string]bool{}}}
}

// Writable makes the loader copy every tensor into private memory instead
// of viewing the memory-mapped checkpoint (which is read-only), so the
// tensors can be trained in place. It returns w.
func (w *Weights) Writable() *Weights {
	w.st.copy = true
	return w
}

// Params lists every tensor handed out so far, in the order asked for.
func (w *Weights) Params() []NamedTensor { return append([]NamedTensor(nil), w.st.params...) }

// NewWeights starts loading from src; file names the checkpoint in errors.
func NewWeights(src Source, file string) *Weights {
	st := &loadState{src: src, file: file, used: map[string]bool{}}
	if m, ok := src.(interface{ Metadata() map[string]string }); ok {
		st.meta = m.Metadata()
	}
	return &Weights{st: st}
}

// Push returns a loader whose names are prefixed by name (joined with ".").
func (w *Weights) Push(name string) *Weights {
	return &Weights{st: w.st, prefix: w.join(name)}
}

// Pushf is Push(fmt.Sprintf(format, args...)).
func (w *Weights) Pushf(format string, args ...any) *Weights {
	return w.Push(fmt.Sprintf(format, args...))
}

func (w *Weights) join(name string) string {
	if w.prefix == "" {
		return name
	}
	return w.prefix + "." + name
}

// Get returns the tensor "<prefix>.name" as F32 with the given shape. On a
// missing tensor or a shape mismatch it records an error and returns an
// empty placeholder of the same rank (every dimension 0), so loading can
// continue and report all problems at once without allocating what a
// mistaken or hostile config asks for (a hidden_size of 2^40 must not
// become a 2^40-element buffer of zeros).
func (w *Weights) Get(name string, shape ...int) *tensor.Tensor {
	return w.GetInit(name, InitNormal, shape...)
}

// GetInit is Get for a tensor whose fresh initialisation is kind.
func (w *Weights) GetInit(name string, kind Init, shape ...int) *tensor.Tensor {
	full := w.join(name)
	t := w.get(full, kind, shape)
	w.st.params = append(w.st.params, NamedTensor{full, t})
	return t
}

func (w *Weights) get(full string, kind Init, shape []int) *tensor.Tensor {
	st := w.st
	if st.init != nil {
		return st.init(full, kind, shape)
	}
	st.used[full] = true
	info, ok := st.src.Info(full)
	if !ok {
		st.fail(fmt.Errorf("%s: missing tensor %q (shape %v)", st.file, full, shape))
		return placeholder(shape)
	}
	if !sameShape64(info.Shape, shape) {
		st.fail(fmt.Errorf("%s: tensor %q has shape %v, want %v", st.file, full, info.Shape, shape))
		return placeholder(shape)
	}
	data, err := st.src.Float32s(full)
	if err != nil {
		st.fail(err)
		return placeholder(shape)
	}
	if st.copy {
		data = append([]float32(nil), data...)
	}
	return tensor.FromFloat32(data, shape...)
}

// placeholder stands in for a tensor that could not be read: the wanted
// rank with every dimension 0, so that views such as Reshape(d, -1) still
// work while the loader goes on collecting errors. It holds no data; a
// model with any placeholder is never used, because Err is not nil.
func placeholder(shape []int) *tensor.Tensor {
	return tensor.Zeros(make([]int, len(shape))...)
}

// errShow is how many problems Err lists; only that many are kept, the
// rest are counted (a config asking for a million layers that the
// checkpoint lacks must not pile up millions of messages).
const errShow = 8

func (st *loadState) fail(err error) {
	if len(st.errs) < errShow {
		st.errs = append(st.errs, err)
	}
	st.nerrs++
}

// Err reports the problems seen so far (nil if none): the first few, then
// how many more there were.
func (w *Weights) Err() error {
	st := w.st
	if st.nerrs == 0 {
		return nil
	}
	errs := st.errs[:len(st.errs):len(st.errs)]
	if st.nerrs > len(errs) {
		errs = append(errs, fmt.Errorf("… and %d more", st.nerrs-len(errs)))
	}
	return errors.Join(errs...)
}

// Unused lists the source's tensors that no Get asked for, except those
// matching one of the ignore suffixes (such as "position_ids" buffers).
func (w *Weights) Unused(ignoreSuffixes ...string) []string {
	if w.st.src == nil {
		return nil
	}
	var out []string
	for _, n := range w.st.src.Names() {
		if w.st.used[n] {
			continue
		}
		skip := false
		for _, s := range ignoreSuffixes {
			skip = skip || strings.HasSuffix(n, s)
		}
		if !skip {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func sameShape64(a []int64, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != int64(b[i]) {
			return false
		}
	}
	return true
}
