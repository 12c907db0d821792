//go:build vulkan

package vulkan

import "embed"

// The compute shaders: GLSL in shaders/*.comp (shared helpers in
// shaders/common.glsl), compiled to SPIR-V for Vulkan 1.0 and committed.
// glslangValidator output is byte-identical across runs, so `make
// check-vulkan-shaders` regenerates them and fails on any difference.
//
//go:generate glslangValidator -V --target-env vulkan1.0 --quiet -o shaders/sgemm.spv shaders/sgemm.comp
//go:generate glslangValidator -V --target-env vulkan1.0 --quiet -o shaders/gemv.spv shaders/gemv.comp
//go:generate glslangValidator -V --target-env vulkan1.0 --quiet -o shaders/attention.spv shaders/attention.comp
//go:generate glslangValidator -V --target-env vulkan1.0 --quiet -o shaders/softmax.spv shaders/softmax.comp
//go:generate glslangValidator -V --target-env vulkan1.0 --quiet -o shaders/layernorm.spv shaders/layernorm.comp
//go:generate glslangValidator -V --target-env vulkan1.0 --quiet -o shaders/act.spv shaders/act.comp
//go:generate glslangValidator -V --target-env vulkan1.0 --quiet -o shaders/im2col.spv shaders/im2col.comp
//go:generate glslangValidator -V --target-env vulkan1.0 --quiet -o shaders/clspos.spv shaders/clspos.comp
//go:generate glslangValidator -V --target-env vulkan1.0 --quiet -o shaders/embed.spv shaders/embed.comp

//go:embed shaders/*.spv
var shaderFS embed.FS
