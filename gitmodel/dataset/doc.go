// Package dataset loads image-caption datasets for fine-tuning GIT and turns
// them into model batches: input_ids, attention_mask and labels exactly as
// Hugging Face's GitProcessor and the tiny-cli goldens build them, and
// pixel_values through imageproc's CLIP processor.
//
// # Formats (Load detects them)
//
//	folder/                      sidecar captions (caption-train, kohya)
//	  a.png  a.txt                 caption of a.png = a<suffix>.txt, lines
//	  b.jpg  b.txt                 joined with spaces, stripped
//
//	folder/                      HF imagefolder
//	  metadata.jsonl               {"file_name": "a.png", "text": "..."} per line
//	  a.png                        (or metadata.csv: file_name,text); the caption
//	                               column is text, caption, prompt or captions,
//	                               a string or a list of strings
//
//	folder/                      splits (either format)
//	  train/ ...                   train, training
//	  validation/ ...              validation, valid, val, dev
//	  test/ ...                    test, testing, eval, evaluation
//
//	captions.json                COCO captions: images[] {id, file_name},
//	                             annotations[] {image_id, caption}
//
// Image files are png, jpg, jpeg, webp, bmp, gif, tif and tiff
// (case-insensitive); hidden files and folders are not read. Examples are sorted byte-wise by FileName, the order
// of Python's sorted() and Go's sort.Strings.
//
// # Bad input
//
// Load never panics and never drops an item silently. A missing caption
// file, an empty or non-UTF-8 caption, a metadata row naming a missing file
// or an absolute/".." path, an image whose header does not decode, a
// duplicate row: each is skipped with one warning naming the file and the
// cause, and Dataset.Warnings ends with "skipped 3 of 120 items: ...".
// Options.Strict (--strict) makes the first one fatal. No example left is an
// error. An image that passes the header check but fails to decode later is
// dropped from its batch by Collate and reported.
//
// # Batches
//
// Text is [CLS] tokens [SEP], truncated to BlockSize tokens, right-padded
// with [PAD] (0) to the longest row of the batch; attention_mask is 1 on
// tokens and 0 on pads; labels are the ids with -100 on pads. The model
// shifts labels itself, so [CLS] is never a target and [SEP] always is. The
// batch loss is the mean over Batch.NumTargets targets.
//
//	IDs    [CLS] a  red boat .  [SEP] [PAD] ...      (B, T) row-major
//	Mask     1   1   1   1   1    1     0   ...
//	Labels  101  a  red boat .   102  -100  ...
//	Pixels  image 0: R plane | G plane | B plane, image 1: ...   (B, 3, H, W)
//
// # Augmentation
//
// ImageAugmentHelp and CaptionAugmentHelp are the texts --help quotes.
// All randomness comes from an explicit *rand.Rand (math/rand/v2 PCG):
// Sampler.Epoch orders an epoch from (seed, epoch) and BatchRand gives each
// batch its own stream, so a run, and a run resumed mid-epoch, is
// reproducible from its seed.
package dataset

// ImageAugmentHelp describes --augment_images.
const ImageAugmentHelp = `--augment_images: before CLIP preprocessing, each image is cropped at random
and flipped, with new draws every epoch: a random resized crop as
torchvision's RandomResizedCrop picks it (area 80% to 100% of the image,
aspect ratio log-uniform in [3/4, 4/3], 10 tries, then a centre crop), then a
horizontal flip with probability 0.5. The CLIP processor then resizes and
centre-crops the result as usual. Random draws come from --seed. Without
augmentation, preprocessed pixels can be cached in memory across epochs.`

// CaptionAugmentHelp describes --shuffle_captions, --frozen_parts and
// --caption_dropout.
const CaptionAugmentHelp = `--shuffle_captions, --frozen_parts N, --caption_dropout P: captions are split
on ", " into parts; the first N parts stay first and are never dropped; each
other part is dropped with probability P (at least one part is always kept);
with --shuffle_captions the remaining parts are shuffled. Applied anew every
epoch. A dataset with several captions per image (a list in metadata, COCO)
trains on one picked at random per image and epoch.`
