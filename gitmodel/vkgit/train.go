//go:build vulkan

package vkgit

import (
	"fmt"
	"sync"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/kernels/vulkan"
	"github.com/gitcap/gitcap/nn"
	"github.com/gitcap/gitcap/tensor"
)

// Trainer runs the products with the frozen Linear weights of a model being
// trained on a Vulkan device: each forward y = x·Wᵀ and each input gradient
// dx += dy·W, with the weights uploaded once and resident (quantized ones,
// --lora_bits, as their F32 values). The rest of the step (adapters, biases,
// norms, attention, the loss, the optimizer) runs on the CPU, so every
// product is one round trip; weights that train (--full_finetune) stay on
// the CPU. A failing device call falls back to the CPU for that product and
// is kept in Err, for the training loop to stop on.
type Trainer struct {
	dev  *vulkan.Device
	own  bool
	lins []*nn.Linear
	bufs []*vulkan.Buffer

	mu      sync.Mutex
	in, out *vulkan.Buffer // scratch, grown as needed
	host    []float32      // input gradients read back before they are added
	err     error
	// Layers and Bytes: how many weights went to the device, and their size.
	Layers int
	Bytes  int64
	// Forward and Backward count the products run on the device.
	Forward, Backward int64
}

// OpenTrainer opens a device and attaches it to m's frozen Linears (those
// whose weight is not among trainable).
func OpenTrainer(m *gitmodel.Model, trainable []nn.NamedTensor, opt vulkan.Options) (*Trainer, error) {
	d, err := vulkan.Open(opt)
	if err != nil {
		return nil, err
	}
	t, err := NewTrainer(m, trainable, d)
	if err != nil {
		d.Close()
		return nil, err
	}
	t.own = true
	return t, nil
}

// NewTrainer attaches d to m's frozen Linears (see Trainer).
func NewTrainer(m *gitmodel.Model, trainable []nn.NamedTensor, d *vulkan.Device) (*Trainer, error) {
	trains := map[*tensor.Tensor]bool{}
	for _, p := range trainable {
		trains[p.Tensor] = true
	}
	u, err := newUploader(d)
	if err != nil {
		return nil, err
	}
	defer u.abort()
	t := &Trainer{dev: d}
	var devs []*linearDev
	for _, nl := range m.Linears() {
		l := nl.Linear
		if l.Q == nil && (l.Weight == nil || trains[l.Weight]) {
			continue
		}
		var w []float32
		if l.Q != nil {
			w = make([]float32, l.Q.Rows*l.Q.Cols)
			l.Q.Dequantize(w, 0)
		} else {
			w = l.Weight.Data()
		}
		b := u.data(nl.Name, w)
		devs = append(devs, &linearDev{t: t, w: b, in: l.In(), outN: l.Out()})
		t.lins = append(t.lins, l)
		t.Bytes += 4 * int64(len(w))
	}
	if t.bufs, err = u.finish(); err != nil {
		return nil, fmt.Errorf("vkgit: uploading the frozen weights: %w", err)
	}
	for i, l := range t.lins {
		l.Dev = devs[i]
	}
	t.Layers = len(t.lins)
	return t, nil
}

// Device is the device in use.
func (t *Trainer) Device() *vulkan.Device { return t.dev }

// Err is the first device error (the products went on on the CPU).
func (t *Trainer) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// Close detaches the device from the Linears and frees its buffers (and
// the device, if OpenTrainer opened it).
func (t *Trainer) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range t.lins {
		l.Dev = nil
	}
	t.lins = nil
	for _, b := range append(t.bufs, t.in, t.out) {
		if b != nil {
			b.Free()
		}
	}
	t.bufs, t.in, t.out = nil, nil, nil
	if t.own {
		t.own = false
		return t.dev.Close()
	}
	return nil
}

// scratch returns a device buffer of at least n floats in *b.
func (t *Trainer) scratch(b **vulkan.Buffer, n int) (*vulkan.Buffer, error) {
	if *b != nil && (*b).Len() >= n {
		return *b, nil
	}
	if *b != nil {
		(*b).Free()
		*b = nil
	}
	nb, err := t.dev.NewBuffer(max(n, 1<<16))
	if err != nil {
		return nil, err
	}
	*b = nb
	return nb, nil
}

// product runs C (n, cols) = A (n, k) · op(W) on the device and reads C
// into dst, or adds it to dst when add is set.
func (t *Trainer) product(dst, a []float32, w *vulkan.Buffer, n, k, cols int, transB, add bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return t.err
	}
	read := dst
	if add {
		if cap(t.host) < n*cols {
			t.host = make([]float32, n*cols)
		}
		read = t.host[:n*cols]
	}
	err := func() error {
		in, err := t.scratch(&t.in, n*k)
		if err != nil {
			return err
		}
		out, err := t.scratch(&t.out, n*cols)
		if err != nil {
			return err
		}
		c, err := t.dev.Begin()
		if err != nil {
			return err
		}
		c.Upload(in, 0, a)
		c.Gemm(vulkan.Gemm{M: n, N: cols, K: k, A: in, B: w, C: out, TransB: transB})
		c.Download(out, 0, read)
		if err := c.Submit(); err != nil {
			return err
		}
		if add {
			kernels.Axpy(1, read, dst)
		}
		return nil
	}()
	if err != nil {
		t.err = fmt.Errorf("vkgit: training product on %s: %w", t.dev, err)
	} else if transB {
		t.Forward++
	} else {
		t.Backward++
	}
	return err
}

// linearDev is one frozen weight (out, in) resident on the device.
type linearDev struct {
	t        *Trainer
	w        *vulkan.Buffer
	in, outN int
}

func (l *linearDev) MatMul(y, x []float32, n int) error {
	return l.t.product(y, x, l.w, n, l.in, l.outN, true, false)
}

func (l *linearDev) MatMulT(dx, dy []float32, n int) error {
	return l.t.product(dx, dy, l.w, n, l.outN, l.in, false, true)
}
