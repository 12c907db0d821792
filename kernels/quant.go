package kernels

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/x448/float16"
)

// Quantized weight storage (formats.md §4) and its scalar reference
// quantizers and dequantizers. A QMatrix holds a Linear weight (Rows = out,
// Cols = in, row-major) in one of:
//
//	F16, BF16  16-bit floats, 2 bytes/value
//	Q8         blocks of 32 values: one F16 scale d = amax/127 and 32 int8,
//	           x ≈ d·q (ggml Q8_0; 8.5 bits/value)
//	NF4        blocks of 64 values over the flattened matrix: 4-bit indices
//	           into bitsandbytes' NF4 code book, x ≈ code[q]·absmax; two codes
//	           per byte, element 2k in the high nibble; the per-block absmax is
//	           double-quantized (8-bit dynamic map, blocks of 256, offset =
//	           mean) as bitsandbytes does with bnb_4bit_use_double_quant
//	           (4.127 bits/value)
//
// Blocks run over the flattened matrix, so a block may span two rows when
// Cols is not a multiple of the block size.

// QFormat is a weight storage format.
type QFormat uint8

const (
	QF32 QFormat = iota
	QF16
	QBF16
	Q8
	NF4
)

func (f QFormat) String() string {
	return [...]string{"F32", "F16", "BF16", "Q8", "NF4"}[f]
}

// Bits is the storage cost per value, block scales included.
func (f QFormat) Bits() float64 {
	return [...]float64{32, 16, 16, 8.5, 4 + 8.0/64 + 32.0/(64*256)}[f]
}

