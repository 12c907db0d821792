//go:build vulkan

package vulkan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"unsafe"

	"github.com/gitcap/gitcap/kernels"
)

// The kernels against the CPU reference of package kernels, by normalised
// error ‖got−want‖₂/‖want‖₂ with a tolerance per op (ggml's
// test-backend-ops). Without a Vulkan driver the tests skip, unless
// GITCAP_REQUIRE_VULKAN=1 (CI), where they fail.

var (
	devOnce   sync.Once
	devs      map[string]*Device
	devErr    error
	devsOrder = []string{"mapped", "staged"}
)

// devices opens the default device twice: with mapped memory (where the
// device allows it) and with every transfer staged.
func devices(t *testing.T) map[string]*Device {
	t.Helper()
	devOnce.Do(func() {
		devs = map[string]*Device{}
		for _, mode := range devsOrder {
			d, err := Open(Options{Staged: mode == "staged"})
			if err != nil {
				devErr = err
				return
			}
			devs[mode] = d
		}
	})
	if devErr != nil {
		if os.Getenv("GITCAP_REQUIRE_VULKAN") == "1" {
			t.Fatalf("GITCAP_REQUIRE_VULKAN=1 but no Vulkan device: %v", devErr)
		}
		t.Skipf("no Vulkan device: %v", devErr)
	}
	return devs
}

// each runs fn on every device mode.
func each(t *testing.T, fn func(t *testing.T, d *Device)) {
	ds := devices(t)
	for _, mode := range devsOrder {
		t.Run(mode, func(t *testing.T) { fn(t, ds[mode]) })
	}
}

func randn(r *rand.Rand, n int, scale float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64()) * scale
	}
	return x
}

// upload puts data in a new device buffer of n ≥ len(data) values.
func upload(t *testing.T, d *Device, data []float32, n int) *Buffer {
	t.Helper()
	b, err := d.NewBuffer(max(n, len(data)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Free)
	if err := b.Write(data); err != nil {
		t.Fatal(err)
	}
	return b
}

func download(t *testing.T, b *Buffer, n int) []float32 {
	t.Helper()
	out := make([]float32, n)
	if err := b.Read(out); err != nil {
		t.Fatal(err)
	}
	return out
}

func run(t *testing.T, d *Device, rec func(c *Cmd)) {
	t.Helper()
	c, err := d.Begin()
	if err != nil {
		t.Fatal(err)
	}
	rec(c)
	if err := c.Submit(); err != nil {
		t.Fatal(err)
	}
}

// nerr is ‖got−want‖₂/‖want‖₂ and the largest |got−want|.
func nerr(got, want []float32) (rel, maxAbs float64) {
	var num, den float64
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsInf(w, 0) || (g == w) {
			continue
		}
		num += (g - w) * (g - w)
		den += w * w
		maxAbs = math.Max(maxAbs, math.Abs(g-w))
		if g != g {
			return math.NaN(), math.NaN()
		}
	}
	if den == 0 {
		return math.Sqrt(num), maxAbs
	}
	return math.Sqrt(num / den), maxAbs
}

func check(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	rel, mx := nerr(got, want)
	if !(rel <= tol) {
		t.Errorf("%s: normalised error %.3g > %.1g (max |diff| %.3g); got %v… want %v…", what, rel, tol, mx, got[:min(4, len(got))], want[:min(4, len(want))])
		return
	}
	t.Logf("%s: normalised error %.3g, max |diff| %.3g", what, rel, mx)
}

// Per-op tolerances (normalised error). float32 sums in another order
// differ by a few ulp, ~1e-7 relative; the GPU exp/erfc are within a few
// ulp more.
const (
	tolGemm      = 1e-6
	tolAttention = 1e-6
	tolSoftmax   = 1e-6
	tolLayerNorm = 1e-6
	tolAct       = 1e-6
	tolExact     = 0
)

