package gitmodel

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gitcap/gitcap/nn"
	"github.com/gitcap/gitcap/tensor/safetensors"
)

// NamedLinear is a Linear with its module path in GitForCausalLM
// ("git.encoder.layer.0.attention.self.query", "output", …).
type NamedLinear struct {
	Name   string
	Linear *nn.Linear
}

// Linears lists every Linear of the model with its Hugging Face module path,
// in state-dict order. LoRA, quantization and training address layers by it.
func (m *Model) Linears() []NamedLinear {
	var out []NamedLinear
	add := func(name string, l *nn.Linear) { out = append(out, NamedLinear{name, l}) }
	for i, l := range m.Vision.Layers {
		p := fmt.Sprintf("git.image_encoder.vision_model.encoder.layers.%d.", i)
		add(p+"self_attn.k_proj", l.KProj)
		add(p+"self_attn.v_proj", l.VProj)
		add(p+"self_attn.q_proj", l.QProj)
		add(p+"self_attn.out_proj", l.OutProj)
		add(p+"mlp.fc1", l.FC1)
		add(p+"mlp.fc2", l.FC2)
	}
	add("git.visual_projection.visual_projection.0", m.Projection)
	for i, l := range m.Layers {
		p := fmt.Sprintf("git.encoder.layer.%d.", i)
		add(p+"attention.self.query", l.Query)
		add(p+"attention.self.key", l.Key)
		add(p+"attention.self.value", l.Value)
		add(p+"attention.output.dense", l.AttnOutput)
		add(p+"intermediate.dense", l.Intermediate)
		add(p+"output.dense", l.Output)
	}
	add("output", m.LMHead)
	return out
}

// Adapter is a loaded PEFT LoRA adapter.
type Adapter struct {
	Dir    string
	Config *nn.AdapterConfig
	// Writable copies the matrices out of the file on Apply, so that they
	// can be trained (--init_adapter).
	Writable bool
	file     *safetensors.File
}

// LoadAdapter reads adapter_config.json and adapter_model.safetensors from
// dir (or its single adapter subfolder, see nn.FindAdapterDir).
func LoadAdapter(dir string) (*Adapter, error) {
	ad, ok := nn.FindAdapterDir(dir)
	if !ok {
		why := "not a PEFT adapter folder"
		if fileExists(filepath.Join(dir, "config.json")) {
			why = "a model folder, not a PEFT adapter folder"
		}
		return nil, fmt.Errorf("%s: no adapter_config.json, in it or in a single subfolder (%s)", dir, why)
	}
	cfg, err := nn.LoadAdapterConfig(ad)
	if err != nil {
		return nil, err
	}
	f, err := safetensors.Open(filepath.Join(ad, "adapter_model.safetensors"))
	if err != nil {
		return nil, err
	}
	return &Adapter{Dir: ad, Config: cfg, file: f}, nil
}

// Close releases the adapter file; attached matrices stay valid only while
// the adapter is open, so close it with the model.
func (a *Adapter) Close() error { return a.file.Close() }

// Apply attaches the adapter's LoRA matrices to the model's Linears. Every
// targeted module must have both matrices in the file with the right shapes,
// and every lora key in the file must belong to a targeted Linear.
func (a *Adapter) Apply(m *Model) error {
	file := filepath.Join(a.Dir, "adapter_model.safetensors")
	w := nn.NewWeights(a.file, file)
	if a.Writable {
		w.Writable()
	}
	targeted := 0
	for _, nl := range m.Linears() {
		if !a.Config.TargetModules.Matches(nl.Name, nl.Name == "output") {
			continue
		}
		targeted++
		r, scaling := a.Config.Scaling(nl.Name)
		mod := w.Push("base_model.model." + nl.Name)
		nl.Linear.LoRA = &nn.LoRA{
			A:       mod.Push("lora_A").Get("weight", r, nl.Linear.In()),
			B:       mod.Push("lora_B").Get("weight", nl.Linear.Out(), r),
			Scaling: scaling,
			Dropout: float32(a.Config.LoraDropout),
		}
	}
	if targeted == 0 {
		return fmt.Errorf("%s: %w", filepath.Join(a.Dir, "adapter_config.json"), noTargetsError(a.Config.TargetModules))
	}
	if err := w.Err(); err != nil {
		m.RemoveLoRA()
		return fmt.Errorf("%s (r, target_modules, rank_pattern) does not match the adapter's weights:\n%w", filepath.Join(a.Dir, "adapter_config.json"), err)
	}
	if extra := w.Unused(); len(extra) > 0 {
		m.RemoveLoRA()
		return fmt.Errorf("%s: %d tensors belong to no targeted module, e.g. %q", file, len(extra), extra[0])
	}
	return nil
}

// noTargetsError says that t selects no Linear, and which names would.
func noTargetsError(t nn.TargetModules) error {
	return fmt.Errorf("target_modules %s match no Linear of this GIT model (names end in query, key, value, dense, q_proj, k_proj, v_proj, out_proj, fc1, fc2)", TargetsString(t))
}

// TargetsString writes target_modules as adapter_config.json does: a JSON
// list of names (["query", "value"]), a quoted regular expression or
// "all-linear", or null when unset.
func TargetsString(t nn.TargetModules) string {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Sprintf("%q %q", t.Names, t.Regex)
	}
	return string(b)
}

// RemoveLoRA detaches every adapter.
func (m *Model) RemoveLoRA() {
	for _, nl := range m.Linears() {
		nl.Linear.LoRA = nil
	}
}

// BaseModel is the base named by an adapter: base_model_name_or_path, which
// may be empty (null), in which case the caller must supply one.
func (a *Adapter) BaseModel() string {
	if a.Config.BaseModelNameOrPath == nil {
		return ""
	}
	return strings.TrimSpace(*a.Config.BaseModelNameOrPath)
}
