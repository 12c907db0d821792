package training

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gitcap/gitcap/tensor/safetensors"
)

// Checkpoints. A resumable state lives in <output_dir>/checkpoint-<step>/:
//
//	trainable.safetensors   the trainable tensors (adapters, or every weight)
//	optimizer.safetensors   AdamW moments and step count
//	state.json              position (step, epoch, next batch), dropout RNG,
//	                        and the settings that must not change on resume
//
// It is written into a hidden temporary folder and renamed into place in
// one step, so a crash (even kill -9) mid-write leaves the previous
// checkpoint intact; older checkpoints are removed only after the rename.
// Snapshots (--save_every_n_*) are the same folders under _epoch-N/_step-N
// plus the adapter (or model) files, usable directly with `gitcap infer`.

type state struct {
	position
	RNG         []byte `json:"rng"`
	Fingerprint string `json:"fingerprint"`
}

// fingerprint lists the settings a resumed run must share with the first.
func (r *run) fingerprint() string {
	c := &r.cfg
	return fmt.Sprintf("dataset=%s model=%s full=%v epochs=%d batch=%d accum=%d lr=%g wd=%g clip=%g sched=%s warmup=%d shuffle=%v seed=%d tensors=%d examples=%d",
		c.Dataset, c.ModelID, c.FullFinetune, c.Epochs, c.BatchSize, c.GradAccum, c.LearningRate, c.WeightDecay,
		c.MaxGradNorm, c.Scheduler, c.WarmupSteps, c.Shuffle, c.Seed, len(r.tr.Params), len(r.ds.Train))
}

func latestCheckpoint(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	best, bestStep := "", -1
	for _, e := range entries {
		n, ok := strings.CutPrefix(e.Name(), "checkpoint-")
		if !e.IsDir() || !ok {
			continue
		}
		if s, err := strconv.Atoi(n); err == nil && s > bestStep {
			best, bestStep = filepath.Join(dir, e.Name()), s
		}
	}
	return best, nil
}

// writeState writes a resumable state into dir (which must not exist yet)
// through a temporary folder and a rename.
func (r *run) writeState(dir string, pos position) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // no-op after a successful rename
	var ts []safetensors.Tensor
	for _, p := range r.tr.Params {
		t, err := safetensors.FromFloat32s(p.Name, safetensors.F32, []int64{int64(len(p.Value))}, p.Value)
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	if err := safetensors.WriteFile(filepath.Join(tmp, "trainable.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	if err := r.tr.Opt.Save(filepath.Join(tmp, "optimizer.safetensors"), r.tr.Params); err != nil {
		return err
	}
	rng, _ := r.tr.RNG.MarshalBinary()
	b, _ := json.MarshalIndent(state{position: pos, RNG: rng, Fingerprint: r.fingerprint()}, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, "state.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	// With an adapter, the folder is also a PEFT adapter `gitcap infer` can
	// use; a full model's weights are already in trainable.safetensors.
	if !r.cfg.FullFinetune {
		if err := r.cp.Model.SaveAdapter(tmp, r.adapter); err != nil {
			return err
		}
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	crashForTest(pos.Step)
	os.RemoveAll(dir) // a leftover from an interrupted identical save
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// save writes checkpoint-<step> and then removes older checkpoints.
func (r *run) save(pos position) error {
	dir := filepath.Join(r.cfg.OutputDir, fmt.Sprintf("checkpoint-%d", pos.Step))
	if err := r.writeState(dir, pos); err != nil {
		return fmt.Errorf("saving %s: %w", dir, err)
	}
	entries, _ := os.ReadDir(r.cfg.OutputDir)
	var old []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "checkpoint-") && e.Name() != filepath.Base(dir) {
			old = append(old, e.Name())
		}
	}
	sort.Strings(old)
	for _, o := range old {
		os.RemoveAll(filepath.Join(r.cfg.OutputDir, o))
	}
	return nil
}

// snapshot writes a kept copy (_epoch-N, _step-N) with the trained result.
func (r *run) snapshot(name string, pos position) error {
	dir := filepath.Join(r.cfg.OutputDir, name)
	if err := r.writeState(dir, pos); err != nil {
		return fmt.Errorf("saving %s: %w", dir, err)
	}
	if r.cfg.FullFinetune {
		return r.writeOutput(dir)
	}
	return nil
}

// restore loads the latest checkpoint into the trainer and returns where to
// continue.
func (r *run) restore() (position, error) {
	dir, err := latestCheckpoint(r.cfg.OutputDir)
	if err != nil {
		return position{}, err
	}
	data, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return position{}, err
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return position{}, fmt.Errorf("%s/state.json: %w", dir, err)
	}
	if fp := r.fingerprint(); st.Fingerprint != fp {
		return position{}, fmt.Errorf("%s was made with other settings:\n  then: %s\n  now:  %s", dir, st.Fingerprint, fp)
	}
	f, err := safetensors.Open(filepath.Join(dir, "trainable.safetensors"))
	if err != nil {
		return position{}, err
	}
	defer f.Close()
	for _, p := range r.tr.Params {
		v, err := f.Float32s(p.Name)
		if err != nil {
			return position{}, err
		}
		if len(v) != len(p.Value) {
			return position{}, fmt.Errorf("%s: %s has %d values, want %d", f.Name(), p.Name, len(v), len(p.Value))
		}
		copy(p.Value, v)
	}
	if err := r.tr.Opt.Load(filepath.Join(dir, "optimizer.safetensors"), r.tr.Params); err != nil {
		return position{}, err
	}
	if err := r.tr.RNG.UnmarshalBinary(st.RNG); err != nil {
		return position{}, fmt.Errorf("%s/state.json: rng: %w", dir, err)
	}
	return st.position, nil
}

// crashForTest is fault injection for the resume test: when
// GITCAP_TEST_KILL_AT_STEP names this step, the process kills itself with
// SIGKILL after writing a checkpoint's files and before the rename that
// publishes them — the worst moment for a crash.
func crashForTest(step int) {
	if v := os.Getenv("GITCAP_TEST_KILL_AT_STEP"); v != "" && v == strconv.Itoa(step) {
		p, _ := os.FindProcess(os.Getpid())
		p.Kill()
		select {}
	}
}
