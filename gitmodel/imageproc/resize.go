// This file is a port of Pillow 9.4's 8-bit convolution resampler
// (libImaging/Resample.c: precompute_coeffs, normalize_coeffs_8bpc,
// ImagingResampleHorizontal_8bpc, ImagingResampleVertical_8bpc,
// ImagingResampleInner) for RGB images, as PIL.Image.resize runs it with
// box = (0, 0, w, h) and reducing_gap = None. It is not a general image
// scaler: it reproduces Pillow's bytes, including its fixed-point rounding.
// Pillow's NEAREST mode takes a different code path and is not provided.

package imageproc

import (
	"fmt"
	"image"
	"math"
)

// Resample is a PIL resampling filter number, as stored in
// preprocessor_config.json's "resample".
type Resample int

// PIL.Image.Resampling values.
const (
	Nearest  Resample = 0 // not supported (Pillow does not convolve for it)
	Lanczos  Resample = 1
	Bilinear Resample = 2
	Bicubic  Resample = 3
	Box      Resample = 4
	Hamming  Resample = 5
)

// String returns the PIL name of the filter.
func (r Resample) String() string {
	switch r {
	case Nearest:
		return "nearest"
	case Lanczos:
		return "lanczos"
	case Bilinear:
		return "bilinear"
	case Bicubic:
		return "bicubic"
	case Box:
		return "box"
	case Hamming:
		return "hamming"
	}
	return fmt.Sprintf("Resample(%d)", int(r))
}

// filterSpec is Pillow's struct filter: the kernel and its support at scale 1.
type filterSpec struct {
	kernel  func(x float64) float64
	support float64
}

// filter returns the kernel for r. Bicubic, bilinear and box are exact
// ports (only + - * on doubles). Lanczos and hamming call sin/cos, where Go's
// math package may differ from the C library in the last bit, so on rare
// pixels they can differ from Pillow by one level.
func (r Resample) filter() (filterSpec, error) {
	switch r {
	case Bicubic:
		return filterSpec{bicubicKernel, 2}, nil
	case Bilinear:
		return filterSpec{bilinearKernel, 1}, nil
	case Box:
		return filterSpec{boxKernel, 0.5}, nil
	case Lanczos:
		return filterSpec{lanczosKernel, 3}, nil
	case Hamming:
		return filterSpec{hammingKernel, 1}, nil
	case Nearest:
		return filterSpec{}, fmt.Errorf("resample 0 (nearest) is not supported; supported: 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming")
	}
	return filterSpec{}, fmt.Errorf("unknown resample %d; supported: 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming", int(r))
}

// The explicit float64(...) conversions around products in this file stop
// the Go compiler from fusing a multiply and an add into one FMA instruction
// (the spec allows it, even across statements, and it does so on arm64);
// Pillow's C code rounds after every operation, and so must we.

func bicubicKernel(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		// ((a + 2.0) * x - (a + 3.0)) * x * x + 1
		t := float64((a+2.0)*x) - (a + 3.0)
		return float64(float64(t*x)*x) + 1
	}
	if x < 2 {
		// (((x - 5) * x + 8) * x - 4) * a
		t := float64((x-5)*x) + 8
		t = float64(t*x) - 4
		return float64(t * a)
	}
	return 0
}

func bilinearKernel(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return 1 - x
	}
	return 0
}

func boxKernel(x float64) float64 {
	if x > -0.5 && x <= 0.5 {
		return 1
	}
	return 0
}

func sincKernel(x float64) float64 {
	if x == 0 {
		return 1
	}
	x = x * math.Pi
	return math.Sin(x) / x
}

func lanczosKernel(x float64) float64 {
	if -3 <= x && x < 3 {
		return float64(sincKernel(x) * sincKernel(x/3))
	}
	return 0
}

func hammingKernel(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x == 0 {
		return 1
	}
	if x >= 1 {
		return 0
	}
	x = x * math.Pi
	return float64(float64(math.Sin(x)/x) * (0.54 + float64(0.46*math.Cos(x))))
}

// precisionBits is Pillow's PRECISION_BITS (32 - 8 - 2): coefficients are
// fixed point with 22 fractional bits.
const precisionBits = 32 - 8 - 2

// coeffs holds one axis' filter taps: output sample i reads input samples
// [start[i], start[i]+count[i]) with weights k[i*ksize : i*ksize+count[i]].
type coeffs struct {
	ksize int
	start []int
	count []int
	k     []int32
}

// precomputeCoeffs is Pillow's precompute_coeffs followed by
// normalize_coeffs_8bpc, for the box [0, inSize).
func precomputeCoeffs(inSize, outSize int, f filterSpec) coeffs {
	return precomputeCoeffsRange(inSize, outSize, f, 0, outSize)
}

// precomputeCoeffsRange is precomputeCoeffs for output samples [from, to)
// only: entry i of the result is output sample from+i. Each sample's taps
// depend only on its own index and the two sizes, so they are the same
// numbers the full table holds.
func precomputeCoeffsRange(inSize, outSize int, f filterSpec, from, to int) coeffs {
	scale := float64(inSize) / float64(outSize)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := float64(f.support * filterscale)
	ksize := int(math.Ceil(support))*2 + 1
	n := to - from
	c := coeffs{
		ksize: ksize,
		start: make([]int, n),
		count: make([]int, n),
		k:     make([]int32, n*ksize),
	}
	w := make([]float64, ksize)
	ss := 1.0 / filterscale
	for i := 0; i < n; i++ {
		xx := from + i
		center := float64((float64(xx) + 0.5) * scale)
		// C's (int) conversion truncates toward zero, as Go's does.
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			v := f.kernel(float64(float64(float64(x+xmin)-center+0.5) * ss))
			w[x] = v
			ww += v
		}
		k := c.k[i*ksize : i*ksize+ksize]
		for x := 0; x < xmax; x++ {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			// normalize_coeffs_8bpc: round half away from zero.
			if v < 0 {
				k[x] = int32(-0.5 + float64(v*(1<<precisionBits)))
			} else {
				k[x] = int32(0.5 + float64(v*(1<<precisionBits)))
			}
		}
		c.start[i] = xmin
		c.count[i] = xmax
	}
	return c
}

