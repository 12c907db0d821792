//go:build vulkan

package vulkan

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Options choose and set up a device. The zero value picks the best device
// (discrete GPU, then integrated, virtual, CPU) and maps memory where it can.
type Options struct {
	// Device selects by index (as listed by Devices) or by a case-insensitive
	// substring of the name; empty means the environment variable
	// GITCAP_VULKAN_DEVICE, then the best device.
	Device string
	// Staged keeps device buffers unmapped, so every upload and download goes
	// through a staging buffer even on a device whose memory the host can
	// map (GITCAP_VULKAN_STAGED=1). Discrete GPUs always stage.
	Staged bool
}

// DeviceInfo describes one physical device.
type DeviceInfo struct {
	Index      int
	Name       string
	Type       string // "discrete", "integrated", "virtual", "cpu" or "other"
	APIVersion string
	VendorID   uint32
}

// Device is a logical device with one compute queue, the compiled kernels and
// a pool of command buffers. Its methods may be called from several
// goroutines; submissions are serialised.
type Device struct {
	Info DeviceInfo

	instance uintptr
	phys     uintptr
	dev      uintptr
	queue    uintptr
	family   uint32
	mem      memoryProperties
	limits   limits
	// deviceType is the memory type index for device buffers, hostType for
	// host-visible ones (staging, small per-step inputs, results).
	deviceType, hostType int
	mapDevice            bool // device buffers are host-visible and mapped

	closed atomic.Bool
	// recMu is held from Begin to Submit: one recording at a time (the
	// command pool and queue need external synchronisation).
	recMu   sync.Mutex
	cmdPool uint64
	kernels map[string]*kernel
	free    []*Cmd // recycled command buffers with their fence and pools
	// memMu guards buffer creation and release, and allocated.
	memMu     sync.Mutex
	allocated int64 // bytes in live buffers
}

type limits struct {
	maxStorageBufferRange  uint32
	maxPushConstantsSize   uint32
	maxSharedMemory        uint32
	maxWorkGroupCount      [3]uint32
	maxWorkGroupInvocation uint32
}

// Offsets inside VkPhysicalDeviceProperties (824 bytes; limits at 296).
const (
	propsSize           = 824
	offDeviceType       = 16
	offDeviceName       = 20
	offLimits           = 296
	offMaxStorageRange  = offLimits + 28
	offMaxPushConstants = offLimits + 32
	offMaxSharedMemory  = offLimits + 216
	offMaxGroupCount    = offLimits + 220
	offMaxInvocations   = offLimits + 232
)

func u32(b []byte, off int) uint32 { return *(*uint32)(unsafe.Pointer(&b[off])) }

var typeNames = map[uint32]string{
	physicalDeviceTypeOther: "other", physicalDeviceTypeIntegrated: "integrated",
	physicalDeviceTypeDiscrete: "discrete", physicalDeviceTypeVirtual: "virtual", physicalDeviceTypeCPU: "cpu",
}

// typeRank orders device types by preference (lower is better).
var typeRank = map[string]int{"discrete": 0, "integrated": 1, "virtual": 2, "cpu": 3, "other": 4}

func createInstance() (uintptr, error) {
	if err := load(os.Getenv("GITCAP_VULKAN_LIB")); err != nil {
		return 0, err
	}
	app := &applicationInfo{sType: stApplicationInfo, pApplicationName: cstr("gitcap"), pEngineName: cstr("gitcap"), apiVersion: apiVersion10}
	info := &instanceCreateInfo{sType: stInstanceCreateInfo, pApplicationInfo: app}
	var inst uintptr
	r := vkCreateInstance(info, nil, &inst)
	runtime.KeepAlive(info)
	runtime.KeepAlive(app)
	if err := r.err("vkCreateInstance"); err != nil {
		return 0, err
	}
	return inst, nil
}

