package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Register tiles. AVX-512: 6×64 (4 ZMM columns) with 24 accumulators, A
// broadcast through one register; AVX2: 6×16 (2 YMM), 12 accumulators.
// The Go side (sgemm_amd64.go) repeats these numbers.
const (
	mr512, nrv512 = 6, 4
	mr256, nrv256 = 6, 2
	dotMR512      = 4
	// dotPrefetch16 is how far ahead (bytes) the AVX-512 dot kernels
	// prefetch each 16-bit row of B. Measured (noisy, shared machine): the
	// bf16 GEMV 1x768x30522 gained about 10% at 1024 bytes; float32 rows,
	// already at the DRAM bandwidth, gained nothing, so they do not prefetch.
	dotPrefetch16 = 1024
	dotMR256      = 3
)

// bSrc is the element type B is read as by the kernels that read B directly.
type bSrc int

const (
	srcF32 bSrc = iota
	srcBF16
	srcF16
)

func (s bSrc) suffix() string { return [...]string{"", "BF16", "F16"}[s] }

// rowAddr addresses up to 16 rows of a row-major matrix from one or two base
// pointers and index registers holding 1, 3, 5 and 7 row strides, so no
// per-row pointer needs to be advanced: row i is base[i/8] + (i%8)*stride.
type rowAddr struct {
	base             []GPVirtual
	ld, ld3, ld5, l7 GPVirtual
}

// newRowAddr sets up rows 0..rows-1 at base with stride ld (in bytes; ld is
// kept and used as an index register).
func newRowAddr(base, ld GPVirtual, rows int) *rowAddr {
	r := &rowAddr{base: []GPVirtual{base}, ld: ld}
	if rows > 3 {
		r.ld3 = GP64()
		LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, r.ld3)
	}
	if rows > 5 {
		r.ld5 = GP64()
		LEAQ(Mem{Base: ld, Index: ld, Scale: 4}, r.ld5)
	}
	if rows > 7 {
		r.l7 = GP64()
		LEAQ(Mem{Base: r.ld3, Index: ld, Scale: 4}, r.l7)
	}
	if rows > 8 {
		b8 := GP64()
		LEAQ(Mem{Base: base, Index: ld, Scale: 8}, b8)
		r.base = append(r.base, b8)
	}
	return r
}

func (r *rowAddr) at(i, disp int) Mem {
	m := Mem{Base: r.base[i/8], Disp: disp}
	switch i % 8 {
	case 1:
		m.Index, m.Scale = r.ld, 1
	case 2:
		m.Index, m.Scale = r.ld, 2
	case 3:
		m.Index, m.Scale = r.ld3, 1
	case 4:
		m.Index, m.Scale = r.ld, 4
	case 5:
		m.Index, m.Scale = r.ld5, 1
	case 6:
		m.Index, m.Scale = r.ld3, 2
	case 7:
		m.Index, m.Scale = r.l7, 1
	}
	return m
}

func (r *rowAddr) advance(bytes int) {
	for _, b := range r.base {
		ADDQ(U32(bytes), b)
	}
}

// loadBytes loads an int parameter and converts it from float32 elements to bytes.
func loadBytes(name string) GPVirtual {
	r := GP64()
	Load(Param(name), r)
	SHLQ(U8(2), r)
	return r
}

