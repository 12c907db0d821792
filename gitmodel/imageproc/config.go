// This file reads a Hugging Face preprocessor_config.json into Config. It
// understands the keys CLIPImageProcessor (the processor GIT uses) reads and
// ignores every other key; it does not implement other processor classes.

package imageproc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
)

// Size is the resize target of a Config. Exactly one form is set:
// ShortestEdge > 0 (resize so the short side has that length, keeping the
// aspect ratio, as CLIPImageProcessor does), or Height and Width > 0 (resize to
// exactly Height x Width).
type Size struct {
	ShortestEdge  int
	Height, Width int
}

// Config is the subset of preprocessor_config.json that CLIPImageProcessor
// (transformers v4.36) uses. Field comments give the JSON key.
type Config struct {
	DoResize      bool     // "do_resize"
	Size          Size     // "size": {"shortest_edge": n}, {"height": h, "width": w}, n or [h, w]
	Resample      Resample // "resample": PIL filter number; 3 = bicubic
	DoCenterCrop  bool     // "do_center_crop"
	CropHeight    int      // "crop_size": {"height": h, "width": w}, n or [h, w]
	CropWidth     int
	DoRescale     bool       // "do_rescale"
	RescaleFactor float64    // "rescale_factor"; applied in float64, then cast to float32
	DoNormalize   bool       // "do_normalize"
	ImageMean     [3]float64 // "image_mean"; used as float32
	ImageStd      [3]float64 // "image_std"; used as float32
	// DoConvertRGB ("do_convert_rgb") is recorded but has no effect: decoding
	// always yields 3-channel RGB exactly as PIL's convert("RGB"), which is
	// also what the processor does for RGB inputs when it is false.
	DoConvertRGB bool
}

// String writes s as preprocessor_config.json does.
func (s Size) String() string {
	if s.ShortestEdge != 0 {
		return fmt.Sprintf(`{"shortest_edge": %d}`, s.ShortestEdge)
	}
	return fmt.Sprintf(`{"height": %d, "width": %d}`, s.Height, s.Width)
}

// OpenAI CLIP normalization constants (transformers OPENAI_CLIP_MEAN/STD).
var (
	clipMean = [3]float64{0.48145466, 0.4578275, 0.40821073}
	clipStd  = [3]float64{0.26862954, 0.26130258, 0.27577711}
)

// DefaultConfig returns CLIPImageProcessor's defaults, which are also
// microsoft/git-base's preprocessor_config.json: shortest edge 224, bicubic,
// center crop 224x224, rescale 1/255, CLIP mean/std.
func DefaultConfig() Config {
	return Config{
		DoResize:      true,
		Size:          Size{ShortestEdge: 224},
		Resample:      Bicubic,
		DoCenterCrop:  true,
		CropHeight:    224,
		CropWidth:     224,
		DoRescale:     true,
		RescaleFactor: 1.0 / 255,
		DoNormalize:   true,
		ImageMean:     clipMean,
		ImageStd:      clipStd,
		DoConvertRGB:  true,
	}
}

// LoadConfig reads a preprocessor_config.json. Keys that are absent keep their
// DefaultConfig value (as CLIPImageProcessor's constructor defaults do);
// unknown keys are ignored. Errors name the file and the field.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	return ParseConfig(data, path)
}

// ParseConfig parses the contents of a preprocessor_config.json; name is
// used in error messages.
func ParseConfig(data []byte, name string) (Config, error) {
	cfg := DefaultConfig()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Config{}, fmt.Errorf("%s: %v", name, err)
	}
	p := cfgParser{name: name, raw: raw}
	p.boolean("do_resize", &cfg.DoResize)
	p.boolean("do_center_crop", &cfg.DoCenterCrop)
	p.boolean("do_rescale", &cfg.DoRescale)
	p.boolean("do_normalize", &cfg.DoNormalize)
	p.boolean("do_convert_rgb", &cfg.DoConvertRGB)
	p.size("size", &cfg.Size)
	p.crop("crop_size", &cfg.CropHeight, &cfg.CropWidth)
	p.resample("resample", &cfg.Resample)
	p.float("rescale_factor", &cfg.RescaleFactor)
	p.triple("image_mean", &cfg.ImageMean)
	p.triple("image_std", &cfg.ImageStd)
	if p.err != nil {
		return Config{}, p.err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return cfg, nil
}

