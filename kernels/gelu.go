package kernels

// Elementwise activations and their derivatives: the exact (erf) GELU of
// torch.nn.GELU() used by the BERT-style text layers, and the QuickGELU of
// HF CLIP used by the vision tower. Reference versions: each element goes
// through float64 math.Erfc / math.Exp.

import "math"

// Gelu computes the exact GELU, as torch.nn.GELU() with approximate="none":
//
//	for i := range x {
//		out[i] = 0.5 * x[i] * (1 + erf(x[i]/√2))
//	}
//
// evaluated as 0.5·x·erfc(−x/√2), which keeps full relative precision for
// negative x. out may be x itself. It panics if len(out) < len(x).
func Gelu(out, x []float32) {
	checkLen("Gelu", "out", out, len(x))
	vecSelected().gelu(out[:len(x)], x)
}

func geluGeneric(out, x []float32) {
	out = out[:len(x)]
	for i, v := range x {
		f := float64(v)
		out[i] = float32(0.5 * f * math.Erfc(-f*(1/math.Sqrt2)))
	}
}

// GeluBackward accumulates the gradient of Gelu:
//
//	for i := range x {
//		cdf := 0.5 * (1 + erf(x[i]/√2))
//		pdf := exp(-x[i]²/2) / √(2π)
//		dx[i] += dout[i] * (cdf + x[i]*pdf)
//	}
//
// It panics if dx or dout is shorter than x.
func GeluBackward(dx, x, dout []float32) {
	checkLen("GeluBackward", "dx", dx, len(x))
	checkLen("GeluBackward", "dout", dout, len(x))
	dx, dout = dx[:len(x)], dout[:len(x)]
	const invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
	for i, v := range x {
		f := float64(v)
		cdf := 0.5 * math.Erfc(-f*(1/math.Sqrt2))
		pdf := invSqrt2Pi * math.Exp(-0.5*f*f)
		dx[i] += float32(float64(dout[i]) * (cdf + f*pdf))
	}
}

// quickGeluAlpha is the slope of HF's quick_gelu: x·sigmoid(1.702·x).
const quickGeluAlpha = 1.702

// QuickGelu computes HF CLIP's quick_gelu:
//
//	for i := range x {
//		out[i] = x[i] * sigmoid(1.702*x[i])   // sigmoid(z) = 1/(1+exp(-z))
//	}
//
// out may be x itself. It panics if len(out) < len(x).
func QuickGelu(out, x []float32) {
	checkLen("QuickGelu", "out", out, len(x))
	vecSelected().quickGelu(out[:len(x)], x)
}

func quickGeluGeneric(out, x []float32) {
	out = out[:len(x)]
	for i, v := range x {
		f := float64(v)
		out[i] = float32(f / (1 + math.Exp(-quickGeluAlpha*f)))
	}
}

// QuickGeluBackward accumulates the gradient of QuickGelu:
//
//	for i := range x {
//		s := sigmoid(1.702*x[i])
//		dx[i] += dout[i] * (s + 1.702*x[i]*s*(1-s))
//	}
//
// It panics if dx or dout is shorter than x.
func QuickGeluBackward(dx, x, dout []float32) {
	checkLen("QuickGeluBackward", "dx", dx, len(x))
	checkLen("QuickGeluBackward", "dout", dout, len(x))
	dx, dout = dx[:len(x)], dout[:len(x)]
	for i, v := range x {
		f := float64(v)
		s := 1 / (1 + math.Exp(-quickGeluAlpha*f))
		dx[i] += float32(float64(dout[i]) * (s + quickGeluAlpha*f*s*(1-s)))
	}
}