// paramMem is the stack address of a parameter.
func paramMem(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// loadF32 loads a float32 parameter with a VEX move (no SSE instruction in
// AVX code).
func loadF32(name string) VecVirtual {
	x := XMM()
	VMOVSS(paramMem(name), x)
	return x
}

// betaIsZero jumps to label when beta is ±0 (then C is not read).
func betaIsZero(label string) {
	TESTL(U32(0x7fffffff), paramMem("beta"))
	JZ(LabelRef(label))
}

const kernDoc = `computes the tile C[0:%d, 0:nr] = alpha·A·B + beta·C over kc steps
// (beta ±0: C is only written). Row i of A starts at a + i·lda (elements),
// contiguous in k; B is packed, %d floats per k step. mask has bit j set
// for each valid column j < %d. kc ≥ 1.`

// genKern512 writes the AVX-512 micro-kernel for mr rows of A against one
// packed 64-column sliver of B. A is read in place (broadcast from its
// rows); the C tile is written with column masks, so edge tiles go through
// exactly the arithmetic of full ones.
func genKern512(mr int) {
	nrv := nrv512
	nr := 16 * nrv
	TEXT(fmt.Sprintf("sgemmKernAVX512M%d", mr), NOSPLIT,
		"func(kc int, a *float32, lda int, b *float32, c *float32, ldc int, mask uint64, alpha float32, beta float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("sgemmKernAVX512M%d "+kernDoc, mr, mr, nr, nr))
	kc := Load(Param("kc"), GP64()).(GPVirtual)
	a := Load(Param("a"), GP64()).(GPVirtual)
	rows := newRowAddr(a, loadBytes("lda"), mr)
	b := Load(Param("b"), GP64()).(GPVirtual)

	acc := make([][]VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]VecVirtual, nrv)
		for v := range acc[i] {
			acc[i][v] = ZMM()
			VXORPS(acc[i][v], acc[i][v], acc[i][v])
		}
	}
	bv := make([]VecVirtual, nrv)
	for v := range bv {
		bv[v] = ZMM()
	}
	bc := ZMM()
	step := func(u int) {
		for v := range bv {
			VMOVUPS(Mem{Base: b, Disp: 4 * (u*nr + 16*v)}, bv[v])
		}
		for i := 0; i < mr; i++ {
			VBROADCASTSS(rows.at(i, 4*u), bc)
			for v := range bv {
				VFMADD231PS(bv[v], bc, acc[i][v])
			}
		}
	}
	const unroll = 4
	n := GP64()
	MOVQ(kc, n)
	SHRQ(U8(2), n)
	JZ(LabelRef("tail"))
	Label("loop4")
	for u := 0; u < unroll; u++ {
		step(u)
	}
	rows.advance(4 * unroll)
	ADDQ(U32(4*nr*unroll), b)
	DECQ(n)
	JNZ(LabelRef("loop4"))
	Label("tail")
	ANDQ(U32(unroll-1), kc)
	JZ(LabelRef("store"))
	Label("loop1")
	step(0)
	rows.advance(4)
	ADDQ(U32(4*nr), b)
	DECQ(kc)
	JNZ(LabelRef("loop1"))

	Label("store")
	c := Load(Param("c"), GP64()).(GPVirtual)
	ldc := loadBytes("ldc")
	m := Load(Param("mask"), GP64()).(GPVirtual)
	ks := make([]OpmaskVirtual, nrv)
	for v := range ks {
		ks[v] = K()
		KMOVW(m.As32(), ks[v])
		if v < nrv-1 {
			SHRQ(U8(16), m)
		}
	}
	alpha := ZMM()
	VBROADCASTSS(loadF32("alpha"), alpha)
	for i := range acc {
		for v := range acc[i] {
			VMULPS(alpha, acc[i][v], acc[i][v])
		}
	}
	betaIsZero("overwrite")
	beta := ZMM()
	VBROADCASTSS(loadF32("beta"), beta)
	t := ZMM()
	for i := range acc {
		for v := range acc[i] {
			VMOVUPS_Z(Mem{Base: c, Disp: 64 * v}, ks[v], t)
			VFMADD231PS(beta, t, acc[i][v])
			VMOVUPS(acc[i][v], ks[v], Mem{Base: c, Disp: 64 * v})
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
	Label("overwrite")
	for i := range acc {
		for v := range acc[i] {
			VMOVUPS(acc[i][v], ks[v], Mem{Base: c, Disp: 64 * v})
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// genKern256 is the AVX2+FMA micro-kernel, mr rows × 16 columns. It always
// writes full 16-column rows; the Go wrapper routes edge columns through a
// scratch tile.
func genKern256(mr int) {
	nrv := nrv256
	nr := 8 * nrv
	TEXT(fmt.Sprintf("sgemmKernAVX2M%d", mr), NOSPLIT,
		"func(kc int, a *float32, lda int, b *float32, c *float32, ldc int, alpha float32, beta float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("sgemmKernAVX2M%d computes the tile C[0:%d, 0:%d] = alpha·A·B + beta·C over kc steps\n"+
		"// (beta ±0: C is only written). Row i of A starts at a + i·lda (elements),\n"+
		"// contiguous in k; B is packed, %d floats per k step. kc ≥ 1.", mr, mr, nr, nr))
	kc := Load(Param("kc"), GP64()).(GPVirtual)
	a := Load(Param("a"), GP64()).(GPVirtual)
	rows := newRowAddr(a, loadBytes("lda"), mr)
	b := Load(Param("b"), GP64()).(GPVirtual)
	acc := make([][]VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]VecVirtual, nrv)
		for v := range acc[i] {
			acc[i][v] = YMM()
			VXORPS(acc[i][v], acc[i][v], acc[i][v])
		}
	}
	bv := make([]VecVirtual, nrv)
	for v := range bv {
		bv[v] = YMM()
	}
	bc := YMM()
	step := func(u int) {
		for v := range bv {
			VMOVUPS(Mem{Base: b, Disp: 4 * (u*nr + 8*v)}, bv[v])
		}
		for i := 0; i < mr; i++ {
			VBROADCASTSS(rows.at(i, 4*u), bc)
			for v := range bv {
				VFMADD231PS(bv[v], bc, acc[i][v])
			}
		}
	}
	const unroll = 4
	n := GP64()
	MOVQ(kc, n)
	SHRQ(U8(2), n)
	JZ(LabelRef("tail"))
	Label("loop4")
	for u := 0; u < unroll; u++ {
		step(u)
	}
	rows.advance(4 * unroll)
	ADDQ(U32(4*nr*unroll), b)
	DECQ(n)
	JNZ(LabelRef("loop4"))
	Label("tail")
	ANDQ(U32(unroll-1), kc)
	JZ(LabelRef("store"))
	Label("loop1")
	step(0)
	rows.advance(4)
	ADDQ(U32(4*nr), b)
	DECQ(kc)
	JNZ(LabelRef("loop1"))

	Label("store")
	c := Load(Param("c"), GP64()).(GPVirtual)
	ldc := loadBytes("ldc")
	alpha := YMM()
	VBROADCASTSS(loadF32("alpha"), alpha)
	for i := range acc {
		for v := range acc[i] {
			VMULPS(alpha, acc[i][v], acc[i][v])
		}
	}
	betaIsZero("overwrite")
	beta := YMM()
	VBROADCASTSS(loadF32("beta"), beta)
	for i := range acc {
		for v := range acc[i] {
			VFMADD231PS(Mem{Base: c, Disp: 32 * v}, beta, acc[i][v])
			VMOVUPS(acc[i][v], Mem{Base: c, Disp: 32 * v})
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
	Label("overwrite")
	for i := range acc {
		for v := range acc[i] {
			VMOVUPS(acc[i][v], Mem{Base: c, Disp: 32 * v})
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// loadRow16 loads 16 elements of B at m as float32 into z, converting from
// bf16 (zero-extend, shift into the high half) or f16.
func loadRow16(src bSrc, m Mem, z VecVirtual) {
	switch src {
	case srcF32:
		VMOVUPS(m, z)
	case srcBF16:
		VPMOVZXWD(m, z)
		VPSLLD(U8(16), z, z)
	case srcF16:
		VCVTPH2PS(m, z)
	}
}

// loadRow16Masked is loadRow16 for the lanes set in k, zeroing the others;
// masked-off lanes are not read.
func loadRow16Masked(src bSrc, m Mem, k OpmaskVirtual, z VecVirtual) {
	switch src {
	case srcF32:
		VMOVUPS_Z(m, k, z)
	case srcBF16:
		VPMOVZXWD_Z(m, k, z)
		VPSLLD(U8(16), z, z)
	case srcF16:
		VCVTPH2PS_Z(m, k, z)
	}
}

func (s bSrc) size() int {
	if s == srcF32 {
		return 4
	}
	return 2
}

// genTranspose16 writes the packing transpose for op(B) = Bᵀ: it reads
// nblk blocks of 16 rows × 16 columns of B (row stride lds elements) and
// writes each column as 16 consecutive floats, column p at dst + p·ldd:
//
//	for blk, p, j: dst[(blk*16+p)*ldd + j] = src[j*lds + blk*16 + p]
//
// Rows are read as f32, bf16 or f16 (src suffix); the 16×16 transpose is
// the usual four shuffle stages.
func genTranspose16() {
	for _, src := range []bSrc{srcF32, srcBF16, srcF16} {
		ty := "float32"
		if src != srcF32 {
			ty = "uint16"
		}
		TEXT("transpose16AVX512"+src.suffix(), NOSPLIT,
			fmt.Sprintf("func(dst *float32, ldd int, src *%s, lds int, nblk int)", ty))
		Pragma("noescape")
		Doc("transpose16AVX512" + src.suffix() + " packs nblk 16×16 blocks of B transposed (see genTranspose16). nblk ≥ 1.")
		dst := Load(Param("dst"), GP64()).(GPVirtual)
		ldd := loadBytes("ldd")
		s := Load(Param("src"), GP64()).(GPVirtual)
		lds := GP64()
		Load(Param("lds"), lds)
		if src == srcF32 {
			SHLQ(U8(2), lds)
		} else {
			SHLQ(U8(1), lds)
		}
		n := Load(Param("nblk"), GP64()).(GPVirtual)
		Label("loop")
		r := GP64()
		MOVQ(s, r)
		z := make([]VecVirtual, 16)
		for i := range z {
			z[i] = ZMM()
			loadRow16(src, Mem{Base: r}, z[i])
			if i < 15 {
				ADDQ(lds, r)
			}
		}
		out := transpose16x16(z)
		w := GP64()
		MOVQ(dst, w)
		for p := range out {
			VMOVUPS(out[p], Mem{Base: w})
			ADDQ(ldd, w)
		}
		MOVQ(w, dst)
		ADDQ(U32(16*src.size()), s)
		DECQ(n)
		JNZ(LabelRef("loop"))
		VZEROUPPER()
		RET()
	}
}

// transpose16x16 returns the columns of the 16×16 matrix whose rows are z.
func transpose16x16(z []VecVirtual) []VecVirtual {
	newv := func() VecVirtual { return ZMM() }
	t := make([]VecVirtual, 16)
	for g := 0; g < 8; g++ {
		t[2*g], t[2*g+1] = newv(), newv()
		VUNPCKLPS(z[2*g+1], z[2*g], t[2*g])
		VUNPCKHPS(z[2*g+1], z[2*g], t[2*g+1])
	}
	// u[4g+c]: 128-bit lane L holds rows 4g..4g+3 of column 4L+c.
	u := make([]VecVirtual, 16)
	for g := 0; g < 4; g++ {
		for c := 0; c < 4; c++ {
			u[4*g+c] = newv()
		}
		VUNPCKLPD(t[4*g+2], t[4*g], u[4*g+0])
		VUNPCKHPD(t[4*g+2], t[4*g], u[4*g+1])
		VUNPCKLPD(t[4*g+3], t[4*g+1], u[4*g+2])
		VUNPCKHPD(t[4*g+3], t[4*g+1], u[4*g+3])
	}
	v := make([]VecVirtual, 16)
	for c := 0; c < 4; c++ {
		for _, h := range []int{0, 8} {
			v[h+c], v[h+4+c] = newv(), newv()
			VSHUFF32X4(U8(0x88), u[h+4+c], u[h+c], v[h+c])
			VSHUFF32X4(U8(0xdd), u[h+4+c], u[h+c], v[h+4+c])
		}
	}
	out := make([]VecVirtual, 16)
	for c := 0; c < 4; c++ {
		for _, q := range []int{0, 4} {
			out[q+c], out[q+8+c] = newv(), newv()
			VSHUFF32X4(U8(0x88), v[8+q+c], v[q+c], out[q+c])
			VSHUFF32X4(U8(0xdd), v[8+q+c], v[q+c], out[q+8+c])
		}
	}
	return out
}

// genTranspose8 is the AVX2 packing transpose on 8×8 blocks:
//
//	for blk, p, j: dst[(blk*8+p)*ldd + j] = src[j*lds + blk*8 + p]
func genTranspose8() {
	TEXT("transpose8AVX2", NOSPLIT, "func(dst *float32, ldd int, src *float32, lds int, nblk int)")
	Pragma("noescape")
	Doc("transpose8AVX2 packs nblk 8×8 blocks of B transposed (see genTranspose8). nblk ≥ 1.")
	dst := Load(Param("dst"), GP64()).(GPVirtual)
	ldd := loadBytes("ldd")
	s := Load(Param("src"), GP64()).(GPVirtual)
	lds := loadBytes("lds")
	n := Load(Param("nblk"), GP64()).(GPVirtual)
	Label("loop")
	r := GP64()
	MOVQ(s, r)
	z := make([]VecVirtual, 8)
	for i := range z {
		z[i] = YMM()
		VMOVUPS(Mem{Base: r}, z[i])
		if i < 7 {
			ADDQ(lds, r)
		}
	}
	t := make([]VecVirtual, 8)
	for g := 0; g < 4; g++ {
		t[2*g], t[2*g+1] = YMM(), YMM()
		VUNPCKLPS(z[2*g+1], z[2*g], t[2*g])
		VUNPCKHPS(z[2*g+1], z[2*g], t[2*g+1])
	}
	u := make([]VecVirtual, 8)
	for g := 0; g < 2; g++ {
		for c := 0; c < 4; c++ {
			u[4*g+c] = YMM()
		}
		VUNPCKLPD(t[4*g+2], t[4*g], u[4*g+0])
		VUNPCKHPD(t[4*g+2], t[4*g], u[4*g+1])
		VUNPCKLPD(t[4*g+3], t[4*g+1], u[4*g+2])
		VUNPCKHPD(t[4*g+3], t[4*g+1], u[4*g+3])
	}
	out := make([]VecVirtual, 8)
	for c := 0; c < 4; c++ {
		out[c], out[4+c] = YMM(), YMM()
		VPERM2F128(U8(0x20), u[4+c], u[c], out[c])
		VPERM2F128(U8(0x31), u[4+c], u[c], out[4+c])
	}
	w := GP64()
	MOVQ(dst, w)
	for p := range out {
		VMOVUPS(out[p], Mem{Base: w})
		ADDQ(ldd, w)
	}
	MOVQ(w, dst)
	ADDQ(U32(32), s)
	DECQ(n)
	JNZ(LabelRef("loop"))
	VZEROUPPER()
	RET()
}

// genCvt16x16 converts n 16-bit floats to float32 (n a multiple of 16):
//
//	for i := 0; i < n; i++ { dst[i] = float32(src[i]) }
func genCvt16x16(src bSrc) {
	name := "cvt" + src.suffix() + "AVX512"
	TEXT(name, NOSPLIT, "func(dst *float32, src *uint16, n int)")
	Pragma("noescape")
	Doc(name + " widens n " + src.suffix() + " values to float32; n is a positive multiple of 16.")
	dst := Load(Param("dst"), GP64()).(GPVirtual)
	s := Load(Param("src"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	SHRQ(U8(4), n)
	Label("loop")
	z := ZMM()
	loadRow16(src, Mem{Base: s}, z)
	VMOVUPS(z, Mem{Base: dst})
	ADDQ(U32(32), s)
	ADDQ(U32(64), dst)
	DECQ(n)
	JNZ(LabelRef("loop"))
	VZEROUPPER()
	RET()
}

// genDotNT512 writes the small-M kernel for C = alpha·A·Bᵀ + beta·C with B
// stored row-major [n, k] (a Linear weight): every C element is a dot
// product of a row of A with a row of B, so nothing is packed and each row
// of B is streamed once for all mr rows of A. It walks nb rows of B in
// groups of nbg (nb a multiple of nbg); each group keeps mr×nbg ZMM partial
// sums over k (the k%16 tail through a zeroing mask), then reduces them
// across lanes and merges them into C.
//
//	for j := 0; j < nb; j++ {
//		for i := 0; i < mr; i++ {
//			s := Σ_p a[i*lda+p] * float32(b[j*ldb+p])
//			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]   // beta ±0: alpha*s
//		}
//	}
func genDotNT512(mr, nbg int, src bSrc) {
	ty := "float32"
	if src != srcF32 {
		ty = "uint16"
	}
	name := fmt.Sprintf("dotNTAVX512%sM%dN%d", src.suffix(), mr, nbg)
	TEXT(name, NOSPLIT, fmt.Sprintf("func(k int, a *float32, lda int, b *%s, ldb int, nb int, c *float32, ldc int, alpha float32, beta float32)", ty))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s: C[0:%d, 0:nb] = alpha·A·Bᵀ + beta·C, B rows read as %s, %d at a time (see genDotNT512). k ≥ 1, nb ≥ %d.", name, mr, ty, nbg, nbg))
	k := Load(Param("k"), GP64()).(GPVirtual)
	// Tail mask for the last k%16 elements, in K1-class register km.
	MOVQ(k, RCX)
	ANDQ(U32(15), RCX)
	tm := GP32()
	MOVL(U32(1), tm)
	SHLL(CL, tm)
	DECL(tm)
	km := K()
	KMOVW(tm, km)
	_ = k

	aBase := Load(Param("a"), GP64()).(GPVirtual)
	lda := loadBytes("lda")
	bBase := Load(Param("b"), GP64()).(GPVirtual)
	ldb := GP64()
	Load(Param("ldb"), ldb)
	if src == srcF32 {
		SHLQ(U8(2), ldb)
	} else {
		SHLQ(U8(1), ldb)
	}
	nb := Load(Param("nb"), GP64()).(GPVirtual)
	c := Load(Param("c"), GP64()).(GPVirtual)
	ldc := loadBytes("ldc")
	alpha, beta := loadF32("alpha"), loadF32("beta")
	if nbg == 4 {
		VBROADCASTSS(alpha, alpha)
		VBROADCASTSS(beta, beta)
	}
	var lda3, ldb3 GPVirtual
	if mr > 3 {
		lda3 = GP64()
		LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
	}
	if nbg > 3 {
		ldb3 = GP64()
		LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
	}
	addr := func(base, ld, ld3 GPVirtual, i int) Mem {
		m := Mem{Base: base}
		switch i {
		case 1:
			m.Index, m.Scale = ld, 1
		case 2:
			m.Index, m.Scale = ld, 2
		case 3:
			m.Index, m.Scale = ld3, 1
		}
		return m
	}

	Label("group")
	acc := make([][]VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]VecVirtual, nbg)
		for j := range acc[i] {
			acc[i][j] = ZMM()
			VXORPS(acc[i][j], acc[i][j], acc[i][j])
		}
	}
	ap, bp := GP64(), GP64()
	MOVQ(aBase, ap)
	MOVQ(bBase, bp)
	av := make([]VecVirtual, mr)
	for i := range av {
		av[i] = ZMM()
	}
	bv := make([]VecVirtual, nbg)
	for j := range bv {
		bv[j] = ZMM()
	}
	n := GP64()
	Load(Param("k"), n)
	SHRQ(U8(4), n)
	JZ(LabelRef("ktail"))
	Label("kloop")
	for i := range av {
		VMOVUPS(addr(ap, lda, lda3, i), av[i])
	}
	for j := range bv {
		loadRow16(src, addr(bp, ldb, ldb3, j), bv[j])
		if src != srcF32 {
			// The rows of B stream from memory: fetch ahead in each.
			m := addr(bp, ldb, ldb3, j)
			m.Disp += dotPrefetch16
			PREFETCHT0(m)
		}
		for i := range av {
			VFMADD231PS(av[i], bv[j], acc[i][j])
		}
	}
	ADDQ(U32(64), ap)
	ADDQ(U32(16*src.size()), bp)
	DECQ(n)
	JNZ(LabelRef("kloop"))
	Label("ktail")
	KORTESTW(km, km)
	JZ(LabelRef("reduce"))
	for i := range av {
		VMOVUPS_Z(addr(ap, lda, lda3, i), km, av[i])
	}
	for j := range bv {
		loadRow16Masked(src, addr(bp, ldb, ldb3, j), km, bv[j])
		for i := range av {
			VFMADD231PS(av[i], bv[j], acc[i][j])
		}
	}
	Label("reduce")
	cp := GP64()
	MOVQ(c, cp)
	for i := 0; i < mr; i++ {
		r := XMM()
		if nbg == 4 {
			reduce4(acc[i], r)
			VMULPS(alpha, r, r)
			betaIsZero(fmt.Sprintf("st%d", i))
			ct := XMM()
			VMOVUPS(Mem{Base: cp}, ct)
			VFMADD231PS(beta, ct, r)
			Label(fmt.Sprintf("st%d", i))
			VMOVUPS(r, Mem{Base: cp})
		} else {
			reduce1(acc[i][0], r)
			VMULSS(alpha, r, r)
			betaIsZero(fmt.Sprintf("st%d", i))
			ct := XMM()
			VMOVSS(Mem{Base: cp}, ct)
			VFMADD231SS(beta, ct, r)
			Label(fmt.Sprintf("st%d", i))
			VMOVSS(r, Mem{Base: cp})
		}
		if i < mr-1 {
			ADDQ(ldc, cp)
		}
	}
	// Next group of B rows and C columns.
	if nbg == 4 {
		LEAQ(Mem{Base: bBase, Index: ldb, Scale: 4}, bBase)
	} else {
		ADDQ(ldb, bBase)
	}
	ADDQ(U32(4*nbg), c)
	SUBQ(U32(nbg), nb)
	JNZ(LabelRef("group"))
	VZEROUPPER()
	RET()
}

// reduce4 sets the four lanes of r to the horizontal sums of z[0..3].
func reduce4(z []VecVirtual, r VecVirtual) {
	lo01, hi01, lo23, hi23 := ZMM(), ZMM(), ZMM(), ZMM()
	// Per 128-bit lane: [z0 z1 z0 z1] partial pairs.
	VUNPCKLPS(z[1], z[0], lo01)
	VUNPCKHPS(z[1], z[0], hi01)
	VADDPS(hi01, lo01, lo01)
	VUNPCKLPS(z[3], z[2], lo23)
	VUNPCKHPS(z[3], z[2], hi23)
	VADDPS(hi23, lo23, lo23)
	// Per lane: [z0 z1 z2 z3].
	s := ZMM()
	VUNPCKLPD(lo23, lo01, s)
	VUNPCKHPD(lo23, lo01, lo01)
	VADDPS(lo01, s, s)
	y := YMM()
	VEXTRACTF64X4(U8(1), s, y)
	VADDPS(y, s.AsY(), y)
	x := XMM()
	VEXTRACTF32X4(U8(1), y, x)
	VADDPS(x, y.AsX(), r)
}

// reduce1 sets lane 0 of r to the horizontal sum of z.
func reduce1(z VecVirtual, r VecVirtual) {
	y := YMM()
	VEXTRACTF64X4(U8(1), z, y)
	VADDPS(y, z.AsY(), y)
	x := XMM()
	VEXTRACTF32X4(U8(1), y, x)
	VADDPS(x, y.AsX(), x)
	t := XMM()
	VPERMILPS(U8(0x4e), x, t)
	VADDPS(t, x, x)
	VPERMILPS(U8(0xb1), x, t)
	VADDPS(t, x, r)
}

// genDotNT256 is the AVX2 counterpart of genDotNT512 (float32 B only): YMM
// partial sums over k&^7, then the k%8 tail in scalar registers after the
// reduction (no masked loads, which qemu-x86_64 turns into full-width reads
// past the end of the slice).
func genDotNT256(mr, nbg int) {
	name := fmt.Sprintf("dotNTAVX2M%dN%d", mr, nbg)
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b *float32, ldb int, nb int, c *float32, ldc int, alpha float32, beta float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s: C[0:%d, 0:nb] = alpha·A·Bᵀ + beta·C, %d rows of B at a time (see genDotNT512). k ≥ 1, nb ≥ %d.", name, mr, nbg, nbg))
	k := Load(Param("k"), GP64()).(GPVirtual)
	ktail := GP64()
	MOVQ(k, ktail)
	ANDQ(U32(7), ktail)
	kmain := GP64()
	MOVQ(k, kmain)
	SHRQ(U8(3), kmain)
	aBase := Load(Param("a"), GP64()).(GPVirtual)
	lda := loadBytes("lda")
	bBase := Load(Param("b"), GP64()).(GPVirtual)
	ldb := loadBytes("ldb")
	nb := Load(Param("nb"), GP64()).(GPVirtual)
	c := Load(Param("c"), GP64()).(GPVirtual)
	ldc := loadBytes("ldc")
	var ldb3 GPVirtual
	if nbg > 3 {
		ldb3 = GP64()
		LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
	}
	addr := func(base, ld, ld3 GPVirtual, i int) Mem {
		m := Mem{Base: base}
		switch i {
		case 1:
			m.Index, m.Scale = ld, 1
		case 2:
			m.Index, m.Scale = ld, 2
		case 3:
			m.Index, m.Scale = ld3, 1
		}
		return m
	}

	Label("group")
	acc := make([][]VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]VecVirtual, nbg)
		for j := range acc[i] {
			acc[i][j] = YMM()
			VXORPS(acc[i][j], acc[i][j], acc[i][j])
		}
	}
	ap, bp := GP64(), GP64()
	MOVQ(aBase, ap)
	MOVQ(bBase, bp)
	n := GP64()
	MOVQ(kmain, n)
	TESTQ(n, n)
	JZ(LabelRef("reduce"))
	Label("kloop")
	// mr A vectors in registers, B through memory operands: ≤ 12+3 YMM.
	av := make([]VecVirtual, mr)
	for i := range av {
		av[i] = YMM()
		VMOVUPS(addr(ap, lda, GP64Zero, i), av[i])
	}
	for j := 0; j < nbg; j++ {
		for i := range av {
			VFMADD231PS(addr(bp, ldb, ldb3, j), av[i], acc[i][j])
		}
	}
	ADDQ(U32(32), ap)
	ADDQ(U32(32), bp)
	DECQ(n)
	JNZ(LabelRef("kloop"))
	Label("reduce")
	r := make([]VecVirtual, mr)
	for i := range r {
		r[i] = XMM()
		if nbg == 4 {
			reduce4AVX2(acc[i], r[i])
		} else {
			reduce1AVX2(acc[i][0], r[i])
		}
	}
	// k%8 tail, scalar loads into registers.
	t := GP64()
	MOVQ(ktail, t)
	TESTQ(t, t)
	JZ(LabelRef("merge"))
	Label("tloop")
	if nbg == 4 {
		bt := XMM()
		x := XMM()
		VMOVSS(Mem{Base: bp}, bt)
		for j := 1; j < 4; j++ {
			VMOVSS(addr(bp, ldb, ldb3, j), x)
			VINSERTPS(U8(uint8(j<<4)), x, bt, bt)
		}
		for i := range r {
			VMOVSS(addr(ap, lda, GP64Zero, i), x)
			VBROADCASTSS(x, x)
			VFMADD231PS(bt, x, r[i])
		}
	} else {
		bt := XMM()
		x := XMM()
		VMOVSS(Mem{Base: bp}, bt)
		for i := range r {
			VMOVSS(addr(ap, lda, GP64Zero, i), x)
			VFMADD231SS(bt, x, r[i])
		}
	}
	ADDQ(U32(4), ap)
	ADDQ(U32(4), bp)
	DECQ(t)
	JNZ(LabelRef("tloop"))

	Label("merge")
	alpha := loadF32("alpha")
	if nbg == 4 {
		VBROADCASTSS(alpha, alpha)
	}
	cp := GP64()
	MOVQ(c, cp)
	betaIsZero("overwrite")
	beta := loadF32("beta")
	if nbg == 4 {
		VBROADCASTSS(beta, beta)
	}
	for i := range r {
		ct := XMM()
		if nbg == 4 {
			VMULPS(alpha, r[i], r[i])
			VMOVUPS(Mem{Base: cp}, ct)
			VFMADD231PS(beta, ct, r[i])
			VMOVUPS(r[i], Mem{Base: cp})
		} else {
			VMULSS(alpha, r[i], r[i])
			VMOVSS(Mem{Base: cp}, ct)
			VFMADD231SS(beta, ct, r[i])
			VMOVSS(r[i], Mem{Base: cp})
		}
		if i < mr-1 {
			ADDQ(ldc, cp)
		}
	}
	JMP(LabelRef("next"))
	Label("overwrite")
	for i := range r {
		if nbg == 4 {
			VMULPS(alpha, r[i], r[i])
			VMOVUPS(r[i], Mem{Base: cp})
		} else {
			VMULSS(alpha, r[i], r[i])
			VMOVSS(r[i], Mem{Base: cp})
		}
		if i < mr-1 {
			ADDQ(ldc, cp)
		}
	}
	Label("next")
	if nbg == 4 {
		LEAQ(Mem{Base: bBase, Index: ldb, Scale: 4}, bBase)
	} else {
		ADDQ(ldb, bBase)
	}
	ADDQ(U32(4*nbg), c)
	SUBQ(U32(nbg), nb)
	JNZ(LabelRef("group"))
	VZEROUPPER()
	RET()
}

// GP64Zero marks "no 3-stride register" for addr with at most 3 rows.
var GP64Zero GPVirtual

// reduce4AVX2 sets the four lanes of r to the horizontal sums of z[0..3].
func reduce4AVX2(z []VecVirtual, r VecVirtual) {
	h01, h23 := YMM(), YMM()
	VHADDPS(z[1], z[0], h01) // per 128 lane: [z0a z0b z1a z1b]
	VHADDPS(z[3], z[2], h23)
	h := YMM()
	VHADDPS(h23, h01, h) // per lane: [z0 z1 z2 z3]
	x := XMM()
	VEXTRACTF128(U8(1), h, x)
	VADDPS(x, h.AsX(), r)
}

// reduce1AVX2 sets lane 0 of r to the horizontal sum of z.
func reduce1AVX2(z VecVirtual, r VecVirtual) {
	x := XMM()
	VEXTRACTF128(U8(1), z, x)
	VADDPS(x, z.AsX(), x)
	VHADDPS(x, x, x)
	VHADDPS(x, x, r)
}