func TestStructLayouts(t *testing.T) {
	// sizes of the C structs on LP64 (vulkan_core.h)
	for _, c := range []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"VkApplicationInfo", unsafe.Sizeof(applicationInfo{}), 48},
		{"VkInstanceCreateInfo", unsafe.Sizeof(instanceCreateInfo{}), 64},
		{"VkQueueFamilyProperties", unsafe.Sizeof(queueFamilyProperties{}), 24},
		{"VkPhysicalDeviceMemoryProperties", unsafe.Sizeof(memoryProperties{}), 520},
		{"VkDeviceQueueCreateInfo", unsafe.Sizeof(deviceQueueCreateInfo{}), 40},
		{"VkDeviceCreateInfo", unsafe.Sizeof(deviceCreateInfo{}), 72},
		{"VkBufferCreateInfo", unsafe.Sizeof(bufferCreateInfo{}), 56},
		{"VkMemoryRequirements", unsafe.Sizeof(memoryRequirements{}), 24},
		{"VkMemoryAllocateInfo", unsafe.Sizeof(memoryAllocateInfo{}), 32},
		{"VkShaderModuleCreateInfo", unsafe.Sizeof(shaderModuleCreateInfo{}), 40},
		{"VkDescriptorSetLayoutBinding", unsafe.Sizeof(descriptorSetLayoutBinding{}), 24},
		{"VkDescriptorSetLayoutCreateInfo", unsafe.Sizeof(descriptorSetLayoutCreateInfo{}), 32},
		{"VkPipelineLayoutCreateInfo", unsafe.Sizeof(pipelineLayoutCreateInfo{}), 48},
		{"VkPipelineShaderStageCreateInfo", unsafe.Sizeof(pipelineShaderStageCreateInfo{}), 48},
		{"VkComputePipelineCreateInfo", unsafe.Sizeof(computePipelineCreateInfo{}), 96},
		{"VkDescriptorPoolCreateInfo", unsafe.Sizeof(descriptorPoolCreateInfo{}), 40},
		{"VkDescriptorSetAllocateInfo", unsafe.Sizeof(descriptorSetAllocateInfo{}), 40},
		{"VkDescriptorBufferInfo", unsafe.Sizeof(descriptorBufferInfo{}), 24},
		{"VkWriteDescriptorSet", unsafe.Sizeof(writeDescriptorSet{}), 64},
		{"VkCommandPoolCreateInfo", unsafe.Sizeof(commandPoolCreateInfo{}), 24},
		{"VkCommandBufferAllocateInfo", unsafe.Sizeof(commandBufferAllocateInfo{}), 32},
		{"VkCommandBufferBeginInfo", unsafe.Sizeof(commandBufferBeginInfo{}), 32},
		{"VkMemoryBarrier", unsafe.Sizeof(memoryBarrier{}), 24},
		{"VkBufferCopy", unsafe.Sizeof(bufferCopy{}), 24},
		{"VkSubmitInfo", unsafe.Sizeof(submitInfo{}), 72},
		{"VkFenceCreateInfo", unsafe.Sizeof(fenceCreateInfo{}), 24},
	} {
		if c.got != c.want {
			t.Errorf("%s: Go size %d, C size %d", c.name, c.got, c.want)
		}
	}
}

func TestDevice(t *testing.T) {
	ds := devices(t)
	infos, err := Devices()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range infos {
		t.Logf("device %d: %s (%s, Vulkan %s)", i.Index, i.Name, i.Type, i.APIVersion)
	}
	for _, m := range devsOrder {
		t.Logf("%s: %s; limits %+v", m, ds[m], ds[m].limits)
	}
	if ds["staged"].Mapped() {
		t.Error("Staged device maps its buffers")
	}
	if _, err := pick(infos, "no such device"); err == nil {
		t.Error("picking a missing device name succeeded")
	}
}

func TestRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, d *Device) {
		r := rand.New(rand.NewPCG(1, 2))
		x := randn(r, 1000, 1)
		b := upload(t, d, x, 1000)
		check(t, "read back", download(t, b, 1000), x, tolExact)
		// partial uploads and downloads, and a copy
		c2, err := d.NewBuffer(1000)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Free()
		part := make([]float32, 10)
		run(t, d, func(c *Cmd) {
			c.Upload(b, 990, x[:10])
			c.Copy(c2, b, []CopyRegion{{Src: 985, Dst: 0, N: 15}})
			c.Download(c2, 5, part)
		})
		check(t, "upload/copy/download", part, x[:10], tolExact)
	})
}

// gemmRef is the Gemm contract on the CPU: the product from kernels.Sgemm,
// then bias, activation and residual.
func gemmRef(g Gemm, a, b, bias, res []float32, cIn []float32) []float32 {
	lda, ldc := g.Lda, g.Ldc
	ldb := g.Ldb
	if ldb == 0 {
		ldb = g.K
		if !g.TransB {
			ldb = g.N
		}
	}
	// gather A's rows through AMap
	ap := make([]float32, g.M*g.K)
	for m := 0; m < g.M; m++ {
		copy(ap[m*g.K:(m+1)*g.K], a[rowOf(g.AMap, m)*lda:][:g.K])
	}
	y := make([]float32, g.M*g.N)
	kernels.Sgemm(nil, false, g.TransB, g.M, g.N, g.K, 1, ap, g.K, b, ldb, 0, y, g.N)
	out := append([]float32(nil), cIn...)
	for m := 0; m < g.M; m++ {
		for n := 0; n < g.N; n++ {
			v := y[m*g.N+n]
			if bias != nil {
				v += bias[n]
			}
			switch g.Act {
			case ActGELU:
				var o [1]float32
				kernels.Gelu(o[:], []float32{v})
				v = o[0]
			case ActQuickGELU:
				var o [1]float32
				kernels.QuickGelu(o[:], []float32{v})
				v = o[0]
			}
			if res != nil {
				v += res[m*g.N+n]
			}
			out[rowOf(g.CMap, m)*ldc+n] = v
		}
	}
	return out
}

func rowOf(m RowMap, r int) int {
	if m.Per == 0 {
		return r
	}
	return (r/m.Per)*m.Stride + m.Off + r%m.Per
}

func TestGemm(t *testing.T) {
	type tc struct {
		m, n, k      int
		transB       bool
		bias, res    bool
		act          Act
		amap, cmap   RowMap
		forceTiled   bool
		aRows, cRows int // physical rows (for row maps)
		desc         string
	}
	cases := []tc{
		{m: 1, n: 33, k: 17, transB: true, bias: true, desc: "gemv"},
		{m: 1, n: 33, k: 17, transB: true, bias: true, forceTiled: true, desc: "tiled 1 row"},
		{m: 3, n: 130, k: 200, transB: true, bias: true, act: ActGELU, desc: "gemv gelu"},
		{m: 8, n: 70, k: 65, transB: true, res: true, desc: "gemv residual"},
		{m: 67, n: 65, k: 33, transB: true, bias: true, act: ActQuickGELU, desc: "tiled quick_gelu"},
		{m: 130, n: 129, k: 100, transB: false, desc: "tiled NN"},
		{m: 64, n: 64, k: 16, transB: true, bias: true, res: true, desc: "one tile"},
		{m: 9, n: 40, k: 24, transB: true, bias: true, desc: "tiled 9 rows"},
		// last row of each of 3 sequences of 4 (LM head on the last position)
		{m: 3, n: 50, k: 32, transB: true, amap: RowMap{Per: 1, Stride: 4, Off: 3}, aRows: 12, desc: "gemv last rows"},
		// 2 sequences of 3 new rows into a cache of capacity 10 at position 5
		{m: 6, n: 32, k: 32, transB: true, bias: true, cmap: RowMap{Per: 3, Stride: 10, Off: 5}, cRows: 20, desc: "gemv into cache"},
		{m: 12, n: 32, k: 32, transB: true, bias: true, cmap: RowMap{Per: 6, Stride: 10, Off: 2}, cRows: 20, forceTiled: true, desc: "tiled into cache"},
	}
	each(t, func(t *testing.T, d *Device) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, c := range cases {
			aRows, cRows := max(c.m, c.aRows), max(c.m, c.cRows)
			a, b := randn(r, aRows*c.k, 1), randn(r, c.n*c.k, 0.2)
			g := Gemm{M: c.m, N: c.n, K: c.k, TransB: c.transB, Act: c.act, AMap: c.amap, CMap: c.cmap, Lda: c.k, Ldc: c.n}
			var bias, res []float32
			g.A, g.B = upload(t, d, a, 0), upload(t, d, b, 0)
			if c.bias {
				bias = randn(r, c.n, 1)
				g.Bias = upload(t, d, bias, 0)
			}
			if c.res {
				res = randn(r, c.m*c.n, 1)
				g.R = upload(t, d, res, 0)
			}
			cIn := randn(r, cRows*c.n, 1) // rows the map skips must stay
			g.C = upload(t, d, cIn, 0)
			want := gemmRef(g, a, b, bias, res, cIn)
			run(t, d, func(cm *Cmd) {
				if c.forceTiled {
					cm.gemm(g, false)
				} else {
					cm.Gemm(g)
				}
			})
			check(t, fmt.Sprintf("%s %d×%d×%d", c.desc, c.m, c.n, c.k), download(t, g.C, len(want)), want, tolGemm)
		}
	})
}

