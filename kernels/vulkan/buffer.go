//go:build vulkan

package vulkan

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Buffer is a storage buffer of float32 (or int32) values on the device.
// Device buffers live in device-local memory; on devices whose local memory
// the host can map (integrated GPUs, lavapipe) they are written in place,
// otherwise through staging buffers. Host buffers are always mapped.
type Buffer struct {
	d      *Device
	buf    uint64
	mem    uint64
	bytes  int64
	ptr    unsafe.Pointer // mapped memory, or nil
	freed  bool
	staged bool // a temporary staging buffer
}

// NewBuffer allocates n float32 (or int32) values of device memory. Its
// contents start undefined.
func (d *Device) NewBuffer(n int) (*Buffer, error) { return d.newBuffer(n, false) }

// NewHostBuffer allocates n values of host-visible, coherent memory, mapped.
func (d *Device) NewHostBuffer(n int) (*Buffer, error) { return d.newBuffer(n, true) }

func (d *Device) newBuffer(n int, host bool) (*Buffer, error) {
	if n < 0 {
		return nil, fmt.Errorf("vulkan: buffer of %d values", n)
	}
	bytes := int64(max(n, 4)) * 4
	if uint64(bytes) > uint64(d.limits.maxStorageBufferRange) {
		return nil, fmt.Errorf("vulkan: buffer of %d bytes exceeds maxStorageBufferRange %d on %s", bytes, d.limits.maxStorageBufferRange, d.Info.Name)
	}
	d.memMu.Lock()
	defer d.memMu.Unlock()
	if d.closed.Load() {
		return nil, fmt.Errorf("vulkan: device closed")
	}
	b := &Buffer{d: d, bytes: bytes}
	info := &bufferCreateInfo{sType: stBufferCreateInfo, size: uint64(bytes),
		usage: bufferUsageStorage | bufferUsageTransferSrc | bufferUsageTransferDst}
	r := vkCreateBuffer(d.dev, info, nil, &b.buf)
	runtime.KeepAlive(info)
	if err := r.err("vkCreateBuffer"); err != nil {
		return nil, err
	}
	var req memoryRequirements
	vkGetBufferMemoryRequirements(d.dev, b.buf, &req)
	typ, mapIt := d.deviceType, d.mapDevice
	if host {
		typ, mapIt = d.hostType, true
	}
	if req.memoryTypeBits&(1<<typ) == 0 {
		// fall back to any allowed type with the same host visibility
		typ = -1
		for i := 0; i < int(d.mem.memoryTypeCount); i++ {
			f := d.mem.memoryTypes[i].propertyFlags
			if req.memoryTypeBits&(1<<i) != 0 && (!mapIt || f&(memHostVisible|memHostCoherent) == memHostVisible|memHostCoherent) {
				typ = i
				break
			}
		}
		if typ < 0 {
			vkDestroyBuffer(d.dev, b.buf, nil)
			return nil, fmt.Errorf("vulkan: no memory type for a buffer (bits %#x)", req.memoryTypeBits)
		}
	}
	ai := &memoryAllocateInfo{sType: stMemoryAllocateInfo, allocationSize: req.size, memoryTypeIndex: uint32(typ)}
	r = vkAllocateMemory(d.dev, ai, nil, &b.mem)
	runtime.KeepAlive(ai)
	if err := r.err(fmt.Sprintf("vkAllocateMemory(%d bytes)", req.size)); err != nil {
		vkDestroyBuffer(d.dev, b.buf, nil)
		return nil, err
	}
	if err := vkBindBufferMemory(d.dev, b.buf, b.mem, 0).err("vkBindBufferMemory"); err != nil {
		b.release()
		return nil, err
	}
	if mapIt {
		if err := vkMapMemory(d.dev, b.mem, 0, wholeSize, 0, &b.ptr).err("vkMapMemory"); err != nil {
			b.release()
			return nil, err
		}
	}
	d.allocated += bytes
	return b, nil
}

// Len is the number of 4-byte values the buffer holds.
func (b *Buffer) Len() int { return int(b.bytes / 4) }

// Mapped reports whether the host writes and reads the buffer directly.
func (b *Buffer) Mapped() bool { return b.ptr != nil }

