package optim

import (
	"math"
	"path/filepath"
	"testing"
)

// HF's get_linear_schedule_with_warmup(3, 10) learning rates, as recorded
// in shared/golden/tiny-train/trajectory.json (schedule.lr_per_update).
func TestLinearScheduleMatchesHF(t *testing.T) {
	want := []float64{0, 0.0003333333333333333, 0.0006666666666666666, 0.001, 0.0008571428571428571,
		0.0007142857142857143, 0.0005714285714285714, 0.00042857142857142855, 0.0002857142857142857, 0.00014285714285714284}
	for s, w := range want {
		if got := 1e-3 * Linear.Factor(s, 3, 10); math.Abs(got-w) > 1e-18 {
			t.Errorf("update %d: lr %v, want %v", s+1, got, w)
		}
	}
}

// Cosine: half a period from 1 to 0 after warmup (transformers,
// num_cycles=0.5); constant stays 1 after warmup.
func TestOtherSchedules(t *testing.T) {
	if f := Cosine.Factor(2, 2, 12); f != 1 {
		t.Errorf("cosine at warmup end %v", f)
	}
	if f := Cosine.Factor(7, 2, 12); math.Abs(f-0.5) > 1e-12 {
		t.Errorf("cosine halfway %v", f)
	}
	if f := Cosine.Factor(12, 2, 12); math.Abs(f) > 1e-12 {
		t.Errorf("cosine end %v", f)
	}
	if Constant.Factor(1, 4, 10) != 0.25 || Constant.Factor(9, 4, 10) != 1 {
		t.Error("constant with warmup")
	}
	if _, err := ParseSchedule("polynomial"); err == nil {
		t.Error("unknown schedule accepted")
	}
}

// Update 1 has the closed form p(1 - lr·wd) - lr·g/(|g| + eps) (bias
// correction cancels); with lr 0 the moments still advance.
func TestAdamWFirstStep(t *testing.T) {
	p := []Param{{Name: "w", Value: []float32{1, -2, 0.5}, Grad: []float32{0.1, -0.3, 0}}}
	o := NewAdamW(0.01)
	o.Step(p, 1e-3)
	for i, want := range []float64{1*(1-1e-5) - 1e-3*0.1/(0.1+1e-8), -2*(1-1e-5) + 1e-3*0.3/(0.3+1e-8), 0.5 * (1 - 1e-5)} {
		if math.Abs(float64(p[0].Value[i])-want) > 1e-6 {
			t.Errorf("p[%d] = %v, want %v", i, p[0].Value[i], want)
		}
	}
	q := []Param{{Name: "w", Value: []float32{1}, Grad: []float32{1}}}
	o2 := NewAdamW(0)
	o2.Step(q, 0)
	if q[0].Value[0] != 1 || o2.Steps != 1 || o2.M[0][0] == 0 {
		t.Errorf("lr 0 step: value %v steps %d m %v", q[0].Value[0], o2.Steps, o2.M[0][0])
	}
}

func TestClipGradNorm(t *testing.T) {
	p := []Param{{Grad: []float32{3, 0}}, {Grad: []float32{4}}}
	if n := ClipGradNorm(p, 1); n != 5 {
		t.Errorf("norm %v", n)
	}
	if got := float64(p[0].Grad[0]); math.Abs(got-3/(5+1e-6)) > 1e-6 {
		t.Errorf("clipped %v", got)
	}
	q := []Param{{Grad: []float32{0.3, 0.4}}}
	ClipGradNorm(q, 1)
	if q[0].Grad[0] != 0.3 {
		t.Error("a norm under the limit was scaled")
	}
}

func TestAdamWSaveLoad(t *testing.T) {
	p := []Param{{Name: "a", Value: []float32{1, 2}, Grad: []float32{0.5, -1}}, {Name: "b", Value: []float32{3}, Grad: []float32{2}}}
	o := NewAdamW(0.1)
	o.Step(p, 1e-2)
	o.Step(p, 1e-2)
	path := filepath.Join(t.TempDir(), "opt.safetensors")
	if err := o.Save(path, p); err != nil {
		t.Fatal(err)
	}
	back := NewAdamW(0.1)
	if err := back.Load(path, p); err != nil {
		t.Fatal(err)
	}
	if back.Steps != 2 || back.M[1][0] != o.M[1][0] || back.V[0][1] != o.V[0][1] {
		t.Errorf("state not restored: %+v vs %+v", back, o)
	}
	if err := back.Load(path, []Param{{Name: "c", Value: []float32{1}}}); err == nil {
		t.Error("state for another parameter list accepted")
	}
}