// Validate checks that the configuration can be run.
func (c Config) Validate() error {
	if c.DoResize {
		s := c.Size
		switch {
		case s.ShortestEdge > 0 && s.Height == 0 && s.Width == 0:
		case s.ShortestEdge == 0 && s.Height > 0 && s.Width > 0:
		default:
			return fmt.Errorf(`field "size": need shortest_edge > 0 or height and width > 0, got %+v`, s)
		}
		if s.ShortestEdge > maxSide || !areaOK(s.Height, s.Width) {
			return fmt.Errorf(`field "size": %v is larger than any image this package makes (at most %d per side and %d pixels)`, s, maxSide, DefaultMaxPixels)
		}
		if _, err := c.Resample.filter(); err != nil {
			return fmt.Errorf(`field "resample": %w`, err)
		}
	}
	if c.DoCenterCrop && (c.CropHeight <= 0 || c.CropWidth <= 0) {
		return fmt.Errorf(`field "crop_size": need height and width > 0, got %dx%d`, c.CropHeight, c.CropWidth)
	}
	if c.DoCenterCrop && !areaOK(c.CropHeight, c.CropWidth) {
		return fmt.Errorf(`field "crop_size": %dx%d is larger than any image this package makes (at most %d per side and %d pixels)`, c.CropHeight, c.CropWidth, maxSide, DefaultMaxPixels)
	}
	if c.DoRescale && (math.IsNaN(c.RescaleFactor) || math.IsInf(c.RescaleFactor, 0)) {
		return fmt.Errorf(`field "rescale_factor": %v is not finite`, c.RescaleFactor)
	}
	if c.DoNormalize {
		for i, s := range c.ImageStd {
			if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
				return fmt.Errorf(`field "image_std": element %d is %v`, i, s)
			}
		}
	}
	return nil
}

// maxSide bounds every length in a Config (GIT's processors use 224 and
// 384); with DefaultMaxPixels it keeps a hostile preprocessor_config.json
// from asking for gigabytes, and products of sizes from overflowing.
const maxSide = 1 << 16

// areaOK reports whether an h x w target is within maxSide and DefaultMaxPixels.
func areaOK(h, w int) bool {
	return h <= maxSide && w <= maxSide && int64(h)*int64(w) <= DefaultMaxPixels
}

// cfgParser keeps the first error, so the field parsers read as a list.
type cfgParser struct {
	name string
	raw  map[string]json.RawMessage
	err  error
}

// get returns the raw value of key; ok is false when the key is absent or
// null (null means "use the default" in CLIPImageProcessor for every key
// parsed through get).
func (p *cfgParser) get(key string) (json.RawMessage, bool) {
	if p.err != nil {
		return nil, false
	}
	v, ok := p.raw[key]
	if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return nil, false
	}
	return v, true
}

func (p *cfgParser) fail(key, want string, v json.RawMessage) {
	s := string(v)
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	p.err = fmt.Errorf("%s: field %q: want %s, got %s", p.name, key, want, s)
}

func (p *cfgParser) boolean(key string, dst *bool) {
	if p.err != nil {
		return
	}
	v, ok := p.raw[key]
	if !ok {
		return
	}
	if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		*dst = false // None is falsy in the Python processor
		return
	}
	if err := json.Unmarshal(v, dst); err != nil {
		p.fail(key, "true or false", v)
	}
}

func (p *cfgParser) float(key string, dst *float64) {
	v, ok := p.get(key)
	if !ok {
		return
	}
	if err := json.Unmarshal(v, dst); err != nil {
		p.fail(key, "a number", v)
	}
}

