package imageproc_test

import (
	"fmt"
	"log"

	"github.com/gitcap/gitcap/gitmodel/imageproc"
)

func Example() {
	cfg, err := imageproc.LoadConfig("testdata/preprocessor_config.json")
	if err != nil {
		log.Fatal(err)
	}
	p, err := imageproc.NewProcessor(cfg)
	if err != nil {
		log.Fatal(err)
	}
	img, err := imageproc.DecodeFile("testdata/chelsea.png")
	if err != nil {
		log.Fatal(err)
	}
	pixels, err := p.Process(img)
	if err != nil {
		log.Fatal(err)
	}
	w, h := p.OutputSize(img.W, img.H)
	fmt.Printf("%dx%d -> 3x%dx%d = %d floats, R(0,0) = %.6f\n", img.W, img.H, h, w, len(pixels), pixels[0])
	// Output:
	// 451x300 -> 3x224x224 = 150528 floats, R(0,0) = -0.025853
}

func ExampleDecoder() {
	// A stricter pixel limit than Pillow's default.
	d := imageproc.Decoder{MaxPixels: 100_000}
	_, err := d.DecodeFile("testdata/chelsea.png") // 451x300 = 135300 pixels
	fmt.Println(err)
	// Output:
	// chelsea.png: png header says 451x300 = 135300 pixels, over the limit of 100000: image exceeds the pixel limit
}