func physicalDevices(inst uintptr) ([]uintptr, []DeviceInfo, [][]byte, error) {
	var n uint32
	if err := vkEnumeratePhysicalDevices(inst, &n, nil).err("vkEnumeratePhysicalDevices"); err != nil {
		return nil, nil, nil, err
	}
	if n == 0 {
		return nil, nil, nil, fmt.Errorf("vulkan: no physical devices (is a driver installed? on a machine without a GPU, mesa-vulkan-drivers provides lavapipe)")
	}
	pds := make([]uintptr, n)
	if err := vkEnumeratePhysicalDevices(inst, &n, &pds[0]).err("vkEnumeratePhysicalDevices"); err != nil {
		return nil, nil, nil, err
	}
	pds = pds[:n]
	infos := make([]DeviceInfo, n)
	props := make([][]byte, n)
	for i, pd := range pds {
		p := make([]byte, 1024) // 824 bytes used
		vkGetPhysicalDeviceProperties(pd, &p[0])
		name := p[offDeviceName : offDeviceName+256]
		if k := strings.IndexByte(string(name), 0); k >= 0 {
			name = name[:k]
		}
		v := u32(p, 0)
		infos[i] = DeviceInfo{Index: i, Name: string(name), Type: typeNames[u32(p, offDeviceType)],
			APIVersion: fmt.Sprintf("%d.%d.%d", v>>22&0x7f, v>>12&0x3ff, v&0xfff), VendorID: u32(p, 8)}
		if infos[i].Type == "" {
			infos[i].Type = "other"
		}
		props[i] = p
	}
	return pds, infos, props, nil
}

// Devices lists the physical devices the Vulkan loader reports.
func Devices() ([]DeviceInfo, error) {
	inst, err := createInstance()
	if err != nil {
		return nil, err
	}
	defer vkDestroyInstance(inst, nil)
	_, infos, _, err := physicalDevices(inst)
	return infos, err
}

// pick returns the index of the device sel names, or of the best one.
func pick(infos []DeviceInfo, sel string) (int, error) {
	if sel != "" {
		if i, err := strconv.Atoi(sel); err == nil {
			if i < 0 || i >= len(infos) {
				return 0, fmt.Errorf("vulkan: device %d out of range (%d devices)", i, len(infos))
			}
			return i, nil
		}
		for i, d := range infos {
			if strings.Contains(strings.ToLower(d.Name), strings.ToLower(sel)) {
				return i, nil
			}
		}
		var names []string
		for _, d := range infos {
			names = append(names, fmt.Sprintf("%d: %s (%s)", d.Index, d.Name, d.Type))
		}
		return 0, fmt.Errorf("vulkan: no device matches %q; have %s", sel, strings.Join(names, ", "))
	}
	best := 0
	for i, d := range infos {
		if typeRank[d.Type] < typeRank[infos[best].Type] {
			best = i
		}
	}
	return best, nil
}

// Open creates a device with a compute queue and compiles every kernel.
func Open(opt Options) (*Device, error) {
	inst, err := createInstance()
	if err != nil {
		return nil, err
	}
	d := &Device{instance: inst, kernels: map[string]*kernel{}}
	if err := d.init(opt); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *Device) init(opt Options) error {
	pds, infos, props, err := physicalDevices(d.instance)
	if err != nil {
		return err
	}
	sel := opt.Device
	if sel == "" {
		sel = os.Getenv("GITCAP_VULKAN_DEVICE")
	}
	i, err := pick(infos, sel)
	if err != nil {
		return err
	}
	d.phys, d.Info = pds[i], infos[i]
	p := props[i]
	d.limits = limits{
		maxStorageBufferRange:  u32(p, offMaxStorageRange),
		maxPushConstantsSize:   u32(p, offMaxPushConstants),
		maxSharedMemory:        u32(p, offMaxSharedMemory),
		maxWorkGroupCount:      [3]uint32{u32(p, offMaxGroupCount), u32(p, offMaxGroupCount+4), u32(p, offMaxGroupCount+8)},
		maxWorkGroupInvocation: u32(p, offMaxInvocations),
	}
	if d.limits.maxPushConstantsSize < 128 || d.limits.maxWorkGroupInvocation < 256 || d.limits.maxSharedMemory < 16384 {
		return fmt.Errorf("vulkan: %s: limits too small for the kernels: %+v", d.Info.Name, d.limits)
	}
	// a compute queue family
	var nf uint32
	vkGetPhysicalDeviceQueueFamilyProperties(d.phys, &nf, nil)
	fams := make([]queueFamilyProperties, nf)
	vkGetPhysicalDeviceQueueFamilyProperties(d.phys, &nf, &fams[0])
	d.family = ^uint32(0)
	for fi, f := range fams[:nf] {
		if f.queueFlags&queueCompute != 0 {
			d.family = uint32(fi)
			break
		}
	}
	if d.family == ^uint32(0) {
		return fmt.Errorf("vulkan: %s has no compute queue", d.Info.Name)
	}
	prio := new(float32)
	*prio = 1
	qi := &deviceQueueCreateInfo{sType: stDeviceQueueCreateInfo, queueFamilyIndex: d.family, queueCount: 1, pQueuePriorities: prio}
	di := &deviceCreateInfo{sType: stDeviceCreateInfo, queueCreateInfoCount: 1, pQueueCreateInfos: qi}
	r := vkCreateDevice(d.phys, di, nil, &d.dev)
	runtime.KeepAlive(di)
	runtime.KeepAlive(qi)
	runtime.KeepAlive(prio)
	if err := r.err("vkCreateDevice"); err != nil {
		return err
	}
	vkGetDeviceQueue(d.dev, d.family, 0, &d.queue)
	vkGetPhysicalDeviceMemoryProperties(d.phys, &d.mem)
	if err := d.chooseMemory(opt.Staged || os.Getenv("GITCAP_VULKAN_STAGED") == "1"); err != nil {
		return err
	}
	ci := &commandPoolCreateInfo{sType: stCommandPoolCreateInfo, flags: commandPoolResetBuffer, queueFamilyIndex: d.family}
	if err := vkCreateCommandPool(d.dev, ci, nil, &d.cmdPool).err("vkCreateCommandPool"); err != nil {
		return err
	}
	runtime.KeepAlive(ci)
	return d.createKernels()
}

