// This file converts decoded Go images to 8-bit RGB the way Pillow's
// Image.convert("RGB") does. It is not a color-managed conversion: like PIL,
// it ignores ICC profiles, gamma chunks and EXIF orientation.

package imageproc

import (
	"fmt"
	"image"
	"image/color"
)

// RGB is an 8-bit RGB image, row-major HWC: the pixel at (x, y) is
// Pix[(y*W+x)*3 : (y*W+x)*3+3] = R, G, B. len(Pix) == W*H*3.
type RGB struct {
	W, H int
	Pix  []uint8
}

func (m *RGB) check() error {
	if m == nil {
		return fmt.Errorf("nil image")
	}
	if m.W < 0 || m.H < 0 || len(m.Pix) != m.W*m.H*3 {
		return fmt.Errorf("malformed RGB image: %dx%d with %d bytes (want W*H*3)", m.W, m.H, len(m.Pix))
	}
	return nil
}

// convertOptions carries facts about the encoded file that the decoded Go
// image no longer shows.
type convertOptions struct {
	// pngGray16 is set for 16-bit grayscale PNGs. Pillow opens them in mode
	// "I" and convert("RGB") clips each value to 255 (it does not scale), so
	// most of such an image turns white. We reproduce that.
	pngGray16 bool
}

// FromImage converts any image.Image to RGB as Pillow's convert("RGB")
// would for the same decoded data:
//   - gray is replicated to R = G = B;
//   - alpha is dropped without compositing: non-premultiplied colors
//     (image.NRGBA, NRGBA64, palette entries with alpha) are taken as stored;
//     premultiplied ones (image.RGBA, RGBA64) are un-premultiplied first, as
//     Pillow's "RGBa" unpacker does (c*255/a, 0 where a = 0);
//   - palettes are expanded through the palette (a palette entry's alpha is
//     ignored);
//   - 16-bit samples keep their high byte (Pillow's ";16B" unpackers), except
//     16-bit grayscale (image.Gray16), which Pillow holds in mode "I" and clips
//     to 255 when converting;
//   - YCbCr uses Go's color.YCbCrToRGB (JFIF, full range). Go's JPEG decoder
//     differs from libjpeg-turbo (IDCT and chroma upsampling), so JPEG pixels
//     differ from PIL's by a few levels; see the package documentation;
//   - CMYK uses Pillow's cmyk2rgb: R = clip(nk - nk*C/255) with nk = 255-K.
//
// Images whose bounds do not start at (0, 0) are translated.
func FromImage(img image.Image) (*RGB, error) {
	return fromImage(img, convertOptions{})
}

