package imageproc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// pngHeader returns a PNG signature and an IHDR chunk with a valid CRC and
// nothing else.
func pngHeader(w, h uint32, bitDepth, colorType uint8) []byte {
	chunk := []byte("IHDR")
	chunk = binary.BigEndian.AppendUint32(chunk, w)
	chunk = binary.BigEndian.AppendUint32(chunk, h)
	chunk = append(chunk, bitDepth, colorType, 0, 0, 0)
	b := []byte("\x89PNG\r\n\x1a\n")
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantErr checks that err is non-nil and contains every fragment.
func wantErr(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Fatalf("error %q does not contain %q", err, f)
		}
	}
	t.Logf("error: %v", err)
}

func TestDecodeTruncatedJPEG(t *testing.T) {
	data, err := os.ReadFile("testdata/rocket.jpg")
	if err != nil {
		t.Fatal(err)
	}
	_, err = DecodeFile(writeTemp(t, "rocket.jpg", data[:len(data)/2]))
	// Go reports "invalid JPEG format: short Huffman data" or "unexpected
	// EOF" depending on where the data stops.
	wantErr(t, err, "rocket.jpg: decode jpeg: ")
}

func TestDecodeTruncatedPNG(t *testing.T) {
	data, err := os.ReadFile("testdata/chelsea.png")
	if err != nil {
		t.Fatal(err)
	}
	_, err = DecodeFile(writeTemp(t, "chelsea.png", data[:len(data)-5000]))
	wantErr(t, err, "chelsea.png: decode png: ")
}

func TestDecodeEmptyFile(t *testing.T) {
	_, err := DecodeFile(writeTemp(t, "empty.png", nil))
	wantErr(t, err, "empty.png: ", "empty file")
}

func TestDecodeMissingFile(t *testing.T) {
	_, err := DecodeFile(filepath.Join(t.TempDir(), "nope.jpg"))
	wantErr(t, err, "nope.jpg")
}

func TestDecodeGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	junk[0] = 'x' // no magic
	_, err := DecodeFile(writeTemp(t, "garbage.jpg", junk))
	wantErr(t, err, "garbage.jpg: unknown image format")

	// Valid magic bytes followed by junk reach each decoder. The error names
	// the file and either the decoder's complaint or, where the junk header
	// reads as a huge size, the pixel limit.
	for _, c := range []struct{ magic, format string }{
		{"\x89PNG\r\n\x1a\n", "png"},
		{"\xff\xd8", "jpeg"},
		{"GIF89a", "gif"},
		{"RIFF\x00\x10\x00\x00WEBP", "webp"},
		{"BM", "bmp"},
		{"II*\x00", "tiff"},
		{"MM\x00*", "tiff"},
	} {
		data := append([]byte(c.magic), junk[:512]...)
		_, err := Decode(bytes.NewReader(data), "junk."+c.format)
		wantErr(t, err, "junk."+c.format+": ")
		if !strings.Contains(err.Error(), "decode "+c.format+": ") && !errors.Is(err, ErrTooManyPixels) {
			t.Fatalf("unexpected error %v", err)
		}
	}
}

func TestDecodeHugePNGHeaderRefusedFast(t *testing.T) {
	path := writeTemp(t, "huge.png", pngHeader(100000, 100000, 8, 2))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := DecodeFile(path)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	wantErr(t, err, "huge.png: ", "100000x100000", "limit")
	if !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("error %v does not wrap ErrTooManyPixels", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Fatalf("refusing the header allocated %d bytes", alloc)
	}
	if elapsed > time.Second {
		t.Fatalf("refusing the header took %v", elapsed)
	}
}

func TestDecodeMaxPixelsConfigurable(t *testing.T) {
	data, err := os.ReadFile("testdata/chelsea.png") // 451x300
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decoder{MaxPixels: 451*300 - 1}.Decode(bytes.NewReader(data), "chelsea.png")
	if !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("got %v, want ErrTooManyPixels", err)
	}
	if _, err := (Decoder{MaxPixels: 451 * 300}).Decode(bytes.NewReader(data), "chelsea.png"); err != nil {
		t.Fatal(err)
	}
	if _, err := (Decoder{MaxPixels: -1}).Decode(bytes.NewReader(data), "chelsea.png"); err != nil {
		t.Fatal(err)
	}
}