// ParseQFormat reads "f32", "f16", "bf16", "q8", "nf4" (any case).
func ParseQFormat(s string) (QFormat, error) {
	for f := QF32; f <= NF4; f++ {
		if equalFold(s, f.String()) {
			return f, nil
		}
	}
	return 0, fmt.Errorf("unknown weight format %q (want f32, f16, bf16, q8 or nf4)", s)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// Q8Block is 32 int8 values and their F16 scale: 34 bytes.
type Q8Block struct {
	D uint16 // float16 bits of the scale
	Q [32]int8
}

// NF4Block is 64 NF4 codes, two per byte (element 2k in the high nibble).
type NF4Block struct {
	Q [32]byte
}

const (
	q8Block     = 32
	nf4Block    = 64
	nf4Nested   = 256 // blocks per double-quantization group
	nf4Absfloor = 1e-38
)

// NF4Code is bitsandbytes' NF4 code book: quantiles of N(0,1) scaled to
// [-1, 1]; index 7 is exactly 0.
var NF4Code = [16]float32{
	-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
	-0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
	0.07958029955625534, 0.16093020141124725, 0.24611230194568634,
	0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
	0.7229568362236023, 1.0,
}

// DynamicMap8 is bitsandbytes' signed 8-bit dynamic code map
// (create_dynamic_map(signed=True)), sorted ascending: 256 values in [-1, 1].
var DynamicMap8 = dynamicMap()

func dynamicMap() [256]float32 {
	var data []float64
	const maxExp, nonSign = 7, 7
	for i := 0; i < maxExp; i++ {
		items := 1<<(i+nonSign-maxExp) + 1
		scale := math.Pow(10, float64(-(maxExp-1)+i))
		// torch.linspace(0.1, 1, items) in float32, then midpoints
		b := make([]float32, items)
		for j := range b {
			b[j] = float32(0.1 + (1-0.1)*float64(j)/float64(items-1))
		}
		for j := 0; j+1 < items; j++ {
			mean := float64((b[j] + b[j+1]) / 2)
			data = append(data, scale*mean, -scale*mean)
		}
	}
	data = append(data, 0, 1)
	sort.Float64s(data)
	var out [256]float32
	for i, v := range data {
		out[i] = float32(v)
	}
	return out
}

// QMatrix is a quantized Rows×Cols matrix (a Linear weight: Rows = out).
type QMatrix struct {
	Format     QFormat
	Rows, Cols int
	F32        []float32
	U16        []uint16 // F16 or BF16 bits
	Q8         []Q8Block
	NF4        []NF4Block
	NF4Scale   []uint8   // per NF4 block: index into DynamicMap8
	NF4Absmax2 []float32 // per group of 256 NF4 blocks
	NF4Offset  float32   // mean of the block absmax values
}

// Bytes is the storage the matrix takes.
func (q *QMatrix) Bytes() int {
	return 4*len(q.F32) + 2*len(q.U16) + 34*len(q.Q8) + 32*len(q.NF4) + len(q.NF4Scale) + 4*len(q.NF4Absmax2) + 4
}

// Quantize stores w (rows×cols, row-major) in format f.
func Quantize(f QFormat, w []float32, rows, cols int) *QMatrix {
	n := rows * cols
	if len(w) < n {
		panic(errShort("Quantize", "w", len(w), n))
	}
	w = w[:n]
	q := &QMatrix{Format: f, Rows: rows, Cols: cols}
	switch f {
	case QF32:
		q.F32 = append([]float32(nil), w...)
	case QF16:
		q.U16 = make([]uint16, n)
		F32ToF16(q.U16, w)
	case QBF16:
		q.U16 = make([]uint16, n)
		F32ToBF16(q.U16, w)
	case Q8:
		q.Q8 = QuantizeQ8(w)
	case NF4:
		q.NF4, q.NF4Scale, q.NF4Absmax2, q.NF4Offset = QuantizeNF4(w)
	}
	return q
}

// QuantizeQ8 quantizes x in blocks of 32 (the last one zero-padded):
// d = amax/127 rounded to F16, q = round(x/d).
func QuantizeQ8(x []float32) []Q8Block {
	out := make([]Q8Block, (len(x)+q8Block-1)/q8Block)
	for b := range out {
		blk := x[b*q8Block : min((b+1)*q8Block, len(x))]
		var amax float32
		for _, v := range blk {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d := amax / 127
		out[b].D = float16.Fromfloat32(d).Bits()
		if d == 0 {
			continue
		}
		id := 1 / d
		for i, v := range blk {
			out[b].Q[i] = int8(math.Round(float64(v * id)))
		}
	}
	return out
}

// QuantizeNF4 quantizes x in blocks of 64 to NF4 codes with
// double-quantized absmax scales.
func QuantizeNF4(x []float32) (blocks []NF4Block, scale []uint8, absmax2 []float32, offset float32) {
	nb := (len(x) + nf4Block - 1) / nf4Block
	blocks = make([]NF4Block, nb)
	absmax := make([]float32, nb)
	for b := range blocks {
		blk := x[b*nf4Block : min((b+1)*nf4Block, len(x))]
		var amax float32
		for _, v := range blk {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		amax = max(amax, nf4Absfloor)
		absmax[b] = amax
		for i, v := range blk {
			c := nf4Nearest(max(-1, min(1, v/amax)))
			if i%2 == 0 {
				blocks[b].Q[i/2] |= c << 4
			} else {
				blocks[b].Q[i/2] |= c
			}
		}
	}
	// double quantization of absmax - mean in groups of 256
	var sum float64
	for _, a := range absmax {
		sum += float64(a)
	}
	offset = float32(sum / float64(nb))
	scale = make([]uint8, nb)
	absmax2 = make([]float32, (nb+nf4Nested-1)/nf4Nested)
	for g := range absmax2 {
		grp := absmax[g*nf4Nested : min((g+1)*nf4Nested, nb)]
		var m float32
		for _, a := range grp {
			m = max(m, float32(math.Abs(float64(a-offset))))
		}
		m = max(m, nf4Absfloor)
		absmax2[g] = m
		for i, a := range grp {
			scale[g*nf4Nested+i] = dynNearest((a - offset) / m)
		}
	}
	return blocks, scale, absmax2, offset
}

// nf4Nearest returns the nearest code index; a value exactly halfway
// between two entries goes to the lower index.
func nf4Nearest(s float32) byte {
	for i := 0; i < 15; i++ {
		mid := (NF4Code[i] + NF4Code[i+1]) / 2
		if s <= mid {
			return byte(i)
		}
	}
	return 15
}

func dynNearest(v float32) uint8 {
	i := sort.Search(256, func(i int) bool { return DynamicMap8[i] >= v })
	if i == 256 {
		return 255
	}
	if i > 0 && v-DynamicMap8[i-1] <= DynamicMap8[i]-v {
		return uint8(i - 1)
	}
	return uint8(i)
}

// nf4BlockScale is the dequantized absmax of NF4 block b.
func (q *QMatrix) nf4BlockScale(b int) float32 {
	return DynamicMap8[q.NF4Scale[b]]*q.NF4Absmax2[b/nf4Nested] + q.NF4Offset
}

// Dequantize writes elements [off, off+len(dst)) of the flattened matrix
// into dst as float32.
func (q *QMatrix) Dequantize(dst []float32, off int) {
	n := len(dst)
	if off < 0 || off+n > q.Rows*q.Cols {
		panic(fmt.Sprintf("kernels: QMatrix.Dequantize: [%d, %d) outside %d×%d", off, off+n, q.Rows, q.Cols))
	}
	switch q.Format {
	case QF32:
		copy(dst, q.F32[off:off+n])
	case QF16:
		F16ToF32(dst, q.U16[off:off+n])
	case QBF16:
		BF16ToF32(dst, q.U16[off:off+n])
	case Q8:
		for i := 0; i < n; {
			e := off + i
			blk := &q.Q8[e/q8Block]
			d := float16.Frombits(blk.D).Float32()
			for j := e % q8Block; j < q8Block && i < n; j++ {
				dst[i] = d * float32(blk.Q[j])
				i++
			}
		}
	case NF4:
		for i := 0; i < n; {
			e := off + i
			b := e / nf4Block
			blk := &q.NF4[b]
			s := q.nf4BlockScale(b)
			for j := e % nf4Block; j < nf4Block && i < n; j++ {
				c := blk.Q[j/2]
				if j%2 == 0 {
					c >>= 4
				}
				dst[i] = NF4Code[c&15] * s
				i++
			}
		}
	}
}

// Quantized matrix products (the kernel family "quant", kernels.md §5).
// Weights are never upcast whole:
//
//   - few rows of x (decoding: n ≤ qSmallM) and block-aligned rows (Cols a
//     multiple of the block size): fused row kernels stream each weight
//     row once, widening int8 (or looking NF4 codes up) and scaling a block
//     at a time straight into dot products with x, in parallel over output
//     rows;
//   - otherwise (the encoder, prefill, training, odd shapes): tiles of
//     qTileRows weight rows are dequantized into a float32 scratch by a
//     SIMD tile dequantizer and multiplied with Sgemm.

// quantVariant is one row of the quantized-kernel dispatch table.
type quantVariant struct {
	name string
	isa  isa
	// q8Rows sets y[r] = Σ_b d_rb·Σ_i x[32b+i]·q_rbi for r < len(y): row r
	// is the nb blocks w[r*nb:(r+1)*nb]; len(x) ≥ 32·nb.
	q8Rows func(y, x []float32, w []Q8Block, nb int)
	// nf4Rows is q8Rows for NF4: row r is blocks b0+r*nb … b0+(r+1)*nb-1
	// of q, and xp is x permuted by nf4PermuteX(·, ·, nf4Chunk).
	nf4Rows  func(y, xp []float32, q *QMatrix, b0, nb int)
	nf4Chunk int // 0: xp is x in natural order
	// q8Deq and nf4Deq dequantize whole blocks into dst (natural order),
	// exactly as Dequantize does.
	q8Deq  func(dst []float32, w []Q8Block)
	nf4Deq func(dst []float32, q *QMatrix, b0, nb int)
	// q8Rows4 and nf4Rows4, if set, are q8Rows and nf4Rows for 4 rows of
	// x at once (row i at x[i*ldx:], output y[i*ldy+r]), so that each
	// block is widened once for all four.
	q8Rows4  func(y []float32, ldy int, x []float32, ldx int, w []Q8Block, nb, rows int)
	nf4Rows4 func(y []float32, ldy int, xp []float32, ldx int, q *QMatrix, b0, nb, rows int)
	// smallM: up to this many rows of x, QMatMul uses the fused row
	// kernels (0: qSmallM).
	smallM int
}

var quantGenericVariant = quantVariant{
	name: "generic", isa: isaGeneric,
	q8Rows: q8RowsGeneric, nf4Rows: nf4RowsGeneric,
	q8Deq: q8DeqGeneric, nf4Deq: nf4DeqGeneric,
}

// quantVariants lists every quantized-kernel variant this CPU can run,
// generic first and the preferred one last.
func quantVariants() []quantVariant {
	return append([]quantVariant{quantGenericVariant}, quantArchVariants()...)
}

var quantChoice = sync.OnceValue(func() *quantVariant {
	vs := quantVariants()
	levels := make([]isa, len(vs))
	for i, v := range vs {
		levels[i] = v.isa
	}
	return &vs[pickVariant(levels, selectedISA())]
})

func q8Scale(b *Q8Block) float32 { return float16.Frombits(b.D).Float32() }

func q8RowsGeneric(y, x []float32, w []Q8Block, nb int) {
	x = x[:nb*q8Block]
	for r := range y {
		var s float32
		for b, blk := range w[r*nb : (r+1)*nb] {
			xb := x[b*q8Block : (b+1)*q8Block]
			var t float32
			for i, v := range blk.Q {
				t += xb[i] * float32(v)
			}
			s += q8Scale(&blk) * t
		}
		y[r] = s
	}
}

func nf4RowsGeneric(y, x []float32, q *QMatrix, b0, nb int) {
	x = x[:nb*nf4Block]
	for r := range y {
		var s float32
		for i := 0; i < nb; i++ {
			b := b0 + r*nb + i
			xb := x[i*nf4Block : (i+1)*nf4Block]
			var t float32
			for j, c := range q.NF4[b].Q {
				t += xb[2*j]*NF4Code[c>>4] + xb[2*j+1]*NF4Code[c&15]
			}
			s += q.nf4BlockScale(b) * t
		}
		y[r] = s
	}
}

func q8DeqGeneric(dst []float32, w []Q8Block) {
	dst = dst[:len(w)*q8Block]
	for b := range w {
		d := q8Scale(&w[b])
		o := dst[b*q8Block : (b+1)*q8Block]
		for i, v := range w[b].Q {
			o[i] = d * float32(v)
		}
	}
}

func nf4DeqGeneric(dst []float32, q *QMatrix, b0, nb int) {
	dst = dst[:nb*nf4Block]
	for i := 0; i < nb; i++ {
		s := q.nf4BlockScale(b0 + i)
		o := dst[i*nf4Block : (i+1)*nf4Block]
		for j, c := range q.NF4[b0+i].Q {
			o[2*j] = NF4Code[c>>4] * s
			o[2*j+1] = NF4Code[c&15] * s
		}
	}
}

// nf4PermuteX reorders x (a multiple of 64 long) for nf4Rows kernels that
// take the codes of chunk bytes at a time: within each 64-block, for each
// run of chunk bytes (2·chunk elements), the even elements come first and
// then the odd ones. chunk 0 copies.
func nf4PermuteX(dst, x []float32, chunk int) {
	dst = dst[:len(x)]
	if chunk == 0 {
		copy(dst, x)
		return
	}
	for c0 := 0; c0+2*chunk <= len(x); c0 += 2 * chunk {
		src := x[c0 : c0+2*chunk]
		d := dst[c0 : c0+2*chunk]
		for i := 0; i < chunk; i++ {
			d[i] = src[2*i]
			d[chunk+i] = src[2*i+1]
		}
	}
}

// dequant writes elements [off, off+len(dst)) of the flattened q into dst,
// as q.Dequantize does, whole blocks through the variant's kernel.
func (v *quantVariant) dequant(q *QMatrix, dst []float32, off int) {
	n := len(dst)
	var blk int
	switch q.Format {
	case Q8:
		blk = q8Block
	case NF4:
		blk = nf4Block
	default:
		q.Dequantize(dst, off)
		return
	}
	if off < 0 || off+n > q.Rows*q.Cols {
		panic(fmt.Sprintf("kernels: QMatrix.Dequantize: [%d, %d) outside %d×%d", off, off+n, q.Rows, q.Cols))
	}
	h := 0
	if off%blk != 0 {
		h = min(n, blk-off%blk)
		q.Dequantize(dst[:h], off)
	}
	full := (n - h) / blk
	b0 := (off + h) / blk
	if full > 0 {
		if q.Format == Q8 {
			v.q8Deq(dst[h:h+full*blk], q.Q8[b0:b0+full])
		} else {
			v.nf4Deq(dst[h:h+full*blk], q, b0, full)
		}
	}
	if t := h + full*blk; t < n {
		q.Dequantize(dst[t:], off+t)
	}
}

// DequantizeFast is Dequantize through the selected SIMD tile dequantizer
// (the same values).
func (q *QMatrix) DequantizeFast(dst []float32, off int) {
	quantChoice().dequant(q, dst, off)
}

const (
	// qTileRows is how many weight rows the tiled path dequantizes at a time.
	qTileRows = 64
	// qSmallM: up to this many rows of x, QMatMul uses the fused row
	// kernels, for variants without 4-row kernels (BenchmarkQMatMul: the
	// row kernels widen each block once per row of x, and from 3 rows on
	// the tiled path is as fast).
	qSmallM = 2
	// qRowGrain is the output-row granularity of the fused path's split.
	qRowGrain = 16
)

// qFused reports whether the fused row kernels take q with n rows of x.
func (v *quantVariant) qFused(q *QMatrix, n int) bool {
	sm := v.smallM
	if sm == 0 {
		sm = qSmallM
	}
	if n > sm {
		return false
	}
	switch q.Format {
	case Q8:
		return q.Cols%q8Block == 0
	case NF4:
		return q.Cols%nf4Block == 0
	}
	return false
}

var qScratch = sync.Pool{New: func() any { return new([]float32) }}

func checkQMatMul(fn string, q *QMatrix, n int, y []float32, ylen int, x []float32, xlen int) {
	if n < 0 {
		panic(errDim(fn, fmt.Sprintf("negative n=%d", n)))
	}
	checkLen(fn, "y", y, ylen)
	checkLen(fn, "x", x, xlen)
}

// QMatMul computes y = x·Wᵀ for x (n, Cols) and W = q: y (n, Rows),
// overwritten. Q8 and NF4 weights are dequantized on the fly, a block or a
// tile at a time (see quantVariant); F16/BF16 ones go through SgemmB16.
func QMatMul(p *Pool, y, x []float32, n int, q *QMatrix) {
	qMatMulWith(quantChoice(), p, y, x, n, q)
}

func qMatMulWith(v *quantVariant, p *Pool, y, x []float32, n int, q *QMatrix) {
	if q.Format == QF32 {
		Sgemm(p, false, true, n, q.Rows, q.Cols, 1, x, q.Cols, q.F32, q.Cols, 0, y, q.Rows)
		return
	}
	if q.Format == QF16 || q.Format == QBF16 {
		SgemmB16(p, false, true, n, q.Rows, q.Cols, 1, x, q.Cols, q.U16, q.Format == QBF16, q.Cols, 0, y, q.Rows)
		return
	}
	rows, cols := q.Rows, q.Cols
	checkQMatMul("QMatMul", q, n, y, n*rows, x, n*cols)
	if n == 0 || rows == 0 {
		return
	}
	if cols == 0 {
		clear(y[:n*rows])
		return
	}
	if v.qFused(q, n) {
		qMatVec(v, p, y, x, n, q)
		return
	}
	tiles := (rows + qTileRows - 1) / qTileRows
	p.Parallel(tiles, func(lo, hi int) {
		bp := qScratch.Get().(*[]float32)
		defer qScratch.Put(bp)
		*bp = grow(*bp, qTileRows*cols)
		w := *bp
		for t := lo; t < hi; t++ {
			r0, r1 := t*qTileRows, min((t+1)*qTileRows, rows)
			v.dequant(q, w[:(r1-r0)*cols], r0*cols)
			Sgemm(nil, false, true, n, r1-r0, cols, 1, x, cols, w, cols, 0, y[r0:], rows)
		}
	})
}

// qMatVec is the fused path: each worker takes runs of qRowGrain output
// rows and streams their blocks through the row kernel once per row of x
// (a few rows at a time, so the blocks are still in L1 for the next row
// of x).
func qMatVec(v *quantVariant, p *Pool, y, x []float32, n int, q *QMatrix) {
	rows, cols := q.Rows, q.Cols
	xs := x[:n*cols]
	nb := cols / q8Block
	if q.Format == NF4 {
		nb = cols / nf4Block
		if v.nf4Chunk != 0 {
			bp := qScratch.Get().(*[]float32)
			defer qScratch.Put(bp)
			*bp = grow(*bp, n*cols)
			for r := 0; r < n; r++ {
				nf4PermuteX((*bp)[r*cols:(r+1)*cols], x[r*cols:(r+1)*cols], v.nf4Chunk)
			}
			xs = *bp
		}
	}
	const sub = 8 // rows per pass over the rows of x
	run := func(lo, hi int) {
		o1 := min(hi*qRowGrain, rows)
		for o := lo * qRowGrain; o < o1; o += sub {
			e := min(o+sub, o1)
			r := 0
			if q.Format == Q8 && v.q8Rows4 != nil {
				for ; r+4 <= n; r += 4 {
					v.q8Rows4(y[r*rows+o:], rows, xs[r*cols:], cols, q.Q8[o*nb:e*nb], nb, e-o)
				}
			}
			if q.Format == NF4 && v.nf4Rows4 != nil {
				for ; r+4 <= n; r += 4 {
					v.nf4Rows4(y[r*rows+o:], rows, xs[r*cols:], cols, q, o*nb, nb, e-o)
				}
			}
			for ; r < n; r++ {
				yr := y[r*rows+o : r*rows+e]
				xr := xs[r*cols : (r+1)*cols]
				if q.Format == Q8 {
					v.q8Rows(yr, xr, q.Q8[o*nb:e*nb], nb)
				} else {
					v.nf4Rows(yr, xr, q, o*nb, nb)
				}
			}
		}
	}
	chunks := (rows + qRowGrain - 1) / qRowGrain
	if n*rows*cols < sgemmParallelMin || p.Workers() == 1 {
		run(0, chunks)
		return
	}
	p.parallel(chunks, 4, run)
}

// QMatMulT accumulates dx += dy·W for dy (n, Rows): the input gradient of
// a Linear whose frozen weight is q.
func QMatMulT(p *Pool, dx, dy []float32, n int, q *QMatrix) {
	qMatMulTWith(quantChoice(), p, dx, dy, n, q)
}

func qMatMulTWith(v *quantVariant, p *Pool, dx, dy []float32, n int, q *QMatrix) {
	if q.Format == QF32 {
		Sgemm(p, false, false, n, q.Cols, q.Rows, 1, dy, q.Rows, q.F32, q.Cols, 1, dx, q.Cols)
		return
	}
	if q.Format == QF16 || q.Format == QBF16 {
		SgemmB16(p, false, false, n, q.Cols, q.Rows, 1, dy, q.Rows, q.U16, q.Format == QBF16, q.Cols, 1, dx, q.Cols)
		return
	}
	checkQMatMul("QMatMulT", q, n, dx, n*q.Cols, dy, n*q.Rows)
	if n == 0 || q.Rows == 0 || q.Cols == 0 {
		return
	}
	// dx[:, cols] += Σ_tiles dy[:, tile]·W[tile, :]; tiles along Rows share
	// dx, so they run one after another with the pool inside Sgemm.
	bp := qScratch.Get().(*[]float32)
	defer qScratch.Put(bp)
	*bp = grow(*bp, qTileRows*q.Cols)
	w := *bp
	for r0 := 0; r0 < q.Rows; r0 += qTileRows {
		r1 := min(r0+qTileRows, q.Rows)
		v.dequant(q, w[:(r1-r0)*q.Cols], r0*q.Cols)
		Sgemm(p, false, false, n, q.Cols, r1-r0, 1, dy[r0:], q.Rows, w, q.Cols, 1, dx, q.Cols)
	}
}
