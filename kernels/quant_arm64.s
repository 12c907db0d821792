//go:build !purego && !noasm

#include "textflag.h"
#include "neon_arm64.h"

// NEON quantized-weight kernels (quant_arm64.go has the Go side, quant.go
// the generic twins). Base ASIMD only (cortex-a53 runs them):
//
//   q8Rows   int8 → int16 → int32 (SSHLL), SCVTF, FMUL/FMLA against x into a
//            block sum, then acc += d·sum (FMLA by element; d widened from
//            binary16 with FCVTL).
//   nf4Rows  x permuted per 16 bytes (nf4PermuteX chunk 16); high/low
//            nibbles (USHR, AND) index four byte planes of the code book
//            (TBL), ZIPs rebuild the floats; acc += s·sum per block.
//   q8Deq, nf4Deq  whole blocks to float32 in natural order.

// SSHLL Vd.8H, Vn.8B, #0 (SXTL, low 8 bytes)
#define SXTLB(d, n) WORD $(0x0F08A400 | ((n)<<5) | (d))
// SSHLL2 Vd.8H, Vn.16B, #0 (SXTL2, high 8 bytes)
#define SXTL2B(d, n) WORD $(0x4F08A400 | ((n)<<5) | (d))
// SSHLL Vd.4S, Vn.4H, #0
#define SXTLH(d, n) WORD $(0x0F10A400 | ((n)<<5) | (d))
// SSHLL2 Vd.4S, Vn.8H, #0
#define SXTL2H(d, n) WORD $(0x4F10A400 | ((n)<<5) | (d))
// SCVTF Vd.4S, Vn.4S
#define SCVTF4S(d, n) WORD $(0x4E21D800 | ((n)<<5) | (d))

// 32 int8 in V16/V17 → 8 × 4 floats in V18–V25 (natural order).
#define Q8WIDEN \
	SXTLB(26, 16);  \
	SXTL2B(27, 16); \
	SXTLB(28, 17);  \
	SXTL2B(29, 17); \
	SXTLH(18, 26);  \
	SXTL2H(19, 26); \
	SXTLH(20, 27);  \
	SXTL2H(21, 27); \
	SXTLH(22, 28);  \
	SXTL2H(23, 28); \
	SXTLH(24, 29);  \
	SXTL2H(25, 29); \
	SCVTF4S(18, 18); \
	SCVTF4S(19, 19); \
	SCVTF4S(20, 20); \
	SCVTF4S(21, 21); \
	SCVTF4S(22, 22); \
	SCVTF4S(23, 23); \
	SCVTF4S(24, 24); \
	SCVTF4S(25, 25)

// Block scale (binary16 at (R1), post-incremented) into V2.S[0].
#define Q8SCALE \
	MOVHU.P 2(R1), R7;  \
	VMOV    R7, V2.H[0]; \
	FCVTL(2, 2)

// Horizontal sum of V0 + V1 into F0.
#define HSUM01 \
	FADD4S(0, 0, 1);  \
	FADDP4S(0, 0, 0); \
	FADDPS2(0, 0)

// func q8RowsNEON(y *float32, x *float32, w *Q8Block, nb int, rows int)
TEXT ·q8RowsNEON(SB), NOSPLIT, $0-40
	MOVD y+0(FP), R0
	MOVD x+8(FP), R2
	MOVD w+16(FP), R1
	MOVD nb+24(FP), R3
	MOVD rows+32(FP), R4

q8nrow:
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	MOVD R2, R5
	MOVD R3, R6

