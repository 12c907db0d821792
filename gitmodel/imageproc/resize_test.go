package imageproc

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func randomRGB(rng *rand.Rand, w, h int) *RGB {
	m := &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	for i := range m.Pix {
		m.Pix[i] = uint8(rng.Uint32())
	}
	return m
}

// naiveResize applies the same coefficients with the plainest loops: a full
// height horizontal pass, then a vertical pass. It checks the row window,
// the bound shifting and the single-pass paths of Resize.
func naiveResize(in *RGB, w, h int, f filterSpec) *RGB {
	cur := in
	if w != in.W {
		c := precomputeCoeffs(in.W, w, f)
		tmp := &RGB{W: w, H: in.H, Pix: make([]uint8, w*in.H*3)}
		for y := 0; y < in.H; y++ {
			for x := 0; x < w; x++ {
				for ch := 0; ch < 3; ch++ {
					acc := int32(1 << (precisionBits - 1))
					for i := 0; i < c.count[x]; i++ {
						acc += int32(in.Pix[(y*in.W+c.start[x]+i)*3+ch]) * c.k[x*c.ksize+i]
					}
					tmp.Pix[(y*w+x)*3+ch] = clip8(acc)
				}
			}
		}
		cur = tmp
	}
	if h != in.H {
		c := precomputeCoeffs(in.H, h, f)
		out := &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				for ch := 0; ch < 3; ch++ {
					acc := int32(1 << (precisionBits - 1))
					for i := 0; i < c.count[y]; i++ {
						acc += int32(cur.Pix[((c.start[y]+i)*w+x)*3+ch]) * c.k[y*c.ksize+i]
					}
					out.Pix[(y*w+x)*3+ch] = clip8(acc)
				}
			}
		}
		cur = out
	}
	return cur
}

func TestResizeMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	sizes := [][4]int{
		{1, 1, 5, 3}, {7, 1, 2, 1}, {1, 9, 1, 4}, {13, 11, 13, 4}, {13, 11, 5, 11},
		{40, 30, 17, 50}, {64, 48, 224, 224}, {301, 5, 7, 9}, {3, 200, 3, 31},
	}
	for _, r := range []Resample{Bicubic, Bilinear, Box, Lanczos, Hamming} {
		f, _ := r.filter()
		for _, s := range sizes {
			in := randomRGB(rng, s[0], s[1])
			got, err := Resize(in, s[2], s[3], r)
			if err != nil {
				t.Fatal(err)
			}
			if want := naiveResize(in, s[2], s[3], f); !bytes.Equal(got.Pix, want.Pix) {
				t.Fatalf("%v %dx%d -> %dx%d differs from the naive loops", r, s[0], s[1], s[2], s[3])
			}
		}
	}
}

func TestResizeConstantImageStaysConstant(t *testing.T) {
	for _, r := range []Resample{Bicubic, Bilinear, Box} {
		for _, v := range []uint8{0, 1, 128, 254, 255} {
			in := &RGB{W: 37, H: 23, Pix: bytes.Repeat([]uint8{v}, 37*23*3)}
			for _, s := range [][2]int{{224, 139}, {11, 7}, {37, 5}, {3, 23}} {
				out, err := Resize(in, s[0], s[1], r)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range out.Pix {
					if p != v {
						t.Fatalf("%v: constant %d became %d at %v", r, v, p, s)
					}
				}
			}
		}
	}
}

func TestResizeIdentityAndErrors(t *testing.T) {
	in := randomRGB(rand.New(rand.NewPCG(9, 10)), 6, 4)
	out, err := Resize(in, 6, 4, Bicubic)
	if err != nil || !bytes.Equal(out.Pix, in.Pix) || &out.Pix[0] == &in.Pix[0] {
		t.Fatalf("identity resize: %v", err)
	}
	if _, err := Resize(in, 6, 4, Nearest); err == nil {
		t.Fatal("nearest accepted")
	}
	if _, err := Resize(in, 0, 4, Bicubic); err == nil {
		t.Fatal("zero width accepted")
	}
	if _, err := Resize(&RGB{W: 2, H: 2, Pix: make([]uint8, 5)}, 3, 3, Bicubic); err == nil {
		t.Fatal("malformed image accepted")
	}
}

func TestCenterCropPadsSmallImages(t *testing.T) {
	// 3x2 image, crop 5x4: transformers pads with zeros, image placed at
	// rows ceil((4-2)/2)=1.., columns ceil((5-3)/2)=1...
	in := &RGB{W: 3, H: 2, Pix: make([]uint8, 18)}
	for i := range in.Pix {
		in.Pix[i] = uint8(i + 1)
	}
	out, err := CenterCrop(in, 4, 5)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 4; y++ {
		for x := 0; x < 5; x++ {
			got := pixel(out, x, y)
			var want [3]uint8
			if y >= 1 && y < 3 && x >= 1 && x < 4 {
				want = pixel(in, x-1, y-1)
			}
			if got != want {
				t.Fatalf("(%d,%d): got %v want %v", x, y, got, want)
			}
		}
	}
	// Odd excess on one axis, larger on the other: 4x10 -> 3x3 takes
	// left (4-3)//2 = 0 and top (10-3)//2 = 3.
	in = randomRGB(rand.New(rand.NewPCG(1, 1)), 4, 10)
	out, _ = CenterCrop(in, 3, 3)
	if pixel(out, 0, 0) != pixel(in, 0, 3) || pixel(out, 2, 2) != pixel(in, 2, 5) {
		t.Fatal("crop offsets wrong")
	}
}

func TestProcessorOptions(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DoResize, cfg.DoCenterCrop, cfg.DoRescale, cfg.DoNormalize = false, false, false, false
	p, err := NewProcessor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	in := &RGB{W: 2, H: 1, Pix: []uint8{1, 2, 3, 4, 5, 6}}
	got, err := p.Process(in)
	if err != nil {
		t.Fatal(err)
	}
	// CHW: R plane, G plane, B plane.
	want := []float32{1, 4, 2, 5, 3, 6}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v want %v", got, want)
		}
	}
	if w, h := p.OutputSize(2, 1); w != 2 || h != 1 {
		t.Fatalf("OutputSize %dx%d", w, h)
	}
	if _, err := p.ProcessBatch([]*RGB{in, {W: 1, H: 1, Pix: []uint8{0, 0, 0}}}); err == nil {
		t.Fatal("batch of different sizes accepted")
	}
	if _, err := p.Process(nil); err == nil {
		t.Fatal("nil image accepted")
	}
	bad := DefaultConfig()
	bad.Resample = Nearest
	if _, err := NewProcessor(bad); err == nil {
		t.Fatal("nearest accepted")
	}
}

func BenchmarkResize(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct {
		name         string
		w, h, ow, oh int
	}{
		{"Bicubic/640x427to335x224", 640, 427, 335, 224},
		{"Bicubic/1920x1080to398x224", 1920, 1080, 398, 224},
		{"Bicubic/200x130to344x224", 200, 130, 344, 224},
	} {
		in := randomRGB(rng, s.w, s.h)
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.Pix)))
			for b.Loop() {
				if _, err := Resize(in, s.ow, s.oh, Bicubic); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
