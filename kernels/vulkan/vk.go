//go:build vulkan

package vulkan

// Hand-written purego bindings for the ~45 core Vulkan 1.0 entry points a
// compute-only user needs (kernels.md §8.3). libvulkan.so.1 exports every
// core function, so each is looked up with dlsym; vkGetInstanceProcAddr is
// not needed. Struct layouts follow C on LP64 without manual padding: Go
// pads uint32/uint64/pointer fields the same way. Dispatchable handles
// (instance, physical device, device, queue, command buffer) are uintptr,
// non-dispatchable ones uint64.
//
// Go memory handed to the driver (the structs below and what they point to)
// is kept reachable with runtime.KeepAlive until the call returns; the
// driver never keeps it.

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

type vkResult int32

func (r vkResult) err(fn string) error {
	if r >= 0 {
		return nil
	}
	return fmt.Errorf("vulkan: %s: %s", fn, resultName(r))
}

func resultName(r vkResult) string {
	switch r {
	case -1:
		return "VK_ERROR_OUT_OF_HOST_MEMORY"
	case -2:
		return "VK_ERROR_OUT_OF_DEVICE_MEMORY"
	case -3:
		return "VK_ERROR_INITIALIZATION_FAILED"
	case -4:
		return "VK_ERROR_DEVICE_LOST"
	case -5:
		return "VK_ERROR_MEMORY_MAP_FAILED"
	case -7:
		return "VK_ERROR_EXTENSION_NOT_PRESENT"
	case -9:
		return "VK_ERROR_INCOMPATIBLE_DRIVER"
	case -10:
		return "VK_ERROR_TOO_MANY_OBJECTS"
	case -1000069000:
		return "VK_ERROR_OUT_OF_POOL_MEMORY"
	}
	return fmt.Sprintf("VkResult %d", int32(r))
}

// Structure types, flags and enums (vulkan_core.h).
const (
	stApplicationInfo            = 0
	stInstanceCreateInfo         = 1
	stDeviceQueueCreateInfo      = 2
	stDeviceCreateInfo           = 3
	stSubmitInfo                 = 4
	stMemoryAllocateInfo         = 5
	stFenceCreateInfo            = 8
	stBufferCreateInfo           = 12
	stShaderModuleCreateInfo     = 16
	stPipelineShaderStageInfo    = 18
	stComputePipelineCreateInfo  = 29
	stPipelineLayoutCreateInfo   = 30
	stDescriptorSetLayoutInfo    = 32
	stDescriptorPoolCreateInfo   = 33
	stDescriptorSetAllocateInfo  = 34
	stWriteDescriptorSet         = 35
	stCommandPoolCreateInfo      = 39
	stCommandBufferAllocateInfo  = 40
	stCommandBufferBeginInfo     = 42
	stMemoryBarrier              = 46
	queueCompute                 = 0x2
	bufferUsageTransferSrc       = 0x1
	bufferUsageTransferDst       = 0x2
	bufferUsageStorage           = 0x20
	memDeviceLocal               = 0x1
	memHostVisible               = 0x2
	memHostCoherent              = 0x4
	memHostCached                = 0x8
	descriptorStorageBuffer      = 7
	stageCompute                 = 0x20
	bindPointCompute             = 1
	commandBufferOneTimeSubmit   = 0x1
	commandPoolResetBuffer       = 0x2
	pipelineStageTopOfPipe       = 0x1
	pipelineStageComputeShader   = 0x800
	pipelineStageTransfer        = 0x1000
	pipelineStageHost            = 0x4000
	accessShaderRead             = 0x20
	accessShaderWrite            = 0x40
	accessTransferRead           = 0x800
	accessTransferWrite          = 0x1000
	accessHostRead               = 0x2000
	accessHostWrite              = 0x4000
	physicalDeviceTypeOther      = 0
	physicalDeviceTypeIntegrated = 1
	physicalDeviceTypeDiscrete   = 2
	physicalDeviceTypeVirtual    = 3
	physicalDeviceTypeCPU        = 4
	apiVersion10                 = 1 << 22
	wholeSize                    = ^uint64(0)
)

