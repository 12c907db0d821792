//go:build vulkan

package vulkan

import (
	"fmt"
	"math"
)

// Act is an activation fused into a kernel's output.
type Act uint32

const (
	ActNone      Act = 0
	ActGELU      Act = 1 // exact erf GELU (BERT)
	ActQuickGELU Act = 2 // x·σ(1.702x) (CLIP)
)

// RowMap places logical row r of a matrix at physical row
// (r/Per)·Stride + Off + r%Per; the zero value (Per 0) is the identity.
// It lets a matmul read only each sequence's last row (Per 1, Stride T,
// Off T-1) or write keys and values into a KV cache with spare room (Per
// tn, Stride capacity, Off start).
type RowMap struct{ Per, Stride, Off int }

func (m RowMap) max(rows int) int { // largest physical row used + 1
	if m.Per == 0 || rows == 0 {
		return rows
	}
	last := rows - 1
	return (last/m.Per)*m.Stride + m.Off + last%m.Per + 1
}

// Gemm is C[mapC(m), n] = act(Alpha·Σ_k A[mapA(m), k]·op(B)[k, n] + Bias[n]) + R[m, n]
// for m < M, n < N, where op(B) = Bᵀ with B (N, K) row-major — a torch
// Linear weight — when TransB, else B (K, N). Leading dimensions default
// to the packed ones (K, K or N, N, N); Alpha 0 means 1. Bias and R are
// optional. C must not alias A, B or R.
type Gemm struct {
	M, N, K            int
	A, B, C            *Buffer
	Bias, R            *Buffer
	TransB             bool
	Alpha              float32
	Act                Act
	Lda, Ldb, Ldc, Ldr int
	AMap, CMap         RowMap
}

const gemmPushBytes = 15 * 4

// gemvMaxRows: below this many rows the gemv kernel (one work group per
// output column) beats 64×64 tiles.
const gemvMaxRows = 8

// Gemm records a matrix product. It picks the tiled kernel, or the
// few-rows kernel when M ≤ 8 and B is transposed.
func (c *Cmd) Gemm(g Gemm) { c.gemm(g, g.M <= gemvMaxRows && g.TransB) }

func (c *Cmd) gemm(g Gemm, gemv bool) {
	if c.err != nil {
		return
	}
	if g.Lda == 0 {
		g.Lda = g.K
	}
	if g.Ldb == 0 {
		if g.TransB {
			g.Ldb = g.K
		} else {
			g.Ldb = g.N
		}
	}
	if g.Ldc == 0 {
		g.Ldc = g.N
	}
	if g.Ldr == 0 {
		g.Ldr = g.N
	}
	if g.Alpha == 0 {
		g.Alpha = 1
	}
	bRows, bCols := g.K, g.N
	if g.TransB {
		bRows, bCols = g.N, g.K
	}
	switch {
	case g.M < 0 || g.N < 0 || g.K < 0:
		c.fail(fmt.Errorf("vulkan: Gemm %d×%d×%d", g.M, g.N, g.K))
		return
	case g.A == nil || g.B == nil || g.C == nil:
		c.fail(fmt.Errorf("vulkan: Gemm needs A, B and C"))
		return
	case g.Lda < g.K || g.Ldb < bCols || g.Ldc < g.N || g.Ldr < g.N:
		c.fail(fmt.Errorf("vulkan: Gemm leading dimensions %d %d %d %d too small for %d×%d×%d", g.Lda, g.Ldb, g.Ldc, g.Ldr, g.M, g.N, g.K))
		return
	case !fits(g.A, g.AMap.max(g.M), g.K, g.Lda) || !fits(g.B, bRows, bCols, g.Ldb) || !fits(g.C, g.CMap.max(g.M), g.N, g.Ldc) ||
		(g.Bias != nil && g.Bias.Len() < g.N) || (g.R != nil && !fits(g.R, g.M, g.N, g.Ldr)):
		c.fail(fmt.Errorf("vulkan: Gemm %d×%d×%d: a buffer is too small", g.M, g.N, g.K))
		return
	case g.C == g.A || g.C == g.B || g.C == g.R:
		c.fail(fmt.Errorf("vulkan: Gemm output aliases an input"))
		return
	}
	if g.M == 0 || g.N == 0 {
		return
	}
	flags := uint32(g.Act) << 8
	bias, res := g.A, g.A // unused bindings still need a buffer
	if g.TransB {
		flags |= 1
	}
	if g.Bias != nil {
		flags |= 2
		bias = g.Bias
	}
	if g.R != nil {
		flags |= 4
		res = g.R
	}
	push := []uint32{uint32(g.M), uint32(g.N), uint32(g.K), uint32(g.Lda), uint32(g.Ldb), uint32(g.Ldc), uint32(g.Ldr),
		flags, math.Float32bits(g.Alpha),
		uint32(g.AMap.Per), uint32(g.AMap.Stride), uint32(g.AMap.Off),
		uint32(g.CMap.Per), uint32(g.CMap.Stride), uint32(g.CMap.Off)}
	bufs := []*Buffer{g.A, g.B, bias, res, g.C}
	if gemv {
		if g.M > gemvMaxRows || !g.TransB {
			c.fail(fmt.Errorf("vulkan: gemv kernel needs M ≤ %d and TransB", gemvMaxRows))
			return
		}
		x, y := c.grid(g.N)
		c.dispatch(c.d.kernels["gemv"], bufs, push, x, y, 1)
		return
	}
	c.dispatch(c.d.kernels["sgemm"], bufs, push, ceilDiv(g.N, 64), ceilDiv(g.M, 64), 1)
}

