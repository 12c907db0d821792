package kernels

import (
	"fmt"
	"math"
	"testing"
)

// attention64 is the float64 twin of Attention on packed rows (row stride
// dh for q, k, v and out).
func attention64(q, k, v, mask []float64, tq, tk, dh int, scale float64) (out, probs []float64) {
	s := make([]float64, tq*tk)
	for i := 0; i < tq; i++ {
		for j := 0; j < tk; j++ {
			var d float64
			for x := 0; x < dh; x++ {
				d += q[i*dh+x] * k[j*dh+x]
			}
			s[i*tk+j] = scale * d
			if mask != nil {
				s[i*tk+j] += mask[i*tk+j]
			}
		}
	}
	probs = softmax64(s, tq, tk)
	out = make([]float64, tq*dh)
	for i := 0; i < tq; i++ {
		for j := 0; j < tk; j++ {
			for x := 0; x < dh; x++ {
				out[i*dh+x] += probs[i*tk+j] * v[j*dh+x]
			}
		}
	}
	return
}

// attnCase is one head: the q, k, v, out buffers are laid out like head
// number 1 of 3 in a [T, 3*dh+pad] projection, so the leading dimensions
// exceed dh and the head starts at an offset.
type attnCase struct {
	tq, tk, dh int
	mask       string // "", "causal" (-Inf), "pad" (-3.4e38 on the last keys), "row" (one row fully -Inf), "early" (-Inf on the first keys of even rows)
}

func (c attnCase) String() string {
	return fmt.Sprintf("tq=%d,tk=%d,dh=%d,mask=%q", c.tq, c.tk, c.dh, c.mask)
}

func (c attnCase) mask32() []float32 {
	if c.mask == "" {
		return nil
	}
	m := make([]float32, c.tq*c.tk)
	for i := 0; i < c.tq; i++ {
		for j := 0; j < c.tk; j++ {
			switch {
			case c.mask == "causal" && j > i+c.tk-c.tq:
				m[i*c.tk+j] = float32(math.Inf(-1))
			case c.mask == "pad" && j >= c.tk/2+1:
				m[i*c.tk+j] = -3.4e38
			case c.mask == "row" && (i == c.tq/2 || j%3 == 1):
				m[i*c.tk+j] = float32(math.Inf(-1))
			case c.mask == "early" && i%2 == 0 && j < c.tk*2/3:
				// Even rows see only the last third of the keys: with
				// several key tiles the first ones are fully masked.
				m[i*c.tk+j] = float32(math.Inf(-1))
			}
		}
	}
	return m
}

// attnLayout places a packed rows×dh matrix as head 1 of a strided buffer.
type attnLayout struct{ off, ld int }

func layoutFor(dh int) attnLayout { return attnLayout{off: dh + 1, ld: 3*dh + 2} }

func (l attnLayout) scatter(rows, dh int, packed []float32, buf []float32) {
	for i := 0; i < rows; i++ {
		copy(buf[l.off+i*l.ld:l.off+i*l.ld+dh], packed[i*dh:(i+1)*dh])
	}
}

func (l attnLayout) gather(rows, dh int, buf []float32) []float32 {
	out := make([]float32, rows*dh)
	for i := 0; i < rows; i++ {
		copy(out[i*dh:(i+1)*dh], buf[l.off+i*l.ld:l.off+i*l.ld+dh])
	}
	return out
}

// checkOutside fails if buf changed outside the head's rows×dh window.
func (l attnLayout) checkOutside(t *testing.T, name string, rows, dh int, before, buf []float32) {
	t.Helper()
	for idx := range buf {
		rel := idx - l.off
		inside := rel >= 0 && rel/l.ld < rows && rel%l.ld < dh
		if !inside && math.Float32bits(buf[idx]) != math.Float32bits(before[idx]) {
			t.Fatalf("%s: element %d outside the head changed: %v -> %v", name, idx, before[idx], buf[idx])
		}
	}
}

func (l attnLayout) size(rows int) int { return l.off + rows*l.ld }