type applicationInfo struct {
	sType              uint32
	pNext              unsafe.Pointer
	pApplicationName   *byte
	applicationVersion uint32
	pEngineName        *byte
	engineVersion      uint32
	apiVersion         uint32
}

type instanceCreateInfo struct {
	sType                   uint32
	pNext                   unsafe.Pointer
	flags                   uint32
	pApplicationInfo        *applicationInfo
	enabledLayerCount       uint32
	ppEnabledLayerNames     unsafe.Pointer
	enabledExtensionCount   uint32
	ppEnabledExtensionNames unsafe.Pointer
}

type queueFamilyProperties struct {
	queueFlags                  uint32
	queueCount                  uint32
	timestampValidBits          uint32
	minImageTransferGranularity [3]uint32
}

type memoryProperties struct {
	memoryTypeCount uint32
	memoryTypes     [32]struct{ propertyFlags, heapIndex uint32 }
	memoryHeapCount uint32
	memoryHeaps     [16]struct {
		size  uint64
		flags uint32
	}
}

type deviceQueueCreateInfo struct {
	sType            uint32
	pNext            unsafe.Pointer
	flags            uint32
	queueFamilyIndex uint32
	queueCount       uint32
	pQueuePriorities *float32
}

type deviceCreateInfo struct {
	sType                   uint32
	pNext                   unsafe.Pointer
	flags                   uint32
	queueCreateInfoCount    uint32
	pQueueCreateInfos       *deviceQueueCreateInfo
	enabledLayerCount       uint32
	ppEnabledLayerNames     unsafe.Pointer
	enabledExtensionCount   uint32
	ppEnabledExtensionNames unsafe.Pointer
	pEnabledFeatures        unsafe.Pointer
}

type bufferCreateInfo struct {
	sType                 uint32
	pNext                 unsafe.Pointer
	flags                 uint32
	size                  uint64
	usage                 uint32
	sharingMode           uint32
	queueFamilyIndexCount uint32
	pQueueFamilyIndices   unsafe.Pointer
}

type memoryRequirements struct {
	size           uint64
	alignment      uint64
	memoryTypeBits uint32
}

type memoryAllocateInfo struct {
	sType           uint32
	pNext           unsafe.Pointer
	allocationSize  uint64
	memoryTypeIndex uint32
}

type shaderModuleCreateInfo struct {
	sType    uint32
	pNext    unsafe.Pointer
	flags    uint32
	codeSize uintptr
	pCode    *uint32
}

type descriptorSetLayoutBinding struct {
	binding            uint32
	descriptorType     uint32
	descriptorCount    uint32
	stageFlags         uint32
	pImmutableSamplers unsafe.Pointer
}

type descriptorSetLayoutCreateInfo struct {
	sType        uint32
	pNext        unsafe.Pointer
	flags        uint32
	bindingCount uint32
	pBindings    *descriptorSetLayoutBinding
}

type pushConstantRange struct {
	stageFlags, offset, size uint32
}

type pipelineLayoutCreateInfo struct {
	sType                  uint32
	pNext                  unsafe.Pointer
	flags                  uint32
	setLayoutCount         uint32
	pSetLayouts            *uint64
	pushConstantRangeCount uint32
	pPushConstantRanges    *pushConstantRange
}

type pipelineShaderStageCreateInfo struct {
	sType               uint32
	pNext               unsafe.Pointer
	flags               uint32
	stage               uint32
	module              uint64
	pName               *byte
	pSpecializationInfo unsafe.Pointer
}

type computePipelineCreateInfo struct {
	sType              uint32
	pNext              unsafe.Pointer
	flags              uint32
	stage              pipelineShaderStageCreateInfo
	layout             uint64
	basePipelineHandle uint64
	basePipelineIndex  int32
}

type descriptorPoolSize struct {
	typ, count uint32
}

type descriptorPoolCreateInfo struct {
	sType         uint32
	pNext         unsafe.Pointer
	flags         uint32
	maxSets       uint32
	poolSizeCount uint32
	pPoolSizes    *descriptorPoolSize
}

type descriptorSetAllocateInfo struct {
	sType              uint32
	pNext              unsafe.Pointer
	descriptorPool     uint64
	descriptorSetCount uint32
	pSetLayouts        *uint64
}

type descriptorBufferInfo struct {
	buffer, offset, rng uint64
}