// grid spreads n work groups over x and y within the device limit.
func (c *Cmd) grid(n int) (x, y int) {
	lim := int(c.d.limits.maxWorkGroupCount[0])
	if n <= lim {
		return n, 1
	}
	return lim, ceilDiv(n, lim)
}

func fits(b *Buffer, rows, cols, ld int) bool {
	if rows == 0 || cols == 0 {
		return true
	}
	return (rows-1)*ld+cols <= b.Len()
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// groups is the work-group count for n elements in groups of 256 (the
// kernels walk the rest).
func (c *Cmd) groups(n, per int) int {
	return max(1, min(ceilDiv(n, per), 65535, int(c.d.limits.maxWorkGroupCount[0])))
}

// Attention is multi-head scaled dot-product attention with an additive
// mask, per batch row b, head h and query i:
//
//	out[b,i,h] = softmax_j(Scale·q[b,i,h]·k[b,j,h] + Mask[b·MaskBatch + i·MaskRow + j]) · v[b,j,h]
//
// Q and Out hold B blocks of Tq rows; K and V hold B blocks of KVStride
// rows (0: Tk) of which the first Tk are used. Rows have Heads·Dh values;
// head h is the column block [h·Dh, (h+1)·Dh). Mask may be nil; MaskRow 0
// means Tk; MaskBatch 0 shares one (Tq, Tk) mask across the batch.
type Attention struct {
	B, Heads, Tq, Tk, Dh, KVStride int
	Scale                          float32
	Q, K, V, Out                   *Buffer
	Mask                           *Buffer
	MaskBatch, MaskRow             int
}

// Limits of the attention kernel (shared memory: 16 KiB is the guaranteed
// minimum).
const (
	MaxAttentionKeys = 3072
	MaxHeadDim       = 256
)

// Attention records attention over the whole batch.
func (c *Cmd) Attention(a Attention) {
	if c.err != nil {
		return
	}
	if a.KVStride == 0 {
		a.KVStride = a.Tk
	}
	if a.MaskRow == 0 {
		a.MaskRow = a.Tk
	}
	d := a.Heads * a.Dh
	switch {
	case a.B < 1 || a.Heads < 1 || a.Tq < 1 || a.Tk < 1 || a.Dh < 1 || a.KVStride < a.Tk:
		c.fail(fmt.Errorf("vulkan: Attention %+v", a))
		return
	case a.Tk > MaxAttentionKeys || a.Dh > MaxHeadDim:
		c.fail(fmt.Errorf("vulkan: Attention over %d keys of head size %d: the kernel holds at most %d keys and head size %d", a.Tk, a.Dh, MaxAttentionKeys, MaxHeadDim))
		return
	case a.Q.Len() < a.B*a.Tq*d || a.Out.Len() < a.B*a.Tq*d || a.K.Len() < ((a.B-1)*a.KVStride+a.Tk)*d || a.V.Len() < ((a.B-1)*a.KVStride+a.Tk)*d:
		c.fail(fmt.Errorf("vulkan: Attention: a buffer is too small for %+v", a))
		return
	case a.Mask != nil && a.Mask.Len() < (a.B-1)*a.MaskBatch+(a.Tq-1)*a.MaskRow+a.Tk:
		c.fail(fmt.Errorf("vulkan: Attention: mask of %d values too small", a.Mask.Len()))
		return
	case a.Out == a.Q || a.Out == a.K || a.Out == a.V:
		c.fail(fmt.Errorf("vulkan: Attention output aliases an input"))
		return
	}
	mask, has := a.Q, uint32(0)
	if a.Mask != nil {
		mask, has = a.Mask, 1
	}
	push := []uint32{uint32(a.Tq), uint32(a.Tk), uint32(a.Dh), uint32(d),
		uint32(a.Tq), uint32(a.KVStride), uint32(a.MaskBatch), uint32(a.MaskRow), has, math.Float32bits(a.Scale)}
	c.dispatch(c.d.kernels["attention"], []*Buffer{a.Q, a.K, a.V, mask, a.Out}, push, a.Tq, a.Heads, a.B)
}

// Softmax records y = softmax(x) over each of rows rows of cols values.
func (c *Cmd) Softmax(y, x *Buffer, rows, cols int) {
	if c.err != nil {
		return
	}
	if rows < 0 || cols < 1 || x.Len() < rows*cols || y.Len() < rows*cols {
		c.fail(fmt.Errorf("vulkan: Softmax %d×%d on buffers of %d and %d", rows, cols, x.Len(), y.Len()))
		return
	}
	if rows > 0 {
		c.dispatch(c.d.kernels["softmax"], []*Buffer{x, y}, []uint32{uint32(rows), uint32(cols)}, c.groups(rows, 1), 1, 1)
	}
}

// LayerNorm records y = (x-mean)/sqrt(var+eps)·w + b over rows of cols
// values. y may be x.
func (c *Cmd) LayerNorm(y, x, w, b *Buffer, rows, cols int, eps float32) {
	if c.err != nil {
		return
	}
	if rows < 0 || cols < 1 || x.Len() < rows*cols || y.Len() < rows*cols || w.Len() < cols || b.Len() < cols {
		c.fail(fmt.Errorf("vulkan: LayerNorm %d×%d: a buffer is too small", rows, cols))
		return
	}
	if rows > 0 {
		c.dispatch(c.d.kernels["layernorm"], []*Buffer{x, w, b, y}, []uint32{uint32(rows), uint32(cols), math.Float32bits(eps)}, c.groups(rows, 1), 1, 1)
	}
}

// Activate records y = act(x) for n values. y may be x.
func (c *Cmd) Activate(y, x *Buffer, n int, act Act) {
	if c.err != nil {
		return
	}
	if n < 0 || x.Len() < n || y.Len() < n {
		c.fail(fmt.Errorf("vulkan: Activate %d values: a buffer is too small", n))
		return
	}
	if n > 0 {
		c.dispatch(c.d.kernels["act"], []*Buffer{x, y}, []uint32{uint32(n), uint32(act)}, c.groups(n, 256), 1, 1)
	}
}

// Im2col records cols (B·P, C·ps·ps) = the ps×ps patches of pixels
// (B, C, S, S), each flattened in (channel, row, col) order.
func (c *Cmd) Im2col(cols, pixels *Buffer, b, ch, s, ps int) {
	if c.err != nil {
		return
	}
	g := s / ps
	n := b * g * g * ch * ps * ps
	if b < 1 || ps < 1 || s%ps != 0 || pixels.Len() < b*ch*s*s || cols.Len() < n {
		c.fail(fmt.Errorf("vulkan: Im2col of %d images %d×%d×%d, patch %d: bad sizes", b, ch, s, s, ps))
		return
	}
	c.dispatch(c.d.kernels["im2col"], []*Buffer{pixels, cols}, []uint32{uint32(b), uint32(ch), uint32(s), uint32(ps)}, c.groups(n, 256), 1, 1)
}

// ClsPos records x (B·(np+1), d): each image's class token cls (d) in
// front of its patch embeddings p (B·np, d), plus positions pos ((np+1), d).
func (c *Cmd) ClsPos(x, p, cls, pos *Buffer, b, np, d int) {
	if c.err != nil {
		return
	}
	n := b * (np + 1) * d
	if b < 1 || p.Len() < b*np*d || cls.Len() < d || pos.Len() < (np+1)*d || x.Len() < n {
		c.fail(fmt.Errorf("vulkan: ClsPos %d×%d×%d: a buffer is too small", b, np, d))
		return
	}
	c.dispatch(c.d.kernels["clspos"], []*Buffer{p, cls, pos, x}, []uint32{uint32(b), uint32(np), uint32(d)}, c.groups(n, 256), 1, 1)
}

// Embed records y (rows, d): row r is word[ids[r]] + pos[pos0 + r%t], ids
// an int32 buffer (UploadInts). Ids are not range-checked on the device.
func (c *Cmd) Embed(y, ids, word, pos *Buffer, rows, t, pos0, d int) {
	if c.err != nil {
		return
	}
	n := rows * d
	if rows < 0 || t < 1 || ids.Len() < rows || y.Len() < n || word.Len() < d || pos.Len() < (pos0+t)*d {
		c.fail(fmt.Errorf("vulkan: Embed %d rows: a buffer is too small", rows))
		return
	}
	if rows > 0 {
		c.dispatch(c.d.kernels["embed"], []*Buffer{ids, word, pos, y}, []uint32{uint32(rows), uint32(t), uint32(pos0), uint32(d)}, c.groups(n, 256), 1, 1)
	}
}
