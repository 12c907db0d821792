package nn

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/gitcap/gitcap/kernels"
	"github.com/gitcap/gitcap/tensor/safetensors"
)

// Quantized Linear weights in a safetensors checkpoint (written by
// `gitcap quantize`). The weight "<m>.weight" of a quantized module is
// replaced by:
//
//	F16/BF16  <m>.weight                 F16 or BF16 [out, in] (standard)
//	Q8        <m>.weight.q8              U8 [blocks, 34]: per block a
//	                                     little-endian float16 scale, then
//	                                     32 int8 values (ggml Q8_0)
//	NF4       <m>.weight.nf4             U8 [blocks, 32]: 64 codes, two per
//	                                     byte, element 2k in the high nibble
//	          <m>.weight.nf4_scale       U8 [blocks]: index into the 8-bit
//	                                     dynamic map (double quantization)
//	          <m>.weight.nf4_absmax2     F32 [ceil(blocks/256)]
//	          <m>.weight.nf4_offset      F32 [1]
//
// and the file's metadata records "gitcap.quantized.<m>.weight" =
// "<format> <out> <in>" so shapes survive. Blocks run over the flattened
// [out, in] matrix.

// QuantMetaKey is the metadata key describing a quantized weight.
func QuantMetaKey(weight string) string { return "gitcap.quantized." + weight }

// QuantTensors renders q for the checkpoint under the weight's name, and
// returns the metadata value to record under QuantMetaKey(name).
func QuantTensors(name string, q *kernels.QMatrix) ([]safetensors.Tensor, string, error) {
	meta := fmt.Sprintf("%v %d %d", q.Format, q.Rows, q.Cols)
	shape := []int64{int64(q.Rows), int64(q.Cols)}
	switch q.Format {
	case kernels.QF32:
		t, err := safetensors.FromFloat32s(name, safetensors.F32, shape, q.F32)
		return []safetensors.Tensor{t}, "", err
	case kernels.QF16, kernels.QBF16:
		dt := map[kernels.QFormat]safetensors.DType{kernels.QF16: safetensors.F16, kernels.QBF16: safetensors.BF16}[q.Format]
		data := make([]byte, 2*len(q.U16))
		for i, v := range q.U16 {
			binary.LittleEndian.PutUint16(data[2*i:], v)
		}
		return []safetensors.Tensor{{Name: name, DType: dt, Shape: shape, Data: data}}, meta, nil
	case kernels.Q8:
		data := make([]byte, 34*len(q.Q8))
		for i, b := range q.Q8 {
			binary.LittleEndian.PutUint16(data[34*i:], b.D)
			for j, v := range b.Q {
				data[34*i+2+j] = byte(v)
			}
		}
		return []safetensors.Tensor{{Name: name + ".q8", DType: safetensors.U8, Shape: []int64{int64(len(q.Q8)), 34}, Data: data}}, meta, nil
	case kernels.NF4:
		codes := make([]byte, 32*len(q.NF4))
		for i, b := range q.NF4 {
			copy(codes[32*i:], b.Q[:])
		}
		a2, err := safetensors.FromFloat32s(name+".nf4_absmax2", safetensors.F32, []int64{int64(len(q.NF4Absmax2))}, q.NF4Absmax2)
		if err != nil {
			return nil, "", err
		}
		off, _ := safetensors.FromFloat32s(name+".nf4_offset", safetensors.F32, []int64{1}, []float32{q.NF4Offset})
		return []safetensors.Tensor{
			{Name: name + ".nf4", DType: safetensors.U8, Shape: []int64{int64(len(q.NF4)), 32}, Data: codes},
			{Name: name + ".nf4_scale", DType: safetensors.U8, Shape: []int64{int64(len(q.NF4Scale))}, Data: append([]byte(nil), q.NF4Scale...)},
			a2, off,
		}, meta, nil
	}
	return nil, "", fmt.Errorf("nn: cannot store format %v", q.Format)
}

// littleEndian: the blocks' in-memory layout equals the file's.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// rawSource is a Source that also hands out raw bytes and metadata.
type rawSource interface {
	Source
	Bytes(name string) ([]byte, error)
	Uint16s(name string) ([]uint16, error)
}

