package safetensors

import "fmt"

// DType is a safetensors element type. The constants are declared in the
// order of the Rust `Dtype` enum (formats.md §1.3); the writer sorts tensors
// by this order, so it must not change. The zero value is [Invalid].
type DType uint8

// The dtypes, in Rust enum order (BOOL first, U64 last).
const (
	Invalid    DType = iota // zero value; not a valid dtype
	Bool                    // "BOOL", 8 bits
	F4                      // "F4", 4 bits (MXFP4)
	F6E2M3                  // "F6_E2M3", 6 bits (MXFP6)
	F6E3M2                  // "F6_E3M2", 6 bits (MXFP6)
	U8                      // "U8"
	I8                      // "I8"
	F8E5M2                  // "F8_E5M2" (torch float8_e5m2)
	F8E4M3                  // "F8_E4M3" (torch float8_e4m3fn)
	F8E8M0                  // "F8_E8M0" (MX scale type)
	F8E4M3FNUZ              // "F8_E4M3FNUZ"
	F8E5M2FNUZ              // "F8_E5M2FNUZ"
	I16                     // "I16"
	U16                     // "U16"
	F16                     // "F16" (IEEE binary16)
	BF16                    // "BF16" (bfloat16)
	I32                     // "I32"
	U32                     // "U32"
	F32                     // "F32"
	C64                     // "C64" (complex64)
	F64                     // "F64"
	I64                     // "I64"
	U64                     // "U64"
	numDTypes
)

var dtypeNames = [numDTypes]string{
	Invalid:    "",
	Bool:       "BOOL",
	F4:         "F4",
	F6E2M3:     "F6_E2M3",
	F6E3M2:     "F6_E3M2",
	U8:         "U8",
	I8:         "I8",
	F8E5M2:     "F8_E5M2",
	F8E4M3:     "F8_E4M3",
	F8E8M0:     "F8_E8M0",
	F8E4M3FNUZ: "F8_E4M3FNUZ",
	F8E5M2FNUZ: "F8_E5M2FNUZ",
	I16:        "I16",
	U16:        "U16",
	F16:        "F16",
	BF16:       "BF16",
	I32:        "I32",
	U32:        "U32",
	F32:        "F32",
	C64:        "C64",
	F64:        "F64",
	I64:        "I64",
	U64:        "U64",
}

var dtypeBits = [numDTypes]int{
	Bool: 8, F4: 4, F6E2M3: 6, F6E3M2: 6, U8: 8, I8: 8,
	F8E5M2: 8, F8E4M3: 8, F8E8M0: 8, F8E4M3FNUZ: 8, F8E5M2FNUZ: 8,
	I16: 16, U16: 16, F16: 16, BF16: 16,
	I32: 32, U32: 32, F32: 32,
	C64: 64, F64: 64, I64: 64, U64: 64,
}

// String returns the dtype's header string ("F32", "F8_E4M3", ...), or
// "DType(n)" for a value that is not a valid dtype.
func (d DType) String() string {
	if d.Valid() {
		return dtypeNames[d]
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Valid reports whether d is one of the declared dtypes (not [Invalid]).
func (d DType) Valid() bool { return d > Invalid && d < numDTypes }

// Bits returns the size of one element in bits (4 for F4, 6 for the F6
// types, 8 to 64 for the others), or 0 for an invalid dtype.
func (d DType) Bits() int {
	if d.Valid() {
		return dtypeBits[d]
	}
	return 0
}

// ParseDType maps a header dtype string ("F32", "BF16", ...) to its DType.
// The match is exact (case-sensitive), as in the Rust reader.
func ParseDType(s string) (DType, error) {
	for d := Bool; d < numDTypes; d++ {
		if dtypeNames[d] == s {
			return d, nil
		}
	}
	return Invalid, fmt.Errorf("unknown dtype %q", s)
}
