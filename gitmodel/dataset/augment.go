// This file is image augmentation (--augment_images): a random resized crop
// as torchvision's RandomResizedCrop.get_params picks it, then a horizontal
// flip, both on the decoded 8-bit RGB before the CLIP processor resizes and
// centre-crops as usual. It only moves bytes: no resampling happens here.

package dataset

import (
	"math"
	"math/rand/v2"

	"github.com/gitcap/gitcap/gitmodel/imageproc"
)

// ImageAug is the random resized crop + horizontal flip of --augment_images.
// A zero field takes its default (DefaultImageAug).
type ImageAug struct {
	Scale [2]float64 // range of the crop's area as a fraction of the image's; default [0.8, 1.0]
	Ratio [2]float64 // range of the crop's width/height, sampled log-uniformly; default [3/4, 4/3]
	FlipP float64    // probability of a horizontal flip; default 0.5 (use a negative value for never)
}

// DefaultImageAug returns the --augment_images settings.
func DefaultImageAug() ImageAug {
	return ImageAug{Scale: [2]float64{0.8, 1.0}, Ratio: [2]float64{3.0 / 4.0, 4.0 / 3.0}, FlipP: 0.5}
}

func (a ImageAug) withDefaults() ImageAug {
	d := DefaultImageAug()
	if a.Scale == [2]float64{} {
		a.Scale = d.Scale
	}
	if a.Ratio == [2]float64{} {
		a.Ratio = d.Ratio
	}
	if a.FlipP == 0 {
		a.FlipP = d.FlipP
	}
	return a
}

// CropWindow picks the crop of a w x h image as torchvision's
// RandomResizedCrop.get_params does: up to 10 tries, each drawing the area
// fraction uniform in Scale (rng.Float64), then log(aspect) uniform in
// log(Ratio) (rng.Float64), cw = round(sqrt(area*aspect)), ch =
// round(sqrt(area/aspect)) (Python's round, half to even); the first window
// that fits gets its top then left offset uniform (rng.IntN). When none fits,
// the centre crop of the largest window whose aspect ratio is within Ratio.
func (a ImageAug) CropWindow(w, h int, rng *rand.Rand) (x, y, cw, ch int) {
	a = a.withDefaults()
	area := float64(w) * float64(h)
	logLo, logHi := math.Log(a.Ratio[0]), math.Log(a.Ratio[1])
	for range 10 {
		target := area * (a.Scale[0] + (a.Scale[1]-a.Scale[0])*rng.Float64())
		aspect := math.Exp(logLo + (logHi-logLo)*rng.Float64())
		cw = int(math.RoundToEven(math.Sqrt(target * aspect)))
		ch = int(math.RoundToEven(math.Sqrt(target / aspect)))
		if cw > 0 && cw <= w && ch > 0 && ch <= h {
			y = rng.IntN(h - ch + 1)
			x = rng.IntN(w - cw + 1)
			return x, y, cw, ch
		}
	}
	inRatio := float64(w) / float64(h)
	lo, hi := min(a.Ratio[0], a.Ratio[1]), max(a.Ratio[0], a.Ratio[1])
	switch {
	case inRatio < lo:
		cw, ch = w, int(math.RoundToEven(float64(w)/lo))
	case inRatio > hi:
		cw, ch = int(math.RoundToEven(float64(h)*hi)), h
	default:
		cw, ch = w, h
	}
	return (w - cw) / 2, (h - ch) / 2, cw, ch
}

// Apply returns the augmented image: the CropWindow crop, then a
// horizontal flip when rng.Float64() < FlipP. img is not modified.
func (a ImageAug) Apply(img *imageproc.RGB, rng *rand.Rand) *imageproc.RGB {
	a = a.withDefaults()
	x, y, cw, ch := a.CropWindow(img.W, img.H, rng)
	out := Crop(img, x, y, cw, ch)
	if rng.Float64() < a.FlipP {
		FlipHorizontal(out)
	}
	return out
}

// Crop copies the cw x ch window at (x, y) of img. The window must lie inside
// the image.
func Crop(img *imageproc.RGB, x, y, cw, ch int) *imageproc.RGB {
	if x < 0 || y < 0 || cw <= 0 || ch <= 0 || x+cw > img.W || y+ch > img.H {
		panic("dataset: Crop window outside the image")
	}
	out := &imageproc.RGB{W: cw, H: ch, Pix: make([]uint8, cw*ch*3)}
	for r := range ch {
		src := img.Pix[((y+r)*img.W+x)*3 : ((y+r)*img.W+x+cw)*3]
		copy(out.Pix[r*cw*3:(r+1)*cw*3], src)
	}
	return out
}

// FlipHorizontal mirrors img left to right in place.
func FlipHorizontal(img *imageproc.RGB) {
	for r := range img.H {
		row := img.Pix[r*img.W*3 : (r+1)*img.W*3]
		for i, j := 0, img.W-1; i < j; i, j = i+1, j-1 {
			a, b := row[i*3:i*3+3], row[j*3:j*3+3]
			a[0], a[1], a[2], b[0], b[1], b[2] = b[0], b[1], b[2], a[0], a[1], a[2]
		}
	}
}
