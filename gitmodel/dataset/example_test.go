package dataset_test

import (
	"fmt"
	"log"
	"path/filepath"

	"github.com/gitcap/gitcap/gitmodel/dataset"
	"github.com/gitcap/gitcap/gitmodel/imageproc"
	"github.com/gitcap/gitcap/gitmodel/tokenizer"
)

// Load the tiny-cli images (an HF imagefolder) and build the micro-batches
// of one epoch: batch size 2, file order.
func Example() {
	ds, err := dataset.Load("testdata/tiny-cli/images", dataset.Options{})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := tokenizer.Load("testdata/tiny-cli/model")
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := imageproc.LoadConfig(filepath.Join("testdata/tiny-cli/model", "preprocessor_config.json"))
	if err != nil {
		log.Fatal(err)
	}
	proc, err := imageproc.NewProcessor(cfg)
	if err != nil {
		log.Fatal(err)
	}
	c := &dataset.Collator{Tok: tok, Proc: proc, BlockSize: 64}

	const seed, epoch = 0, 0
	order := dataset.Sampler{N: len(ds.Train), Shuffle: false, Seed: seed}.Epoch(epoch)
	for i, idx := range dataset.Batches(order, 2) {
		b, errs := c.Collate(dataset.Select(ds.Train, idx), dataset.BatchRand(seed, epoch, i))
		for _, err := range errs {
			fmt.Println("skipped:", err)
		}
		fmt.Printf("%v T=%d targets=%d pixels=%d\n", b.Files, b.T, b.NumTargets, len(b.Pixels))
	}
	// Output:
	// [boat.png cat.png] T=17 targets=21 pixels=6144
	// [dogs.png people.png] T=16 targets=26 pixels=6144
}