func TestAttention(t *testing.T) {
	each(t, func(t *testing.T, d *Device) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, c := range []struct {
			b, heads, dh, tq, tk, stride int
			mask                         string // "", "shared", "batch"
		}{
			{2, 3, 8, 5, 5, 0, ""},
			{2, 2, 16, 4, 9, 12, "shared"},
			{3, 4, 8, 7, 7, 0, "batch"},
			{1, 2, 64, 1, 130, 140, "batch"},
			{2, 1, 72, 3, 70, 0, ""}, // head size above the 64 threads
		} {
			dm := c.heads * c.dh
			stride := c.stride
			if stride == 0 {
				stride = c.tk
			}
			q := randn(r, c.b*c.tq*dm, 1)
			k, v := randn(r, c.b*stride*dm, 1), randn(r, c.b*stride*dm, 1)
			var mask []float32
			mb := 0
			switch c.mask {
			case "shared":
				mask = causal(c.tq, c.tk, c.tk-c.tq)
			case "batch":
				mb = c.tq * c.tk
				for bi := 0; bi < c.b; bi++ {
					m := causal(c.tq, c.tk, c.tk-c.tq)
					// pad the batch row's last bi keys, HF's finfo.min style
					for i := 0; i < c.tq; i++ {
						for j := c.tk - bi; j < c.tk; j++ {
							m[i*c.tk+j] = -3.4e38
						}
					}
					mask = append(mask, m...)
				}
			}
			scale := float32(1 / math.Sqrt(float64(c.dh)))
			want := make([]float32, len(q))
			probs := make([]float32, c.tq*c.tk)
			for bi := 0; bi < c.b; bi++ {
				for h := 0; h < c.heads; h++ {
					var m []float32
					if mask != nil {
						m = mask[bi*mb:][:c.tq*c.tk]
					}
					kernels.Attention(want[bi*c.tq*dm+h*c.dh:], probs, q[bi*c.tq*dm+h*c.dh:], k[bi*stride*dm+h*c.dh:], v[bi*stride*dm+h*c.dh:], m,
						kernels.AttnDims{Tq: c.tq, Tk: c.tk, Dh: c.dh, Ldq: dm, Ldk: dm, Ldv: dm, Ldo: dm, Scale: scale})
				}
			}
			a := Attention{B: c.b, Heads: c.heads, Tq: c.tq, Tk: c.tk, Dh: c.dh, KVStride: stride, Scale: scale,
				Q: upload(t, d, q, 0), K: upload(t, d, k, 0), V: upload(t, d, v, 0), MaskBatch: mb}
			if mask != nil {
				a.Mask = upload(t, d, mask, 0)
			}
			a.Out = upload(t, d, nil, len(q))
			run(t, d, func(cm *Cmd) { cm.Attention(a) })
			check(t, fmt.Sprintf("attention b%d h%d dh%d %d×%d mask %q", c.b, c.heads, c.dh, c.tq, c.tk, c.mask), download(t, a.Out, len(q)), want, tolAttention)
		}
	})
}

