package tensor

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func randTensor(r *rand.Rand, shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.f32 {
		t.f32[i] = float32(r.NormFloat64())
	}
	return t
}

// expectPanic runs fn and checks that it panics with a message containing want.
func expectPanic(t *testing.T, want string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one containing %q", want)
		}
		if msg, _ := r.(string); !strings.Contains(msg, want) {
			t.Fatalf("panic %q, want it to contain %q", r, want)
		}
	}()
	fn()
}

// The views are checked against index arithmetic done by hand on a tensor
// whose element (i, j, k) holds the value 100i + 10j + k.
func TestViews(t *testing.T) {
	x := Zeros(2, 3, 4)
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 4; k++ {
				x.Set(float32(100*i+10*j+k), i, j, k)
			}
		}
	}
	p := x.Permute(2, 0, 1) // p[k,i,j] = x[i,j,k]
	if got := p.Shape(); !sameShape(got, []int{4, 2, 3}) {
		t.Fatalf("Permute shape %v", got)
	}
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 4; k++ {
				if got, want := p.At(k, i, j), float32(100*i+10*j+k); got != want {
					t.Fatalf("Permute[%d,%d,%d] = %v, want %v", k, i, j, got, want)
				}
			}
		}
	}
	if p.IsContiguous() {
		t.Fatal("permuted view reported contiguous")
	}
	// Contiguous copy of the permuted view lays elements out in the new order.
	c := p.Contiguous()
	if !c.IsContiguous() || c.Data()[1] != 10 || c.Data()[3] != 100 || c.Data()[6] != 1 {
		t.Fatalf("Contiguous of permute: %v", c)
	}
	// Narrow + Select share storage.
	n := x.Narrow(1, 1, 2).Select(2, 3) // n[i,j'] = x[i, j'+1, 3]
	if got := n.At(1, 1); got != 123 {
		t.Fatalf("Narrow/Select = %v, want 123", got)
	}
	n.Set(-1, 0, 0)
	if x.At(0, 1, 3) != -1 {
		t.Fatal("view does not share storage")
	}
	x.Set(13, 0, 1, 3)
	// Reshape with -1, Unsqueeze, Squeeze, Transpose.
	r := x.Reshape(6, -1)
	if !sameShape(r.Shape(), []int{6, 4}) || r.At(5, 3) != 123 {
		t.Fatalf("Reshape: %v", r)
	}
	u := x.Unsqueeze(1)
	if !sameShape(u.Shape(), []int{2, 1, 3, 4}) || u.At(1, 0, 2, 1) != 121 || !u.IsContiguous() {
		t.Fatalf("Unsqueeze: %v %v", u.Shape(), u.Strides())
	}
	if s := u.Squeeze(1); !sameShape(s.Shape(), x.Shape()) {
		t.Fatalf("Squeeze: %v", s.Shape())
	}
	tr := x.Transpose(0, 2)
	if tr.At(3, 2, 1) != 123 {
		t.Fatalf("Transpose: %v", tr.At(3, 2, 1))
	}
	// Reshape of a non-contiguous view copies and keeps row-major order.
	rt := tr.Reshape(-1)
	if rt.At(1) != 100 || rt.At(2) != 10 {
		t.Fatalf("Reshape of transpose: %v", rt)
	}
	// Broadcast gives stride 0 and no copy.
	b := FromFloat32([]float32{1, 2, 3}, 3, 1).BroadcastTo(2, 3, 5)
	if b.Strides()[0] != 0 || b.Strides()[2] != 0 || b.At(1, 2, 4) != 3 {
		t.Fatalf("BroadcastTo: %v %v", b.Strides(), b)
	}
}

