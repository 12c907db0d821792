package gitmodel

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitcap/gitcap/nn"
)

// PEFT adapters applied to the tiny model against HF+PEFT's logits and loss.
func TestLoRAMatchesPEFT(t *testing.T) {
	for _, v := range []string{"lora_text", "lora_text_vision"} {
		t.Run(v, func(t *testing.T) {
			m := loadTiny(t, nil)
			a, err := LoadAdapter(filepath.Join("testdata/tiny", v))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if a.BaseModel() != "" {
				t.Errorf("base_model_name_or_path %q, golden has null", a.BaseModel())
			}
			if err := a.Apply(m); err != nil {
				t.Fatal(err)
			}
			g := golden(t)
			o, err := m.Forward(Batch{
				Pixels: goldenF32(t, g, "inputs.pixel_values"), B: 2, T: 7,
				IDs: goldenInts(t, g, "inputs.input_ids"), Mask: goldenInts(t, g, "inputs.attention_mask"),
				Labels: goldenInts(t, g, "inputs.labels"),
			})
			if err != nil {
				t.Fatal(err)
			}
			closeTo(t, v+".logits", o.Logits, goldenF32(t, g, v+".logits"), 1e-4, 1e-4)
			if want := float64(goldenF32(t, g, v+".loss")[0]); math.Abs(o.Loss-want) > 1e-5 {
				t.Errorf("loss %v, want %v", o.Loss, want)
			}
			// without the adapter the base logits come back
			m.RemoveLoRA()
			o2, _ := m.Forward(Batch{Pixels: goldenF32(t, g, "inputs.pixel_values"), B: 2, T: 7,
				IDs: goldenInts(t, g, "inputs.input_ids"), Mask: goldenInts(t, g, "inputs.attention_mask")})
			closeTo(t, "base logits", o2.Logits, goldenF32(t, g, "out.logits"), 1e-4, 1e-4)
		})
	}
}

func TestTargetModules(t *testing.T) {
	m := loadTiny(t, nil)
	count := func(tm nn.TargetModules) int {
		n := 0
		for _, nl := range m.Linears() {
			if tm.Matches(nl.Name, nl.Name == "output") {
				n++
			}
		}
		return n
	}
	// 2 vision layers × 6 + projection + 2 text layers × 6 + head = 26 Linears
	if got := len(m.Linears()); got != 26 {
		t.Fatalf("%d Linears, want 26", got)
	}
	for _, c := range []struct {
		tm   nn.TargetModules
		want int
	}{
		{nn.TargetModules{Names: []string{"query", "value"}}, 4},
		{nn.TargetModules{Names: []string{"k_proj", "v_proj", "q_proj", "out_proj", "query", "key", "value"}}, 14},
		{nn.TargetModules{Names: []string{"dense"}}, 6},
		{nn.TargetModules{Regex: "all-linear"}, 25},
		{nn.TargetModules{Regex: `.*encoder\.layer\.1\..*query`}, 1},
	} {
		if got := count(c.tm); got != c.want {
			t.Errorf("%+v matched %d, want %d", c.tm, got, c.want)
		}
	}
}

func TestAdapterErrors(t *testing.T) {
	m := loadTiny(t, nil)
	dir := t.TempDir()
	src := "testdata/tiny/lora_text"
	copyFile := func(name, dst string) {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dst, name), b, 0o644)
	}
	// targets that the file lacks → missing tensors named
	copyFile("adapter_model.safetensors", dir)
	cfg, _ := os.ReadFile(filepath.Join(src, "adapter_config.json"))
	os.WriteFile(filepath.Join(dir, "adapter_config.json"), []byte(strings.Replace(string(cfg), `"value"`, `"key"`, 1)), 0o644)
	a, err := LoadAdapter(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	err = a.Apply(m)
	if err == nil || !strings.Contains(err.Error(), "attention.self.key.lora_A.weight") {
		t.Errorf("want a missing-tensor error naming the key, got %v", err)
	}
	// unsupported settings
	for _, bad := range [][2]string{
		{"{", `{"use_dora": true,`}, {`"peft_type": "LORA"`, `"peft_type": "IA3"`},
		{`"fan_in_fan_out": false`, `"fan_in_fan_out": true`}, {`"r": 4`, `"r": 0`}, {"{", "{,"},
	} {
		d := t.TempDir()
		copyFile("adapter_model.safetensors", d)
		edited := strings.Replace(string(cfg), bad[0], bad[1], 1)
		if edited == string(cfg) {
			t.Fatalf("edit %q did not apply", bad)
		}
		os.WriteFile(filepath.Join(d, "adapter_config.json"), []byte(edited), 0o644)
		if _, err := LoadAdapter(d); err == nil || !strings.Contains(err.Error(), "adapter_config.json") {
			t.Errorf("%s: want an error naming adapter_config.json, got %v", bad, err)
		}
	}
	if _, err := LoadAdapter(t.TempDir()); err == nil {
		t.Error("empty folder accepted as adapter")
	}
}
