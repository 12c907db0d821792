//go:build vulkan

package vulkan

import (
	"fmt"
	"runtime"
	"unsafe"
)

// maxBindings bounds the storage buffers of any kernel (descriptor pool
// sizing).
const maxBindings = 6

// kernel is one compute pipeline: a shader with its storage-buffer
// bindings (0..bindings-1) and push-constant block.
type kernel struct {
	name      string
	bindings  int
	pushBytes uint32
	module    uint64
	setLayout uint64
	layout    uint64
	pipeline  uint64
}

// kernelSpecs lists every shader: the .spv name, its buffer count and the
// size of its push-constant block (all ≤ 128 bytes, the guaranteed minimum).
var kernelSpecs = []struct {
	name      string
	bindings  int
	pushBytes uint32
}{
	{"sgemm", 5, gemmPushBytes},
	{"gemv", 5, gemmPushBytes},
	{"attention", 5, 12 * 4},
	{"softmax", 2, 2 * 4},
	{"layernorm", 4, 3 * 4},
	{"act", 2, 2 * 4},
	{"im2col", 2, 5 * 4},
	{"clspos", 4, 4 * 4},
	{"embed", 4, 4 * 4},
}

func (d *Device) createKernels() error {
	for _, s := range kernelSpecs {
		code, err := spirv(s.name)
		if err != nil {
			return err
		}
		k, err := d.newKernel(s.name, code, s.bindings, s.pushBytes)
		if err != nil {
			return err
		}
		d.kernels[s.name] = k
	}
	return nil
}

func (d *Device) newKernel(name string, code []uint32, bindings int, pushBytes uint32) (*kernel, error) {
	k := &kernel{name: name, bindings: bindings, pushBytes: pushBytes}
	fail := func(err error) (*kernel, error) {
		k.destroy(d.dev)
		return nil, fmt.Errorf("%w (kernel %s)", err, name)
	}
	mi := &shaderModuleCreateInfo{sType: stShaderModuleCreateInfo, codeSize: uintptr(len(code) * 4), pCode: &code[0]}
	r := vkCreateShaderModule(d.dev, mi, nil, &k.module)
	runtime.KeepAlive(mi)
	runtime.KeepAlive(code)
	if err := r.err("vkCreateShaderModule"); err != nil {
		return fail(err)
	}
	bs := make([]descriptorSetLayoutBinding, bindings)
	for i := range bs {
		bs[i] = descriptorSetLayoutBinding{binding: uint32(i), descriptorType: descriptorStorageBuffer, descriptorCount: 1, stageFlags: stageCompute}
	}
	li := &descriptorSetLayoutCreateInfo{sType: stDescriptorSetLayoutInfo, bindingCount: uint32(bindings), pBindings: &bs[0]}
	r = vkCreateDescriptorSetLayout(d.dev, li, nil, &k.setLayout)
	runtime.KeepAlive(li)
	runtime.KeepAlive(bs)
	if err := r.err("vkCreateDescriptorSetLayout"); err != nil {
		return fail(err)
	}
	pc := &pushConstantRange{stageFlags: stageCompute, size: pushBytes}
	pli := &pipelineLayoutCreateInfo{sType: stPipelineLayoutCreateInfo, setLayoutCount: 1, pSetLayouts: &k.setLayout,
		pushConstantRangeCount: 1, pPushConstantRanges: pc}
	r = vkCreatePipelineLayout(d.dev, pli, nil, &k.layout)
	runtime.KeepAlive(pli)
	runtime.KeepAlive(pc)
	if err := r.err("vkCreatePipelineLayout"); err != nil {
		return fail(err)
	}
	entry := cstr("main")
	ci := &computePipelineCreateInfo{sType: stComputePipelineCreateInfo,
		stage:  pipelineShaderStageCreateInfo{sType: stPipelineShaderStageInfo, stage: stageCompute, module: k.module, pName: entry},
		layout: k.layout, basePipelineIndex: -1}
	r = vkCreateComputePipelines(d.dev, 0, 1, ci, nil, &k.pipeline)
	runtime.KeepAlive(ci)
	runtime.KeepAlive(entry)
	if err := r.err("vkCreateComputePipelines"); err != nil {
		return fail(err)
	}
	return k, nil
}

func (k *kernel) destroy(dev uintptr) {
	if k.pipeline != 0 {
		vkDestroyPipeline(dev, k.pipeline, nil)
	}
	if k.layout != 0 {
		vkDestroyPipelineLayout(dev, k.layout, nil)
	}
	if k.setLayout != 0 {
		vkDestroyDescriptorSetLayout(dev, k.setLayout, nil)
	}
	if k.module != 0 {
		vkDestroyShaderModule(dev, k.module, nil)
	}
}

// spirv returns the embedded shaders/<name>.spv as words. go:embed data has
// no alignment guarantee, so it is copied (kernels.md §8.3).
func spirv(name string) ([]uint32, error) {
	b, err := shaderFS.ReadFile("shaders/" + name + ".spv")
	if err != nil {
		return nil, fmt.Errorf("vulkan: shader %s: %v", name, err)
	}
	if len(b) < 20 || len(b)%4 != 0 {
		return nil, fmt.Errorf("vulkan: shader %s: %d bytes is not SPIR-V", name, len(b))
	}
	w := make([]uint32, len(b)/4)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), len(b)), b)
	if w[0] != 0x07230203 {
		return nil, fmt.Errorf("vulkan: shader %s: bad SPIR-V magic %#x", name, w[0])
	}
	return w, nil
}