// getQuantized reads "<prefix>.weight" stored quantized, if the checkpoint
// holds it so. ok is false for a plain F32 weight.
func (w *Weights) getQuantized(out, in int) (q *kernels.QMatrix, ok bool) {
	name := w.join("weight")
	st := w.st
	if st.meta == nil {
		return nil, false
	}
	desc, found := st.meta[QuantMetaKey(name)]
	if !found {
		return nil, false
	}
	src, _ := st.src.(rawSource)
	fail := func(format string, args ...any) (*kernels.QMatrix, bool) {
		st.fail(fmt.Errorf("%s: quantized %q: "+format, append([]any{st.file, name}, args...)...))
		return nil, true
	}
	var fs string
	var rows, cols int
	if _, err := fmt.Sscanf(desc, "%s %d %d", &fs, &rows, &cols); err != nil || src == nil {
		return fail("bad metadata %q", desc)
	}
	f, err := kernels.ParseQFormat(fs)
	if err != nil {
		return fail("%v", err)
	}
	if rows != out || cols != in {
		return fail("shape [%d %d], want [%d %d]", rows, cols, out, in)
	}
	q = &kernels.QMatrix{Format: f, Rows: rows, Cols: cols}
	n := rows * cols
	bytesOf := func(suffix string, want int) []byte {
		b, err := src.Bytes(name + suffix)
		if err != nil {
			st.fail(err)
			return nil
		}
		if len(b) != want {
			st.fail(fmt.Errorf("%s: %s%s has %d bytes, want %d", st.file, name, suffix, len(b), want))
			return nil
		}
		st.used[name+suffix] = true
		return b
	}
	switch f {
	case kernels.QF16, kernels.QBF16:
		u, err := src.Uint16s(name)
		if err != nil || len(u) != n {
			return fail("want %d 16-bit values (%v)", n, err)
		}
		st.used[name] = true
		q.U16 = append([]uint16(nil), u...)
	case kernels.Q8:
		nb := (n + 31) / 32
		b := bytesOf(".q8", 34*nb)
		if b == nil {
			return nil, true
		}
		if littleEndian && uintptr(unsafe.Pointer(&b[0]))%unsafe.Alignof(kernels.Q8Block{}) == 0 {
			// the file's bytes are the blocks' memory layout: use them in place
			// (read-only, never copied into the heap)
			q.Q8 = unsafe.Slice((*kernels.Q8Block)(unsafe.Pointer(&b[0])), nb)
			return q, true
		}
		q.Q8 = make([]kernels.Q8Block, nb)
		for i := range q.Q8 {
			q.Q8[i].D = binary.LittleEndian.Uint16(b[34*i:])
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&q.Q8[i].Q[0])), 32), b[34*i+2:34*i+34])
		}
	case kernels.NF4:
		nb := (n + 63) / 64
		codes, scale := bytesOf(".nf4", 32*nb), bytesOf(".nf4_scale", nb)
		a2 := bytesOf(".nf4_absmax2", 4*((nb+255)/256))
		off := bytesOf(".nf4_offset", 4)
		if codes == nil || scale == nil || a2 == nil || off == nil {
			return nil, true
		}
		// codes and scales are bytes: used in place (read-only)
		q.NF4 = unsafe.Slice((*kernels.NF4Block)(unsafe.Pointer(&codes[0])), nb)
		q.NF4Scale = scale
		q.NF4Absmax2 = make([]float32, len(a2)/4)
		for i := range q.NF4Absmax2 {
			q.NF4Absmax2[i] = math.Float32frombits(binary.LittleEndian.Uint32(a2[4*i:]))
		}
		q.NF4Offset = math.Float32frombits(binary.LittleEndian.Uint32(off))
	default:
		return fail("format %v cannot be stored quantized", f)
	}
	// F16/BF16 values were copied: drop the checkpoint's pages from memory
	if r, ok := st.src.(interface{ Release(string) }); ok && q.U16 != nil {
		r.Release(name)
	}
	return q, true
}