// chooseMemory picks the memory types. Device buffers prefer device-local
// memory; where that memory is also host-visible and coherent (integrated
// GPUs, lavapipe) they are mapped and written directly, unless staged.
func (d *Device) chooseMemory(staged bool) error {
	find := func(want, avoid uint32) int {
		for i := 0; i < int(d.mem.memoryTypeCount); i++ {
			f := d.mem.memoryTypes[i].propertyFlags
			if f&want == want && f&avoid == 0 {
				return i
			}
		}
		return -1
	}
	d.hostType = find(memHostVisible|memHostCoherent|memHostCached, 0)
	if d.hostType < 0 {
		d.hostType = find(memHostVisible|memHostCoherent, 0)
	}
	if d.hostType < 0 {
		return fmt.Errorf("vulkan: %s has no host-visible coherent memory", d.Info.Name)
	}
	discrete := d.Info.Type == "discrete"
	if !discrete && !staged {
		if t := find(memDeviceLocal|memHostVisible|memHostCoherent, 0); t >= 0 {
			d.deviceType, d.mapDevice = t, true
			return nil
		}
	}
	// Discrete GPUs: device-local memory the host does not see (a
	// host-visible device-local heap is often only a 256 MiB BAR window).
	if t := find(memDeviceLocal, memHostVisible); t >= 0 {
		d.deviceType = t
	} else if t := find(memDeviceLocal, 0); t >= 0 {
		d.deviceType = t
	} else {
		d.deviceType = d.hostType
	}
	return nil
}

// Mapped reports whether device buffers are written directly by the host
// (no staging copies).
func (d *Device) Mapped() bool { return d.mapDevice }

// AllocatedBytes is the size of the live buffers.
func (d *Device) AllocatedBytes() int64 {
	d.memMu.Lock()
	defer d.memMu.Unlock()
	return d.allocated
}

// Close waits for the device and releases everything it created. Buffers
// still alive become unusable; freeing them afterwards is a no-op.
func (d *Device) Close() error {
	d.recMu.Lock()
	defer d.recMu.Unlock()
	d.memMu.Lock()
	defer d.memMu.Unlock()
	if d.closed.Swap(true) {
		return nil
	}
	if d.dev != 0 {
		vkDeviceWaitIdle(d.dev)
		for _, c := range d.free {
			c.destroy()
		}
		d.free = nil
		for _, k := range d.kernels {
			k.destroy(d.dev)
		}
		if d.cmdPool != 0 {
			vkDestroyCommandPool(d.dev, d.cmdPool, nil)
		}
		vkDestroyDevice(d.dev, nil)
	}
	if d.instance != 0 {
		vkDestroyInstance(d.instance, nil)
	}
	return nil
}

func (d *Device) String() string {
	mode := "mapped"
	if !d.mapDevice {
		mode = "staged"
	}
	return fmt.Sprintf("%s (%s, Vulkan %s, %s memory)", d.Info.Name, d.Info.Type, d.Info.APIVersion, mode)
}
