//go:build vulkan

package vulkan

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Cmd records work for the device: kernel dispatches, copies, uploads and
// downloads, each followed by a barrier so that every command sees the
// results of the ones before it. Nothing runs until Submit, which waits for
// the device. One Cmd is recorded at a time per Device (Begin blocks until
// the previous one is submitted); the first error sticks and Submit
// returns it.
type Cmd struct {
	d        *Device
	cb       uintptr
	fence    uint64
	pools    []uint64 // descriptor pools: the first pool in use, pools[pool-1] filling
	pool     int
	setsLeft int
	staging  []*Buffer
	after    []func()
	err      error
	// Dispatches counts the kernels recorded.
	Dispatches int
}

const setsPerPool = 256

// Begin starts a recording.
func (d *Device) Begin() (*Cmd, error) {
	d.recMu.Lock()
	if d.closed.Load() {
		d.recMu.Unlock()
		return nil, fmt.Errorf("vulkan: device closed")
	}
	var c *Cmd
	if n := len(d.free); n > 0 {
		c, d.free = d.free[n-1], d.free[:n-1]
	} else {
		c = &Cmd{d: d}
		ai := &commandBufferAllocateInfo{sType: stCommandBufferAllocateInfo, commandPool: d.cmdPool, commandBufferCount: 1}
		r := vkAllocateCommandBuffers(d.dev, ai, &c.cb)
		runtime.KeepAlive(ai)
		if err := r.err("vkAllocateCommandBuffers"); err != nil {
			d.recMu.Unlock()
			return nil, err
		}
		fi := &fenceCreateInfo{sType: stFenceCreateInfo}
		r = vkCreateFence(d.dev, fi, nil, &c.fence)
		runtime.KeepAlive(fi)
		if err := r.err("vkCreateFence"); err != nil {
			d.recMu.Unlock()
			return nil, err
		}
	}
	c.err, c.Dispatches, c.pool, c.setsLeft = nil, 0, 0, 0
	bi := &commandBufferBeginInfo{sType: stCommandBufferBeginInfo, flags: commandBufferOneTimeSubmit}
	r := vkBeginCommandBuffer(c.cb, bi)
	runtime.KeepAlive(bi)
	if err := r.err("vkBeginCommandBuffer"); err != nil {
		c.err = err
	}
	return c, nil
}

func (c *Cmd) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// Err is the first error recorded so far.
func (c *Cmd) Err() error { return c.err }

// barrier makes every earlier compute and transfer write visible to every
// later compute and transfer access.
func (c *Cmd) barrier() {
	m := &memoryBarrier{sType: stMemoryBarrier,
		srcAccessMask: accessShaderWrite | accessTransferWrite,
		dstAccessMask: accessShaderRead | accessShaderWrite | accessTransferRead | accessTransferWrite}
	st := uint32(pipelineStageComputeShader | pipelineStageTransfer)
	vkCmdPipelineBarrier(c.cb, st, st, 0, 1, m, 0, nil, 0, nil)
	runtime.KeepAlive(m)
}

func (c *Cmd) copyRegions(dst, src *Buffer, regions []bufferCopy) {
	if len(regions) == 0 {
		return
	}
	vkCmdCopyBuffer(c.cb, src.buf, dst.buf, uint32(len(regions)), &regions[0])
	runtime.KeepAlive(regions)
	c.barrier()
}

// CopyRegion copies N values from src[Src:] to dst[Dst:].
type CopyRegion struct{ Src, Dst, N int }

// Copy records copies from src to dst (which must not overlap when src is
// dst).
func (c *Cmd) Copy(dst, src *Buffer, regions []CopyRegion) {
	if c.err != nil {
		return
	}
	rs := make([]bufferCopy, 0, len(regions))
	for _, r := range regions {
		if r.N == 0 {
			continue
		}
		if r.Src < 0 || r.Dst < 0 || r.N < 0 || r.Src+r.N > src.Len() || r.Dst+r.N > dst.Len() {
			c.fail(fmt.Errorf("vulkan: copy %+v between buffers of %d and %d", r, src.Len(), dst.Len()))
			return
		}
		rs = append(rs, bufferCopy{uint64(r.Src) * 4, uint64(r.Dst) * 4, uint64(r.N) * 4})
	}
	c.copyRegions(dst, src, rs)
}

