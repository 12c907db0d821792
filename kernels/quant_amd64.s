//go:build !purego && !noasm

#include "textflag.h"

// Quantized-weight kernels for AVX-512 and AVX2 (quant_amd64.go has the Go
// wrappers, quant.go the generic twins and the drivers).
//
//   q8Rows*   y[r] = Σ_b d_rb · Σ_i x[32b+i]·q_rbi for rows r of Q8 blocks
//             (nb blocks per row, rows consecutive); int8 → f32, ×d, FMA.
//   nf4Rows*  the same for NF4 rows; x comes permuted per 64-block
//             (nf4PermuteX: the even elements of each chunk of bytes, then
//             the odd ones) so that high and low nibbles need no
//             interleave; the code book, scaled by the block's absmax,
//             sits in a register and VPERMPS looks the codes up.
//   q8Deq*,   dequantize whole blocks into float32 in natural order.
//   nf4Deq*
//
// NF4 block scale (double quantization), per block b:
//   s = dmap[sc[b]] · abs2[b>>8] + off

// ---------------------------------------------------------------- AVX-512

// Q8 block at wo(DI) times x at xo(AX), into accLo/accHi.
#define Q8BLK512(wo, xo, accLo, accHi) \
	VPBROADCASTW wo(DI), Y4; \
	VCVTPH2PS    Y4, Z4; \
	VPMOVSXBD    wo+2(DI), Z5; \
	VPMOVSXBD    wo+18(DI), Z6; \
	VCVTDQ2PS    Z5, Z5; \
	VCVTDQ2PS    Z6, Z6; \
	VMULPS       Z4, Z5, Z5; \
	VMULPS       Z4, Z6, Z6; \
	VFMADD231PS  xo(AX), Z5, accLo; \
	VFMADD231PS  xo+64(AX), Z6, accHi

// Horizontal sum of Z0 into X0.
#define HSUM512 \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPS        Y1, Y0, Y1; \
	VEXTRACTF32X4 $1, Y1, X0; \
	VADDPS        X0, X1, X0; \
	VPERMILPS     $0x4e, X0, X1; \
	VADDPS        X1, X0, X0; \
	VPERMILPS     $0xb1, X0, X1; \
	VADDPS        X1, X0, X0

// func q8RowsAVX512(y *float32, x *float32, w *Q8Block, nb int, rows int)
TEXT ·q8RowsAVX512(SB), NOSPLIT, $0-40
	MOVQ y+0(FP), DX
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), DI
	MOVQ nb+24(FP), R8
	MOVQ rows+32(FP), R9

q8r512row:
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	MOVQ   SI, AX
	MOVQ   R8, CX
	SHRQ   $1, CX
	JZ     q8r512tail

q8r512pair:
	Q8BLK512(0, 0, Z0, Z1)
	Q8BLK512(34, 128, Z2, Z3)
	ADDQ $68, DI
	ADDQ $256, AX
	DECQ CX
	JNZ  q8r512pair

q8r512tail:
	TESTQ $1, R8
	JZ    q8r512sum
	Q8BLK512(0, 0, Z0, Z1)
	ADDQ  $34, DI

q8r512sum:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HSUM512
	VMOVSS X0, (DX)
	ADDQ   $4, DX
	DECQ   R9
	JNZ    q8r512row
	VZEROUPPER
	RET

// NF4 block scale of block R13 (scale byte at (R10)) into Z11, then the
// scaled code book (Z8) into Z11. BX = dmap, R12 = abs2, X10 = off.
#define NF4SCALE512 \
	MOVBLZX      (R10), R14; \
	VMOVSS       (BX)(R14*4), X11; \
	MOVQ         R13, R14; \
	SHRQ         $8, R14; \
	VMULSS       (R12)(R14*4), X11, X11; \
	VADDSS       X10, X11, X11; \
	VBROADCASTSS X11, Z11; \
	VMULPS       Z8, Z11, Z11