// causal is the additive mask letting query i see keys ≤ off+i.
func causal(tq, tk, off int) []float32 {
	m := make([]float32, tq*tk)
	for i := 0; i < tq; i++ {
		for j := off + i + 1; j < tk; j++ {
			m[i*tk+j] = float32(math.Inf(-1))
		}
	}
	return m
}

func TestSoftmax(t *testing.T) {
	each(t, func(t *testing.T, d *Device) {
		r := rand.New(rand.NewPCG(7, 8))
		for _, sh := range [][2]int{{1, 1}, {3, 7}, {5, 65}, {4, 300}} {
			rows, cols := sh[0], sh[1]
			x := randn(r, rows*cols, 3)
			for j := 0; j < cols; j++ { // a fully masked last row gives zeros
				x[(rows-1)*cols+j] = float32(math.Inf(-1))
			}
			if rows > 1 {
				x[1] = float32(math.Inf(-1))
			}
			want := make([]float32, len(x))
			kernels.Softmax(want, x, rows, cols)
			bx := upload(t, d, x, 0)
			by := upload(t, d, nil, len(x))
			run(t, d, func(c *Cmd) { c.Softmax(by, bx, rows, cols) })
			check(t, fmt.Sprintf("softmax %d×%d", rows, cols), download(t, by, len(x)), want, tolSoftmax)
		}
	})
}

func TestLayerNorm(t *testing.T) {
	each(t, func(t *testing.T, d *Device) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, sh := range []struct {
			rows, cols int
			eps        float32
			shift      float32
		}{{1, 32, 1e-12, 0}, {5, 100, 1e-5, 0}, {7, 768, 1e-12, 3}, {3, 5, 1e-5, 0}} {
			x := randn(r, sh.rows*sh.cols, 1)
			for i := range x {
				x[i] += sh.shift // mean away from zero
			}
			w, b := randn(r, sh.cols, 1), randn(r, sh.cols, 1)
			want := make([]float32, len(x))
			kernels.LayerNorm(want, nil, nil, x, w, b, sh.rows, sh.cols, sh.eps)
			bx := upload(t, d, x, 0)
			by := upload(t, d, nil, len(x))
			bw, bb := upload(t, d, w, 0), upload(t, d, b, 0)
			run(t, d, func(c *Cmd) { c.LayerNorm(by, bx, bw, bb, sh.rows, sh.cols, sh.eps) })
			check(t, fmt.Sprintf("layernorm %d×%d", sh.rows, sh.cols), download(t, by, len(x)), want, tolLayerNorm)
		}
	})
}

func TestActivate(t *testing.T) {
	each(t, func(t *testing.T, d *Device) {
		r := rand.New(rand.NewPCG(11, 12))
		x := randn(r, 5000, 3)
		x = append(x, 0, -10, 10, -30, 30, 1e-8, -1e-8)
		for _, a := range []struct {
			act Act
			ref func(out, x []float32)
		}{{ActGELU, kernels.Gelu}, {ActQuickGELU, kernels.QuickGelu}} {
			want := make([]float32, len(x))
			a.ref(want, x)
			bx := upload(t, d, x, 0)
			run(t, d, func(c *Cmd) { c.Activate(bx, bx, len(x), a.act) }) // in place
			check(t, fmt.Sprintf("act %d", a.act), download(t, bx, len(x)), want, tolAct)
		}
	})
}