// TestDecodeCorruptedNoPanic mangles the golden files (truncation, byte
// flips); decoding may succeed or fail but must not panic.
func TestDecodeCorruptedNoPanic(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.[jp][pn]g")
	rng := rand.New(rand.NewPCG(3, 4))
	d := Decoder{MaxPixels: 4 << 20}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 6; i++ {
			b := append([]byte(nil), data[:rng.IntN(len(data))]...)
			for j := 0; j < 3 && len(b) > 0; j++ {
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
			}
			if img, err := d.Decode(bytes.NewReader(b), filepath.Base(f)); err == nil {
				if img.check() != nil {
					t.Fatalf("%s: malformed result", f)
				}
			} else if !strings.HasPrefix(err.Error(), filepath.Base(f)+": ") {
				t.Fatalf("error %q does not start with the file name", err)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(pngHeader(3, 2, 8, 6))
	f.Add([]byte("\xff\xd8\xff\xe0"))
	f.Add([]byte("GIF89a\x01\x00\x01\x00"))
	// Whole small files of every format, so the fuzzer mutates pixel data
	// and chunk structure, not only headers.
	src := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 37)
	}
	for _, enc := range []func(*bytes.Buffer, image.Image) error{
		func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) },
		func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) },
		func(b *bytes.Buffer, m image.Image) error { return gif.Encode(b, m, nil) },
		func(b *bytes.Buffer, m image.Image) error { return bmp.Encode(b, m) },
		func(b *bytes.Buffer, m image.Image) error { return tiff.Encode(b, m, nil) },
	} {
		var b bytes.Buffer
		if err := enc(&b, src); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := Decoder{MaxPixels: 1 << 20}.Decode(bytes.NewReader(b), "fuzz")
		if err == nil && img.check() != nil {
			t.Fatal("malformed result")
		}
	})
}

func rgbOf(t *testing.T, img image.Image) *RGB {
	t.Helper()
	out, err := FromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func pixel(m *RGB, x, y int) [3]uint8 {
	i := (y*m.W + x) * 3
	return [3]uint8{m.Pix[i], m.Pix[i+1], m.Pix[i+2]}
}

func encodeDecode(t *testing.T, name string, img image.Image, enc func(*bytes.Buffer, image.Image) error) *RGB {
	t.Helper()
	var buf bytes.Buffer
	if err := enc(&buf, img); err != nil {
		t.Fatal(err)
	}
	out, err := Decode(&buf, name)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFromImageAlphaDroppedNotPremultiplied(t *testing.T) {
	n := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	n.SetNRGBA(0, 0, color.NRGBA{200, 100, 50, 0})
	n.SetNRGBA(1, 0, color.NRGBA{200, 100, 50, 128})
	for _, m := range []*RGB{rgbOf(t, n), encodeDecode(t, "a.png", n, func(b *bytes.Buffer, i image.Image) error { return png.Encode(b, i) })} {
		for x := 0; x < 2; x++ {
			if got := pixel(m, x, 0); got != [3]uint8{200, 100, 50} {
				t.Fatalf("NRGBA pixel %d: got %v, want stored color", x, got)
			}
		}
	}
	// Premultiplied input is un-premultiplied the way Pillow's RGBa unpacker does.
	r := image.NewRGBA(image.Rect(0, 0, 3, 1))
	r.SetRGBA(0, 0, color.RGBA{64, 32, 128, 128})
	r.SetRGBA(1, 0, color.RGBA{0, 0, 0, 0})
	r.SetRGBA(2, 0, color.RGBA{1, 2, 3, 255})
	m := rgbOf(t, r)
	if got, want := pixel(m, 0, 0), [3]uint8{127, 63, 255}; got != want {
		t.Fatalf("RGBA: got %v want %v", got, want)
	}
	if pixel(m, 1, 0) != [3]uint8{} || pixel(m, 2, 0) != [3]uint8{1, 2, 3} {
		t.Fatalf("RGBA: got %v %v", pixel(m, 1, 0), pixel(m, 2, 0))
	}
}

func TestFromImageGrayAndSixteenBit(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 1, 1))
	g.Pix[0] = 77
	if got := pixel(rgbOf(t, g), 0, 0); got != [3]uint8{77, 77, 77} {
		t.Fatalf("gray: %v", got)
	}
	// 16-bit gray: Pillow mode "I", convert("RGB") clips to 255.
	g16 := image.NewGray16(image.Rect(0, 0, 3, 1))
	g16.SetGray16(0, 0, color.Gray16{200})
	g16.SetGray16(1, 0, color.Gray16{256})
	g16.SetGray16(2, 0, color.Gray16{0x8000})
	m := encodeDecode(t, "g16.png", g16, func(b *bytes.Buffer, i image.Image) error { return png.Encode(b, i) })
	for x, want := range []uint8{200, 255, 255} {
		if got := pixel(m, x, 0); got != [3]uint8{want, want, want} {
			t.Fatalf("gray16 pixel %d: got %v want %d", x, got, want)
		}
	}
	// 16-bit color: the high byte.
	c16 := image.NewNRGBA64(image.Rect(0, 0, 1, 1))
	c16.SetNRGBA64(0, 0, color.NRGBA64{0x12ff, 0x3400, 0xfe01, 0x1000})
	want := [3]uint8{0x12, 0x34, 0xfe}
	if got := pixel(rgbOf(t, c16), 0, 0); got != want {
		t.Fatalf("NRGBA64: %v", got)
	}
	if got := pixel(encodeDecode(t, "c16.png", c16, func(b *bytes.Buffer, i image.Image) error { return png.Encode(b, i) }), 0, 0); got != want {
		t.Fatalf("16-bit RGBA PNG: %v", got)
	}
	o16 := image.NewRGBA64(image.Rect(0, 0, 1, 1))
	o16.SetRGBA64(0, 0, color.RGBA64{0x12ff, 0x3400, 0xfe01, 0xffff})
	if got := pixel(encodeDecode(t, "o16.png", o16, func(b *bytes.Buffer, i image.Image) error { return png.Encode(b, i) }), 0, 0); got != want {
		t.Fatalf("16-bit RGB PNG: %v", got)
	}
}