// func nf4RowsAVX512(y *float32, x *float32, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, rows int, off float32)
TEXT ·nf4RowsAVX512(SB), NOSPLIT, $0-84
	MOVQ         y+0(FP), DX
	MOVQ         x+8(FP), SI
	MOVQ         w+16(FP), DI
	MOVQ         sc+24(FP), R10
	MOVQ         abs2+32(FP), R12
	MOVQ         dmap+40(FP), BX
	MOVQ         code+48(FP), AX
	VMOVUPS      (AX), Z8
	MOVQ         b0+56(FP), R13
	MOVQ         nb+64(FP), R8
	MOVQ         rows+72(FP), R9
	VMOVSS       off+80(FP), X10

nf4r512row:
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	MOVQ   SI, AX
	MOVQ   R8, CX

nf4r512blk:
	NF4SCALE512
	VPMOVZXBD   (DI), Z12
	VPMOVZXBD   16(DI), Z13
	VPSRLD      $4, Z12, Z14
	VPSRLD      $4, Z13, Z15
	VPERMPS     Z11, Z14, Z14
	VPERMPS     Z11, Z12, Z12
	VPERMPS     Z11, Z15, Z15
	VPERMPS     Z11, Z13, Z13
	VFMADD231PS (AX), Z14, Z0
	VFMADD231PS 64(AX), Z12, Z1
	VFMADD231PS 128(AX), Z15, Z2
	VFMADD231PS 192(AX), Z13, Z3
	ADDQ        $32, DI
	ADDQ        $256, AX
	INCQ        R10
	INCQ        R13
	DECQ        CX
	JNZ         nf4r512blk

	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HSUM512
	VMOVSS X0, (DX)
	ADDQ   $4, DX
	DECQ   R9
	JNZ    nf4r512row
	VZEROUPPER
	RET

// func q8DeqAVX512(dst *float32, w *Q8Block, nb int)
TEXT ·q8DeqAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DX
	MOVQ w+8(FP), DI
	MOVQ nb+16(FP), CX

q8d512:
	VPBROADCASTW (DI), Y4
	VCVTPH2PS    Y4, Z4
	VPMOVSXBD    2(DI), Z5
	VPMOVSXBD    18(DI), Z6
	VCVTDQ2PS    Z5, Z5
	VCVTDQ2PS    Z6, Z6
	VMULPS       Z4, Z5, Z5
	VMULPS       Z4, Z6, Z6
	VMOVUPS      Z5, (DX)
	VMOVUPS      Z6, 64(DX)
	ADDQ         $34, DI
	ADDQ         $128, DX
	DECQ         CX
	JNZ          q8d512
	VZEROUPPER
	RET

// 16 natural-order values from the 8 bytes at bo(DI) into do(DX): bytes
// doubled (b0 b0 b1 b1 …), widened, shifted by [4 0 4 0 …] (Z9), looked up
// (VPERMPS reads the low 4 bits).
#define NF4DEQ16_512(bo, do) \
	VMOVQ      bo(DI), X12; \
	VPUNPCKLBW X12, X12, X12; \
	VPMOVZXBD  X12, Z12; \
	VPSRLVD    Z9, Z12, Z12; \
	VPERMPS    Z11, Z12, Z12; \
	VMOVUPS    Z12, do(DX)

// func nf4DeqAVX512(dst *float32, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, off float32)
TEXT ·nf4DeqAVX512(SB), NOSPLIT, $0-68
	MOVQ         dst+0(FP), DX
	MOVQ         w+8(FP), DI
	MOVQ         sc+16(FP), R10
	MOVQ         abs2+24(FP), R12
	MOVQ         dmap+32(FP), BX
	MOVQ         code+40(FP), AX
	VMOVUPS      (AX), Z8
	MOVQ         b0+48(FP), R13
	MOVQ         nb+56(FP), CX
	VMOVSS       off+64(FP), X10
	MOVQ         $4, AX
	VPBROADCASTQ AX, Z9