// integer accepts JSON numbers with an integral value.
func parseInt(v json.RawMessage) (int, bool) {
	var f float64
	if err := json.Unmarshal(v, &f); err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<30 {
		return 0, false
	}
	return int(f), true
}

func (p *cfgParser) resample(key string, dst *Resample) {
	v, ok := p.get(key)
	if !ok {
		return
	}
	n, ok := parseInt(v)
	if !ok {
		p.fail(key, "an integer PIL filter number", v)
		return
	}
	r := Resample(n)
	if _, err := r.filter(); err != nil {
		p.err = fmt.Errorf("%s: field %q: %w", p.name, key, err)
		return
	}
	*dst = r
}

func (p *cfgParser) triple(key string, dst *[3]float64) {
	v, ok := p.get(key)
	if !ok {
		return
	}
	var one float64
	if err := json.Unmarshal(v, &one); err == nil {
		*dst = [3]float64{one, one, one}
		return
	}
	var list []float64
	if err := json.Unmarshal(v, &list); err != nil || len(list) != 3 {
		p.fail(key, "a number or a list of 3 numbers", v)
		return
	}
	copy(dst[:], list)
}

// hw parses {"height": h, "width": w}, [h, w] or n (n x n); shortest is set
// instead for {"shortest_edge": n}, or for a bare n when intIsShortest.
func (p *cfgParser) hw(key string, v json.RawMessage, intIsShortest bool) (h, w, shortest int) {
	const want = `{"height": h, "width": w}, {"shortest_edge": n}, [h, w] or an integer`
	if n, ok := parseInt(v); ok {
		if intIsShortest {
			return 0, 0, n
		}
		return n, n, 0
	}
	var list []json.RawMessage
	if err := json.Unmarshal(v, &list); err == nil {
		if len(list) != 2 {
			p.fail(key, want, v)
			return
		}
		var ok1, ok2 bool
		h, ok1 = parseInt(list[0])
		w, ok2 = parseInt(list[1])
		if !ok1 || !ok2 {
			p.fail(key, want, v)
		}
		return h, w, 0
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil {
		p.fail(key, want, v)
		return
	}
	vals := map[string]int{}
	for k, x := range obj {
		if bytes.Equal(bytes.TrimSpace(x), []byte("null")) {
			continue
		}
		n, ok := parseInt(x)
		if !ok {
			p.fail(key+"."+k, "an integer", x)
			return
		}
		vals[k] = n
	}
	_, hasH := vals["height"]
	_, hasW := vals["width"]
	_, hasS := vals["shortest_edge"]
	switch {
	case hasS && len(vals) == 1:
		return 0, 0, vals["shortest_edge"]
	case hasH && hasW && len(vals) == 2:
		return vals["height"], vals["width"], 0
	}
	p.err = fmt.Errorf("%s: field %q: unsupported size keys %s (supported: shortest_edge alone, or height and width)", p.name, key, v)
	return 0, 0, 0
}

func (p *cfgParser) size(key string, dst *Size) {
	v, ok := p.get(key)
	if !ok {
		return
	}
	// CLIPImageProcessor calls get_size_dict(size, default_to_square=False):
	// a bare integer means shortest_edge.
	h, w, s := p.hw(key, v, true)
	if p.err != nil {
		return
	}
	if h < 0 || w < 0 || s < 0 || (s == 0 && (h == 0 || w == 0)) {
		p.fail(key, "positive sizes", v)
		return
	}
	*dst = Size{ShortestEdge: s, Height: h, Width: w}
}

func (p *cfgParser) crop(key string, dh, dw *int) {
	v, ok := p.get(key)
	if !ok {
		return
	}
	// crop_size goes through get_size_dict(..., default_to_square=True).
	h, w, s := p.hw(key, v, false)
	if p.err != nil {
		return
	}
	if s != 0 || h <= 0 || w <= 0 {
		p.fail(key, `{"height": h, "width": w} with positive values, [h, w] or an integer`, v)
		return
	}
	*dh, *dw = h, w
}