type attnSetup struct {
	d                  AttnDims
	lay                attnLayout
	q, k, v, mask      []float32 // packed
	qb, kb, vb         []float32 // strided buffers
	q64, k64, v64, m64 []float64
}

func newAttn(tc attnCase, seed uint64) *attnSetup {
	r := newRand(seed)
	s := &attnSetup{lay: layoutFor(tc.dh)}
	s.q, s.k, s.v = randSlice(r, tc.tq*tc.dh), randSlice(r, tc.tk*tc.dh), randSlice(r, tc.tk*tc.dh)
	for i := range s.q {
		s.q[i] *= 2 // sharper softmax than with uniform [-1, 1) scores
	}
	s.mask = tc.mask32()
	ld := s.lay.ld
	s.d = AttnDims{Tq: tc.tq, Tk: tc.tk, Dh: tc.dh, Ldq: ld, Ldk: ld, Ldv: ld, Ldo: ld, Scale: float32(1 / math.Sqrt(float64(tc.dh)))}
	s.qb, s.kb, s.vb = randSlice(r, s.lay.size(tc.tq)), randSlice(r, s.lay.size(tc.tk)), randSlice(r, s.lay.size(tc.tk))
	s.lay.scatter(tc.tq, tc.dh, s.q, s.qb)
	s.lay.scatter(tc.tk, tc.dh, s.k, s.kb)
	s.lay.scatter(tc.tk, tc.dh, s.v, s.vb)
	s.q64, s.k64, s.v64 = to64(s.q), to64(s.k), to64(s.v)
	if s.mask != nil {
		s.m64 = to64(s.mask)
	}
	return s
}

func TestAttention(t *testing.T) {
	var cases []attnCase
	for i, n := range oddSizes {
		cases = append(cases,
			attnCase{tq: n, tk: n, dh: oddSizes[(i+3)%len(oddSizes)]%65 + 1, mask: []string{"", "causal", "pad", "row"}[i%4]},
			attnCase{tq: oddSizes[(i+5)%len(oddSizes)], tk: n, dh: oddSizes[i%7], mask: []string{"pad", "", "row", "causal"}[i%4]},
		)
	}
	cases = append(cases, attnCase{tq: 197, tk: 197, dh: 64}, attnCase{tq: 1, tk: 255, dh: 64, mask: "pad"})
	for ci, tc := range cases {
		s := newAttn(tc, uint64(ci))
		want, wantP := attention64(s.q64, s.k64, s.v64, s.m64, tc.tq, tc.tk, tc.dh, float64(s.d.Scale))
		ob := randSlice(newRand(7), s.lay.size(tc.tq))
		obBefore := append([]float32(nil), ob...)
		fullP, probs := guarded(tc.tq*tc.tk, nil)
		o := s.lay.off
		Attention(ob[o:], probs, s.qb[o:], s.kb[o:], s.vb[o:], s.mask, s.d)
		checkGuards(t, tc.String()+" probs", fullP)
		s.lay.checkOutside(t, tc.String()+" out", tc.tq, tc.dh, obBefore, ob)
		// Scores carry a dot-product error ≤ dh·ε·Σ|q||k|·scale ≤ dh·ε·|s|max
		// in absolute terms, which becomes the same relative error in the
		// probabilities; out then adds a tk-term sum. Bound:
		// 2(dh+tk)·ε·(1+|s|max) relative to max|v| (|s| ≤ 2·√dh here).
		smax := 2 * math.Sqrt(float64(tc.dh))
		tol := 2 * float64(tc.dh+tc.tk) / (1 << 23) * (1 + smax)
		compare(t, tc.String()+" probs", probs, wantP, tol, 0)
		compare(t, tc.String()+" out", s.lay.gather(tc.tq, tc.dh, ob), want, tol, 0)
	}
}

