// NEON instructions that Go's arm64 assembler cannot spell (kernels.md
// §4.1–4.2), as WORD macros. Arguments are register numbers (V0–V31); the
// encodings were checked with `go tool objdump` and by running the kernels
// under qemu-aarch64 (make test-arm64).

// FADD Vd.4S, Vn.4S, Vm.4S
#define FADD4S(d, n, m) WORD $(0x4E20D400 | ((m)<<16) | ((n)<<5) | (d))
// FADDP Vd.4S, Vn.4S, Vm.4S (pairwise: [n0+n1, n2+n3, m0+m1, m2+m3])
#define FADDP4S(d, n, m) WORD $(0x6E20D400 | ((m)<<16) | ((n)<<5) | (d))
// FADDP Sd, Vn.2S (scalar pairwise: n0+n1)
#define FADDPS2(d, n) WORD $(0x7E30D800 | ((n)<<5) | (d))
// FMUL Vd.4S, Vn.4S, Vm.4S
#define FMUL4S(d, n, m) WORD $(0x6E20DC00 | ((m)<<16) | ((n)<<5) | (d))
// FMAX Vd.4S, Vn.4S, Vm.4S
#define FMAX4S(d, n, m) WORD $(0x4E20F400 | ((m)<<16) | ((n)<<5) | (d))
// FMLA Vd.4S, Vn.4S, Vm.S[i]  (by element: Vd += Vn·Vm[i])
#define FMLAE(d, n, m, i) WORD $(0x4F801000 | (((i)&1)<<21) | (((m)&31)<<16) | (((i)>>1)<<11) | ((n)<<5) | (d))
// FCVTL Vd.4S, Vn.4H (binary16 → float32, the low four halves)
#define FCVTL(d, n) WORD $(0x0E217800 | ((n)<<5) | (d))