func TestGlue(t *testing.T) {
	each(t, func(t *testing.T, d *Device) {
		r := rand.New(rand.NewPCG(13, 14))
		const b, ch, s, ps, dm = 2, 3, 8, 4, 5
		g := s / ps
		np, kk := g*g, ch*ps*ps
		px := randn(r, b*ch*s*s, 1)
		want := make([]float32, b*np*kk)
		for bi := 0; bi < b; bi++ {
			for py := 0; py < g; py++ {
				for pxi := 0; pxi < g; pxi++ {
					for c := 0; c < ch; c++ {
						for y := 0; y < ps; y++ {
							for x := 0; x < ps; x++ {
								want[(bi*np+py*g+pxi)*kk+(c*ps+y)*ps+x] = px[((bi*ch+c)*s+py*ps+y)*s+pxi*ps+x]
							}
						}
					}
				}
			}
		}
		bp, bc := upload(t, d, px, 0), upload(t, d, nil, len(want))
		run(t, d, func(c *Cmd) { c.Im2col(bc, bp, b, ch, s, ps) })
		check(t, "im2col", download(t, bc, len(want)), want, tolExact)

		p, cls, pos := randn(r, b*np*dm, 1), randn(r, dm, 1), randn(r, (np+1)*dm, 1)
		wantX := make([]float32, b*(np+1)*dm)
		for bi := 0; bi < b; bi++ {
			for tk := 0; tk <= np; tk++ {
				for c := 0; c < dm; c++ {
					v := cls[c]
					if tk > 0 {
						v = p[(bi*np+tk-1)*dm+c]
					}
					wantX[(bi*(np+1)+tk)*dm+c] = v + pos[tk*dm+c]
				}
			}
		}
		bx := upload(t, d, nil, len(wantX))
		bp2, bcls, bpos := upload(t, d, p, 0), upload(t, d, cls, 0), upload(t, d, pos, 0)
		run(t, d, func(c *Cmd) { c.ClsPos(bx, bp2, bcls, bpos, b, np, dm) })
		check(t, "clspos", download(t, bx, len(wantX)), wantX, tolExact)

		const vocab, tt, pos0 = 11, 3, 2
		word, posE := randn(r, vocab*dm, 1), randn(r, 8*dm, 1)
		ids := []int32{1, 0, 10, 4, 4, 7}
		wantE := make([]float32, len(ids)*dm)
		for i, id := range ids {
			for c := 0; c < dm; c++ {
				wantE[i*dm+c] = word[int(id)*dm+c] + posE[(pos0+i%tt)*dm+c]
			}
		}
		bids, err := d.NewBuffer(len(ids))
		if err != nil {
			t.Fatal(err)
		}
		defer bids.Free()
		be := upload(t, d, nil, len(wantE))
		bw, bpe := upload(t, d, word, 0), upload(t, d, posE, 0)
		run(t, d, func(c *Cmd) {
			c.UploadInts(bids, 0, ids)
			c.Embed(be, bids, bw, bpe, len(ids), tt, pos0, dm)
		})
		check(t, "embed", download(t, be, len(wantE)), wantE, tolExact)
	})
}

// Errors stick to the Cmd and come back from Submit; the device stays usable.
func TestBadArguments(t *testing.T) {
	d := devices(t)["mapped"]
	small := upload(t, d, nil, 4)
	out := upload(t, d, nil, 16)
	c, err := d.Begin()
	if err != nil {
		t.Fatal(err)
	}
	c.Gemm(Gemm{M: 4, N: 4, K: 4, A: small, B: small, C: out, TransB: true})
	if err := c.Submit(); err == nil {
		t.Error("Gemm on a too-small buffer was accepted")
	}
	c, err = d.Begin()
	if err != nil {
		t.Fatal(err)
	}
	c.Attention(Attention{B: 1, Heads: 1, Tq: 1, Tk: MaxAttentionKeys + 1, Dh: 4, Q: small, K: small, V: small, Out: small})
	if err := c.Submit(); err == nil {
		t.Error("Attention over too many keys was accepted")
	}
	run(t, d, func(c *Cmd) { c.Activate(small, small, 4, ActGELU) })
}
