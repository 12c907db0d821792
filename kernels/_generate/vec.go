package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Vector kernels (dot, axpy, softmax pieces, GELU, QuickGELU, LayerNorm
// pieces) for both widths. The AVX-512 versions handle any n ≥ 1 with a
// zeroing/merging mask on the last partial vector; the AVX2 versions take
// n a positive multiple of 8 and leave the tail to their Go wrapper (masked
// VEX loads read past the slice under qemu-x86_64).

type vecGen struct {
	w512   bool
	lanes  int    // float32 lanes per vector
	suffix string // AVX512 or AVX2
	consts []uint32
	index  map[uint32]int
}

func newVecGen(w512 bool) *vecGen {
	g := &vecGen{w512: w512, lanes: 8, suffix: "AVX2", index: map[uint32]int{}}
	if w512 {
		g.lanes, g.suffix = 16, "AVX512"
	}
	return g
}

func (g *vecGen) vec() VecVirtual {
	if g.w512 {
		return ZMM()
	}
	return YMM()
}

// half is a vector of lanes/2 float32s (the f64 kernels convert from it).
func (g *vecGen) half() VecVirtual {
	if g.w512 {
		return YMM()
	}
	return XMM()
}

// c is a full-width memory operand holding v in every lane (a 64-byte row
// of the file's constant table).
func (g *vecGen) c(v float32) Mem { return g.cbits(math.Float32bits(v)) }

func (g *vecGen) cbits(b uint32) Mem {
	i, ok := g.index[b]
	if !ok {
		i = len(g.consts)
		g.consts = append(g.consts, b)
		g.index[b] = i
	}
	return Mem{Symbol: Symbol{Name: "vconst" + g.suffix, Static: true}, Base: StaticBase, Disp: 64 * i}
}

// emitConsts writes the constant table; call after every function.
func (g *vecGen) emitConsts() {
	if len(g.consts) == 0 {
		return
	}
	GLOBL("vconst"+g.suffix, RODATA|NOPTR)
	for i, b := range g.consts {
		for l := 0; l < 16; l++ {
			DATA(64*i+4*l, U32(b))
		}
	}
}

// loadConst copies a constant into a register.
func (g *vecGen) loadConst(v float32) VecVirtual {
	r := g.vec()
	VMOVUPS(g.c(v), r)
	return r
}

// tailMask sets k to the low n%lanes bits (n in a GP register).
func tailMask(n GPVirtual, lanes int) OpmaskVirtual {
	MOVQ(n, RCX)
	ANDQ(U32(lanes-1), RCX)
	t := GP32()
	MOVL(U32(1), t)
	SHLL(CL, t)
	DECL(t)
	k := K()
	KMOVW(t, k)
	return k
}

const (
	expLo   = -87.33654 // below: exp underflows (result 0)
	log2e   = 1.44269504088896341
	ln2Hi   = 0.693359375
	ln2Lo   = -2.12194440e-4
	expHi2  = 88.0 // AVX2: keeps 2^n a normal float32
	expHi16 = 88.72283
)

var expPoly = []float32{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1}

// exp returns e^x per lane (Cephes expf: n = round(x·log2e), a degree-5
// polynomial on the reduced argument, scaled by 2^n), 0 for x < -87.34
// (so -Inf gives 0) and NaN for NaN. Relative error about 2 ulp.
func (g *vecGen) exp(x VecVirtual) VecVirtual {
	xc, t := g.vec(), g.vec()
	VMOVUPS(g.c(expLo), t)
	VMAXPS(x, t, xc) // max(lo, x); a NaN x is kept
	hi := float32(expHi2)
	if g.w512 {
		hi = expHi16
	}
	VMOVUPS(g.c(hi), t)
	VMINPS(xc, t, xc)
	n := g.vec()
	VMULPS(g.c(log2e), xc, n)
	if g.w512 {
		VRNDSCALEPS(U8(0), n, n)
	} else {
		VROUNDPS(U8(0), n, n)
	}
	r := xc
	VFNMADD231PS(g.c(ln2Hi), n, r)
	VFNMADD231PS(g.c(ln2Lo), n, r)
	p := g.loadConst(expPoly[0])
	for _, cf := range expPoly[1:] {
		VFMADD213PS(g.c(cf), r, p)
	}
	VMULPS(r, r, t)
	VFMADD213PS(r, t, p) // p·r² + r
	VADDPS(g.c(1), p, p)
	if g.w512 {
		VSCALEFPS(n, p, p)
		k := K()
		VCMPPS(U8(1), g.c(expLo), x, k) // x < lo (false for NaN)
		VXORPS(p, p, k, p)
	} else {
		VCVTPS2DQ(n, n)
		VPADDD(g.cbits(127), n, n)
		VPSLLD(U8(23), n, n)
		VMULPS(n, p, p)
		VCMPPS(U8(1), g.c(expLo), x, t)
		VANDNPS(p, t, p)
	}
	return p
}

// elementwise writes a loop over n elements of x (and out): body maps the
// loaded vector to the stored one. AVX-512: masked last vector; AVX2: n a
// multiple of 8.
func (g *vecGen) elementwise(name, doc string, body func(x VecVirtual) VecVirtual) {
	TEXT(name+g.suffix, NOSPLIT, "func(out *float32, x *float32, n int)")
	Pragma("noescape")
	Doc(name + g.suffix + " " + doc)
	out := Load(Param("out"), GP64()).(GPVirtual)
	x := Load(Param("x"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	var k OpmaskVirtual
	if g.w512 {
		k = tailMask(n, g.lanes)
	}
	cnt := GP64()
	MOVQ(n, cnt)
	SHRQ(U8(map[bool]uint8{true: 4, false: 3}[g.w512]), cnt)
	JZ(LabelRef("tail"))
	Label("loop")
	v := g.vec()
	VMOVUPS(Mem{Base: x}, v)
	VMOVUPS(body(v), Mem{Base: out})
	ADDQ(U32(4*g.lanes), x)
	ADDQ(U32(4*g.lanes), out)
	DECQ(cnt)
	JNZ(LabelRef("loop"))
	Label("tail")
	if g.w512 {
		KORTESTW(k, k)
		JZ(LabelRef("done"))
		v := g.vec()
		VMOVUPS_Z(Mem{Base: x}, k, v)
		VMOVUPS(body(v), k, Mem{Base: out})
	}
	Label("done")
	VZEROUPPER()
	RET()
}

func (g *vecGen) genDot() {
	name := "dot" + g.suffix
	TEXT(name, NOSPLIT, "func(x *float32, y *float32, n int) float32")
	Pragma("noescape")
	Doc(name + " returns Σ x[i]·y[i] over n elements" + g.nDoc())
	x := Load(Param("x"), GP64()).(GPVirtual)
	y := Load(Param("y"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	acc := make([]VecVirtual, 4)
	for i := range acc {
		acc[i] = g.vec()
		VXORPS(acc[i], acc[i], acc[i])
	}
	cnt := GP64()
	MOVQ(n, cnt)
	SHRQ(U8(map[bool]uint8{true: 6, false: 5}[g.w512]), cnt) // 4 vectors per iteration
	JZ(LabelRef("single"))
	Label("loop4")
	for i := range acc {
		v := g.vec()
		VMOVUPS(Mem{Base: x, Disp: 4 * g.lanes * i}, v)
		VFMADD231PS(Mem{Base: y, Disp: 4 * g.lanes * i}, v, acc[i])
	}
	ADDQ(U32(16*g.lanes), x)
	ADDQ(U32(16*g.lanes), y)
	DECQ(cnt)
	JNZ(LabelRef("loop4"))
	Label("single")
	MOVQ(n, cnt)
	SHRQ(U8(map[bool]uint8{true: 4, false: 3}[g.w512]), cnt)
	ANDQ(U32(3), cnt)
	JZ(LabelRef("tail"))
	Label("loop1")
	v := g.vec()
	VMOVUPS(Mem{Base: x}, v)
	VFMADD231PS(Mem{Base: y}, v, acc[0])
	ADDQ(U32(4*g.lanes), x)
	ADDQ(U32(4*g.lanes), y)
	DECQ(cnt)
	JNZ(LabelRef("loop1"))
	Label("tail")
	if g.w512 {
		k := tailMask(n, 16)
		KORTESTW(k, k)
		JZ(LabelRef("reduce"))
		a, b := ZMM(), ZMM()
		VMOVUPS_Z(Mem{Base: x}, k, a)
		VMOVUPS_Z(Mem{Base: y}, k, b)
		VFMADD231PS(a, b, acc[1])
	}
	Label("reduce")
	VADDPS(acc[1], acc[0], acc[0])
	VADDPS(acc[3], acc[2], acc[2])
	VADDPS(acc[2], acc[0], acc[0])
	r := XMM()
	if g.w512 {
		reduce1(acc[0], r)
	} else {
		reduce1AVX2(acc[0], r)
	}
	storeRet(r, false)
	VZEROUPPER()
	RET()
}

func (g *vecGen) nDoc() string {
	if g.w512 {
		return "; n ≥ 0."
	}
	return "; n a multiple of 8."
}

func (g *vecGen) genAxpy() {
	name := "axpy" + g.suffix
	TEXT(name, NOSPLIT, "func(alpha float32, x *float32, y *float32, n int)")
	Pragma("noescape")
	Doc(name + " adds alpha·x[i] to y[i] for n elements" + g.nDoc())
	al := g.vec()
	VBROADCASTSS(loadF32("alpha"), al)
	x := Load(Param("x"), GP64()).(GPVirtual)
	y := Load(Param("y"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	cnt := GP64()
	MOVQ(n, cnt)
	SHRQ(U8(map[bool]uint8{true: 6, false: 5}[g.w512]), cnt)
	JZ(LabelRef("single"))
	Label("loop4")
	for i := 0; i < 4; i++ {
		v := g.vec()
		VMOVUPS(Mem{Base: y, Disp: 4 * g.lanes * i}, v)
		VFMADD231PS(Mem{Base: x, Disp: 4 * g.lanes * i}, al, v)
		VMOVUPS(v, Mem{Base: y, Disp: 4 * g.lanes * i})
	}
	ADDQ(U32(16*g.lanes), x)
	ADDQ(U32(16*g.lanes), y)
	DECQ(cnt)
	JNZ(LabelRef("loop4"))
	Label("single")
	MOVQ(n, cnt)
	SHRQ(U8(map[bool]uint8{true: 4, false: 3}[g.w512]), cnt)
	ANDQ(U32(3), cnt)
	JZ(LabelRef("tail"))
	Label("loop1")
	v := g.vec()
	VMOVUPS(Mem{Base: y}, v)
	VFMADD231PS(Mem{Base: x}, al, v)
	VMOVUPS(v, Mem{Base: y})
	ADDQ(U32(4*g.lanes), x)
	ADDQ(U32(4*g.lanes), y)
	DECQ(cnt)
	JNZ(LabelRef("loop1"))
	Label("tail")
	if g.w512 {
		k := tailMask(n, 16)
		KORTESTW(k, k)
		JZ(LabelRef("done"))
		a, b := ZMM(), ZMM()
		VMOVUPS_Z(Mem{Base: x}, k, a)
		VMOVUPS_Z(Mem{Base: y}, k, b)
		VFMADD231PS(a, al, b)
		VMOVUPS(b, k, Mem{Base: y})
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// genMax: the largest element (NaN if any lane saw a NaN first; callers
// only rely on NaN propagating through the softmax).
func (g *vecGen) genMax() {
	name := "max" + g.suffix
	TEXT(name, NOSPLIT, "func(x *float32, n int) float32")
	Pragma("noescape")
	Doc(name + " returns the largest of n ≥ 1 elements" + g.nDoc())
	x := Load(Param("x"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	m := g.loadConst(float32(math.Inf(-1)))
	cnt := GP64()
	MOVQ(n, cnt)
	SHRQ(U8(map[bool]uint8{true: 4, false: 3}[g.w512]), cnt)
	JZ(LabelRef("tail"))
	Label("loop")
	v := g.vec()
	VMOVUPS(Mem{Base: x}, v)
	VMAXPS(v, m, m) // a NaN in v is kept
	ADDQ(U32(4*g.lanes), x)
	DECQ(cnt)
	JNZ(LabelRef("loop"))
	Label("tail")
	if g.w512 {
		k := tailMask(n, 16)
		KORTESTW(k, k)
		JZ(LabelRef("reduce"))
		v := g.loadConst(float32(math.Inf(-1)))
		VMOVUPS(Mem{Base: x}, k, v) // merge: masked-off lanes stay -Inf
		VMAXPS(v, m, m)
	}
	Label("reduce")
	r := XMM()
	if g.w512 {
		y := YMM()
		VEXTRACTF64X4(U8(1), m, y)
		VMAXPS(y, m.AsY(), y)
		VEXTRACTF32X4(U8(1), y, r)
		VMAXPS(r, y.AsX(), r)
	} else {
		VEXTRACTF128(U8(1), m, r)
		VMAXPS(r, m.AsX(), r)
	}
	t := XMM()
	VPERMILPS(U8(0x4e), r, t)
	VMAXPS(t, r, r)
	VPERMILPS(U8(0xb1), r, t)
	VMAXPS(t, r, r)
	storeRet(r, false)
	VZEROUPPER()
	RET()
}

// genExpSub: out[i] = exp(x[i] - m), returning Σ out[i] (float32 lanes).
func (g *vecGen) genExpSub() {
	name := "expSub" + g.suffix
	TEXT(name, NOSPLIT, "func(out *float32, x *float32, n int, m float32) float32")
	Pragma("noescape")
	Doc(name + " sets out[i] = exp(x[i]-m) for n elements and returns their sum" + g.nDoc())
	out := Load(Param("out"), GP64()).(GPVirtual)
	x := Load(Param("x"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	mv := g.vec()
	VBROADCASTSS(loadF32("m"), mv)
	sum := g.vec()
	VXORPS(sum, sum, sum)
	var k OpmaskVirtual
	if g.w512 {
		k = tailMask(n, 16)
	}
	cnt := GP64()
	MOVQ(n, cnt)
	SHRQ(U8(map[bool]uint8{true: 4, false: 3}[g.w512]), cnt)
	JZ(LabelRef("tail"))
	Label("loop")
	v := g.vec()
	VMOVUPS(Mem{Base: x}, v)
	VSUBPS(mv, v, v)
	e := g.exp(v)
	VMOVUPS(e, Mem{Base: out})
	VADDPS(e, sum, sum)
	ADDQ(U32(4*g.lanes), x)
	ADDQ(U32(4*g.lanes), out)
	DECQ(cnt)
	JNZ(LabelRef("loop"))
	Label("tail")
	if g.w512 {
		KORTESTW(k, k)
		JZ(LabelRef("reduce"))
		v := g.vec()
		VMOVUPS_Z(Mem{Base: x}, k, v)
		VSUBPS(mv, v, v)
		e := g.exp(v)
		VMOVUPS(e, k, Mem{Base: out})
		VADDPS(e, sum, k, sum)
	}
	Label("reduce")
	r := XMM()
	if g.w512 {
		reduce1(sum, r)
	} else {
		reduce1AVX2(sum, r)
	}
	storeRet(r, false)
	VZEROUPPER()
	RET()
}

func (g *vecGen) genScale() {
	name := "scale" + g.suffix
	TEXT(name, NOSPLIT, "func(x *float32, n int, s float32)")
	Pragma("noescape")
	Doc(name + " multiplies n elements of x by s" + g.nDoc())
	x := Load(Param("x"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	sv := g.vec()
	VBROADCASTSS(loadF32("s"), sv)
	cnt := GP64()
	MOVQ(n, cnt)
	SHRQ(U8(map[bool]uint8{true: 4, false: 3}[g.w512]), cnt)
	JZ(LabelRef("tail"))
	Label("loop")
	v := g.vec()
	VMULPS(Mem{Base: x}, sv, v)
	VMOVUPS(v, Mem{Base: x})
	ADDQ(U32(4*g.lanes), x)
	DECQ(cnt)
	JNZ(LabelRef("loop"))
	Label("tail")
	if g.w512 {
		k := tailMask(n, 16)
		KORTESTW(k, k)
		JZ(LabelRef("done"))
		v := g.vec()
		VMOVUPS_Z(Mem{Base: x}, k, v)
		VMULPS(sv, v, v)
		VMOVUPS(v, k, Mem{Base: x})
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// quickGelu: x·σ(1.702x) = x / (1 + e^(-1.702x)).
func (g *vecGen) genQuickGelu() {
	g.elementwise("quickGelu", "sets out[i] = x[i]/(1+exp(-1.702·x[i])) for n elements"+g.nDoc(), func(x VecVirtual) VecVirtual {
		t := g.vec()
		VMULPS(g.c(-1.702), x, t)
		e := g.exp(t)
		VADDPS(g.c(1), e, e)
		r := g.vec()
		VDIVPS(e, x, r)
		return r
	})
}

// Numerical Recipes erfcc: erfc(z) = t·exp(-z² + P(t)), t = 1/(1+z/2),
// fractional error < 1.2e-7 for z ≥ 0.
var erfcPoly = []float32{0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223}

// gelu: x·Φ(x), Φ(x) = ½·erfc(-x/√2): with z = |x|/√2 and h = ½·erfc(z),
// Φ = h for x < 0 and 1 - h otherwise, so neither tail cancels.
func (g *vecGen) genGelu() {
	g.elementwise("gelu", "sets out[i] = x[i]·Φ(x[i]) (exact GELU through erfc) for n elements"+g.nDoc(), func(x VecVirtual) VecVirtual {
		z := g.vec()
		VANDPS(g.cbits(0x7fffffff), x, z)
		VMULPS(g.c(float32(1/math.Sqrt2)), z, z)
		t := g.vec()
		VMULPS(g.c(0.5), z, t)
		VADDPS(g.c(1), t, t)
		one := g.loadConst(1)
		VDIVPS(t, one, t) // t = 1/(1+z/2)
		p := g.loadConst(erfcPoly[0])
		for _, cf := range erfcPoly[1:] {
			VFMADD213PS(g.c(cf), t, p)
		}
		VFNMADD231PS(z, z, p) // p - z²
		e := g.exp(p)
		VMULPS(t, e, e)
		VMULPS(g.c(0.5), e, e) // h = ½·erfc(z)
		// Φ = 1 - h where x ≥ 0, h where x < 0.
		phi := g.vec()
		VSUBPS(e, one, phi)
		if g.w512 {
			k := K()
			VCMPPS(U8(1), g.c(0), x, k) // x < 0
			VMOVAPS(e, k, phi)
		} else {
			m := g.vec()
			VCMPPS(U8(1), g.c(0), x, m)
			VBLENDVPS(m, e, phi, phi)
		}
		VMULPS(x, phi, phi)
		return phi
	})
}

// f64 pieces of LayerNorm: the row statistics and the per-element map are
// float64, as in the generic twin; each iteration widens lanes/2 floats.

func (g *vecGen) f64() VecVirtual { return g.vec() } // lanes/2 float64 in a full vector

func (g *vecGen) genSumF64() {
	name := "sumF64" + g.suffix
	TEXT(name, NOSPLIT, "func(x *float32, n int) float64")
	Pragma("noescape")
	Doc(name + " returns Σ float64(x[i]) over n elements" + g.nDocHalf())
	x := Load(Param("x"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	h := g.lanes / 2
	acc0, acc1 := g.f64(), g.f64()
	VXORPD(acc0, acc0, acc0)
	VXORPD(acc1, acc1, acc1)
	cnt := GP64()
	MOVQ(n, cnt)
	SHRQ(U8(map[bool]uint8{true: 4, false: 3}[g.w512]), cnt) // 2 half vectors per iteration
	JZ(LabelRef("single"))
	Label("loop")
	a, b := g.f64(), g.f64()
	VCVTPS2PD(Mem{Base: x}, a)
	VCVTPS2PD(Mem{Base: x, Disp: 4 * h}, b)
	VADDPD(a, acc0, acc0)
	VADDPD(b, acc1, acc1)
	ADDQ(U32(8*h), x)
	DECQ(cnt)
	JNZ(LabelRef("loop"))
	Label("single")
	g.halfTail(n, x, func(a VecVirtual, _ OpmaskVirtual) { VADDPD(a, acc0, acc0) })
	VADDPD(acc1, acc0, acc0)
	r := g.reducePD(acc0)
	storeRet(r, true)
	VZEROUPPER()
	RET()
}

func (g *vecGen) nDocHalf() string {
	if g.w512 {
		return "; n ≥ 0."
	}
	return "; n a multiple of 4."
}

// halfTail handles the n%lanes remainder in half vectors: AVX-512 one
// full half vector and a masked one; AVX2 one half vector (n%4 == 0).
func (g *vecGen) halfTail(n, x GPVirtual, f func(a VecVirtual, k OpmaskVirtual)) {
	h := g.lanes / 2
	t := GP64()
	MOVQ(n, t)
	ANDQ(U32(h), t)
	JZ(LabelRef("half"))
	a := g.f64()
	VCVTPS2PD(Mem{Base: x}, a)
	f(a, nil)
	ADDQ(U32(4*h), x)
	Label("half")
	if g.w512 {
		MOVQ(n, RCX)
		ANDQ(U32(h-1), RCX)
		JZ(LabelRef("halfdone"))
		m := GP32()
		MOVL(U32(1), m)
		SHLL(CL, m)
		DECL(m)
		k := K()
		KMOVW(m, k)
		a := g.f64()
		VCVTPS2PD_Z(Mem{Base: x}, k, a)
		f(a, k)
		Label("halfdone")
	}
}

// reducePD sums the float64 lanes of v into an XMM (low lane).
func (g *vecGen) reducePD(v VecVirtual) VecVirtual {
	x := XMM()
	if g.w512 {
		y := YMM()
		VEXTRACTF64X4(U8(1), v, y)
		VADDPD(y, v.AsY(), y)
		VEXTRACTF64X2(U8(1), y, x)
		VADDPD(x, y.AsX(), x)
	} else {
		VEXTRACTF128(U8(1), v, x)
		VADDPD(x, v.AsX(), x)
	}
	t := XMM()
	VPERMILPD(U8(1), x, t)
	VADDSD(t, x, x)
	return x
}

func (g *vecGen) genSumSqDev() {
	name := "sumSqDevF64" + g.suffix
	TEXT(name, NOSPLIT, "func(x *float32, n int, mean float64) float64")
	Pragma("noescape")
	Doc(name + " returns Σ (float64(x[i])-mean)² over n elements" + g.nDocHalf())
	x := Load(Param("x"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	mean := g.f64()
	mx := XMM()
	VMOVSD(paramMem("mean"), mx)
	VBROADCASTSD(mx, mean)
	h := g.lanes / 2
	acc0, acc1 := g.f64(), g.f64()
	VXORPD(acc0, acc0, acc0)
	VXORPD(acc1, acc1, acc1)
	cnt := GP64()
	MOVQ(n, cnt)
	SHRQ(U8(map[bool]uint8{true: 4, false: 3}[g.w512]), cnt)
	JZ(LabelRef("single"))
	Label("loop")
	a, b := g.f64(), g.f64()
	VCVTPS2PD(Mem{Base: x}, a)
	VCVTPS2PD(Mem{Base: x, Disp: 4 * h}, b)
	VSUBPD(mean, a, a)
	VSUBPD(mean, b, b)
	VFMADD231PD(a, a, acc0)
	VFMADD231PD(b, b, acc1)
	ADDQ(U32(8*h), x)
	DECQ(cnt)
	JNZ(LabelRef("loop"))
	Label("single")
	g.halfTail(n, x, func(a VecVirtual, k OpmaskVirtual) {
		if k == nil {
			VSUBPD(mean, a, a)
		} else {
			VSUBPD_Z(mean, a, k, a) // masked-off lanes must not add mean²
		}
		VFMADD231PD(a, a, acc0)
	})
	VADDPD(acc1, acc0, acc0)
	r := g.reducePD(acc0)
	storeRet(r, true)
	VZEROUPPER()
	RET()
}

func (g *vecGen) genLNApply() {
	name := "lnApply" + g.suffix
	TEXT(name, NOSPLIT, "func(out *float32, x *float32, w *float32, b *float32, n int, mean float64, rstd float64)")
	Pragma("noescape")
	Doc(name + " sets out[i] = float32((x[i]-mean)·rstd·w[i] + b[i]) in float64 for n elements" + g.nDocHalf())
	out := Load(Param("out"), GP64()).(GPVirtual)
	x := Load(Param("x"), GP64()).(GPVirtual)
	w := Load(Param("w"), GP64()).(GPVirtual)
	bb := Load(Param("b"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	mean, rs := g.f64(), g.f64()
	t := XMM()
	VMOVSD(paramMem("mean"), t)
	VBROADCASTSD(t, mean)
	VMOVSD(paramMem("rstd"), t)
	VBROADCASTSD(t, rs)
	h := g.lanes / 2
	body := func(k OpmaskVirtual) {
		a, wv, bv := g.f64(), g.f64(), g.f64()
		if k == nil {
			VCVTPS2PD(Mem{Base: x}, a)
			VCVTPS2PD(Mem{Base: w}, wv)
			VCVTPS2PD(Mem{Base: bb}, bv)
		} else {
			VCVTPS2PD_Z(Mem{Base: x}, k, a)
			VCVTPS2PD_Z(Mem{Base: w}, k, wv)
			VCVTPS2PD_Z(Mem{Base: bb}, k, bv)
		}
		VSUBPD(mean, a, a)
		VMULPD(rs, a, a)
		VFMADD213PD(bv, wv, a) // a·w + b
		o := g.half()
		if g.w512 {
			VCVTPD2PS(a, o)
		} else {
			VCVTPD2PSY(a, o)
		}
		if k == nil {
			VMOVUPS(o, Mem{Base: out})
		} else {
			VMOVUPS(o, k, Mem{Base: out})
		}
	}
	cnt := GP64()
	MOVQ(n, cnt)
	SHRQ(U8(map[bool]uint8{true: 3, false: 2}[g.w512]), cnt)
	JZ(LabelRef("tail"))
	Label("loop")
	body(nil)
	for _, p := range []GPVirtual{x, w, bb, out} {
		ADDQ(U32(4*h), p)
	}
	DECQ(cnt)
	JNZ(LabelRef("loop"))
	Label("tail")
	if g.w512 {
		MOVQ(n, RCX)
		ANDQ(U32(h-1), RCX)
		JZ(LabelRef("done"))
		m := GP32()
		MOVL(U32(1), m)
		SHLL(CL, m)
		DECL(m)
		k := K()
		KMOVW(m, k)
		body(k)
	}
	Label("done")
	VZEROUPPER()
	RET()
}

func (g *vecGen) genAll() {
	g.genDot()
	g.genAxpy()
	g.genMax()
	g.genExpSub()
	g.genScale()
	g.genQuickGelu()
	g.genGelu()
	g.genSumF64()
	g.genSumSqDev()
	g.genLNApply()
	g.emitConsts()
}

func genVec512() { newVecGen(true).genAll() }
func genVec256() { newVecGen(false).genAll() }

var _ = fmt.Sprintf

// storeRet writes the float result from lane 0 of r with a VEX move (no SSE
// instruction while the upper state is dirty).
func storeRet(r VecVirtual, f64 bool) {
	b, err := ReturnIndex(0).Resolve()
	if err != nil {
		panic(err)
	}
	if f64 {
		VMOVSD(r, b.Addr)
	} else {
		VMOVSS(r, b.Addr)
	}
}