// clip8 is Pillow's clip8: the accumulator carries 22 fractional bits.
func clip8(v int32) uint8 {
	if v >= 1<<precisionBits<<8 {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return uint8(v >> precisionBits)
}

// Resize scales img to w x h with Pillow's convolution resampler, giving the
// same bytes as PIL's Image.resize((w, h), resample=filter) on an RGB image.
// Like Pillow it runs a horizontal pass (only when the width changes) into an
// 8-bit intermediate holding just the rows the vertical pass reads, then a
// vertical pass (only when the height changes).
func Resize(img *RGB, w, h int, filter Resample) (*RGB, error) {
	return resizeWindow(img, w, h, filter, image.Rect(0, 0, w, h))
}

// resizeWindow returns the part r of Resize(img, w, h, filter), computing
// only what r needs: every output pixel of Pillow's two passes depends on its
// own coordinates and the sizes alone, so the window's bytes are exactly the
// full resize's. r must lie inside w x h and not be empty.
func resizeWindow(img *RGB, w, h int, filter Resample, r image.Rectangle) (*RGB, error) {
	f, err := filter.filter()
	if err != nil {
		return nil, err
	}
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("resize to %dx%d: size must be positive", w, h)
	}
	if err := img.check(); err != nil {
		return nil, err
	}
	if img.W == 0 || img.H == 0 {
		return nil, fmt.Errorf("resize %dx%d image: empty input", img.W, img.H)
	}
	if r.Empty() || !r.In(image.Rect(0, 0, w, h)) {
		return nil, fmt.Errorf("resize %dx%d image to %dx%d: window %v is empty or outside", img.W, img.H, w, h, r)
	}
	rw, rh := r.Dx(), r.Dy()
	needH := w != img.W
	needV := h != img.H
	// Rows [first, last) of the input feed the window's rows.
	first, last := r.Min.Y, r.Max.Y
	var vert coeffs
	if needV {
		vert = precomputeCoeffsRange(img.H, h, f, r.Min.Y, r.Max.Y)
		first = vert.start[0]
		last = vert.start[rh-1] + vert.count[rh-1]
		for i := range vert.start {
			vert.start[i] -= first
		}
	}
	src := &RGB{W: rw, H: last - first, Pix: make([]uint8, rw*(last-first)*3)}
	if needH {
		horiz := precomputeCoeffsRange(img.W, w, f, r.Min.X, r.Max.X)
		resampleHorizontal(src, img, first, horiz)
	} else {
		for y := first; y < last; y++ {
			copy(src.Pix[(y-first)*rw*3:(y-first+1)*rw*3], img.Pix[(y*img.W+r.Min.X)*3:(y*img.W+r.Max.X)*3])
		}
	}
	if !needV {
		return src, nil
	}
	out := &RGB{W: rw, H: rh, Pix: make([]uint8, rw*rh*3)}
	resampleVertical(out, src, vert)
	return out, nil
}

// resampleHorizontal fills every row of out from row y+offset of in.
func resampleHorizontal(out, in *RGB, offset int, c coeffs) {
	const half = 1 << (precisionBits - 1)
	for y := 0; y < out.H; y++ {
		srow := in.Pix[(y+offset)*in.W*3 : (y+offset+1)*in.W*3]
		drow := out.Pix[y*out.W*3 : (y+1)*out.W*3]
		for x := 0; x < out.W; x++ {
			k := c.k[x*c.ksize : x*c.ksize+c.count[x]]
			s := srow[c.start[x]*3 : (c.start[x]+len(k))*3]
			var r, g, b int32 = half, half, half
			for i, kv := range k {
				p := s[i*3 : i*3+3 : i*3+3]
				r += int32(p[0]) * kv
				g += int32(p[1]) * kv
				b += int32(p[2]) * kv
			}
			d := drow[x*3 : x*3+3 : x*3+3]
			d[0], d[1], d[2] = clip8(r), clip8(g), clip8(b)
		}
	}
}

// resampleVertical computes out row y from rows c.start[y]... of in. The
// accumulators run along a row so the inner loop walks memory in order.
func resampleVertical(out, in *RGB, c coeffs) {
	const half = 1 << (precisionBits - 1)
	n := out.W * 3
	acc := make([]int32, n)
	for y := 0; y < out.H; y++ {
		for i := range acc {
			acc[i] = half
		}
		k := c.k[y*c.ksize : y*c.ksize+c.count[y]]
		for i, kv := range k {
			row := in.Pix[(c.start[y]+i)*n : (c.start[y]+i+1)*n]
			row = row[:len(acc)]
			for j, p := range row {
				acc[j] += int32(p) * kv
			}
		}
		drow := out.Pix[y*n : (y+1)*n]
		drow = drow[:len(acc)]
		for j, v := range acc {
			drow[j] = clip8(v)
		}
	}
}
