// This file builds training batches: pixel values through the CLIP
// processor (with optional augmentation and an in-memory cache), and text as
// the tiny-cli goldens specify: [CLS] tokens [SEP], truncated to BlockSize,
// right-padded with [PAD] to the batch's longest row, labels = ids with -100
// at the pads.

package dataset

import (
	"fmt"
	"math/rand/v2"
	"path"
	"strings"
	"sync"

	"github.com/gitcap/gitcap/gitmodel/imageproc"
	"github.com/gitcap/gitcap/gitmodel/tokenizer"
)

// IgnoreIndex is the label of positions the loss skips (PyTorch's
// cross-entropy ignore_index).
const IgnoreIndex = -100

// Batch is one model input. Shapes are row-major.
type Batch struct {
	Files    []string  // FileName of each row, (B)
	Captions []string  // the text of each row after caption choice and augmentation, (B)
	Pixels   []float32 // pixel_values, (B, 3, H, W)
	H, W     int       // pixel plane size (the processor's crop size)
	B, T     int       // rows; text length = the longest row
	IDs      []int     // input_ids, (B, T)
	Mask     []int     // attention_mask: 1 on tokens, 0 on pads, (B, T)
	Labels   []int     // IDs with IgnoreIndex where Mask is 0, (B, T)

	// NumTargets counts the positions the loss averages over: labels at
	// t >= 1 that are not IgnoreIndex (the model shifts, so [CLS] is never a
	// target and [SEP] always is).
	NumTargets int
}

// ItemError is a per-example failure at collate time (an image whose header
// passed Load but whose pixels do not decode). The example is left out of
// the batch.
type ItemError struct {
	FileName string
	Err      error
}

func (e *ItemError) Error() string {
	// imageproc's errors start with the base name; say the FileName once.
	msg := strings.TrimPrefix(e.Err.Error(), path.Base(e.FileName)+": ")
	return e.FileName + ": " + msg
}

func (e *ItemError) Unwrap() error { return e.Err }

// Collator turns examples into a Batch. Set the exported fields, then call
// Collate; it is safe for concurrent use (with a different rng per
// goroutine). A Collator must not be copied after first use.
type Collator struct {
	Tok  *tokenizer.Tokenizer
	Proc *imageproc.Processor
	// BlockSize caps the text length, [CLS] and [SEP] included (keeping
	// [CLS] + the first BlockSize-2 tokens + [SEP]); 0 means no cap. The
	// caller caps it at max_position_embeddings. Values 1 and 2 leave rows
	// untruncated, as HF does when the special tokens alone exceed the limit.
	BlockSize int
	// Decoder decodes the image files (its MaxPixels applies).
	Decoder imageproc.Decoder
	// Captions is caption augmentation (applied only when Collate gets an rng).
	Captions CaptionAug
	// Augment, when non-nil, is image augmentation (--augment_images; applied
	// only when Collate gets an rng).
	Augment *ImageAug
	// CacheBytes is the budget of an in-memory cache of pixel values, used
	// when no image augmentation applies (pixels are then the same every
	// epoch). Images are cached in the order first seen until the budget is
	// full; nothing is evicted. 0 disables the cache.
	CacheBytes int64

	mu        sync.Mutex
	cache     map[string]cachedPixels
	cacheUsed int64
}

type cachedPixels struct {
	px   []float32
	h, w int
}

// CachedBytes is the memory the pixel cache holds now.
func (c *Collator) CachedBytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cacheUsed
}

// Collate builds the batch of ex, in order. For each example it draws from
// rng, in this order: the caption choice (PickCaption), caption augmentation
// (CaptionAug.Apply), then image augmentation (ImageAug.Apply) — so a run is
// reproducible from the rng's seed. With rng nil nothing is random: the first
// caption, no augmentation (use this for validation and evaluation).
//
// An example whose image fails to decode or process is left out and reported
// in the returned errors (each an *ItemError); the batch is nil when no
// example is left.
func (c *Collator) Collate(ex []Example, rng *rand.Rand) (*Batch, []error) {
	b := &Batch{}
	var errs []error
	var texts []string
	for _, e := range ex {
		text := PickCaption(e, rng)
		if rng != nil {
			text = c.Captions.Apply(text, rng)
		}
		px, h, w, err := c.pixels(e, rng)
		if err == nil && b.B > 0 && (h != b.H || w != b.W) {
			err = fmt.Errorf("pixel values are %dx%d, the batch's are %dx%d (set do_center_crop)", w, h, b.W, b.H)
		}
		if err != nil {
			errs = append(errs, &ItemError{FileName: e.FileName, Err: err})
			continue
		}
		if b.B == 0 {
			b.H, b.W = h, w
			b.Pixels = make([]float32, 0, len(ex)*len(px))
		}
		b.Pixels = append(b.Pixels, px...)
		b.Files = append(b.Files, e.FileName)
		b.Captions = append(b.Captions, text)
		texts = append(texts, text)
		b.B++
	}
	if b.B == 0 {
		return nil, errs
	}
	ids, mask := c.Tok.EncodeBatch(texts, true, c.BlockSize)
	b.T = len(ids[0])
	b.IDs = make([]int, 0, b.B*b.T)
	b.Mask = make([]int, 0, b.B*b.T)
	b.Labels = make([]int, 0, b.B*b.T)
	for i := range ids {
		b.IDs = append(b.IDs, ids[i]...)
		b.Mask = append(b.Mask, mask[i]...)
		for t, m := range mask[i] {
			if m == 0 {
				b.Labels = append(b.Labels, IgnoreIndex)
				continue
			}
			b.Labels = append(b.Labels, ids[i][t])
			if t > 0 {
				b.NumTargets++
			}
		}
	}
	return b, errs
}

// pixels returns the example's pixel values (CHW) and their height and width.
func (c *Collator) pixels(e Example, rng *rand.Rand) (px []float32, h, w int, err error) {
	augment := c.Augment != nil && rng != nil
	useCache := !augment && c.CacheBytes > 0
	if useCache {
		c.mu.Lock()
		hit, ok := c.cache[e.Path]
		c.mu.Unlock()
		if ok {
			return hit.px, hit.h, hit.w, nil
		}
	}
	img, err := c.Decoder.DecodeFile(e.Path)
	if err != nil {
		return nil, 0, 0, err
	}
	if augment {
		img = c.Augment.Apply(img, rng)
	}
	px, err = c.Proc.Process(img)
	if err != nil {
		return nil, 0, 0, err
	}
	w, h = c.Proc.OutputSize(img.W, img.H)
	if useCache {
		size := int64(len(px)) * 4
		c.mu.Lock()
		if _, ok := c.cache[e.Path]; !ok && c.cacheUsed+size <= c.CacheBytes {
			if c.cache == nil {
				c.cache = map[string]cachedPixels{}
			}
			c.cache[e.Path] = cachedPixels{px, h, w}
			c.cacheUsed += size
		}
		c.mu.Unlock()
	}
	return px, h, w, nil
}
