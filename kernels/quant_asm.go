//go:build (amd64 || arm64) && !purego && !noasm

package kernels

// Bounds-checking wrappers shared by the amd64 and arm64 quantized-weight
// kernels, which all take the same arguments.

type (
	q8RowsAsm  func(y *float32, x *float32, w *Q8Block, nb int, rows int)
	nf4RowsAsm func(y *float32, x *float32, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, rows int, off float32)
	q8DeqAsm   func(dst *float32, w *Q8Block, nb int)
	nf4DeqAsm  func(dst *float32, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, off float32)
)

func wrapQ8Rows(f q8RowsAsm) func(y, x []float32, w []Q8Block, nb int) {
	return func(y, x []float32, w []Q8Block, nb int) {
		rows := len(y)
		if rows == 0 || nb == 0 {
			clear(y)
			return
		}
		checkLen("q8Rows", "x", x, nb*q8Block)
		if len(w) < rows*nb {
			panic(errShort("q8Rows", "w", len(w), rows*nb))
		}
		f(&y[0], &x[0], &w[0], nb, rows)
	}
}

func wrapNF4Rows(f nf4RowsAsm) func(y, xp []float32, q *QMatrix, b0, nb int) {
	return func(y, xp []float32, q *QMatrix, b0, nb int) {
		rows := len(y)
		if rows == 0 || nb == 0 {
			clear(y)
			return
		}
		checkLen("nf4Rows", "x", xp, nb*nf4Block)
		end := b0 + rows*nb
		if b0 < 0 || end > len(q.NF4) || end > len(q.NF4Scale) || (end-1)/nf4Nested >= len(q.NF4Absmax2) {
			panic(errDim("nf4Rows", "blocks out of range"))
		}
		f(&y[0], &xp[0], &q.NF4[b0], &q.NF4Scale[b0], &q.NF4Absmax2[0], &DynamicMap8[0], &nf4AsmCode[0], b0, nb, rows, q.NF4Offset)
	}
}

func wrapQ8Deq(f q8DeqAsm) func(dst []float32, w []Q8Block) {
	return func(dst []float32, w []Q8Block) {
		if len(w) == 0 {
			return
		}
		checkLen("q8Deq", "dst", dst, len(w)*q8Block)
		f(&dst[0], &w[0], len(w))
	}
}

func wrapNF4Deq(f nf4DeqAsm) func(dst []float32, q *QMatrix, b0, nb int) {
	return func(dst []float32, q *QMatrix, b0, nb int) {
		if nb == 0 {
			return
		}
		checkLen("nf4Deq", "dst", dst, nb*nf4Block)
		end := b0 + nb
		if b0 < 0 || end > len(q.NF4) || end > len(q.NF4Scale) || (end-1)/nf4Nested >= len(q.NF4Absmax2) {
			panic(errDim("nf4Deq", "blocks out of range"))
		}
		f(&dst[0], &q.NF4[b0], &q.NF4Scale[b0], &q.NF4Absmax2[0], &DynamicMap8[0], &nf4AsmCode[0], b0, nb, q.NF4Offset)
	}
}