nf4d512:
	NF4SCALE512
	NF4DEQ16_512(0, 0)
	NF4DEQ16_512(8, 64)
	NF4DEQ16_512(16, 128)
	NF4DEQ16_512(24, 192)
	ADDQ $32, DI
	ADDQ $256, DX
	INCQ R10
	INCQ R13
	DECQ CX
	JNZ  nf4d512
	VZEROUPPER
	RET

// Q8 block at wo(DI) against 4 rows of x (AX, AX+R10, AX+2·R10, AX+R11)
// at xo, into Z0–Z3 (low halves) and Z4–Z7 (high halves).
#define Q8BLK512X4(wo, xo) \
	VPBROADCASTW wo(DI), Y8; \
	VCVTPH2PS    Y8, Z8; \
	VPMOVSXBD    wo+2(DI), Z9; \
	VPMOVSXBD    wo+18(DI), Z10; \
	VCVTDQ2PS    Z9, Z9; \
	VCVTDQ2PS    Z10, Z10; \
	VMULPS       Z8, Z9, Z9; \
	VMULPS       Z8, Z10, Z10; \
	VFMADD231PS  xo(AX), Z9, Z0; \
	VFMADD231PS  xo+64(AX), Z10, Z4; \
	VFMADD231PS  xo(AX)(R10*1), Z9, Z1; \
	VFMADD231PS  xo+64(AX)(R10*1), Z10, Z5; \
	VFMADD231PS  xo(AX)(R10*2), Z9, Z2; \
	VFMADD231PS  xo+64(AX)(R10*2), Z10, Z6; \
	VFMADD231PS  xo(AX)(R11*1), Z9, Z3; \
	VFMADD231PS  xo+64(AX)(R11*1), Z10, Z7

// Sum Zlo+Zhi horizontally and store the float at dst.
#define HSTORE512(lo, hi, dst) \
	VADDPS        hi, lo, Z16; \
	VEXTRACTF64X4 $1, Z16, Y17; \
	VADDPS        Y17, Y16, Y17; \
	VEXTRACTF32X4 $1, Y17, X16; \
	VADDPS        X16, X17, X16; \
	VPERMILPS     $0x4e, X16, X17; \
	VADDPS        X17, X16, X16; \
	VPERMILPS     $0xb1, X16, X17; \
	VADDPS        X17, X16, X16; \
	VMOVSS        X16, dst

#define HSTORE4X512 \
	HSTORE512(Z0, Z4, (DX)); \
	HSTORE512(Z1, Z5, (DX)(R12*1)); \
	HSTORE512(Z2, Z6, (DX)(R12*2)); \
	HSTORE512(Z3, Z7, (DX)(R13*1))

#define ZERO8 \
	VXORPS Z0, Z0, Z0; \
	VXORPS Z1, Z1, Z1; \
	VXORPS Z2, Z2, Z2; \
	VXORPS Z3, Z3, Z3; \
	VXORPS Z4, Z4, Z4; \
	VXORPS Z5, Z5, Z5; \
	VXORPS Z6, Z6, Z6; \
	VXORPS Z7, Z7, Z7

