package kernels

import (
	"fmt"
	"math"
	"sort"

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

// qTileRows is how many weight rows QMatMul dequantizes at a time.
const qTileRows = 64

// QMatMul computes y = x·Wᵀ for x (n, Cols) and W = q: y (n, Rows),
// overwritten. Tiles of W's rows are dequantized into a float32 scratch and
// multiplied with Sgemm, in parallel over tiles.
func QMatMul(p *Pool, y, x []float32, n int, q *QMatrix) {
	if q.Format == QF32 {
		Sgemm(p, false, true, n, q.Rows, q.Cols, 1, x, q.Cols, q.F32, q.Cols, 0, y, q.Rows)
		return
	}
	if q.Format == QF16 || q.Format == QBF16 {
		SgemmB16(p, false, true, n, q.Rows, q.Cols, 1, x, q.Cols, q.U16, q.Format == QBF16, q.Cols, 0, y, q.Rows)
		return
	}
	tiles := (q.Rows + qTileRows - 1) / qTileRows
	p.Parallel(tiles, func(lo, hi int) {
		w := make([]float32, qTileRows*q.Cols)
		for t := lo; t < hi; t++ {
			r0, r1 := t*qTileRows, min((t+1)*qTileRows, q.Rows)
			q.Dequantize(w[:(r1-r0)*q.Cols], r0*q.Cols)
			Sgemm(nil, false, true, n, r1-r0, q.Cols, 1, x, q.Cols, w, q.Cols, 0, y[r0:], q.Rows)
		}
	})
}

// QMatMulT accumulates dx += dy·W for dy (n, Rows): the input gradient of
// a Linear whose frozen weight is q.
func QMatMulT(p *Pool, dx, dy []float32, n int, q *QMatrix) {
	if q.Format == QF32 {
		Sgemm(p, false, false, n, q.Cols, q.Rows, 1, dy, q.Rows, q.F32, q.Cols, 1, dx, q.Cols)
		return
	}
	// dx[:, cols] += Σ_tiles dy[:, tile]·W[tile, :]; tiles along Rows share
	// dx, so they run one after another with the pool inside Sgemm.
	w := make([]float32, qTileRows*q.Cols)
	for r0 := 0; r0 < q.Rows; r0 += qTileRows {
		r1 := min(r0+qTileRows, q.Rows)
		q.Dequantize(w[:(r1-r0)*q.Cols], r0*q.Cols)
		Sgemm(p, false, false, n, q.Cols, r1-r0, 1, dy[r0:], q.Rows, w, q.Cols, 1, dx, q.Cols)
	}
}
