package gitmodel

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"

	"github.com/gitcap/gitcap/nn"
	"github.com/gitcap/gitcap/tensor"
	"github.com/gitcap/gitcap/tensor/safetensors"
)

// AddLoRA attaches fresh adapters to every Linear that cfg.TargetModules
// matches, initialised as PEFT does (init_lora_weights=True): A uniform in
// ±1/√in (kaiming_uniform with a=√5), B zero, so the model is unchanged
// until trained. It returns the adapted modules' names.
func (m *Model) AddLoRA(cfg *nn.AdapterConfig, rng *rand.Rand) ([]string, error) {
	var names []string
	for _, nl := range m.Linears() {
		if !cfg.TargetModules.Matches(nl.Name, nl.Name == "output") {
			continue
		}
		r, scaling := cfg.Scaling(nl.Name)
		in, out := nl.Linear.In(), nl.Linear.Out()
		a := tensor.Zeros(r, in)
		bound := 1 / math.Sqrt(float64(in))
		for i := range a.Data() {
			a.Data()[i] = float32((2*rng.Float64() - 1) * bound)
		}
		nl.Linear.LoRA = &nn.LoRA{A: a, B: tensor.Zeros(out, r), Scaling: scaling, Dropout: float32(cfg.LoraDropout)}
		names = append(names, nl.Name)
	}
	if len(names) == 0 {
		return nil, noTargetsError(cfg.TargetModules)
	}
	return names, nil
}

// LoRAParams lists the attached adapters' matrices with their PEFT names
// (base_model.model.<module>.lora_A.weight), A then B per module.
func (m *Model) LoRAParams() []nn.NamedTensor {
	var out []nn.NamedTensor
	for _, nl := range m.Linears() {
		if l := nl.Linear.LoRA; l != nil {
			out = append(out, nn.NamedTensor{Name: nn.PeftKey(nl.Name, "A"), Tensor: l.A},
				nn.NamedTensor{Name: nn.PeftKey(nl.Name, "B"), Tensor: l.B})
		}
	}
	return out
}

// SaveAdapter writes the attached adapters as PEFT's save_pretrained does:
// adapter_config.json (classic keys only, sorted, indent 2) and
// adapter_model.safetensors ({"format": "pt"}), both atomically.
func (m *Model) SaveAdapter(dir string, cfg *nn.AdapterConfig) error {
	var ts []safetensors.Tensor
	for _, p := range m.LoRAParams() {
		shape := []int64{int64(p.Tensor.Dim(0)), int64(p.Tensor.Dim(1))}
		t, err := safetensors.FromFloat32s(p.Name, safetensors.F32, shape, p.Tensor.Data())
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	if len(ts) == 0 {
		return fmt.Errorf("no LoRA adapters attached")
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "adapter_model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	data, err := AdapterConfigJSON(cfg)
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, "adapter_config.json"), data)
}

// AdapterConfigJSON renders the keys every PEFT ≥ 0.9 loads (formats.md
// §3.2), sorted, with two-space indents like json.dumps(indent=2, sort_keys=True).
func AdapterConfigJSON(c *nn.AdapterConfig) ([]byte, error) {
	var target any = c.TargetModules.Names
	if c.TargetModules.Regex != "" {
		target = c.TargetModules.Regex
	} else {
		names := append([]string(nil), c.TargetModules.Names...)
		sort.Strings(names) // PEFT saves a set, as a list
		target = names
	}
	rank, alpha := c.RankPattern, c.AlphaPattern
	if rank == nil {
		rank = map[string]int{}
	}
	if alpha == nil {
		alpha = map[string]float64{}
	}
	taskType := "CAUSAL_LM"
	if c.TaskType != nil {
		taskType = *c.TaskType
	}
	m := map[string]any{
		"alpha_pattern":           alpha,
		"base_model_name_or_path": c.BaseModelNameOrPath,
		"bias":                    "none",
		"fan_in_fan_out":          false,
		"inference_mode":          true,
		"init_lora_weights":       true,
		"layers_pattern":          nil,
		"layers_to_transform":     nil,
		"lora_alpha":              c.LoraAlpha,
		"lora_dropout":            c.LoraDropout,
		"modules_to_save":         nil,
		"peft_type":               "LORA",
		"r":                       c.R,
		"rank_pattern":            rank,
		"revision":                c.Revision,
		"target_modules":          target,
		"task_type":               taskType,
		"use_dora":                false,
		"use_rslora":              c.UseRslora,
	}
	b, err := json.MarshalIndent(m, "", "  ") // map keys come out sorted
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