func (b *Buffer) release() {
	if b.ptr != nil {
		vkUnmapMemory(b.d.dev, b.mem)
		b.ptr = nil
	}
	vkDestroyBuffer(b.d.dev, b.buf, nil)
	vkFreeMemory(b.d.dev, b.mem, nil)
}

// Free releases the buffer. The device must not be using it (every Submit
// waits for its work, so this holds between submissions). Freeing twice, or
// after the device was closed, does nothing.
func (b *Buffer) Free() {
	if b == nil {
		return
	}
	d := b.d
	d.memMu.Lock()
	defer d.memMu.Unlock()
	if b.freed || d.closed.Load() {
		b.freed = true
		return
	}
	b.freed = true
	b.release()
	d.allocated -= b.bytes
}

func (b *Buffer) floats() []float32 { return unsafe.Slice((*float32)(b.ptr), b.bytes/4) }

// Write copies data to the start of the buffer. When the buffer is not
// mapped this is a submission of its own, so it must not be called by the
// goroutine that holds an open Cmd (it would wait for that Cmd): use
// Cmd.Upload there. Read likewise.
func (b *Buffer) Write(data []float32) error {
	if b.ptr != nil {
		if len(data) > b.Len() {
			return fmt.Errorf("vulkan: writing %d values into a buffer of %d", len(data), b.Len())
		}
		copy(b.floats(), data)
		return nil
	}
	c, err := b.d.Begin()
	if err != nil {
		return err
	}
	c.Upload(b, 0, data)
	return c.Submit()
}

// Read copies the start of the buffer into dst.
func (b *Buffer) Read(dst []float32) error {
	if b.ptr != nil {
		if len(dst) > b.Len() {
			return fmt.Errorf("vulkan: reading %d values from a buffer of %d", len(dst), b.Len())
		}
		copy(dst, b.floats())
		return nil
	}
	c, err := b.d.Begin()
	if err != nil {
		return err
	}
	c.Download(b, 0, dst)
	return c.Submit()
}

// Upload records a write of data at value offset off. A mapped buffer is
// written at once (so it must not be in use by work recorded earlier in
// the same Cmd); otherwise data goes to a staging buffer now and is copied
// when the Cmd runs.
func (c *Cmd) Upload(b *Buffer, off int, data []float32) {
	if c.err != nil {
		return
	}
	if off < 0 || off+len(data) > b.Len() {
		c.fail(fmt.Errorf("vulkan: upload of %d values at %d into a buffer of %d", len(data), off, b.Len()))
		return
	}
	if len(data) == 0 {
		return
	}
	if b.ptr != nil {
		copy(b.floats()[off:], data)
		return
	}
	s, err := c.d.NewHostBuffer(len(data))
	if err != nil {
		c.fail(err)
		return
	}
	copy(s.floats(), data)
	c.staging = append(c.staging, s)
	c.copyRegions(b, s, []bufferCopy{{0, uint64(off) * 4, uint64(len(data)) * 4}})
}

// UploadInts is Upload for int32 values (token ids).
func (c *Cmd) UploadInts(b *Buffer, off int, data []int32) {
	c.Upload(b, off, unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(data))), len(data)))
}

// Download records a read of len(dst) values at offset off into dst; dst is
// filled when Submit returns.
func (c *Cmd) Download(b *Buffer, off int, dst []float32) {
	if c.err != nil {
		return
	}
	if off < 0 || off+len(dst) > b.Len() {
		c.fail(fmt.Errorf("vulkan: download of %d values at %d from a buffer of %d", len(dst), off, b.Len()))
		return
	}
	if len(dst) == 0 {
		return
	}
	if b.ptr != nil {
		c.after = append(c.after, func() { copy(dst, b.floats()[off:]) })
		return
	}
	s, err := c.d.NewHostBuffer(len(dst))
	if err != nil {
		c.fail(err)
		return
	}
	c.staging = append(c.staging, s)
	c.copyRegions(s, b, []bufferCopy{{uint64(off) * 4, 0, uint64(len(dst)) * 4}})
	c.after = append(c.after, func() { copy(dst, s.floats()) })
}