q8nblk:
	Q8SCALE
	VLD1.P 32(R1), [V16.B16, V17.B16]
	VLD1.P 64(R5), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R5), [V8.S4, V9.S4, V10.S4, V11.S4]
	Q8WIDEN
	FMUL4S(30, 18, 4)
	FMUL4S(31, 19, 5)
	VFMLA  V20.S4, V6.S4, V30.S4
	VFMLA  V21.S4, V7.S4, V31.S4
	VFMLA  V22.S4, V8.S4, V30.S4
	VFMLA  V23.S4, V9.S4, V31.S4
	VFMLA  V24.S4, V10.S4, V30.S4
	VFMLA  V25.S4, V11.S4, V31.S4
	FMLAE(0, 30, 2, 0)
	FMLAE(1, 31, 2, 0)
	SUBS   $1, R6, R6
	BNE    q8nblk

	HSUM01
	FMOVS.P F0, 4(R0)
	SUBS    $1, R4, R4
	BNE     q8nrow
	RET

// func q8DeqNEON(dst *float32, w *Q8Block, nb int)
TEXT ·q8DeqNEON(SB), NOSPLIT, $0-24
	MOVD dst+0(FP), R0
	MOVD w+8(FP), R1
	MOVD nb+16(FP), R6

q8ndeq:
	Q8SCALE
	VDUP   V2.S[0], V3.S4
	VLD1.P 32(R1), [V16.B16, V17.B16]
	Q8WIDEN
	FMUL4S(18, 18, 3)
	FMUL4S(19, 19, 3)
	FMUL4S(20, 20, 3)
	FMUL4S(21, 21, 3)
	FMUL4S(22, 22, 3)
	FMUL4S(23, 23, 3)
	FMUL4S(24, 24, 3)
	FMUL4S(25, 25, 3)
	VST1.P [V18.S4, V19.S4, V20.S4, V21.S4], 64(R0)
	VST1.P [V22.S4, V23.S4, V24.S4, V25.S4], 64(R0)
	SUBS   $1, R6, R6
	BNE    q8ndeq
	RET

// NF4 block scale into F2 (= V2.S[0]): dmap[sc[b]]·abs2[b>>8] + off, with
// R10 → scale bytes (post-incremented), R11 = b, R8 = dmap, R12 = abs2,
// F9 = off.
#define NF4SCALE \
	MOVBU.P 1(R10), R7;        \
	FMOVS   (R8)(R7<<2), F2;   \
	LSR     $8, R11, R9;       \
	FMOVS   (R12)(R9<<2), F3;  \
	FMADDS  F3, F9, F2, F2;    \
	ADD     $1, R11, R11

// 16 code indices in idx → 16 floats in V12–V15 (same order): one TBL per
// byte plane (V28–V31 hold byte k of every code), then ZIPs.
#define LOOK16(idx) \
	VTBL  idx.B16, [V28.B16], V12.B16; \
	VTBL  idx.B16, [V29.B16], V13.B16; \
	VTBL  idx.B16, [V30.B16], V14.B16; \
	VTBL  idx.B16, [V31.B16], V15.B16; \
	VZIP1 V13.B16, V12.B16, V20.B16;   \
	VZIP2 V13.B16, V12.B16, V21.B16;   \
	VZIP1 V15.B16, V14.B16, V22.B16;   \
	VZIP2 V15.B16, V14.B16, V23.B16;   \
	VZIP1 V22.H8, V20.H8, V12.H8;      \
	VZIP2 V22.H8, V20.H8, V13.H8;      \
	VZIP1 V23.H8, V21.H8, V14.H8;      \
	VZIP2 V23.H8, V21.H8, V15.H8

// 16 codes from idx against the next 16 values of x (R5, post-incremented)
// into the block sums V24/V25.
#define NF4DOT16(idx) \
	LOOK16(idx);                                  \
	VLD1.P 64(R5), [V4.S4, V5.S4, V6.S4, V7.S4];  \
	VFMLA  V12.S4, V4.S4, V24.S4;                 \
	VFMLA  V13.S4, V5.S4, V25.S4;                 \
	VFMLA  V14.S4, V6.S4, V24.S4;                 \
	VFMLA  V15.S4, V7.S4, V25.S4

