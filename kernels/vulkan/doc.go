//go:build vulkan

// Package vulkan runs gitcap's heavy kernels on a GPU through Vulkan
// compute, without cgo: the Vulkan loader (libvulkan.so.1) is opened at run
// time with purego, and the shaders are SPIR-V compiled from GLSL in
// shaders/ and embedded.
//
// It exists only in builds with -tags vulkan. Such a binary is dynamically
// linked (libc, libdl, libpthread; kernels.md §8.2), so the default gitcap
// stays static and never imports this package.
//
// Data lives in Buffers of float32 (or int32) values, row-major. Work is
// recorded into a Cmd and runs on Submit, with a barrier between commands,
// so a whole layer or forward pass is one submission:
//
//	c, _ := dev.Begin()
//	c.Gemm(vulkan.Gemm{M: n, N: out, K: in, A: x, B: w, Bias: b, C: y, TransB: true})
//	c.LayerNorm(z, y, gamma, beta, n, out, 1e-12)
//	c.Download(z, 0, host)
//	err := c.Submit()
//
// Device buffers sit in device-local memory. Where the host can map that
// memory (integrated GPUs, lavapipe) uploads and downloads are copies;
// otherwise (discrete GPUs) they go through staging buffers.
//
// Environment: GITCAP_VULKAN_DEVICE picks a device by index or name
// substring (default: discrete, then integrated, virtual, CPU);
// GITCAP_VULKAN_STAGED=1 forces staging; GITCAP_VULKAN_LIB names the
// loader library.
package vulkan
