package kernels

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestChooseISA(t *testing.T) {
	have := []isa{isaGeneric, isaAVX2, isaAVX512}
	for _, tc := range []struct {
		name string
		want isa
		warn bool
	}{
		{"", isaAVX512, false},
		{"generic", isaGeneric, false},
		{" AVX2 ", isaAVX2, false},
		{"avx512", isaAVX512, false},
		{"neon", isaAVX512, true},
		{"sse9", isaAVX512, true},
	} {
		got, msg := chooseISA(tc.name, have)
		if got != tc.want || (msg != "") != tc.warn {
			t.Errorf("chooseISA(%q) = %v, %q; want %v, warning %v", tc.name, got, msg, tc.want, tc.warn)
		}
		if tc.warn && !strings.Contains(msg, EnvKernels) {
			t.Errorf("warning %q does not name %s", msg, EnvKernels)
		}
	}
	if got := pickVariant([]isa{isaGeneric, isaAVX2, isaAVX512}, isaAVX2); got != 1 {
		t.Errorf("pickVariant capped at avx2 = %d, want 1", got)
	}
	if got := pickVariant([]isa{isaGeneric, isaAVX512}, isaAVX2); got != 0 {
		t.Errorf("pickVariant without an avx2 entry = %d, want 0 (generic)", got)
	}
}

// TestVariantTables: every family table starts with generic, lists only
// levels this CPU has, in increasing order, and the selected entries obey
// the GITCAP_KERNELS cap.
func TestVariantTables(t *testing.T) {
	have := map[isa]bool{}
	for _, i := range cpuISAs() {
		have[i] = true
	}
	check := func(family string, levels []isa) {
		if levels[0] != isaGeneric {
			t.Errorf("%s: first variant is %v", family, levels[0])
		}
		for i, l := range levels {
			if !have[l] {
				t.Errorf("%s: variant %v not available", family, l)
			}
			if i > 0 && l <= levels[i-1] {
				t.Errorf("%s: levels not increasing: %v", family, levels)
			}
		}
	}
	var sl, vl []isa
	for _, v := range sgemmVariants() {
		sl = append(sl, v.isa)
	}
	for _, v := range vecVariants() {
		vl = append(vl, v.isa)
	}
	check("sgemm", sl)
	check("vec", vl)
	if sgemmSelected().isa > selectedISA() || vecSelected().isa > selectedISA() {
		t.Errorf("selected %s/%s above the cap %v", sgemmSelected().Name, vecSelected().name, selectedISA())
	}
	t.Logf("available %v, selected %s (sgemm %s, vec %s)", AvailableKernels(), SelectedKernels(), sgemmSelected().Name, vecSelected().name)
}

// BenchmarkReadBandwidth streams 264 MB (the float32 decoder and LM-head
// weights of git-base, read once per generated token) through the selected
// dot kernel, split over 1 and 2 workers: the floor for per-token time.
func BenchmarkReadBandwidth(b *testing.B) {
	const n = 264 << 20 / 4
	x := make([]float32, n)
	for i := range x {
		x[i] = 1
	}
	v := vecSelected()
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			p := NewPool(threads)
			defer p.Close()
			start := time.Now()
			for b.Loop() {
				p.Parallel(64, func(lo, hi int) {
					s := x[lo*n/64 : hi*n/64]
					_ = v.dot(s, s)
				})
			}
			el := time.Since(start).Seconds() / float64(b.N)
			b.ReportMetric(4*n/el/1e9, "GB/s")
			b.ReportMetric(el*1e3, "ms/stream")
		})
	}
}