func fromImage(img image.Image, opt convertOptions) (*RGB, error) {
	if img == nil {
		return nil, fmt.Errorf("nil image")
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("empty image (%dx%d)", w, h)
	}
	out := &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	dst := out.Pix
	switch m := img.(type) {
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			d := dst[y*w*3 : (y+1)*w*3]
			for x := 0; x < w; x++ {
				d[3*x], d[3*x+1], d[3*x+2] = s[4*x], s[4*x+1], s[4*x+2]
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			d := dst[y*w*3 : (y+1)*w*3]
			for x := 0; x < w; x++ {
				d[3*x], d[3*x+1], d[3*x+2] = unpremul8(s[4*x], s[4*x+1], s[4*x+2], s[4*x+3])
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			d := dst[y*w*3 : (y+1)*w*3]
			for x := 0; x < w; x++ {
				v := s[x]
				d[3*x], d[3*x+1], d[3*x+2] = v, v, v
			}
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			d := dst[y*w*3 : (y+1)*w*3]
			for x := 0; x < w; x++ {
				v := clipGray16(s[2*x], s[2*x+1])
				d[3*x], d[3*x+1], d[3*x+2] = v, v, v
			}
		}
	case *image.NRGBA64:
		for y := 0; y < h; y++ {
			s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			d := dst[y*w*3 : (y+1)*w*3]
			for x := 0; x < w; x++ {
				if opt.pngGray16 {
					// 16-bit gray with a tRNS chunk: Go widens it to NRGBA64.
					v := clipGray16(s[8*x], s[8*x+1])
					d[3*x], d[3*x+1], d[3*x+2] = v, v, v
					continue
				}
				d[3*x], d[3*x+1], d[3*x+2] = s[8*x], s[8*x+2], s[8*x+4]
			}
		}
	case *image.RGBA64:
		for y := 0; y < h; y++ {
			s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			d := dst[y*w*3 : (y+1)*w*3]
			for x := 0; x < w; x++ {
				if s[8*x+6] == 0xff && s[8*x+7] == 0xff {
					d[3*x], d[3*x+1], d[3*x+2] = s[8*x], s[8*x+2], s[8*x+4]
					continue
				}
				c := color.NRGBA64Model.Convert(m.RGBA64At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
				d[3*x], d[3*x+1], d[3*x+2] = uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8)
			}
		}
	case *image.Paletted:
		var lut [256][3]uint8
		for i, c := range m.Palette {
			if i >= len(lut) {
				break
			}
			lut[i] = paletteRGB(c)
		}
		for y := 0; y < h; y++ {
			s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			d := dst[y*w*3 : (y+1)*w*3]
			for x := 0; x < w; x++ {
				// An index past the palette reads as black, as Go's At does.
				p := lut[s[x]]
				d[3*x], d[3*x+1], d[3*x+2] = p[0], p[1], p[2]
			}
		}
	case *image.YCbCr:
		ycbcrToRGB(dst, m, b)
	case *image.NYCbCrA:
		ycbcrToRGB(dst, &m.YCbCr, b)
	case *image.CMYK:
		for y := 0; y < h; y++ {
			s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			d := dst[y*w*3 : (y+1)*w*3]
			for x := 0; x < w; x++ {
				nk := 255 - int(s[4*x+3])
				d[3*x] = cmykChannel(s[4*x], nk)
				d[3*x+1] = cmykChannel(s[4*x+1], nk)
				d[3*x+2] = cmykChannel(s[4*x+2], nk)
			}
		}
	default:
		// Anything else goes through the non-premultiplied 16-bit model.
		for y := 0; y < h; y++ {
			d := dst[y*w*3 : (y+1)*w*3]
			for x := 0; x < w; x++ {
				c := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
				d[3*x], d[3*x+1], d[3*x+2] = uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8)
			}
		}
	}
	return out, nil
}

// ycbcrToRGB converts without chroma interpolation: each pixel uses the
// chroma sample that covers it, exactly as image.YCbCr.At does.
func ycbcrToRGB(dst []uint8, m *image.YCbCr, b image.Rectangle) {
	w := b.Dx()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		d := dst[(y-b.Min.Y)*w*3 : (y-b.Min.Y+1)*w*3]
		yi := m.YOffset(b.Min.X, y)
		for x := b.Min.X; x < b.Max.X; x++ {
			ci := m.COffset(x, y)
			r, g, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			i := 3 * (x - b.Min.X)
			d[i], d[i+1], d[i+2] = r, g, bb
			yi++
		}
	}
}

// unpremul8 is Pillow's unpackRGBa: c*255/a clipped, black where a == 0.
func unpremul8(r, g, b, a uint8) (uint8, uint8, uint8) {
	switch a {
	case 255:
		return r, g, b
	case 0:
		return 0, 0, 0
	}
	f := func(c uint8) uint8 {
		v := int(c) * 255 / int(a)
		if v > 255 {
			v = 255
		}
		return uint8(v)
	}
	return f(r), f(g), f(b)
}

// clipGray16 is Pillow's i2rgb on a big-endian 16-bit sample: clip to 255.
func clipGray16(hi, lo uint8) uint8 {
	if hi != 0 {
		return 255
	}
	return lo
}

// cmykChannel is one channel of Pillow's cmyk2rgb: CLIP8(nk - MULDIV255(c, nk)).
func cmykChannel(c uint8, nk int) uint8 {
	tmp := int(c)*nk + 128
	v := nk - ((tmp>>8)+tmp)>>8
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// paletteRGB returns a palette entry's color without its alpha.
func paletteRGB(c color.Color) [3]uint8 {
	switch p := c.(type) {
	case color.NRGBA:
		return [3]uint8{p.R, p.G, p.B}
	case color.RGBA:
		r, g, b := unpremul8(p.R, p.G, p.B, p.A)
		return [3]uint8{r, g, b}
	case nil:
		return [3]uint8{}
	}
	n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
	return [3]uint8{uint8(n.R >> 8), uint8(n.G >> 8), uint8(n.B >> 8)}
}