type writeDescriptorSet struct {
	sType            uint32
	pNext            unsafe.Pointer
	dstSet           uint64
	dstBinding       uint32
	dstArrayElement  uint32
	descriptorCount  uint32
	descriptorType   uint32
	pImageInfo       unsafe.Pointer
	pBufferInfo      *descriptorBufferInfo
	pTexelBufferView unsafe.Pointer
}

type commandPoolCreateInfo struct {
	sType            uint32
	pNext            unsafe.Pointer
	flags            uint32
	queueFamilyIndex uint32
}

type commandBufferAllocateInfo struct {
	sType              uint32
	pNext              unsafe.Pointer
	commandPool        uint64
	level              uint32
	commandBufferCount uint32
}

type commandBufferBeginInfo struct {
	sType            uint32
	pNext            unsafe.Pointer
	flags            uint32
	pInheritanceInfo unsafe.Pointer
}

type memoryBarrier struct {
	sType         uint32
	pNext         unsafe.Pointer
	srcAccessMask uint32
	dstAccessMask uint32
}

type bufferCopy struct {
	srcOffset, dstOffset, size uint64
}

type submitInfo struct {
	sType                uint32
	pNext                unsafe.Pointer
	waitSemaphoreCount   uint32
	pWaitSemaphores      unsafe.Pointer
	pWaitDstStageMask    unsafe.Pointer
	commandBufferCount   uint32
	pCommandBuffers      *uintptr
	signalSemaphoreCount uint32
	pSignalSemaphores    unsafe.Pointer
}

type fenceCreateInfo struct {
	sType uint32
	pNext unsafe.Pointer
	flags uint32
}

