package safetensors

import (
	"fmt"
	"strconv"
	"strings"
)

// FormatError reports a malformed safetensors file, shard index or write
// request. Its message always names the file and, when one is involved, the
// tensor, e.g.
//
//	model.safetensors: tensor "a.weight": data_offsets [0, 12] but F32 [2,3] needs 24 bytes
type FormatError struct {
	File   string // file name as given to Open/Parse (or "<write>" for Write)
	Tensor string // tensor (or header key) involved; "" when none
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Tensor != "" {
		return e.File + ": tensor " + strconv.Quote(e.Tensor) + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

func fileErr(file, format string, args ...any) error {
	return &FormatError{File: file, Msg: fmt.Sprintf(format, args...)}
}

func tensorErr(file, tensor, format string, args ...any) error {
	if tensor == "" {
		// An empty tensor name is legal; keep it visible in the message.
		return &FormatError{File: file, Msg: "tensor \"\": " + fmt.Sprintf(format, args...)}
	}
	return &FormatError{File: file, Tensor: tensor, Msg: fmt.Sprintf(format, args...)}
}

// shapeString formats a shape as [2,3] (no spaces), matching the header.
func shapeString(shape []int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range shape {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(d, 10))
	}
	b.WriteByte(']')
	return b.String()
}
