// Command _generate writes the amd64 assembly of package kernels with avo
// (github.com/mmcloughlin/avo). It is its own module, so avo stays out of
// gitcap's go.mod; the output is committed and CI checks that regenerating
// it changes nothing (make check-generated).
//
// One run writes one instruction set:
//
//	go run . -isa avx512 -out ../zavx512_amd64.s -stubs ../zavx512_amd64.go -pkg kernels
//	go run . -isa avx2   -out ../zavx2_amd64.s   -stubs ../zavx2_amd64.go   -pkg kernels
//
// The AVX2 file must only use X0–X15/Y0–Y15 (VEX encodings); a test in
// package kernels scans it for EVEX-only registers.
package main

import (
	"flag"
	"log"

	. "github.com/mmcloughlin/avo/build"
)

var isa = flag.String("isa", "", "instruction set to generate: avx2 or avx512")

func main() {
	flag.Parse()
	ConstraintExpr("!purego,!noasm")
	switch *isa {
	case "avx512":
		genAVX512()
	case "avx2":
		genAVX2()
	default:
		log.Fatalf("-isa must be avx2 or avx512, not %q", *isa)
	}
	Generate()
}

func genAVX512() {
	for mr := 1; mr <= mr512; mr++ {
		genKern512(mr)
	}
	genTranspose16()
	for mr := 1; mr <= dotMR512; mr++ {
		for _, nbg := range []int{4, 1} {
			for _, src := range []bSrc{srcF32, srcBF16, srcF16} {
				genDotNT512(mr, nbg, src)
			}
		}
	}
	genCvt16x16(srcBF16)
	genCvt16x16(srcF16)
	genVec512()
}

func genAVX2() {
	for mr := 1; mr <= mr256; mr++ {
		genKern256(mr)
	}
	genTranspose8()
	for mr := 1; mr <= dotMR256; mr++ {
		for _, nbg := range []int{4, 1} {
			genDotNT256(mr, nbg)
		}
	}
	genVec256()
}
