// This file is CLIPImageProcessor.preprocess (transformers v4.36) on one RGB
// image: shortest-edge resize with Pillow's resampler, center crop, rescale,
// normalize, HWC -> CHW. It is not a batching data loader; ProcessBatch only
// concatenates.

package imageproc

import (
	"fmt"
	"image"
)

// Processor runs a validated Config. It is safe for concurrent use.
type Processor struct {
	cfg Config
	// lut[c][v] is the final float32 value for 8-bit value v in channel c,
	// computed with exactly the per-pixel casts of the Python processor, so
	// looking it up is bit-identical to computing it.
	lut [3][256]float32
}

// NewProcessor validates cfg and prepares a Processor.
func NewProcessor(cfg Config) (*Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Processor{cfg: cfg}
	for c := 0; c < 3; c++ {
		mean, std := float32(cfg.ImageMean[c]), float32(cfg.ImageStd[c])
		for v := 0; v < 256; v++ {
			p.lut[c][v] = pixelValue(uint8(v), cfg.DoRescale, cfg.RescaleFactor, cfg.DoNormalize, mean, std)
		}
	}
	return p, nil
}

// pixelValue is steps 5 and 6 of the processor for one sample:
// rescale: numpy multiplies the uint8 array by a Python float in float64 and
// casts the product to float32; normalize: (x - mean) / std in float32 with
// float32 mean and std. Without rescale, normalize casts the uint8 to float32.
func pixelValue(v uint8, doRescale bool, factor float64, doNormalize bool, mean, std float32) float32 {
	x := float32(v)
	if doRescale {
		x = float32(float64(v) * factor)
	}
	if doNormalize {
		d := x - mean
		x = d / std
	}
	return x
}

// Config returns the processor's configuration.
func (p *Processor) Config() Config { return p.cfg }

// ResizeOutputSize is the size the resize step produces for a w x h input
// (transformers get_resize_output_image_size with default_to_square=False):
// the short side becomes s.ShortestEdge and the long side
// int(ShortestEdge * long / short), truncated, in float64 as Python computes
// it. With s.Height and s.Width set, it is exactly that size.
func ResizeOutputSize(w, h int, s Size) (outW, outH int) {
	if s.ShortestEdge <= 0 {
		return s.Width, s.Height
	}
	short, long := h, w
	if w <= h {
		short, long = w, h
	}
	newLong := int(float64(s.ShortestEdge*long) / float64(short))
	if w <= h {
		return s.ShortestEdge, newLong
	}
	return newLong, s.ShortestEdge
}

// OutputSize is the width and height of the pixel values Process returns for
// a w x h image: 3 x outH x outW floats.
func (p *Processor) OutputSize(w, h int) (outW, outH int) {
	if p.cfg.DoResize {
		w, h = ResizeOutputSize(w, h, p.cfg.Size)
	}
	if p.cfg.DoCenterCrop {
		w, h = p.cfg.CropWidth, p.cfg.CropHeight
	}
	return w, h
}

