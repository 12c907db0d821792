//go:build vulkan

package vkgit

import (
	"fmt"
	"runtime"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/kernels/vulkan"
)

// Prefill encodes b images (B, C, S, S) on the device and runs their tokens
// through the decoder into a device KV cache with room for maxText text
// tokens per row. One submission.
func (e *Engine) Prefill(pixels []float32, b, maxText int) (gitmodel.Session, error) {
	if err := e.checkPixels(pixels, b); err != nil {
		return nil, err
	}
	cfg := &e.cfg
	n := cfg.NumImageTokens()
	if maxText < 1 || maxText > cfg.MaxPositionEmbeddings {
		return nil, fmt.Errorf("vkgit: room for %d text tokens (max_position_embeddings %d)", maxText, cfg.MaxPositionEmbeddings)
	}
	if n+maxText > vulkan.MaxAttentionKeys {
		return nil, fmt.Errorf("vkgit: %d image + %d text tokens exceed the attention kernel's %d keys", n, maxText, vulkan.MaxAttentionKeys)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	st := &state{e: e, rows: b, capacity: n + maxText, nImg: n}
	if err := st.allocCache(b); err != nil {
		st.free()
		return nil, err
	}
	s := &scratch{d: e.dev}
	defer s.free()
	px := s.get(len(pixels))
	w := e.decBuffers(s, b*n)
	if s.err != nil {
		st.free()
		return nil, s.err
	}
	c, err := e.dev.Begin()
	if err != nil {
		st.free()
		return nil, err
	}
	c.Upload(px, 0, pixels)
	x := e.encode(c, s, px, b)
	if s.err != nil {
		c.Abort()
		st.free()
		return nil, s.err
	}
	for i := range e.dec {
		e.decoderLayer(c, &e.dec[i], w, x, b, n, kvCache{k: st.k[i], v: st.v[i], stride: st.capacity}, attnMask{}, i == len(e.dec)-1)
	}
	if err := c.Submit(); err != nil {
		st.free()
		return nil, err
	}
	st.length = n
	return newSession(st), nil
}

// state is a session's device memory: the KV cache and the step buffers.
// It is freed when the session becomes unreachable (runtime.AddCleanup),
// so it must not point back at the session.
type state struct {
	e                        *Engine
	rows, capacity, nImg     int
	length                   int
	k, v                     []*vulkan.Buffer // per layer (rows·capacity, D)
	spareK, spareV           []*vulkan.Buffer // Reorder's destination, swapped in
	step                     *scratch         // buffers for steps of up to stepRows rows
	stepRows                 int
	x, tmp, ids, mask, logit *vulkan.Buffer
	w                        decBufs
	err                      error // sticky: Gather and Reorder cannot return one
}

type session struct{ st *state }

func newSession(st *state) *session {
	s := &session{st: st}
	runtime.AddCleanup(s, func(st *state) { st.free() }, st)
	return s
}

func (st *state) allocCache(rows int) error {
	for range st.e.dec {
		for _, dst := range []*[]*vulkan.Buffer{&st.k, &st.v} {
			b, err := st.e.dev.NewBuffer(rows * st.capacity * st.e.cfg.HiddenSize)
			if err != nil {
				return err
			}
			*dst = append(*dst, b)
		}
	}
	return nil
}

func (st *state) free() {
	for _, list := range [][]*vulkan.Buffer{st.k, st.v, st.spareK, st.spareV} {
		for _, b := range list {
			b.Free()
		}
	}
	st.k, st.v, st.spareK, st.spareV = nil, nil, nil, nil
	if st.step != nil {
		st.step.free()
		st.step = nil
	}
}

func (s *session) Rows() int { return s.st.rows }

// copyRows records, for every layer, row i of dst = row src[i] of the
// cache (the filled positions only).
func (st *state) copyRows(c *vulkan.Cmd, dstK, dstV []*vulkan.Buffer, src []int) {
	d := st.e.cfg.HiddenSize
	rowLen := st.capacity * d
	regions := make([]vulkan.CopyRegion, len(src))
	for i, r := range src {
		regions[i] = vulkan.CopyRegion{Src: r * rowLen, Dst: i * rowLen, N: st.length * d}
	}
	for l := range st.k {
		c.Copy(dstK[l], st.k[l], regions)
		c.Copy(dstV[l], st.v[l], regions)
	}
}

func (st *state) checkRows(src []int) error {
	for _, r := range src {
		if r < 0 || r >= st.rows {
			return fmt.Errorf("vkgit: row %d of a %d-row session", r, st.rows)
		}
	}
	return nil
}

// Gather returns a new session whose row i continues row src[i]. A device
// error is kept and returned by the new session's first Step.
func (s *session) Gather(src []int) gitmodel.Session {
	st, e := s.st, s.st.e
	out := &state{e: e, rows: len(src), capacity: st.capacity, nImg: st.nImg, length: st.length, err: st.err}
	if out.err == nil {
		out.err = st.checkRows(src)
	}
	if out.err == nil {
		e.mu.Lock()
		out.err = out.allocCache(len(src))
		if out.err == nil {
			var c *vulkan.Cmd
			if c, out.err = e.dev.Begin(); out.err == nil {
				st.copyRows(c, out.k, out.v, src)
				out.err = c.Submit()
			}
		}
		e.mu.Unlock()
	}
	return newSession(out)
}

// Reorder makes row i continue old row src[i] (beam search): the rows are
// copied into a second cache, which then becomes the cache.
func (s *session) Reorder(src []int) {
	st, e := s.st, s.st.e
	if st.err != nil {
		return
	}
	if len(src) != st.rows {
		st.err = fmt.Errorf("vkgit: Reorder with %d rows on a %d-row session", len(src), st.rows)
		return
	}
	if st.err = st.checkRows(src); st.err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if st.spareK == nil {
		spare := &state{e: e, rows: st.rows, capacity: st.capacity}
		if st.err = spare.allocCache(st.rows); st.err != nil {
			spare.free()
			return
		}
		st.spareK, st.spareV = spare.k, spare.v
	}
	c, err := e.dev.Begin()
	if err != nil {
		st.err = err
		return
	}
	st.copyRows(c, st.spareK, st.spareV, src)
	if st.err = c.Submit(); st.err != nil {
		return
	}
	st.k, st.spareK = st.spareK, st.k
	st.v, st.spareV = st.spareV, st.v
}

// Step feeds tn tokens per row, ids (Rows, tn), through the decoder,
// appending their keys and values to the cache, and returns the logits of
// each row's last position (Rows, V). One submission.
func (s *session) Step(ids []int, tn int) ([]float32, error) {
	st, e := s.st, s.st.e
	if st.err != nil {
		return nil, st.err
	}
	cfg := &e.cfg
	r, d, v := st.rows, cfg.HiddenSize, cfg.VocabSize
	switch {
	case tn < 1 || len(ids) != r*tn:
		return nil, fmt.Errorf("vkgit: %d ids for %d rows of %d tokens", len(ids), r, tn)
	case st.length+tn > st.capacity:
		return nil, fmt.Errorf("vkgit: KV cache full (%d of %d positions, %d more)", st.length, st.capacity, tn)
	}
	if err := e.checkIDs(ids); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := st.stepBuffers(r * tn); err != nil {
		return nil, err
	}
	start, total := st.length, st.length+tn
	c, err := e.dev.Begin()
	if err != nil {
		return nil, err
	}
	c.UploadInts(st.ids, 0, int32s(ids))
	var m attnMask
	if tn > 1 { // one new token sees every cached key: no mask needed
		c.Upload(st.mask, 0, stepMask(tn, start, total, st.nImg))
		m.buf = st.mask
	}
	e.embed(c, st.x, st.tmp, st.ids, r*tn, tn, start-st.nImg)
	for i := range e.dec {
		e.decoderLayer(c, &e.dec[i], st.w, st.x, r, tn, kvCache{k: st.k[i], v: st.v[i], stride: st.capacity, start: start}, m, false)
	}
	// LM head on each row's last position only
	c.Gemm(vulkan.Gemm{M: r, N: v, K: d, A: st.x, B: e.head.w, Bias: e.head.b, C: st.logit, TransB: true,
		AMap: vulkan.RowMap{Per: 1, Stride: tn, Off: tn - 1}})
	out := make([]float32, r*v)
	c.Download(st.logit, 0, out)
	if err := c.Submit(); err != nil {
		return nil, err
	}
	st.length = total
	return out, nil
}

// stepBuffers makes sure the step buffers hold rows positions.
func (st *state) stepBuffers(rows int) error {
	if st.step != nil && rows <= st.stepRows {
		return nil
	}
	if st.step != nil {
		st.step.free()
	}
	cfg := &st.e.cfg
	d := cfg.HiddenSize
	s := &scratch{d: st.e.dev}
	st.x, st.tmp, st.ids = s.get(rows*d), s.get(rows*d), s.get(rows)
	st.mask = s.get(rows * st.capacity) // (tn, Tk) ≤ rows × capacity
	st.logit = s.get(st.rows * cfg.VocabSize)
	st.w = st.e.decBuffers(s, rows)
	st.step, st.stepRows = s, rows
	if s.err != nil {
		s.free()
		st.step = nil
		return s.err
	}
	return nil
}

// stepMask is the additive mask (tn, total) for new text positions
// start..start+tn-1, shared by every row (all text keys are real while
// generating).
func stepMask(tn, start, total, nImg int) []float32 {
	m := make([]float32, tn*total)
	for i := 0; i < tn; i++ {
		for j := 0; j < total; j++ {
			if !attends(start+i, j, nImg, true) {
				m[i*total+j] = negInf
			}
		}
	}
	return m
}