func TestViewPanics(t *testing.T) {
	x := Zeros(2, 3)
	expectPanic(t, "Reshape", func() { x.Reshape(4, 2) })
	expectPanic(t, "Narrow", func() { x.Narrow(1, 2, 2) })
	expectPanic(t, "Permute", func() { x.Permute(0, 0) })
	expectPanic(t, "axis out of range", func() { x.Dim(2) })
	expectPanic(t, "BroadcastTo", func() { x.BroadcastTo(3, 3) })
	expectPanic(t, "do not broadcast", func() { x.Add(Zeros(2)) })
	expectPanic(t, "inner dimensions", func() { MatMul(nil, x, Zeros(2, 3)) })
	expectPanic(t, "FromFloat32", func() { FromFloat32(make([]float32, 5), 2, 3) })
	expectPanic(t, "negative", func() { Zeros(2, -1) })
}

// BF16 narrowing must round to nearest even, as torch's .to(torch.bfloat16).
func TestBF16Rounding(t *testing.T) {
	cases := []struct {
		in   uint32 // float32 bits
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1.0 exact
		{0x3f808000, 0x3f80}, // halfway, even below: stays
		{0x3f818000, 0x3f82}, // halfway, odd below: rounds up
		{0x3f808001, 0x3f81}, // above halfway
		{0x3f807fff, 0x3f80}, // below halfway
		{0x7f7fffff, 0x7f80}, // max float rounds to +Inf
		{0xff800000, 0xff80}, // -Inf
		{0x00000001, 0x0000}, // tiny subnormal to 0
	}
	for _, c := range cases {
		x := FromFloat32([]float32{math.Float32frombits(c.in)}, 1).To(BF16)
		if got := x.Bits()[0]; got != c.want {
			t.Errorf("bf16(%#08x) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	nan := FromFloat32([]float32{float32(math.NaN())}, 1).To(BF16).To(F32).At(0)
	if nan == nan {
		t.Error("NaN did not survive BF16")
	}
}

// F16 values checked against the IEEE binary16 bit patterns.
func TestF16(t *testing.T) {
	in := []float32{1, -2, 0.5, 65504, 1e-8, 0.1}
	want := []uint16{0x3c00, 0xc000, 0x3800, 0x7bff, 0x0000, 0x2e66}
	x := FromFloat32(in, 6).To(F16)
	for i, w := range want {
		if x.Bits()[i] != w {
			t.Errorf("f16(%v) = %#04x, want %#04x", in[i], x.Bits()[i], w)
		}
	}
	back := x.To(F32)
	if back.At(0) != 1 || back.At(3) != 65504 || math.Abs(float64(back.At(5))-0.1) > 1e-4 {
		t.Errorf("f16 round trip: %v", back)
	}
	// BF16 ↔ F16 goes through F32; At/Set on 16-bit tensors round the same way.
	h := x.To(BF16)
	if h.At(2) != 0.5 {
		t.Errorf("f16→bf16: %v", h)
	}
	h.Set(3, 1)
	if h.At(1) != 3 {
		t.Errorf("Set on bf16: %v", h.At(1))
	}
}

// Broadcasting ops against a float64 loop that computes every index by hand.
func TestBinaryBroadcast(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	a := randTensor(r, 3, 1, 5)
	b := randTensor(r, 4, 1)
	for _, op := range []BinaryOp{OpAdd, OpSub, OpMul, OpDiv, OpMax, OpMin} {
		got := Binary(op, a, b)
		if !sameShape(got.Shape(), []int{3, 4, 5}) {
			t.Fatalf("%v shape %v", op, got.Shape())
		}
		for i := 0; i < 3; i++ {
			for j := 0; j < 4; j++ {
				for k := 0; k < 5; k++ {
					x, y := float64(a.At(i, 0, k)), float64(b.At(j, 0))
					var want float64
					switch op {
					case OpAdd:
						want = x + y
					case OpSub:
						want = x - y
					case OpMul:
						want = x * y
					case OpDiv:
						want = x / y
					case OpMax:
						want = math.Max(x, y)
					case OpMin:
						want = math.Min(x, y)
					}
					if d := math.Abs(float64(got.At(i, j, k)) - want); d > 1e-6*math.Max(1, math.Abs(want)) {
						t.Fatalf("%v[%d,%d,%d] = %v, want %v", op, i, j, k, got.At(i, j, k), want)
					}
				}
			}
		}
	}
	// Non-contiguous operands (a transposed view) give the same as their copies.
	x := randTensor(r, 4, 6).Transpose(0, 1)
	y := randTensor(r, 6, 4)
	if d, _ := MaxAbsDiff(x.Mul(y), x.Contiguous().Mul(y)); d != 0 {
		t.Fatalf("strided Mul differs by %v", d)
	}
	if s := x.Scale(2).At(1, 2); s != 2*x.At(1, 2) {
		t.Fatalf("Scale: %v", s)
	}
}

func TestUnary(t *testing.T) {
	x := FromFloat32([]float32{-2, -0.5, 0, 0.5, 2}, 5)
	ref := map[UnaryOp]func(float64) float64{
		OpNeg:       func(v float64) float64 { return -v },
		OpAbs:       math.Abs,
		OpExp:       math.Exp,
		OpTanh:      math.Tanh,
		OpSigmoid:   func(v float64) float64 { return 1 / (1 + math.Exp(-v)) },
		OpRelu:      func(v float64) float64 { return math.Max(v, 0) },
		OpGelu:      func(v float64) float64 { return 0.5 * v * (1 + math.Erf(v/math.Sqrt2)) },
		OpQuickGelu: func(v float64) float64 { return v / (1 + math.Exp(-1.702*v)) },
	}
	for op, f := range ref {
		got := Unary(op, x)
		for i := 0; i < 5; i++ {
			want := f(float64(x.At(i)))
			if math.Abs(float64(got.At(i))-want) > 1e-6 {
				t.Errorf("%v(%v) = %v, want %v", op, x.At(i), got.At(i), want)
			}
		}
	}
	y := FromFloat32([]float32{4, 0.25}, 2)
	if s := Unary(OpSqrt, y); s.At(0) != 2 || s.At(1) != 0.5 {
		t.Errorf("Sqrt: %v", s)
	}
	if l := Unary(OpLog, Scalar(1)); l.At() != 0 {
		t.Errorf("Log(1) = %v", l)
	}
}

func TestReduce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := randTensor(r, 3, 4, 5).Permute(1, 2, 0) // non-contiguous [4,5,3]
	for axis := 0; axis < 3; axis++ {
		sum, mean, mx := x.Sum(axis, false), x.Mean(axis, true), x.Max(axis, false)
		am := x.ArgMax(axis)
		shape := x.Shape()
		n := shape[axis]
		// walk every output position
		other := []int{}
		for a := 0; a < 3; a++ {
			if a != axis {
				other = append(other, a)
			}
		}
		pos := 0
		for i := 0; i < shape[other[0]]; i++ {
			for j := 0; j < shape[other[1]]; j++ {
				var s float64
				best, bi := math.Inf(-1), 0
				for k := 0; k < n; k++ {
					idx := make([]int, 3)
					idx[other[0]], idx[other[1]], idx[axis] = i, j, k
					v := float64(x.At(idx...))
					s += v
					if v > best {
						best, bi = v, k
					}
				}
				if math.Abs(float64(sum.At(i, j))-s) > 1e-6 {
					t.Fatalf("Sum axis %d [%d,%d] = %v, want %v", axis, i, j, sum.At(i, j), s)
				}
				midx := []int{i, j}
				midx = append(midx[:axis], append([]int{0}, midx[axis:]...)...)
				if math.Abs(float64(mean.At(midx...))-s/float64(n)) > 1e-6 {
					t.Fatalf("Mean axis %d", axis)
				}
				if float64(mx.At(i, j)) != best || am[pos] != bi {
					t.Fatalf("Max/ArgMax axis %d [%d,%d]: %v/%d want %v/%d", axis, i, j, mx.At(i, j), am[pos], best, bi)
				}
				pos++
			}
		}
	}
}

func TestString(t *testing.T) {
	s := FromFloat32([]float32{1, 2, 3, 4, 5, 6, 7}, 7).String()
	if s != "Tensor(F32 [7] [1 2 3 4 5 6 …])" {
		t.Errorf("String = %q", s)
	}
}
