package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// AdapterConfig is PEFT's adapter_config.json for LoRA (formats.md §3.2).
// Unknown keys are ignored, as current PEFT does.
type AdapterConfig struct {
	PeftType            string             `json:"peft_type"`
	TaskType            *string            `json:"task_type"`
	BaseModelNameOrPath *string            `json:"base_model_name_or_path"`
	Revision            *string            `json:"revision"`
	InferenceMode       bool               `json:"inference_mode"`
	R                   int                `json:"r"`
	LoraAlpha           float64            `json:"lora_alpha"`
	LoraDropout         float64            `json:"lora_dropout"`
	TargetModules       TargetModules      `json:"target_modules"`
	FanInFanOut         bool               `json:"fan_in_fan_out"`
	Bias                string             `json:"bias"`
	ModulesToSave       []string           `json:"modules_to_save"`
	InitLoraWeights     any                `json:"init_lora_weights"`
	LayersToTransform   any                `json:"layers_to_transform"`
	LayersPattern       any                `json:"layers_pattern"`
	RankPattern         map[string]int     `json:"rank_pattern"`
	AlphaPattern        map[string]float64 `json:"alpha_pattern"`
	UseRslora           bool               `json:"use_rslora"`
	UseDora             bool               `json:"use_dora"`
}

// TargetModules is PEFT's target_modules: a list of module-name suffixes, or
// one regular expression that must match the whole module name, or
// "all-linear".
type TargetModules struct {
	Names []string
	Regex string
}

func (t *TargetModules) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = TargetModules{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &t.Regex)
	}
	return json.Unmarshal(b, &t.Names)
}

func (t TargetModules) MarshalJSON() ([]byte, error) {
	if t.Regex != "" {
		return json.Marshal(t.Regex)
	}
	if t.Names == nil {
		return []byte("null"), nil
	}
	return json.Marshal(t.Names)
}

// Matches applies PEFT's check_target_module_exists to a dotted module name.
// isHead marks the output layer, which "all-linear" leaves out.
func (t TargetModules) Matches(module string, isHead bool) bool {
	if t.Regex == "all-linear" {
		return !isHead
	}
	if t.Regex != "" {
		re, err := regexp.Compile("^(?:" + t.Regex + ")$")
		return err == nil && re.MatchString(module)
	}
	for _, n := range t.Names {
		if module == n || strings.HasSuffix(module, "."+n) {
			return true
		}
	}
	return false
}

// Scaling returns alpha/r (alpha/√r with rsLoRA) for module, honouring
// rank_pattern and alpha_pattern (keys match as module-name suffixes).
func (c *AdapterConfig) Scaling(module string) (r int, scaling float32) {
	r, alpha := c.R, c.LoraAlpha
	for k, v := range c.RankPattern {
		if module == k || strings.HasSuffix(module, "."+k) {
			r = v
		}
	}
	for k, v := range c.AlphaPattern {
		if module == k || strings.HasSuffix(module, "."+k) {
			alpha = v
		}
	}
	if c.UseRslora {
		return r, float32(alpha / math.Sqrt(float64(r)))
	}
	return r, float32(alpha / float64(r))
}

// FindAdapterDir returns the folder holding adapter_config.json: dir itself,
// or its only subfolder that has one (PEFT saves a non-default adapter name,
// such as the Python trainer's "CausalLM-LoRA", in dir/<name>/).
func FindAdapterDir(dir string) (string, bool) {
	if _, err := os.Stat(filepath.Join(dir, "adapter_config.json")); err == nil {
		return dir, true
	}
	subs, _ := filepath.Glob(filepath.Join(dir, "*", "adapter_config.json"))
	if len(subs) == 1 {
		return filepath.Dir(subs[0]), true
	}
	return "", false
}

// LoadAdapterConfig reads and checks adapter_config.json in dir.
func LoadAdapterConfig(dir string) (*AdapterConfig, error) {
	path := filepath.Join(dir, "adapter_config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := &AdapterConfig{LoraAlpha: 8, R: 8, Bias: "none"}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: "+format, append([]any{path}, args...)...)
	}
	switch {
	case c.PeftType != "LORA":
		return nil, fail("peft_type %q is not supported (only \"LORA\")", c.PeftType)
	case c.R <= 0:
		return nil, fail("r must be positive, got %d", c.R)
	case c.UseDora:
		return nil, fail("use_dora true (DoRA) is not supported")
	case c.FanInFanOut:
		return nil, fail("fan_in_fan_out true is not supported (GIT uses nn.Linear)")
	case c.Bias != "none" && c.Bias != "":
		return nil, fail("bias %q is not supported (only \"none\")", c.Bias)
	case len(c.ModulesToSave) > 0:
		return nil, fail("modules_to_save %v is not supported", c.ModulesToSave)
	case c.LayersToTransform != nil || c.LayersPattern != nil:
		return nil, fail("layers_to_transform / layers_pattern are not supported")
	}
	if c.TargetModules.Regex != "" && c.TargetModules.Regex != "all-linear" {
		if _, err := regexp.Compile(c.TargetModules.Regex); err != nil {
			return nil, fail("target_modules: %v", err)
		}
	}
	return c, nil
}

// PeftKey is the saved name of a LoRA matrix ("A" or "B") of a module.
func PeftKey(module, which string) string {
	return "base_model.model." + module + ".lora_" + which + ".weight"
}
