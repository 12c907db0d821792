// Command sgemmcompare times gitcap's Sgemm beside OpenBLAS (numpy, through
// bench/sgemm_openblas.py run as a child process) and gonum's pure-Go
// blas32 Sgemm on the git-base shapes, at each thread count, interleaved:
// every repetition visits every (shape, threads) and times the three
// implementations back to back, so machine noise hits them alike. It then
// prints the medians, one line per shape and thread count:
//
//	sgemm 197x768x3072 threads=2 gitcap=… openblas=… gonum=… ratio_openblas=… ratio_gonum=…
//
// (GFLOP/s, 2·M·K·N per call). Shapes are M×K×N with C = A·op(B): the model
// shapes use B stored [N, K] and transposed (a Linear weight; numpy "nt"),
// 1024x1024x1024 a plain B ("nn"). Run it with `make bench-compare`.
//
// For single-row products (M = 1) every element of B is used once, so no
// kernel can outrun the memory B streams from. Before the sgemm lines it
// prints, per such shape and thread count, the rate at which the same
// threads merely read B (a dot of each chunk with itself, timed in the
// same interleaved repetitions) and the GFLOP/s and gonum ratio that rate
// allows:
//
//	# read-bound 1x768x768 threads=1 b_mb=2.4 read_gbs=… max_gflops=… max_ratio_gonum=…
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gitcap/gitcap/kernels"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

const defaultShapes = "197x768x768,197x768x2304,197x768x3072,197x3072x768,1x768x768,1x768x30522,20x768x30522,1024x1024x1024"

type shape struct {
	name    string
	m, k, n int
	transB  bool
}

func parseShapes(s string) ([]shape, error) {
	var out []shape
	for _, f := range strings.Split(s, ",") {
		d := strings.Split(strings.TrimSpace(f), "x")
		if len(d) != 3 {
			return nil, fmt.Errorf("shape %q: want MxKxN", f)
		}
		var v [3]int
		for i, x := range d {
			n, err := strconv.Atoi(x)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("shape %q: bad size %q", f, x)
			}
			v[i] = n
		}
		// Square products are plain "nn"; everything else is a Linear.
		out = append(out, shape{name: strings.TrimSpace(f), m: v[0], k: v[1], n: v[2], transB: !(v[0] == v[1] && v[1] == v[2])})
	}
	return out, nil
}

// operands holds one shape's inputs, shared by gitcap and gonum.
type operands struct {
	a, b, c []float32
	ldb     int
}

func newOperands(s shape, r *rand.Rand) *operands {
	o := &operands{a: make([]float32, s.m*s.k), b: make([]float32, s.k*s.n), c: make([]float32, s.m*s.n)}
	for _, x := range [][]float32{o.a, o.b} {
		for i := range x {
			x[i] = float32(2*r.Float64() - 1)
		}
	}
	o.ldb = s.n
	if s.transB {
		o.ldb = s.k
	}
	return o
}

// rate runs f once to warm up, then repeatedly for at least mintime, and
// returns GFLOP/s.
func rate(flop float64, mintime time.Duration, f func()) float64 {
	f()
	n := 0
	start := time.Now()
	for {
		f()
		n++
		if el := time.Since(start); el >= mintime {
			return flop * float64(n) / el.Seconds() / 1e9
		}
	}
}

// readRate returns the GB/s at which p's workers read b once, each a
// contiguous chunk, through the selected dot kernel (each chunk dotted with
// itself: one stream, no arithmetic dependency beyond the kernel's own).
func readRate(p *kernels.Pool, b []float32, mintime time.Duration) float64 {
	chunks := 16 * p.Workers()
	sink := make([]float32, chunks) // one slot per chunk: no shared writes
	gb := rate(4*float64(len(b)), mintime, func() {
		p.Parallel(chunks, func(lo, hi int) {
			s := b[lo*len(b)/chunks : hi*len(b)/chunks]
			sink[lo] += kernels.Dot(s, s)
		})
	})
	_ = sink
	return gb
}

// openblas is the numpy child process.
type openblas struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startOpenBLAS(python, script string) (*openblas, string, error) {
	cmd := exec.Command(python, script)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	o := &openblas{cmd: cmd, in: in, out: bufio.NewReader(stdout)}
	hdr, err := o.out.ReadString('\n')
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: %v", python, script, err)
	}
	if strings.HasPrefix(hdr, "error") {
		return nil, "", fmt.Errorf("%s", strings.TrimSpace(hdr))
	}
	return o, strings.TrimSpace(hdr), nil
}

func (o *openblas) rate(s shape, threads int, mintime time.Duration) (float64, error) {
	lay := "nn"
	if s.transB {
		lay = "nt"
	}
	if _, err := fmt.Fprintf(o.in, "%d %d %d %s %d %g\n", s.m, s.k, s.n, lay, threads, mintime.Seconds()); err != nil {
		return 0, err
	}
	line, err := o.out.ReadString('\n')
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(strings.TrimSpace(line), 64)
}