// descriptorSet allocates a set for k and points its bindings at bufs.
func (c *Cmd) descriptorSet(k *kernel, bufs []*Buffer) uint64 {
	d := c.d
	if c.setsLeft == 0 { // next pool: a recycled one or a new one
		if c.pool == len(c.pools) {
			size := &descriptorPoolSize{typ: descriptorStorageBuffer, count: setsPerPool * maxBindings}
			pi := &descriptorPoolCreateInfo{sType: stDescriptorPoolCreateInfo, maxSets: setsPerPool, poolSizeCount: 1, pPoolSizes: size}
			var p uint64
			r := vkCreateDescriptorPool(d.dev, pi, nil, &p)
			runtime.KeepAlive(pi)
			runtime.KeepAlive(size)
			if err := r.err("vkCreateDescriptorPool"); err != nil {
				c.fail(err)
				return 0
			}
			c.pools = append(c.pools, p)
		}
		c.pool++
		c.setsLeft = setsPerPool
	}
	ai := &descriptorSetAllocateInfo{sType: stDescriptorSetAllocateInfo, descriptorPool: c.pools[c.pool-1], descriptorSetCount: 1, pSetLayouts: &k.setLayout}
	var set uint64
	r := vkAllocateDescriptorSets(d.dev, ai, &set)
	runtime.KeepAlive(ai)
	if err := r.err("vkAllocateDescriptorSets"); err != nil {
		c.fail(err)
		return 0
	}
	c.setsLeft--
	infos := make([]descriptorBufferInfo, len(bufs))
	writes := make([]writeDescriptorSet, len(bufs))
	for i, b := range bufs {
		infos[i] = descriptorBufferInfo{buffer: b.buf, rng: wholeSize}
		writes[i] = writeDescriptorSet{sType: stWriteDescriptorSet, dstSet: set, dstBinding: uint32(i),
			descriptorCount: 1, descriptorType: descriptorStorageBuffer, pBufferInfo: &infos[i]}
	}
	vkUpdateDescriptorSets(d.dev, uint32(len(writes)), &writes[0], 0, nil)
	runtime.KeepAlive(infos)
	runtime.KeepAlive(writes)
	return set
}

// dispatch records one kernel run over groups (x, y, z) with push constants.
func (c *Cmd) dispatch(k *kernel, bufs []*Buffer, push []uint32, x, y, z int) {
	if c.err != nil {
		return
	}
	if len(bufs) != k.bindings || len(push)*4 > int(k.pushBytes) {
		c.fail(fmt.Errorf("vulkan: %s: %d buffers and %d push bytes, want %d and ≤ %d", k.name, len(bufs), len(push)*4, k.bindings, k.pushBytes))
		return
	}
	for _, b := range bufs {
		if b == nil || b.freed || b.d != c.d {
			c.fail(fmt.Errorf("vulkan: %s: a buffer is nil, freed or from another device", k.name))
			return
		}
	}
	lim := c.d.limits.maxWorkGroupCount
	if x < 1 || y < 1 || z < 1 || uint32(x) > lim[0] || uint32(y) > lim[1] || uint32(z) > lim[2] {
		c.fail(fmt.Errorf("vulkan: %s: %d×%d×%d work groups (limits %v)", k.name, x, y, z, lim))
		return
	}
	set := c.descriptorSet(k, bufs)
	if c.err != nil {
		return
	}
	vkCmdBindPipeline(c.cb, bindPointCompute, k.pipeline)
	vkCmdBindDescriptorSets(c.cb, bindPointCompute, k.layout, 0, 1, &set, 0, nil)
	if len(push) > 0 {
		vkCmdPushConstants(c.cb, k.layout, stageCompute, 0, uint32(len(push)*4), unsafe.Pointer(&push[0]))
		runtime.KeepAlive(push)
	}
	vkCmdDispatch(c.cb, uint32(x), uint32(y), uint32(z))
	c.Dispatches++
	c.barrier()
}

// Submit runs the recorded work, waits for it, fills the Download
// destinations and ends the recording. The Cmd must not be used again.
func (c *Cmd) Submit() error {
	d := c.d
	defer d.recMu.Unlock()
	defer c.recycle()
	// device writes → host reads
	m := &memoryBarrier{sType: stMemoryBarrier, srcAccessMask: accessShaderWrite | accessTransferWrite, dstAccessMask: accessHostRead}
	vkCmdPipelineBarrier(c.cb, pipelineStageComputeShader|pipelineStageTransfer, pipelineStageHost, 0, 1, m, 0, nil, 0, nil)
	runtime.KeepAlive(m)
	if err := vkEndCommandBuffer(c.cb).err("vkEndCommandBuffer"); err != nil {
		c.fail(err)
	}
	if c.err != nil {
		return c.err
	}
	cbs := []uintptr{c.cb}
	si := &submitInfo{sType: stSubmitInfo, commandBufferCount: 1, pCommandBuffers: &cbs[0]}
	r := vkQueueSubmit(d.queue, 1, si, c.fence)
	runtime.KeepAlive(si)
	runtime.KeepAlive(cbs)
	if err := r.err("vkQueueSubmit"); err != nil {
		return err
	}
	if err := vkWaitForFences(d.dev, 1, &c.fence, 1, ^uint64(0)).err("vkWaitForFences"); err != nil {
		return err
	}
	for _, f := range c.after {
		f()
	}
	return nil
}

// Abort drops the recording without running it.
func (c *Cmd) Abort() {
	defer c.d.recMu.Unlock()
	vkEndCommandBuffer(c.cb)
	c.recycle()
}

// recycle resets the command buffer, fence and descriptor pools and
// returns them to the device. Called with recMu held.
func (c *Cmd) recycle() {
	d := c.d
	for _, s := range c.staging {
		s.Free()
	}
	c.staging, c.after = c.staging[:0], c.after[:0]
	vkResetFences(d.dev, 1, &c.fence)
	vkResetCommandBuffer(c.cb, 0)
	for _, p := range c.pools {
		vkResetDescriptorPool(d.dev, p, 0)
	}
	d.free = append(d.free, c)
}

func (c *Cmd) destroy() {
	d := c.d
	for _, p := range c.pools {
		vkDestroyDescriptorPool(d.dev, p, nil)
	}
	vkDestroyFence(d.dev, c.fence, nil)
}