func TestFromImagePaletteCMYKYCbCr(t *testing.T) {
	pal := color.Palette{color.NRGBA{10, 20, 30, 0}, color.RGBA{40, 50, 60, 255}}
	p := image.NewPaletted(image.Rect(0, 0, 3, 1), pal)
	p.Pix[0], p.Pix[1], p.Pix[2] = 0, 1, 9 // 9 is past the palette: black, as At gives
	m := rgbOf(t, p)
	if pixel(m, 0, 0) != [3]uint8{10, 20, 30} || pixel(m, 1, 0) != [3]uint8{40, 50, 60} || pixel(m, 2, 0) != [3]uint8{} {
		t.Fatalf("paletted: %v", m.Pix)
	}

	c := image.NewCMYK(image.Rect(0, 0, 3, 1))
	c.SetCMYK(0, 0, color.CMYK{0, 0, 0, 0})
	c.SetCMYK(1, 0, color.CMYK{255, 0, 128, 0})
	c.SetCMYK(2, 0, color.CMYK{128, 0, 255, 128})
	m = rgbOf(t, c)
	// Pillow cmyk2rgb: nk - MULDIV255(c, nk); e.g. c=128, k=128: 127 - 64 = 63.
	for x, want := range [][3]uint8{{255, 255, 255}, {0, 255, 127}, {63, 127, 0}} {
		if got := pixel(m, x, 0); got != want {
			t.Fatalf("cmyk pixel %d: got %v want %v", x, got, want)
		}
	}

	y := image.NewYCbCr(image.Rect(0, 0, 4, 2), image.YCbCrSubsampleRatio420)
	for i := range y.Y {
		y.Y[i] = uint8(40 * i)
	}
	y.Cb[0], y.Cr[0], y.Cb[1], y.Cr[1] = 90, 200, 160, 30
	m = rgbOf(t, y)
	for yy := 0; yy < 2; yy++ {
		for xx := 0; xx < 4; xx++ {
			r, g, b, _ := y.At(xx, yy).RGBA()
			if got := pixel(m, xx, yy); got != [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)} {
				t.Fatalf("ycbcr (%d,%d): got %v want %v", xx, yy, got, []uint32{r >> 8, g >> 8, b >> 8})
			}
		}
	}
}

func TestFromImageSubImageAndOtherFormats(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 5, 4))
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range src.Pix {
		src.Pix[i] = byte(rng.Uint32())
	}
	for i := 3; i < len(src.Pix); i += 4 {
		src.Pix[i] = 255 // opaque so every format round-trips exactly
	}
	sub := src.SubImage(image.Rect(1, 1, 4, 3))
	m := rgbOf(t, sub)
	if m.W != 3 || m.H != 2 {
		t.Fatalf("sub-image size %dx%d", m.W, m.H)
	}
	c := src.NRGBAAt(2, 2)
	if pixel(m, 1, 1) != [3]uint8{c.R, c.G, c.B} {
		t.Fatalf("sub-image pixel: %v want %v", pixel(m, 1, 1), c)
	}
	want := rgbOf(t, src)
	for _, c := range []struct {
		name string
		enc  func(*bytes.Buffer, image.Image) error
	}{
		{"x.bmp", func(b *bytes.Buffer, i image.Image) error { return bmp.Encode(b, i) }},
		{"x.tiff", func(b *bytes.Buffer, i image.Image) error { return tiff.Encode(b, i, nil) }},
	} {
		if got := encodeDecode(t, c.name, src, c.enc); !bytes.Equal(got.Pix, want.Pix) {
			t.Fatalf("%s round trip differs", c.name)
		}
	}
	pal := image.NewPaletted(src.Bounds(), color.Palette{color.RGBA{1, 2, 3, 255}, color.RGBA{200, 100, 0, 255}})
	pal.Pix[7] = 1
	got := encodeDecode(t, "x.gif", pal, func(b *bytes.Buffer, i image.Image) error { return gif.Encode(b, i, nil) })
	if pixel(got, 0, 0) != [3]uint8{1, 2, 3} || pixel(got, 2, 1) != [3]uint8{200, 100, 0} {
		t.Fatalf("gif: %v", got.Pix[:9])
	}
}