func (o *openblas) close() {
	o.in.Close()
	o.cmd.Wait()
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func main() {
	shapesFlag := flag.String("shapes", defaultShapes, "comma-separated MxKxN shapes")
	threadsFlag := flag.String("threads", "1,2", "comma-separated thread counts")
	reps := flag.Int("reps", 5, "interleaved repetitions (medians are printed)")
	mintime := flag.Duration("mintime", 200*time.Millisecond, "minimum timed duration per measurement")
	python := flag.String("python", "/usr/bin/python3", "Python with Debian's numpy and OpenBLAS")
	script := flag.String("script", "bench/sgemm_openblas.py", "the OpenBLAS timing script")
	flag.Parse()
	shapes, err := parseShapes(*shapesFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sgemmcompare:", err)
		os.Exit(2)
	}
	var threads []int
	for _, f := range strings.Split(*threadsFlag, ",") {
		t, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || t < 1 {
			fmt.Fprintf(os.Stderr, "sgemmcompare: bad thread count %q\n", f)
			os.Exit(2)
		}
		threads = append(threads, t)
	}
	ob, hdr, err := startOpenBLAS(*python, *script)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sgemmcompare: OpenBLAS:", err)
		os.Exit(1)
	}
	defer ob.close()
	procs := runtime.GOMAXPROCS(0)
	fmt.Printf("# openblas: %s\n", hdr)
	fmt.Printf("# gitcap: kernels %s (available %s), GOMAXPROCS %d, %s\n",
		kernels.SelectedKernels(), strings.Join(kernels.AvailableKernels(), ","), procs, runtime.Version())
	fmt.Printf("# %d interleaved repetitions, >= %v each; GFLOP/s medians\n", *reps, *mintime)

	r := rand.New(rand.NewPCG(1, 2))
	ops := make([]*operands, len(shapes))
	for i, s := range shapes {
		ops[i] = newOperands(s, r)
	}
	pools := map[int]*kernels.Pool{}
	for _, t := range threads {
		pools[t] = kernels.NewPool(t)
	}
	type key struct{ shape, threads int }
	res := map[key]*[3][]float64{}
	reads := map[key][]float64{} // GB/s reading B alone (M = 1 shapes)
	for rep := 0; rep < *reps; rep++ {
		for si, s := range shapes {
			o := ops[si]
			flop := 2 * float64(s.m) * float64(s.k) * float64(s.n)
			for _, t := range threads {
				kk := key{si, t}
				if res[kk] == nil {
					res[kk] = new([3][]float64)
				}
				v := res[kk]
				pool := pools[t]
				g := rate(flop, *mintime, func() {
					kernels.Sgemm(pool, false, s.transB, s.m, s.n, s.k, 1, o.a, s.k, o.b, o.ldb, 0, o.c, s.n)
				})
				ga := blas32.General{Rows: s.m, Cols: s.k, Stride: s.k, Data: o.a}
				gb := blas32.General{Rows: s.k, Cols: s.n, Stride: s.n, Data: o.b}
				tB := blas.NoTrans
				if s.transB {
					gb = blas32.General{Rows: s.n, Cols: s.k, Stride: s.k, Data: o.b}
					tB = blas.Trans
				}
				gc := blas32.General{Rows: s.m, Cols: s.n, Stride: s.n, Data: o.c}
				runtime.GOMAXPROCS(t) // gonum starts GOMAXPROCS workers
				gn := rate(flop, *mintime, func() { blas32.Gemm(blas.NoTrans, tB, 1, ga, gb, 0, gc) })
				runtime.GOMAXPROCS(procs)
				obr, err := ob.rate(s, t, *mintime)
				if err != nil {
					fmt.Fprintln(os.Stderr, "sgemmcompare: OpenBLAS:", err)
					os.Exit(1)
				}
				// Let OpenBLAS's spinning threads go idle before the next
				// gitcap measurement.
				time.Sleep(100 * time.Millisecond)
				v[0], v[1], v[2] = append(v[0], g), append(v[1], obr), append(v[2], gn)
				if s.m == 1 {
					reads[kk] = append(reads[kk], readRate(pool, o.b, *mintime))
				}
			}
		}
		fmt.Fprintf(os.Stderr, "# repetition %d/%d done\n", rep+1, *reps)
	}
	for si, s := range shapes {
		for _, t := range threads {
			if r := reads[key{si, t}]; r != nil {
				bw := median(r)
				bound := bw / 2 // GFLOP/s: 2 flops per 4-byte element of B
				fmt.Printf("# read-bound %s threads=%d b_mb=%.1f read_gbs=%.1f max_gflops=%.1f max_ratio_gonum=%.1f\n",
					s.name, t, 4*float64(s.k*s.n)/1e6, bw, bound, bound/median(res[key{si, t}][2]))
			}
		}
	}
	for si, s := range shapes {
		for _, t := range threads {
			v := res[key{si, t}]
			g, o, gn := median(v[0]), median(v[1]), median(v[2])
			fmt.Printf("sgemm %s threads=%d gitcap=%.1f openblas=%.1f gonum=%.1f ratio_openblas=%.2f ratio_gonum=%.1f\n",
				s.name, t, g, o, gn, g/o, g/gn)
		}
	}
	for _, p := range pools {
		p.Close()
	}
}