func TestAttentionBackward(t *testing.T) {
	cases := []attnCase{
		{tq: 1, tk: 1, dh: 1},
		{tq: 2, tk: 3, dh: 5},
		{tq: 5, tk: 7, dh: 3, mask: "causal"},
		{tq: 7, tk: 7, dh: 5, mask: "causal"},
		{tq: 3, tk: 5, dh: 2, mask: "pad"},
		{tq: 5, tk: 7, dh: 3, mask: "row"},
		{tq: 15, tk: 17, dh: 7, mask: "pad"},
		{tq: 17, tk: 15, dh: 8},
	}
	for ci, tc := range cases {
		name := tc.String()
		s := newAttn(tc, uint64(100+ci))
		r := newRand(uint64(200 + ci))
		g := randSlice(r, tc.tq*tc.dh)
		g64 := to64(g)
		loss := func() float64 {
			out, _ := attention64(s.q64, s.k64, s.v64, s.m64, tc.tq, tc.tk, tc.dh, float64(s.d.Scale))
			return dotLoss(g64, out)
		}
		wantQ, wantK, wantV := numGrad(s.q64, loss), numGrad(s.k64, loss), numGrad(s.v64, loss)

		ob := make([]float32, s.lay.size(tc.tq))
		probs := make([]float32, tc.tq*tc.tk)
		o := s.lay.off
		Attention(ob[o:], probs, s.qb[o:], s.kb[o:], s.vb[o:], s.mask, s.d)
		doutb := make([]float32, s.lay.size(tc.tq))
		s.lay.scatter(tc.tq, tc.dh, g, doutb)
		// Non-zero starting gradients: the backward accumulates.
		dqb, dkb, dvb := randSlice(r, len(s.qb)), randSlice(r, len(s.kb)), randSlice(r, len(s.vb))
		dq0, dk0, dv0 := append([]float32(nil), dqb...), append([]float32(nil), dkb...), append([]float32(nil), dvb...)
		AttentionBackward(dqb[o:], dkb[o:], dvb[o:], doutb[o:], probs, s.qb[o:], s.kb[o:], s.vb[o:], s.d)
		s.lay.checkOutside(t, name+" dq", tc.tq, tc.dh, dq0, dqb)
		s.lay.checkOutside(t, name+" dk", tc.tk, tc.dh, dk0, dkb)
		s.lay.checkOutside(t, name+" dv", tc.tk, tc.dh, dv0, dvb)
		for _, x := range []struct {
			n          string
			rows       int
			got, start []float32
			want       []float64
		}{
			{"dq", tc.tq, dqb, dq0, wantQ},
			{"dk", tc.tk, dkb, dk0, wantK},
			{"dv", tc.tk, dvb, dv0, wantV},
		} {
			got := s.lay.gather(x.rows, tc.dh, x.got)
			start := s.lay.gather(x.rows, tc.dh, x.start)
			compare(t, name+" "+x.n, got, addTo(start, x.want), 1e-4*maxAbs64(x.want)+1e-6, 1e-3)
		}
	}
}

