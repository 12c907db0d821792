// Package imageproc turns image files into GIT's pixel_values exactly as
// Hugging Face transformers' CLIPImageProcessor (v4.36, Pillow 9.4) does for
// microsoft/git-base. It is pure Go (no cgo) and depends on nothing else in
// this module.
//
// Pipeline (shared/docs/git-architecture.md §3):
//
//	file ──Decode──▶ RGB (H×W×3 uint8, PIL convert("RGB"))
//	     ──Resize──▶ short side 224, long side int(224*long/short), Pillow bicubic
//	     ──CenterCrop──▶ 224×224, top=(H-224)//2, left=(W-224)//2
//	     ──Normalize──▶ float32(u8 * (1/255) in float64), then (x-mean)/std in float32
//	     ──▶ []float32, CHW: index c*H*W + y*W + x (3×224×224)
//
// Data layouts. RGB.Pix is row-major HWC, 3 bytes per pixel:
//
//	Pix: R G B R G B ... (row 0, W pixels) R G B ... (row 1) ...
//	pixel (x, y) starts at (y*W + x)*3
//
// Pixel values are planar CHW float32, and ProcessBatch stacks images as
// [B, 3, H, W]:
//
//	[ R plane H×W | G plane H×W | B plane H×W ] [ next image ... ]
//
// Exactness. From the same decoded RGB, Resize reproduces Pillow's bytes
// exactly (integer fixed-point arithmetic, ported from Resample.c) and the
// float32 pixel values are bit-identical to transformers'. PNG, GIF, BMP and
// TIFF decode to the same RGB as PIL. JPEG does not: Go's image/jpeg uses a
// different IDCT and does not interpolate subsampled chroma, so decoded
// pixels differ from libjpeg-turbo's by a few levels (up to 4 and 14 on the
// golden JPEGs, about 27% of values), which is up to about 0.03 / 0.12 in
// pixel_values (mean about 0.005). Lossy WebP has the same kind of difference
// from libwebp. Tests pin all of these against shared/golden/images.
//
// Conversion details that follow Pillow rather than Go's color models are
// listed on FromImage (alpha dropped without compositing, 16-bit grayscale
// clipped to 255, high byte of other 16-bit samples, Pillow's CMYK formula).
// Known gaps: a GIF's transparent palette entry is read as black (Go's
// decoder replaces its color); a GIF whose first frame does not cover the
// logical screen gives just the frame; EXIF orientation is ignored, as it is
// by the Python processor.
//
// Decoding reads the header first and refuses images over Decoder.MaxPixels
// (DefaultMaxPixels, Pillow's MAX_IMAGE_PIXELS) before allocating pixels.
// Processor.Prepare resizes only the window the center crop keeps (the same
// bytes as the full resize), so a 1x2000000 strip, a few kilobytes on disk
// and legal under the limit, does not turn into a 224x448000000 image;
// preprocessor_config.json sizes are bounded too (at most 65536 per side).
// Every decoder error, including a panic inside a decoder, comes back as an
// error that starts with the file name, e.g.
// "rocket.jpg: decode jpeg: unexpected EOF".
package imageproc