// CenterCrop takes the h x w window at offsets top = (H-h)//2,
// left = (W-w)//2 (floor), as transformers' center_crop does. Where the image
// is smaller than the window it is first zero-padded to cover it, centered
// with ceil((crop-size)/2) before (transformers' current formula; older
// releases used floor there). The GIT processors never reach that case because
// the resize makes the short side at least the crop size.
func CenterCrop(img *RGB, h, w int) (*RGB, error) {
	if err := img.check(); err != nil {
		return nil, err
	}
	if h <= 0 || w <= 0 {
		return nil, fmt.Errorf("center crop to %dx%d: size must be positive", w, h)
	}
	top := floorDiv(img.H-h, 2)
	left := floorDiv(img.W-w, 2)
	// With transformers' padding the window always covers source rows
	// top..top+h-1 and columns left..left+w-1; rows and columns outside the
	// image are the zero padding.
	out := &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	x0, x1 := max(0, -left), min(w, img.W-left) // output columns inside img
	for y := 0; y < h; y++ {
		sy := top + y
		if sy < 0 || sy >= img.H || x0 >= x1 {
			continue
		}
		src := img.Pix[(sy*img.W+left+x0)*3 : (sy*img.W+left+x1)*3]
		copy(out.Pix[(y*w+x0)*3:(y*w+x1)*3], src)
	}
	return out, nil
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Prepare runs the integer steps (resize, center crop) and returns the 8-bit
// image that Normalize turns into pixel values. With both steps on it
// resizes only the window the crop keeps (the same bytes), so an image far
// from square, whose resized long side may run to millions of pixels, costs
// no more than the crop. A resized image that is itself the output may not
// exceed DefaultMaxPixels.
func (p *Processor) Prepare(img *RGB) (*RGB, error) {
	if err := img.check(); err != nil {
		return nil, err
	}
	if !p.cfg.DoResize {
		if p.cfg.DoCenterCrop {
			return CenterCrop(img, p.cfg.CropHeight, p.cfg.CropWidth)
		}
		return img, nil
	}
	w, h := ResizeOutputSize(img.W, img.H, p.cfg.Size)
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("resize %dx%d image: output size %dx%d is empty", img.W, img.H, w, h)
	}
	if !p.cfg.DoCenterCrop {
		if px := int64(w) * int64(h); px > DefaultMaxPixels {
			return nil, fmt.Errorf("resize %dx%d image to %dx%d = %d pixels, over the pixel limit of %d: %w",
				img.W, img.H, w, h, px, int64(DefaultMaxPixels), ErrTooManyPixels)
		}
		return Resize(img, w, h, p.cfg.Resample)
	}
	// The crop window in resized coordinates (CenterCrop's offsets), and
	// the part of it inside the resized image; the rest is zero padding.
	ch, cw := p.cfg.CropHeight, p.cfg.CropWidth
	top, left := floorDiv(h-ch, 2), floorDiv(w-cw, 2)
	win := image.Rect(left, top, left+cw, top+ch)
	in := win.Intersect(image.Rect(0, 0, w, h))
	part, err := resizeWindow(img, w, h, p.cfg.Resample, in)
	if err != nil {
		return nil, err
	}
	if in == win {
		return part, nil
	}
	out := &RGB{W: cw, H: ch, Pix: make([]uint8, cw*ch*3)}
	x0, y0 := in.Min.X-left, in.Min.Y-top
	for y := 0; y < part.H; y++ {
		copy(out.Pix[((y0+y)*cw+x0)*3:], part.Pix[y*part.W*3:(y+1)*part.W*3])
	}
	return out, nil
}

// Normalize writes the rescaled, normalized CHW float32 values of img into
// dst, which must hold 3*img.W*img.H values, and returns dst.
func (p *Processor) Normalize(dst []float32, img *RGB) []float32 {
	n := img.W * img.H
	if len(dst) != 3*n || len(img.Pix) != 3*n {
		panic(fmt.Sprintf("imageproc: Normalize: dst has %d values and image %d bytes, want %d", len(dst), len(img.Pix), 3*n))
	}
	r, g, b := dst[:n], dst[n:2*n], dst[2*n:3*n]
	lr, lg, lb := &p.lut[0], &p.lut[1], &p.lut[2]
	pix := img.Pix[:3*n]
	for i := range r {
		r[i] = lr[pix[3*i]]
		g[i] = lg[pix[3*i+1]]
		b[i] = lb[pix[3*i+2]]
	}
	return dst
}

// Process returns pixel_values for one image: float32, CHW, 3 x H x W with
// (W, H) = p.OutputSize(img.W, img.H) (3 x 224 x 224 for git-base).
func (p *Processor) Process(img *RGB) ([]float32, error) {
	m, err := p.Prepare(img)
	if err != nil {
		return nil, err
	}
	return p.Normalize(make([]float32, 3*m.W*m.H), m), nil
}

// ProcessBatch processes every image and concatenates the results as
// [B, 3, H, W]. All outputs must have the same size (always true with a
// center crop); OutputSize gives it.
func (p *Processor) ProcessBatch(imgs []*RGB) ([]float32, error) {
	var pixels []float32
	var h, w int
	for i, img := range imgs {
		m, err := p.Prepare(img)
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", i, err)
		}
		if i == 0 {
			h, w = m.H, m.W
			pixels = make([]float32, len(imgs)*3*h*w)
		} else if m.H != h || m.W != w {
			return nil, fmt.Errorf("image %d: processed size %dx%d differs from image 0's %dx%d; a batch needs one size (enable center crop)", i, m.W, m.H, w, h)
		}
		p.Normalize(pixels[i*3*h*w:(i+1)*3*h*w], m)
	}
	return pixels, nil
}

// ProcessFile decodes the file at path with the default Decoder and processes it.
func (p *Processor) ProcessFile(path string) ([]float32, error) {
	img, err := DecodeFile(path)
	if err != nil {
		return nil, err
	}
	return p.Process(img)
}