// func q8Rows4AVX512(y *float32, ldy int, x *float32, ldx int, w *Q8Block, nb int, rows int)
//
// q8RowsAVX512 for 4 rows of x (row r at x+r·ldx) at once: y[r·ldy+o].
TEXT ·q8Rows4AVX512(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DX
	MOVQ ldy+8(FP), R12
	SHLQ $2, R12
	LEAQ (R12)(R12*2), R13
	MOVQ x+16(FP), SI
	MOVQ ldx+24(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R11
	MOVQ w+32(FP), DI
	MOVQ nb+40(FP), R8
	MOVQ rows+48(FP), R9

q8r4row:
	ZERO8
	MOVQ SI, AX
	MOVQ R8, CX

q8r4blk:
	Q8BLK512X4(0, 0)
	ADDQ $34, DI
	ADDQ $128, AX
	DECQ CX
	JNZ  q8r4blk

	HSTORE4X512
	ADDQ $4, DX
	DECQ R9
	JNZ  q8r4row
	VZEROUPPER
	RET

// func nf4Rows4AVX512(y *float32, ldy int, x *float32, ldx int, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, rows int, off float32)
TEXT ·nf4Rows4AVX512(SB), NOSPLIT, $0-100
	MOVQ    y+0(FP), DX
	MOVQ    code+64(FP), AX
	VMOVUPS (AX), Z18
	MOVQ    x+16(FP), SI
	MOVQ    ldx+24(FP), R10
	SHLQ    $2, R10
	LEAQ    (R10)(R10*2), R11
	MOVQ    w+32(FP), DI
	MOVQ    sc+40(FP), R14
	MOVQ    abs2+48(FP), R12
	MOVQ    dmap+56(FP), BX
	MOVQ    b0+72(FP), R13
	VMOVSS  off+96(FP), X19

nf4r4row:
	ZERO8
	MOVQ SI, AX
	MOVQ nb+80(FP), CX

nf4r4blk:
	MOVBLZX      (R14), R8
	VMOVSS       (BX)(R8*4), X20
	MOVQ         R13, R8
	SHRQ         $8, R8
	VMULSS       (R12)(R8*4), X20, X20
	VADDSS       X19, X20, X20
	VBROADCASTSS X20, Z20
	VMULPS       Z18, Z20, Z20
	VPMOVZXBD    (DI), Z12
	VPMOVZXBD    16(DI), Z13
	VPSRLD       $4, Z12, Z14
	VPSRLD       $4, Z13, Z15
	VPERMPS      Z20, Z14, Z14
	VPERMPS      Z20, Z12, Z12
	VPERMPS      Z20, Z15, Z15
	VPERMPS      Z20, Z13, Z13
	VFMADD231PS  (AX), Z14, Z0
	VFMADD231PS  64(AX), Z12, Z0
	VFMADD231PS  128(AX), Z15, Z4
	VFMADD231PS  192(AX), Z13, Z4
	VFMADD231PS  (AX)(R10*1), Z14, Z1
	VFMADD231PS  64(AX)(R10*1), Z12, Z1
	VFMADD231PS  128(AX)(R10*1), Z15, Z5
	VFMADD231PS  192(AX)(R10*1), Z13, Z5
	VFMADD231PS  (AX)(R10*2), Z14, Z2
	VFMADD231PS  64(AX)(R10*2), Z12, Z2
	VFMADD231PS  128(AX)(R10*2), Z15, Z6
	VFMADD231PS  192(AX)(R10*2), Z13, Z6
	VFMADD231PS  (AX)(R11*1), Z14, Z3
	VFMADD231PS  64(AX)(R11*1), Z12, Z3
	VFMADD231PS  128(AX)(R11*1), Z15, Z7
	VFMADD231PS  192(AX)(R11*1), Z13, Z7
	ADDQ         $32, DI
	ADDQ         $256, AX
	INCQ         R14
	INCQ         R13
	DECQ         CX
	JNZ          nf4r4blk

	// ldy·4 and 3·ldy·4 into R8/R9 (free here) for the stores
	MOVQ ldy+8(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	HSTORE512(Z0, Z4, (DX))
	HSTORE512(Z1, Z5, (DX)(R8*1))
	HSTORE512(Z2, Z6, (DX)(R8*2))
	HSTORE512(Z3, Z7, (DX)(R9*1))
	ADDQ $4, DX
	DECQ rows+88(FP)
	JNZ  nf4r4row
	VZEROUPPER
	RET

// ------------------------------------------------------------------- AVX2

// Horizontal sum of Y0 into X0.
#define HSUM256 \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VPERMILPS    $0x4e, X0, X1; \
	VADDPS       X1, X0, X0; \
	VPERMILPS    $0xb1, X0, X1; \
	VADDPS       X1, X0, X0

// func q8RowsAVX2(y *float32, x *float32, w *Q8Block, nb int, rows int)
TEXT ·q8RowsAVX2(SB), NOSPLIT, $0-40
	MOVQ y+0(FP), DX
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), DI
	MOVQ nb+24(FP), R8
	MOVQ rows+32(FP), R9

q8r256row:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   SI, AX
	MOVQ   R8, CX

q8r256blk:
	VPBROADCASTW (DI), X4
	VCVTPH2PS    X4, Y4
	VPMOVSXBD    2(DI), Y5
	VPMOVSXBD    10(DI), Y6
	VPMOVSXBD    18(DI), Y7
	VPMOVSXBD    26(DI), Y8
	VCVTDQ2PS    Y5, Y5
	VCVTDQ2PS    Y6, Y6
	VCVTDQ2PS    Y7, Y7
	VCVTDQ2PS    Y8, Y8
	VMULPS       Y4, Y5, Y5
	VMULPS       Y4, Y6, Y6
	VMULPS       Y4, Y7, Y7
	VMULPS       Y4, Y8, Y8
	VFMADD231PS  (AX), Y5, Y0
	VFMADD231PS  32(AX), Y6, Y1
	VFMADD231PS  64(AX), Y7, Y2
	VFMADD231PS  96(AX), Y8, Y3
	ADDQ         $34, DI
	ADDQ         $128, AX
	DECQ         CX
	JNZ          q8r256blk

	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM256
	VMOVSS X0, (DX)
	ADDQ   $4, DX
	DECQ   R9
	JNZ    q8r256row
	VZEROUPPER
	RET

// NF4 block scale into Y4, scaled code book halves into Y5 (codes 0–7)
// and Y6 (codes 8–15) from Y12/Y13. BX = dmap, R12 = abs2, X14 = off.
#define NF4SCALE256 \
	MOVBLZX      (R10), R14; \
	VMOVSS       (BX)(R14*4), X4; \
	MOVQ         R13, R14; \
	SHRQ         $8, R14; \
	VMULSS       (R12)(R14*4), X4, X4; \
	VADDSS       X14, X4, X4; \
	VBROADCASTSS X4, Y4; \
	VMULPS       Y12, Y4, Y5; \
	VMULPS       Y13, Y4, Y6

// Look up 8 codes: idx (low 3 bits) in both halves, bit 3 of the code
// (moved to the sign bit in mask) picks the half. Result in dst.
#define NF4LOOK256(idx, mask, dst) \
	VPERMPS   Y5, idx, dst; \
	VPERMPS   Y6, idx, Y11; \
	VBLENDVPS mask, Y11, dst, dst

// One chunk of 8 bytes at bo(DI): 8 even elements (high nibbles) against
// x at xo(AX), 8 odd ones (low nibbles) against xo+32(AX), into acc.
#define NF4CHUNK256(bo, xo, acc) \
	VPMOVZXBD   bo(DI), Y7; \
	VPSRLD      $4, Y7, Y8; \
	VPSLLD      $24, Y7, Y9; \
	NF4LOOK256(Y8, Y9, Y10); \
	VFMADD231PS xo(AX), Y10, acc; \
	VPSLLD      $28, Y7, Y9; \
	NF4LOOK256(Y7, Y9, Y10); \
	VFMADD231PS xo+32(AX), Y10, acc

// func nf4RowsAVX2(y *float32, x *float32, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, rows int, off float32)
TEXT ·nf4RowsAVX2(SB), NOSPLIT, $0-84
	MOVQ    y+0(FP), DX
	MOVQ    x+8(FP), SI
	MOVQ    w+16(FP), DI
	MOVQ    sc+24(FP), R10
	MOVQ    abs2+32(FP), R12
	MOVQ    dmap+40(FP), BX
	MOVQ    code+48(FP), AX
	VMOVUPS (AX), Y12
	VMOVUPS 32(AX), Y13
	MOVQ    b0+56(FP), R13
	MOVQ    nb+64(FP), R8
	MOVQ    rows+72(FP), R9
	VMOVSS  off+80(FP), X14

nf4r256row:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   SI, AX
	MOVQ   R8, CX

nf4r256blk:
	NF4SCALE256
	NF4CHUNK256(0, 0, Y0)
	NF4CHUNK256(8, 64, Y1)
	NF4CHUNK256(16, 128, Y2)
	NF4CHUNK256(24, 192, Y3)
	ADDQ $32, DI
	ADDQ $256, AX
	INCQ R10
	INCQ R13
	DECQ CX
	JNZ  nf4r256blk

	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM256
	VMOVSS X0, (DX)
	ADDQ   $4, DX
	DECQ   R9
	JNZ    nf4r256row
	VZEROUPPER
	RET

// func q8DeqAVX2(dst *float32, w *Q8Block, nb int)
TEXT ·q8DeqAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DX
	MOVQ w+8(FP), DI
	MOVQ nb+16(FP), CX

q8d256:
	VPBROADCASTW (DI), X4
	VCVTPH2PS    X4, Y4
	VPMOVSXBD    2(DI), Y5
	VPMOVSXBD    10(DI), Y6
	VPMOVSXBD    18(DI), Y7
	VPMOVSXBD    26(DI), Y8
	VCVTDQ2PS    Y5, Y5
	VCVTDQ2PS    Y6, Y6
	VCVTDQ2PS    Y7, Y7
	VCVTDQ2PS    Y8, Y8
	VMULPS       Y4, Y5, Y5
	VMULPS       Y4, Y6, Y6
	VMULPS       Y4, Y7, Y7
	VMULPS       Y4, Y8, Y8
	VMOVUPS      Y5, (DX)
	VMOVUPS      Y6, 32(DX)
	VMOVUPS      Y7, 64(DX)
	VMOVUPS      Y8, 96(DX)
	ADDQ         $34, DI
	ADDQ         $128, DX
	DECQ         CX
	JNZ          q8d256
	VZEROUPPER
	RET

// 8 natural-order values from the 4 bytes at bo(DI) into do(DX).
#define NF4DEQ8_256(bo, do) \
	VMOVD      bo(DI), X7; \
	VPUNPCKLBW X7, X7, X7; \
	VPMOVZXBD  X7, Y7; \
	VPSRLVD    Y15, Y7, Y7; \
	VPSLLD     $28, Y7, Y9; \
	NF4LOOK256(Y7, Y9, Y10); \
	VMOVUPS    Y10, do(DX)

// func nf4DeqAVX2(dst *float32, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, off float32)
TEXT ·nf4DeqAVX2(SB), NOSPLIT, $0-68
	MOVQ         dst+0(FP), DX
	MOVQ         w+8(FP), DI
	MOVQ         sc+16(FP), R10
	MOVQ         abs2+24(FP), R12
	MOVQ         dmap+32(FP), BX
	MOVQ         code+40(FP), AX
	VMOVUPS      (AX), Y12
	VMOVUPS      32(AX), Y13
	MOVQ         b0+48(FP), R13
	MOVQ         nb+56(FP), CX
	VMOVSS       off+64(FP), X14
	MOVQ         $4, AX
	MOVQ         AX, X15
	VPBROADCASTQ X15, Y15

nf4d256:
	NF4SCALE256
	NF4DEQ8_256(0, 0)
	NF4DEQ8_256(4, 32)
	NF4DEQ8_256(8, 64)
	NF4DEQ8_256(12, 96)
	NF4DEQ8_256(16, 128)
	NF4DEQ8_256(20, 160)
	NF4DEQ8_256(24, 192)
	NF4DEQ8_256(28, 224)
	ADDQ $32, DI
	ADDQ $256, DX
	INCQ R10
	INCQ R13
	DECQ CX
	JNZ  nf4d256
	VZEROUPPER
	RET
