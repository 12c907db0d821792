package datagen

import (
	"image"
	"image/color"
	"image/draw"
)

// supersample is the anti-aliasing grid: each pixel's colour is the mean of
// supersample² point samples.
const supersample = 4

// inside reports whether the point (x, y), in units of the image side, lies
// in the object.
func (o Object) inside(x, y float64) bool {
	dx, dy := x-o.CX, y-o.CY
	h := o.Half
	switch o.Shape {
	case Circle:
		return dx*dx+dy*dy <= h*h
	case Square:
		return dx >= -h && dx <= h && dy >= -h && dy <= h
	case Triangle:
		// apex (0, -h), base from (-h, h) to (h, h): at height dy the
		// half-width is (dy + h) / 2
		if dy < -h || dy > h {
			return false
		}
		w := (dy + h) / 2
		return dx >= -w && dx <= w
	}
	return false
}

// Render paints the scene on a size×size RGBA image: a grey background and
// the objects, anti-aliased by supersampling. Objects do not overlap.
func Render(s Scene, size int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	bg := color.RGBA{s.Background, s.Background, s.Background, 255}
	draw.Draw(img, img.Bounds(), &image.Uniform{bg}, image.Point{}, draw.Src)
	inv := 1 / float64(size)
	for _, o := range s.Objects {
		// only the pixels of the object's box (plus one) can change
		x0, x1 := clampPix(int((o.CX-o.Half)*float64(size))-1, size), clampPix(int((o.CX+o.Half)*float64(size))+2, size)
		y0, y1 := clampPix(int((o.CY-o.Half)*float64(size))-1, size), clampPix(int((o.CY+o.Half)*float64(size))+2, size)
		for py := y0; py < y1; py++ {
			for px := x0; px < x1; px++ {
				hits := 0
				for sy := 0; sy < supersample; sy++ {
					for sx := 0; sx < supersample; sx++ {
						x := (float64(px) + (float64(sx)+0.5)/supersample) * inv
						y := (float64(py) + (float64(sy)+0.5)/supersample) * inv
						if o.inside(x, y) {
							hits++
						}
					}
				}
				if hits == 0 {
					continue
				}
				a := float64(hits) / (supersample * supersample)
				old := img.RGBAAt(px, py)
				img.SetRGBA(px, py, color.RGBA{
					R: blend(old.R, o.Colour.R, a), G: blend(old.G, o.Colour.G, a), B: blend(old.B, o.Colour.B, a), A: 255,
				})
			}
		}
	}
	return img
}

func clampPix(v, size int) int { return max(0, min(v, size)) }

func blend(under, over uint8, a float64) uint8 {
	return uint8(float64(under)*(1-a) + float64(over)*a + 0.5)
}