// The code book's byte planes from code (R7) into V28–V31, 0x0F into V27.
#define NF4SETUP \
	VLD1  (R7), [V28.B16, V29.B16, V30.B16, V31.B16]; \
	VMOVI $15, V27.B16

// func nf4RowsNEON(y *float32, x *float32, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, rows int, off float32)
TEXT ·nf4RowsNEON(SB), NOSPLIT, $0-84
	MOVD  y+0(FP), R0
	MOVD  x+8(FP), R2
	MOVD  w+16(FP), R1
	MOVD  sc+24(FP), R10
	MOVD  abs2+32(FP), R12
	MOVD  dmap+40(FP), R8
	MOVD  code+48(FP), R7
	NF4SETUP
	MOVD  b0+56(FP), R11
	MOVD  nb+64(FP), R3
	MOVD  rows+72(FP), R4
	FMOVS off+80(FP), F9

nf4nrow:
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	MOVD R2, R5
	MOVD R3, R6

nf4nblk:
	NF4SCALE
	VLD1.P 32(R1), [V16.B16, V17.B16]
	VEOR   V24.B16, V24.B16, V24.B16
	VEOR   V25.B16, V25.B16, V25.B16
	VUSHR  $4, V16.B16, V18.B16
	VAND   V27.B16, V16.B16, V19.B16
	NF4DOT16(V18)
	NF4DOT16(V19)
	VUSHR  $4, V17.B16, V18.B16
	VAND   V27.B16, V17.B16, V19.B16
	NF4DOT16(V18)
	NF4DOT16(V19)
	FMLAE(0, 24, 2, 0)
	FMLAE(1, 25, 2, 0)
	SUBS   $1, R6, R6
	BNE    nf4nblk

	HSUM01
	FMOVS.P F0, 4(R0)
	SUBS    $1, R4, R4
	BNE     nf4nrow
	RET

// 16 bytes in src: natural-order indices (high nibble first) → 32 scaled
// floats stored at R0 (post-incremented). V3 = scale in every lane.
#define NF4DEQ16(src) \
	VUSHR $4, src.B16, V18.B16;                      \
	VAND  V27.B16, src.B16, V19.B16;                 \
	VZIP1 V19.B16, V18.B16, V16.B16;                 \
	VZIP2 V19.B16, V18.B16, V17.B16;                 \
	LOOK16(V16);                                     \
	FMUL4S(12, 12, 3);                               \
	FMUL4S(13, 13, 3);                               \
	FMUL4S(14, 14, 3);                               \
	FMUL4S(15, 15, 3);                               \
	VST1.P [V12.S4, V13.S4, V14.S4, V15.S4], 64(R0); \
	LOOK16(V17);                                     \
	FMUL4S(12, 12, 3);                               \
	FMUL4S(13, 13, 3);                               \
	FMUL4S(14, 14, 3);                               \
	FMUL4S(15, 15, 3);                               \
	VST1.P [V12.S4, V13.S4, V14.S4, V15.S4], 64(R0)

// func nf4DeqNEON(dst *float32, w *NF4Block, sc *uint8, abs2 *float32, dmap *float32, code *float32, b0 int, nb int, off float32)
TEXT ·nf4DeqNEON(SB), NOSPLIT, $0-68
	MOVD  dst+0(FP), R0
	MOVD  w+8(FP), R1
	MOVD  sc+16(FP), R10
	MOVD  abs2+24(FP), R12
	MOVD  dmap+32(FP), R8
	MOVD  code+40(FP), R7
	NF4SETUP
	MOVD  b0+48(FP), R11
	MOVD  nb+56(FP), R6
	FMOVS off+64(FP), F9

nf4ndeq:
	NF4SCALE
	VDUP   V2.S[0], V3.S4
	VLD1.P 32(R1), [V10.B16, V11.B16]
	NF4DEQ16(V10)
	NF4DEQ16(V11)
	SUBS   $1, R6, R6
	BNE    nf4ndeq
	RET