// AttentionBackwardRecompute must give, bit for bit, what AttentionBackward
// gives with the probabilities Attention kept (AttentionProbs recomputes
// exactly those), including rows masked everywhere and strided heads.
func TestAttentionBackwardRecompute(t *testing.T) {
	cases := []attnCase{
		{tq: 1, tk: 1, dh: 1},
		{tq: 2, tk: 3, dh: 5},
		{tq: 7, tk: 7, dh: 5, mask: "causal"},
		{tq: 3, tk: 5, dh: 2, mask: "pad"},
		{tq: 5, tk: 7, dh: 3, mask: "row"},
		{tq: 17, tk: 15, dh: 8},
		{tq: 33, tk: 65, dh: 16, mask: "early"},
		{tq: 197, tk: 197, dh: 64},
		{tq: 229, tk: 229, dh: 64, mask: "causal"},
	}
	same := func(name string, got, want []float32) {
		t.Helper()
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s[%d] = %v, want %v (bit for bit)", name, i, got[i], want[i])
			}
		}
	}
	for ci, tc := range cases {
		name := tc.String()
		s := newAttn(tc, uint64(300+ci))
		r := newRand(uint64(400 + ci))
		o := s.lay.off
		probs := make([]float32, tc.tq*tc.tk)
		Attention(make([]float32, s.lay.size(tc.tq))[o:], probs, s.qb[o:], s.kb[o:], s.vb[o:], s.mask, s.d)
		fullP, p2 := guarded(tc.tq*tc.tk, nil)
		AttentionProbs(p2, s.qb[o:], s.kb[o:], s.mask, s.d)
		checkGuards(t, name+" AttentionProbs", fullP)
		same(name+" AttentionProbs", p2, probs)

		doutb := randSlice(r, s.lay.size(tc.tq))
		dq, dk, dv := randSlice(r, len(s.qb)), randSlice(r, len(s.kb)), randSlice(r, len(s.vb))
		dq2, dk2, dv2 := append([]float32(nil), dq...), append([]float32(nil), dk...), append([]float32(nil), dv...)
		AttentionBackward(dq[o:], dk[o:], dv[o:], doutb[o:], probs, s.qb[o:], s.kb[o:], s.vb[o:], s.d)
		AttentionBackwardRecompute(dq2[o:], dk2[o:], dv2[o:], doutb[o:], s.qb[o:], s.kb[o:], s.vb[o:], s.mask, s.d)
		same(name+" dq", dq2, dq)
		same(name+" dk", dk2, dk)
		same(name+" dv", dv2, dv)
	}
	d := AttnDims{Tq: 2, Tk: 3, Dh: 4, Ldq: 4, Ldk: 4, Ldv: 4, Ldo: 4, Scale: 0.5}
	buf := func(n int) []float32 { return make([]float32, n) }
	mustPanic(t, "AttentionProbs: len(probs)=5 < 6", func() { AttentionProbs(buf(5), buf(8), buf(12), nil, d) })
	mustPanic(t, "AttentionBackwardRecompute: len(mask)=5 < 6", func() {
		AttentionBackwardRecompute(buf(8), buf(12), buf(12), buf(8), buf(8), buf(12), buf(12), buf(5), d)
	})
	mustPanic(t, "AttentionBackwardRecompute: len(dv)=11 < 12", func() {
		AttentionBackwardRecompute(buf(8), buf(12), buf(11), buf(8), buf(8), buf(12), buf(12), nil, d)
	})
}

func TestAttentionPanics(t *testing.T) {
	d := AttnDims{Tq: 2, Tk: 3, Dh: 4, Ldq: 4, Ldk: 4, Ldv: 4, Ldo: 4, Scale: 0.5}
	buf := func(n int) []float32 { return make([]float32, n) }
	mustPanic(t, "Attention: len(probs)=5 < 6", func() { Attention(buf(8), buf(5), buf(8), buf(12), buf(12), nil, d) })
	mustPanic(t, "Attention: len(k)=11 < 12", func() { Attention(buf(8), buf(6), buf(8), buf(11), buf(12), nil, d) })
	mustPanic(t, "Attention: len(mask)=5 < 6", func() { Attention(buf(8), buf(6), buf(8), buf(12), buf(12), buf(5), d) })
	bad := d
	bad.Ldv = 3
	mustPanic(t, "Attention: Ldv=3 < 4", func() { Attention(buf(8), buf(6), buf(8), buf(12), buf(12), nil, bad) })
	mustPanic(t, "AttentionBackward: len(dk)=11 < 12", func() {
		AttentionBackward(buf(8), buf(11), buf(12), buf(8), buf(6), buf(8), buf(12), buf(12), d)
	})
}