// The entry points. Pointer arguments are unsafe.Pointer (structs) or typed
// out-parameters; allocators are always nil.
var (
	vkCreateInstance                         func(info *instanceCreateInfo, alloc unsafe.Pointer, out *uintptr) vkResult
	vkDestroyInstance                        func(inst uintptr, alloc unsafe.Pointer)
	vkEnumeratePhysicalDevices               func(inst uintptr, count *uint32, out *uintptr) vkResult
	vkGetPhysicalDeviceProperties            func(pd uintptr, out *byte)
	vkGetPhysicalDeviceQueueFamilyProperties func(pd uintptr, count *uint32, out *queueFamilyProperties)
	vkGetPhysicalDeviceMemoryProperties      func(pd uintptr, out *memoryProperties)
	vkCreateDevice                           func(pd uintptr, info *deviceCreateInfo, alloc unsafe.Pointer, out *uintptr) vkResult
	vkDestroyDevice                          func(dev uintptr, alloc unsafe.Pointer)
	vkGetDeviceQueue                         func(dev uintptr, family, index uint32, out *uintptr)
	vkDeviceWaitIdle                         func(dev uintptr) vkResult
	vkCreateBuffer                           func(dev uintptr, info *bufferCreateInfo, alloc unsafe.Pointer, out *uint64) vkResult
	vkDestroyBuffer                          func(dev uintptr, buf uint64, alloc unsafe.Pointer)
	vkGetBufferMemoryRequirements            func(dev uintptr, buf uint64, out *memoryRequirements)
	vkAllocateMemory                         func(dev uintptr, info *memoryAllocateInfo, alloc unsafe.Pointer, out *uint64) vkResult
	vkFreeMemory                             func(dev uintptr, mem uint64, alloc unsafe.Pointer)
	vkBindBufferMemory                       func(dev uintptr, buf, mem, offset uint64) vkResult
	vkMapMemory                              func(dev uintptr, mem, offset, size uint64, flags uint32, out *unsafe.Pointer) vkResult
	vkUnmapMemory                            func(dev uintptr, mem uint64)
	vkCreateShaderModule                     func(dev uintptr, info *shaderModuleCreateInfo, alloc unsafe.Pointer, out *uint64) vkResult
	vkDestroyShaderModule                    func(dev uintptr, m uint64, alloc unsafe.Pointer)
	vkCreateDescriptorSetLayout              func(dev uintptr, info *descriptorSetLayoutCreateInfo, alloc unsafe.Pointer, out *uint64) vkResult
	vkDestroyDescriptorSetLayout             func(dev uintptr, l uint64, alloc unsafe.Pointer)
	vkCreatePipelineLayout                   func(dev uintptr, info *pipelineLayoutCreateInfo, alloc unsafe.Pointer, out *uint64) vkResult
	vkDestroyPipelineLayout                  func(dev uintptr, l uint64, alloc unsafe.Pointer)
	vkCreateComputePipelines                 func(dev uintptr, cache uint64, n uint32, info *computePipelineCreateInfo, alloc unsafe.Pointer, out *uint64) vkResult
	vkDestroyPipeline                        func(dev uintptr, p uint64, alloc unsafe.Pointer)
	vkCreateDescriptorPool                   func(dev uintptr, info *descriptorPoolCreateInfo, alloc unsafe.Pointer, out *uint64) vkResult
	vkDestroyDescriptorPool                  func(dev uintptr, p uint64, alloc unsafe.Pointer)
	vkResetDescriptorPool                    func(dev uintptr, p uint64, flags uint32) vkResult
	vkAllocateDescriptorSets                 func(dev uintptr, info *descriptorSetAllocateInfo, out *uint64) vkResult
	vkUpdateDescriptorSets                   func(dev uintptr, nw uint32, w *writeDescriptorSet, nc uint32, c unsafe.Pointer)
	vkCreateCommandPool                      func(dev uintptr, info *commandPoolCreateInfo, alloc unsafe.Pointer, out *uint64) vkResult
	vkDestroyCommandPool                     func(dev uintptr, p uint64, alloc unsafe.Pointer)
	vkAllocateCommandBuffers                 func(dev uintptr, info *commandBufferAllocateInfo, out *uintptr) vkResult
	vkBeginCommandBuffer                     func(cb uintptr, info *commandBufferBeginInfo) vkResult
	vkEndCommandBuffer                       func(cb uintptr) vkResult
	vkResetCommandBuffer                     func(cb uintptr, flags uint32) vkResult
	vkCmdBindPipeline                        func(cb uintptr, bind uint32, p uint64)
	vkCmdBindDescriptorSets                  func(cb uintptr, bind uint32, layout uint64, first, n uint32, sets *uint64, nd uint32, dyn unsafe.Pointer)
	vkCmdPushConstants                       func(cb uintptr, layout uint64, stages, offset, size uint32, values unsafe.Pointer)
	vkCmdDispatch                            func(cb uintptr, x, y, z uint32)
	vkCmdPipelineBarrier                     func(cb uintptr, src, dst, dep uint32, nm uint32, m *memoryBarrier, nb uint32, b unsafe.Pointer, ni uint32, i unsafe.Pointer)
	vkCmdCopyBuffer                          func(cb uintptr, src, dst uint64, n uint32, regions *bufferCopy)
	vkCreateFence                            func(dev uintptr, info *fenceCreateInfo, alloc unsafe.Pointer, out *uint64) vkResult
	vkDestroyFence                           func(dev uintptr, f uint64, alloc unsafe.Pointer)
	vkResetFences                            func(dev uintptr, n uint32, f *uint64) vkResult
	vkWaitForFences                          func(dev uintptr, n uint32, f *uint64, all uint32, timeout uint64) vkResult
	vkQueueSubmit                            func(q uintptr, n uint32, info *submitInfo, fence uint64) vkResult
)

var (
	loadOnce sync.Once
	loadErr  error
)

// libraryNames are tried in order; GITCAP_VULKAN_LIB overrides them.
var libraryNames = []string{"libvulkan.so.1", "libvulkan.so"}

