// This file decodes image files into RGB. It reads the header first and
// refuses images over a pixel limit before any pixel memory is allocated, and
// it turns decoder failures (including panics in third-party decoders) into
// errors that name the file and the cause. It does not handle animation: as
// PIL.Image.open does, it takes the first frame.

package imageproc

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// DefaultMaxPixels is Pillow's Image.MAX_IMAGE_PIXELS
// (1024*1024*1024 // 4 // 3), the size of a 1 GiB RGBA image.
const DefaultMaxPixels = 89_478_485

// ErrTooManyPixels is wrapped by the error for an image over the pixel limit.
var ErrTooManyPixels = errors.New("image exceeds the pixel limit")

// Decoder decodes PNG, JPEG, GIF, WebP, BMP and TIFF files into RGB.
type Decoder struct {
	// MaxPixels refuses images with more than this many pixels (width x
	// height, read from the header). 0 means DefaultMaxPixels; a negative
	// value disables the check.
	MaxPixels int64
}

// Decode decodes r with the default Decoder. name (usually the file name)
// prefixes error messages; "" reads as "image".
func Decode(r io.Reader, name string) (*RGB, error) {
	return Decoder{}.Decode(r, name)
}

// DecodeFile decodes the file at path with the default Decoder.
func DecodeFile(path string) (*RGB, error) {
	return Decoder{}.DecodeFile(path)
}

// DecodeFile decodes the file at path. Errors start with the file's base name.
func (d Decoder) DecodeFile(path string) (*RGB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError already names the file
	}
	defer f.Close()
	return d.Decode(f, filepath.Base(path))
}

// Decode reads all of r and decodes it: format sniffing by magic bytes, a
// header-only size check against MaxPixels, then full decoding and conversion
// to RGB (see FromImage).
func (d Decoder) Decode(r io.Reader, name string) (*RGB, error) {
	if name == "" {
		name = "image"
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", name, err)
	}
	return d.decodeBytes(data, name)
}

func (d Decoder) decodeBytes(data []byte, name string) (*RGB, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: empty file (0 bytes)", name)
	}
	fm := sniff(data)
	if fm == nil {
		n := min(len(data), 8)
		return nil, fmt.Errorf("%s: unknown image format (first bytes % x); supported: png, jpeg, gif, webp, bmp, tiff", name, data[:n])
	}
	cfg, err := safeDecodeConfig(fm, data)
	if err != nil {
		return nil, &decodeError{name, fm.name, err}
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%s: decode %s: invalid size %dx%d", name, fm.name, cfg.Width, cfg.Height)
	}
	limit := d.MaxPixels
	if limit == 0 {
		limit = DefaultMaxPixels
	}
	if px := int64(cfg.Width) * int64(cfg.Height); limit > 0 && px > limit {
		return nil, fmt.Errorf("%s: %s header says %dx%d = %d pixels, over the limit of %d: %w",
			name, fm.name, cfg.Width, cfg.Height, px, limit, ErrTooManyPixels)
	}
	img, err := safeDecode(fm, data)
	if err != nil {
		return nil, &decodeError{name, fm.name, err}
	}
	opt := convertOptions{pngGray16: fm.name == "png" && isPNGGray16(data)}
	out, err := fromImage(img, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// decodeError reads "<name>: decode <format>: <cause>", dropping the
// "<format>: " prefix Go's decoders put on their own messages.
type decodeError struct {
	name, format string
	err          error
}

func (e *decodeError) Error() string {
	return e.name + ": decode " + e.format + ": " + strings.TrimPrefix(e.err.Error(), e.format+": ")
}

func (e *decodeError) Unwrap() error { return e.err }

type format struct {
	name         string
	decode       func(io.Reader) (image.Image, error)
	decodeConfig func(io.Reader) (image.Config, error)
}

var (
	fmtPNG  = &format{"png", png.Decode, png.DecodeConfig}
	fmtJPEG = &format{"jpeg", jpeg.Decode, jpeg.DecodeConfig}
	fmtGIF  = &format{"gif", gif.Decode, gif.DecodeConfig}
	fmtWebP = &format{"webp", webp.Decode, webp.DecodeConfig}
	fmtBMP  = &format{"bmp", bmp.Decode, bmp.DecodeConfig}
	fmtTIFF = &format{"tiff", tiff.Decode, tiff.DecodeConfig}
)

// sniff picks the decoder from the magic bytes (the same signatures the
// decoders register with image.RegisterFormat), or returns nil.
func sniff(b []byte) *format {
	has := func(p string) bool { return bytes.HasPrefix(b, []byte(p)) }
	switch {
	case has("\x89PNG\r\n\x1a\n"):
		return fmtPNG
	case has("\xff\xd8"):
		return fmtJPEG
	case has("GIF87a"), has("GIF89a"):
		return fmtGIF
	case len(b) >= 12 && has("RIFF") && string(b[8:12]) == "WEBP":
		return fmtWebP
	case has("BM"):
		return fmtBMP
	case has("II*\x00"), has("MM\x00*"):
		return fmtTIFF
	}
	return nil
}

// isPNGGray16 reports whether a PNG's IHDR says 16-bit grayscale (color
// type 0). The signature is 8 bytes, then IHDR: length, "IHDR", width,
// height, bit depth (offset 24), color type (offset 25).
func isPNGGray16(b []byte) bool {
	return len(b) >= 26 && string(b[12:16]) == "IHDR" && b[24] == 16 && b[25] == 0
}

// safeDecodeConfig and safeDecode turn a decoder panic into an error.
func safeDecodeConfig(f *format, data []byte) (cfg image.Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic reading header: %v", r)
		}
	}()
	return f.decodeConfig(bytes.NewReader(data))
}

func safeDecode(f *format, data []byte) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("decoder panic: %v", r)
		}
	}()
	img, err = f.decode(bytes.NewReader(data))
	if err == nil && img == nil {
		err = errors.New("decoder returned no image")
	}
	return img, err
}
