package imageproc

import (
	"strings"
	"testing"
)

func TestLoadConfigGitBase(t *testing.T) {
	cfg, err := LoadConfig("testdata/preprocessor_config.json")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != DefaultConfig() {
		t.Fatalf("git-base config %+v differs from DefaultConfig %+v", cfg, DefaultConfig())
	}
	if cfg.RescaleFactor != 1.0/255 {
		t.Fatalf("rescale_factor %v is not the float64 1/255", cfg.RescaleFactor)
	}
}

func TestParseConfigForms(t *testing.T) {
	cases := []struct {
		json  string
		check func(Config) bool
	}{
		{`{"size": 384, "crop_size": 300}`, func(c Config) bool {
			return c.Size == Size{ShortestEdge: 384} && c.CropHeight == 300 && c.CropWidth == 300
		}},
		{`{"size": {"height": 32, "width": 48}, "crop_size": [20, 30]}`, func(c Config) bool {
			return c.Size == Size{Height: 32, Width: 48} && c.CropHeight == 20 && c.CropWidth == 30
		}},
		{`{"size": {"shortest_edge": 32}, "crop_size": {"height": 32, "width": 32}, "unknown_key": [1, {"x": 2}], "processor_class": "GitProcessor"}`, func(c Config) bool {
			return c.Size.ShortestEdge == 32 && c.CropHeight == 32
		}},
		{`{"resample": 2, "do_center_crop": false, "image_mean": 0.5, "image_std": [1, 2, 3]}`, func(c Config) bool {
			return c.Resample == Bilinear && !c.DoCenterCrop && c.ImageMean == [3]float64{0.5, 0.5, 0.5} && c.ImageStd == [3]float64{1, 2, 3}
		}},
		{`{"image_mean": null, "size": null, "do_normalize": null}`, func(c Config) bool {
			return c.ImageMean == clipMean && c.Size.ShortestEdge == 224 && !c.DoNormalize
		}},
	}
	for _, c := range cases {
		cfg, err := ParseConfig([]byte(c.json), "p.json")
		if err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		if !c.check(cfg) {
			t.Fatalf("%s: got %+v", c.json, cfg)
		}
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct{ json, field string }{
		{`{"do_resize": "yes"}`, `"do_resize"`},
		{`{"resample": 0}`, `"resample"`},
		{`{"resample": 7}`, `"resample"`},
		{`{"resample": "bicubic"}`, `"resample"`},
		{`{"resample": 2.5}`, `"resample"`},
		{`{"size": {"longest_edge": 5}}`, `"size"`},
		{`{"size": "big"}`, `"size"`},
		{`{"size": {"shortest_edge": "224"}}`, `"size.shortest_edge"`},
		{`{"crop_size": {"shortest_edge": 224}}`, `"crop_size"`},
		{`{"crop_size": [1, 2, 3]}`, `"crop_size"`},
		{`{"image_mean": [0.5, 0.5]}`, `"image_mean"`},
		{`{"image_std": [1, 0, 1]}`, `"image_std"`},
		{`{"rescale_factor": "1/255"}`, `"rescale_factor"`},
		{`[1, 2]`, ``},
	}
	for _, c := range cases {
		_, err := ParseConfig([]byte(c.json), "preprocessor_config.json")
		if err == nil {
			t.Fatalf("%s: no error", c.json)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "preprocessor_config.json: ") || !strings.Contains(msg, c.field) {
			t.Fatalf("%s: error %q should name the file and field %s", c.json, msg, c.field)
		}
	}
	// resample=0 says why.
	_, err := ParseConfig([]byte(`{"resample": 0}`), "x.json")
	if !strings.Contains(err.Error(), "nearest") {
		t.Fatalf("error %q should say nearest is unsupported", err)
	}
	if _, err := LoadConfig("testdata/does-not-exist.json"); err == nil || !strings.Contains(err.Error(), "does-not-exist.json") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestResizeOutputSize(t *testing.T) {
	s := Size{ShortestEdge: 224}
	for _, c := range []struct{ w, h, ow, oh int }{
		{451, 300, 336, 224}, {640, 427, 335, 224}, {200, 130, 344, 224},
		{550, 660, 224, 268}, {512, 512, 224, 224}, {224, 224, 224, 224},
		{1, 1000, 224, 224000}, {3, 2, 336, 224},
	} {
		if ow, oh := ResizeOutputSize(c.w, c.h, s); ow != c.ow || oh != c.oh {
			t.Errorf("%dx%d -> %dx%d, want %dx%d", c.w, c.h, ow, oh, c.ow, c.oh)
		}
	}
	if ow, oh := ResizeOutputSize(10, 20, Size{Height: 5, Width: 7}); ow != 7 || oh != 5 {
		t.Errorf("height/width size: %dx%d", ow, oh)
	}
}
