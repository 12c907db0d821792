package tensor

import "fmt"

// DType is the element type of a tensor's storage.
type DType uint8

const (
	F32  DType = iota // IEEE binary32
	F16               // IEEE binary16, stored as uint16 bits
	BF16              // bfloat16 (upper half of binary32), stored as uint16 bits
	// Quantized block formats (Q8, NF4) are added after BF16 by the quantization work.
)

// String returns the safetensors spelling of the dtype.
func (d DType) String() string {
	switch d {
	case F32:
		return "F32"
	case F16:
		return "F16"
	case BF16:
		return "BF16"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Size is the number of bytes one element occupies.
func (d DType) Size() int {
	switch d {
	case F32:
		return 4
	case F16, BF16:
		return 2
	}
	panic(fmt.Sprintf("tensor: Size of unknown %v", d))
}
