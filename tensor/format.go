package tensor

import (
	"fmt"
	"math"
	"strings"
)

// String describes the tensor and shows up to 6 leading elements.
func (t *Tensor) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Tensor(%v %v", t.dtype, t.shape)
	n := 0
	sb.WriteString(" [")
	t.eachOffset(func(off int) {
		if n < 6 {
			if n > 0 {
				sb.WriteByte(' ')
			}
			fmt.Fprintf(&sb, "%.6g", t.load(off))
		}
		n++
	})
	if n > 6 {
		sb.WriteString(" …")
	}
	sb.WriteString("])")
	return sb.String()
}

// MaxAbsDiff returns max |a - b| over all elements (shapes must match) and
// the flat index where it occurs. NaN in either tensor gives +Inf.
func MaxAbsDiff(a, b *Tensor) (float64, int) {
	if !sameShape(a.shape, b.shape) {
		panic(fmt.Sprintf("tensor: MaxAbsDiff: shapes %v and %v differ", a.shape, b.shape))
	}
	x, y := a.Float32s(), b.Float32s()
	worst, at := 0.0, -1
	for i := range x {
		d := math.Abs(float64(x[i]) - float64(y[i]))
		if d != d {
			d = math.Inf(1)
		}
		if d > worst || at < 0 {
			worst, at = d, i
		}
	}
	return worst, at
}

// AllClose reports whether |a - b| ≤ atol + rtol·|b| everywhere (NumPy's rule).
func AllClose(a, b *Tensor, atol, rtol float64) bool {
	if !sameShape(a.shape, b.shape) {
		return false
	}
	x, y := a.Float32s(), b.Float32s()
	for i := range x {
		d := math.Abs(float64(x[i]) - float64(y[i]))
		if !(d <= atol+rtol*math.Abs(float64(y[i]))) {
			return false
		}
	}
	return true
}