// load opens the Vulkan loader and resolves every entry point once.
func load(override string) error {
	loadOnce.Do(func() {
		names := libraryNames
		if override != "" {
			names = []string{override}
		}
		var lib uintptr
		for _, n := range names {
			if lib, loadErr = purego.Dlopen(n, purego.RTLD_NOW|purego.RTLD_GLOBAL); loadErr == nil {
				break
			}
		}
		if loadErr != nil {
			loadErr = fmt.Errorf("vulkan: cannot load the Vulkan loader (%v): install libvulkan1 and a driver (e.g. mesa-vulkan-drivers)", loadErr)
			return
		}
		syms := []struct {
			fn   any
			name string
		}{
			{&vkCreateInstance, "vkCreateInstance"},
			{&vkDestroyInstance, "vkDestroyInstance"},
			{&vkEnumeratePhysicalDevices, "vkEnumeratePhysicalDevices"},
			{&vkGetPhysicalDeviceProperties, "vkGetPhysicalDeviceProperties"},
			{&vkGetPhysicalDeviceQueueFamilyProperties, "vkGetPhysicalDeviceQueueFamilyProperties"},
			{&vkGetPhysicalDeviceMemoryProperties, "vkGetPhysicalDeviceMemoryProperties"},
			{&vkCreateDevice, "vkCreateDevice"},
			{&vkDestroyDevice, "vkDestroyDevice"},
			{&vkGetDeviceQueue, "vkGetDeviceQueue"},
			{&vkDeviceWaitIdle, "vkDeviceWaitIdle"},
			{&vkCreateBuffer, "vkCreateBuffer"},
			{&vkDestroyBuffer, "vkDestroyBuffer"},
			{&vkGetBufferMemoryRequirements, "vkGetBufferMemoryRequirements"},
			{&vkAllocateMemory, "vkAllocateMemory"},
			{&vkFreeMemory, "vkFreeMemory"},
			{&vkBindBufferMemory, "vkBindBufferMemory"},
			{&vkMapMemory, "vkMapMemory"},
			{&vkUnmapMemory, "vkUnmapMemory"},
			{&vkCreateShaderModule, "vkCreateShaderModule"},
			{&vkDestroyShaderModule, "vkDestroyShaderModule"},
			{&vkCreateDescriptorSetLayout, "vkCreateDescriptorSetLayout"},
			{&vkDestroyDescriptorSetLayout, "vkDestroyDescriptorSetLayout"},
			{&vkCreatePipelineLayout, "vkCreatePipelineLayout"},
			{&vkDestroyPipelineLayout, "vkDestroyPipelineLayout"},
			{&vkCreateComputePipelines, "vkCreateComputePipelines"},
			{&vkDestroyPipeline, "vkDestroyPipeline"},
			{&vkCreateDescriptorPool, "vkCreateDescriptorPool"},
			{&vkDestroyDescriptorPool, "vkDestroyDescriptorPool"},
			{&vkResetDescriptorPool, "vkResetDescriptorPool"},
			{&vkAllocateDescriptorSets, "vkAllocateDescriptorSets"},
			{&vkUpdateDescriptorSets, "vkUpdateDescriptorSets"},
			{&vkCreateCommandPool, "vkCreateCommandPool"},
			{&vkDestroyCommandPool, "vkDestroyCommandPool"},
			{&vkAllocateCommandBuffers, "vkAllocateCommandBuffers"},
			{&vkBeginCommandBuffer, "vkBeginCommandBuffer"},
			{&vkEndCommandBuffer, "vkEndCommandBuffer"},
			{&vkResetCommandBuffer, "vkResetCommandBuffer"},
			{&vkCmdBindPipeline, "vkCmdBindPipeline"},
			{&vkCmdBindDescriptorSets, "vkCmdBindDescriptorSets"},
			{&vkCmdPushConstants, "vkCmdPushConstants"},
			{&vkCmdDispatch, "vkCmdDispatch"},
			{&vkCmdPipelineBarrier, "vkCmdPipelineBarrier"},
			{&vkCmdCopyBuffer, "vkCmdCopyBuffer"},
			{&vkCreateFence, "vkCreateFence"},
			{&vkDestroyFence, "vkDestroyFence"},
			{&vkResetFences, "vkResetFences"},
			{&vkWaitForFences, "vkWaitForFences"},
			{&vkQueueSubmit, "vkQueueSubmit"},
		}
		for _, s := range syms {
			if _, err := purego.Dlsym(lib, s.name); err != nil {
				loadErr = fmt.Errorf("vulkan: %s missing from the loader: %v", s.name, err)
				return
			}
			purego.RegisterLibFunc(s.fn, lib, s.name)
		}
	})
	return loadErr
}

// cstr returns a NUL-terminated copy of s.
func cstr(s string) *byte {
	b := append([]byte(s), 0)
	return &b[0]
}