// TestAttentionFused runs the fused forward of every instruction-set level
// (the Sgemm variant with the vector variant of the same level) against the
// float64 reference, with the bound of TestAttention plus the float32 exp
// of the assembly variants, and checks that nothing outside the head's
// output window is written.
func TestAttentionFused(t *testing.T) {
	var cases []attnCase
	for i, n := range oddSizes {
		cases = append(cases,
			attnCase{tq: n, tk: n, dh: oddSizes[(i+3)%len(oddSizes)]%65 + 1, mask: []string{"", "causal", "pad", "row"}[i%4]},
			attnCase{tq: oddSizes[(i+5)%len(oddSizes)], tk: n, dh: oddSizes[i%7], mask: []string{"pad", "", "row", "causal"}[i%4]},
		)
	}
	cases = append(cases,
		attnCase{tq: 197, tk: 197, dh: 64},
		attnCase{tq: 1, tk: 255, dh: 64, mask: "pad"},
		attnCase{tq: 1, tk: 216, dh: 64, mask: "causal"},
		// Several key tiles (attnBK = 256) and query blocks (attnBQ = 64).
		attnCase{tq: 70, tk: 600, dh: 33, mask: "early"},
		attnCase{tq: 130, tk: 513, dh: 64, mask: "causal"},
		attnCase{tq: 3, tk: 700, dh: 16, mask: "row"},
		attnCase{tq: 65, tk: 257, dh: 8},
	)
	for _, sv := range sgemmVariants() {
		vv := vecFor(sv.isa)
		for ci, tc := range cases {
			name := sv.Name + " " + tc.String()
			s := newAttn(tc, uint64(ci))
			want, _ := attention64(s.q64, s.k64, s.v64, s.m64, tc.tq, tc.tk, tc.dh, float64(s.d.Scale))
			ob := randSlice(newRand(7), s.lay.size(tc.tq))
			obBefore := append([]float32(nil), ob...)
			o := s.lay.off
			attentionFusedWith(&sv, vv, ob[o:], s.qb[o:], s.kb[o:], s.vb[o:], s.mask, s.d)
			s.lay.checkOutside(t, name+" out", tc.tq, tc.dh, obBefore, ob)
			smax := 2 * math.Sqrt(float64(tc.dh))
			tol := 2*float64(tc.dh+tc.tk)/(1<<23)*(1+smax) + 4e-6
			compare(t, name+" out", s.lay.gather(tc.tq, tc.dh, ob), want, tol, 0)
		}
	}
	// The exported entry point.
	tc := attnCase{tq: 17, tk: 300, dh: 64, mask: "early"}
	s := newAttn(tc, 99)
	want, _ := attention64(s.q64, s.k64, s.v64, s.m64, tc.tq, tc.tk, tc.dh, float64(s.d.Scale))
	ob := make([]float32, s.lay.size(tc.tq))
	o := s.lay.off
	AttentionFused(ob[o:], s.qb[o:], s.kb[o:], s.vb[o:], s.mask, s.d)
	compare(t, "AttentionFused", s.lay.gather(tc.tq, tc.dh, ob), want, 2*float64(tc.dh+tc.tk)/(1<<23)*17+4e-6, 0)
	mustPanic(t, "AttentionFused: len(out)", func() {
		AttentionFused(make([]float32, 3), make([]float32, 4), make([]float32, 4), make([]float32, 4), nil, AttnDims{Tq: 2, Tk: 2, Dh: 2, Ldq: 2, Ldk: 2, Ldv: 2, Ldo: 2, Scale: 1})
	})
}

// BenchmarkAttention times one head of the vision encoder (197 tokens, head
// size 64) and one decoding step against a 216-position cache, through
// Attention (with probabilities) and AttentionFused, per variant level.
func BenchmarkAttention(b *testing.B) {
	for _, sv := range sgemmVariants() {
		vv := vecFor(sv.isa)
		for _, tc := range []attnCase{{tq: 197, tk: 197, dh: 64}, {tq: 1, tk: 216, dh: 64, mask: "causal"}} {
			s := newAttn(tc, 1)
			o := s.lay.off
			ob := make([]float32, s.lay.size(tc.tq))
			flops := 4 * float64(tc.tq) * float64(tc.tk) * float64(tc.dh)
			shape := fmt.Sprintf("%dx%dx%d", tc.tq, tc.tk, tc.dh)
			b.Run(sv.Name+"/fused/"+shape, func(b *testing.B) {
				for b.Loop() {
					attentionFusedWith(&sv, vv, ob[o:], s.qb[o:], s.kb[o:], s.vb[o:], s.mask, s.d)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
			if sv.Name == sgemmSelected().Name {
				probs := make([]float32, tc.tq*tc.tk)
				b.Run(sv.Name+"/probs/"+shape, func(b *testing.B) {
					for b.Loop() {
						Attention(ob[o:], probs, s.qb[o:], s.kb[o:], s.vb[o:], s.mask, s.d)
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
