package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/gitmodel/imageproc"
	"github.com/gitcap/gitcap/kernels"
	"github.com/urfave/cli/v2"
)

func inferCommand() *cli.Command {
	return &cli.Command{
		Name:    "infer",
		Aliases: []string{"inference", "caption"},
		Usage:   "caption one image or a folder of images, writing JSON lines",
		Description: "Each output line is {\"file_name\", \"caption\", \"token_ids\", \"score\"} with file_name relative\n" +
			"to --input_path; an image that cannot be read gives {\"file_name\", \"error\"} and the run goes on.\n" +
			"score is the mean log-probability of the generated tokens ([SEP] included), or with\n" +
			"--num_beams > 1 Hugging Face's sequences_scores. Folders are read in byte-wise sorted order.\n" +
			"--num_shards/--shard_index split a folder across jobs (file i goes to shard i mod num_shards);\n" +
			"they default to SLURM_ARRAY_TASK_COUNT and JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID.",
		Flags: append(modelFlags(), append(generationFlags(),
			stringFlag("input_path", "", "an image file or a folder of images (jpg, jpeg, png, webp, bmp)", "i"),
			stringFlag("output_path", "", "JSONL file to write (atomically); stdout when empty", "o"),
			boolFlag("recursive", false, "also caption images in subfolders"),
			intFlag("batch_size", 4, "images per forward pass"),
			intFlag("num_shards", envInt("SLURM_ARRAY_TASK_COUNT", 1), "split the input into this many shards"),
			intFlag("shard_index", shardIndexFromEnv(), "which shard to caption (0-based)"),
			boolFlag("quiet", false, "no progress bar"),
		)...),
		Action: runInfer,
	}
}

// modelFlags are shared by every command that loads a model.
func modelFlags() []cli.Flag {
	return []cli.Flag{
		stringFlag("model_path", "", "model folder, hub id, or PEFT adapter folder", "m"),
		stringFlag("model_id", "", "base model (folder or hub id); overrides an adapter's base_model_name_or_path"),
		intFlag("threads", 0, "worker threads for the kernels (0: all cores)"),
		intFlag("bits", 32, "store Linear weights in 16 (F16), 8 (Q8 blocks) or 4 (NF4) bits at load; 32 keeps them as they are"),
		stringFlag("quantize_skip", strings.Join(gitmodel.DefaultQuantizeSkip, ","), "modules (name suffixes) that --bits leaves in F32"),
		stringFlag("device", "cpu", "cpu, vulkan (a build with -tags vulkan) or auto (vulkan when available)"),
	}
}

// bitsFormat maps --bits to a weight format.
func bitsFormat(bits int) (kernels.QFormat, error) {
	f, ok := map[int]kernels.QFormat{32: kernels.QF32, 16: kernels.QF16, 8: kernels.Q8, 4: kernels.NF4}[bits]
	if !ok {
		return 0, fmt.Errorf("--bits %d: want 32, 16, 8 or 4", bits)
	}
	return f, nil
}

// quantizeFromFlags applies --bits and --quantize_skip to a loaded model.
func quantizeFromFlags(c *cli.Context, m *gitmodel.Model) error {
	f, err := bitsFormat(c.Int("bits"))
	if err != nil {
		return err
	}
	if f != kernels.QF32 {
		skip := []string{}
		for _, s := range strings.Split(c.String("quantize_skip"), ",") {
			if s = strings.TrimSpace(s); s != "" {
				skip = append(skip, s)
			}
		}
		m.Quantize(gitmodel.QuantizeOptions{Format: f, Skip: skip})
	}
	return nil
}

func generationFlags() []cli.Flag {
	return []cli.Flag{
		intFlag("max_length", 0, "maximum text length in tokens including [CLS] (default: generation_config.json, else 20)"),
		intFlag("max_new_tokens", 0, "maximum generated tokens (overrides --max_length)"),
		intFlag("min_length", 0, "minimum text length before [SEP] may end it"),
		intFlag("num_beams", 1, fmt.Sprintf("beam search width (1: greedy or sampling; at most %d)", gitmodel.MaxNumBeams)),
		floatFlag("length_penalty", 1, "beam score = sum log-prob / length^length_penalty"),
		boolFlag("early_stopping", false, "stop beam search once num_beams captions are finished"),
		intFlag("num_return_sequences", 1, fmt.Sprintf("captions per image (at most --num_beams with beam search, and at most %d)", gitmodel.MaxNumBeams)),
		boolFlag("do_sample", false, "sample instead of greedy/beam search"),
		floatFlag("temperature", 1, "sampling temperature"),
		intFlag("top_k", 50, "sample from the k most likely tokens (0: off)"),
		floatFlag("top_p", 1, "nucleus sampling mass"),
		floatFlag("repetition_penalty", 1, "penalise tokens already generated (>1)"),
		intFlag("no_repeat_ngram_size", 0, "forbid repeating n-grams of this size"),
		&cli.Uint64Flag{Name: "seed", Value: 0, Usage: "random seed for sampling"},
		stringFlag("prompt", "", "text the caption must continue (conditional captioning, VQA questions)"),
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func shardIndexFromEnv() int {
	if v, err := strconv.Atoi(os.Getenv("JOB_COMPLETION_INDEX")); err == nil {
		return v
	}
	if v, err := strconv.Atoi(os.Getenv("SLURM_ARRAY_TASK_ID")); err == nil {
		return v - envInt("SLURM_ARRAY_TASK_MIN", 0)
	}
	return 0
}

func newPool(c *cli.Context) *kernels.Pool {
	return kernels.NewPool(c.Int("threads"))
}

func loadCaptioner(c *cli.Context, pool *kernels.Pool) (*gitmodel.Captioner, error) {
	ctx := c.Context
	cp, err := gitmodel.LoadCaptioner(ctx, c.String("model_path"), c.String("model_id"), hubResolver(c), pool)
	if err != nil {
		return nil, err
	}
	if err := quantizeFromFlags(c, cp.Model); err != nil {
		cp.Close()
		return nil, err
	}
	if cp.Engine, err = deviceEngine(c, cp.Model); err != nil {
		cp.Close()
		return nil, err
	}
	if cp.Engine == nil {
		// On the CPU: the image side's weights packed once, not per image.
		cp.Model.PackVision()
	}
	for _, w := range cp.Warnings {
		fmt.Fprintln(c.App.ErrWriter, "gitcap: warning:", w)
	}
	return cp, nil
}

// generateConfig overlays the command-line flags on the model's defaults.
func generateConfig(c *cli.Context, cp *gitmodel.Captioner) (gitmodel.GenerateConfig, error) {
	g := cp.Generation
	set := func(name string) bool { return c.IsSet(name) }
	if set("max_length") {
		g.MaxLength = c.Int("max_length")
	}
	if set("max_new_tokens") {
		g.MaxNewTokens = c.Int("max_new_tokens")
	}
	if set("min_length") {
		g.MinLength = c.Int("min_length")
	}
	if set("num_beams") {
		g.NumBeams = c.Int("num_beams")
	}
	if set("length_penalty") {
		g.LengthPenalty = c.Float64("length_penalty")
	}
	if set("early_stopping") {
		g.EarlyStopping = c.Bool("early_stopping")
	}
	if set("num_return_sequences") {
		g.NumReturnSequences = c.Int("num_return_sequences")
	}
	if set("do_sample") {
		g.DoSample = c.Bool("do_sample")
	}
	if set("temperature") {
		g.Temperature = c.Float64("temperature")
	}
	if set("top_k") {
		g.TopK = c.Int("top_k")
	}
	if set("top_p") {
		g.TopP = c.Float64("top_p")
	}
	if set("repetition_penalty") {
		g.RepetitionPenalty = c.Float64("repetition_penalty")
	}
	if set("no_repeat_ngram_size") {
		g.NoRepeatNgramSize = c.Int("no_repeat_ngram_size")
	}
	g.Seed = c.Uint64("seed")
	if p := c.String("prompt"); p != "" {
		g.Prompt = cp.Tokenizer.Encode(p, false)
	}
	// Checked here, before any image is decoded: a setting that cannot
	// work fails the run at once, naming the flag when it came from one.
	if err := g.Validate(&cp.Model.Config); err != nil {
		var se *gitmodel.SettingError
		if errors.As(err, &se) && c.IsSet(se.Field) {
			return g, fmt.Errorf("--%s: %w", se.Field, err)
		}
		dirs := cp.BaseDir
		if cp.AdapterDir != "" {
			dirs = cp.AdapterDir + " or " + cp.BaseDir
		}
		return g, fmt.Errorf("generation settings (flags, or generation_config.json in %s): %w", dirs, err)
	}
	return g, nil
}

// imageExts are the extensions a folder run picks up.
var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".webp": true, ".bmp": true}

// listImages returns the images under root (or root itself), byte-wise sorted
// by path relative to root.
func listImages(root string, recursive bool) (files []string, isDir bool, err error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, false, err
	}
	if !st.IsDir() {
		return []string{filepath.Base(root)}, false, nil
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if imageExts[strings.ToLower(filepath.Ext(p))] {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(files)
	return files, true, err
}

// inferLine is one JSONL output line.
type inferLine struct {
	FileName string         `json:"file_name"`
	Caption  *string        `json:"caption,omitempty"`
	TokenIDs []int          `json:"token_ids,omitempty"`
	Score    *float64       `json:"score,omitempty"`
	Captions []captionEntry `json:"captions,omitempty"`
	Error    string         `json:"error,omitempty"`
}

type captionEntry struct {
	Caption  string   `json:"caption"`
	TokenIDs []int    `json:"token_ids"`
	Score    *float64 `json:"score"`
}

func runInfer(c *cli.Context) error {
	input := c.String("input_path")
	if input == "" {
		return cli.Exit("infer: --input_path is required", 2)
	}
	shards, shard := c.Int("num_shards"), c.Int("shard_index")
	if shards < 1 || shard < 0 || shard >= shards {
		return cli.Exit(fmt.Sprintf("infer: --shard_index %d is not in [0, --num_shards %d)", shard, shards), 2)
	}
	if c.Int("batch_size") < 1 {
		return cli.Exit("infer: --batch_size must be at least 1", 2)
	}
	files, isDir, err := listImages(input, c.Bool("recursive"))
	if err != nil {
		return err
	}
	var mine []string
	for i, f := range files {
		if i%shards == shard {
			mine = append(mine, f)
		}
	}
	root := input
	if !isDir {
		root = filepath.Dir(input)
	}
	if isDir && len(files) == 0 {
		return fmt.Errorf("%s: no images (%s)", input, "jpg, jpeg, png, webp, bmp")
	}
	if err := checkOutputFile("output_path", c.String("output_path")); err != nil {
		return err
	}

	pool := newPool(c)
	defer pool.Close()
	cp, err := loadCaptioner(c, pool)
	if err != nil {
		return err
	}
	defer cp.Close()
	gen, err := generateConfig(c, cp)
	if err != nil {
		return err
	}

	out, commit, err := openOutput(c.String("output_path"), c.App.Writer)
	if err != nil {
		return err
	}
	defer commit(false)
	// On failure a --output_path file is not written at all; standard
	// output has had the complete lines so far.
	unwritten := ""
	if p := c.String("output_path"); p != "" {
		unwritten = "; nothing written to " + p
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	bar := newProgress(c, len(mine), "captioning", isDir)
	failed := 0
	bs := c.Int("batch_size")
	for start := 0; start < len(mine); start += bs {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted after %d of %d images%s", start, len(mine), unwritten)
		}
		batch := mine[start:min(start+bs, len(mine))]
		lines, nfail, err := captionBatch(cp, gen, root, batch, c.App.ErrWriter)
		if err != nil {
			return fmt.Errorf("%w%s", err, unwritten)
		}
		failed += nfail
		for _, l := range lines {
			if err := writeJSONLine(out, l); err != nil {
				return err
			}
		}
		bar.Add(len(batch))
	}
	bar.Finish()
	if err := commit(true); err != nil {
		return err
	}
	if failed > 0 && failed == len(mine) {
		return fmt.Errorf("none of the %d images could be captioned (see the \"error\" lines)", failed)
	}
	if failed > 0 {
		fmt.Fprintf(c.App.ErrWriter, "gitcap: %d of %d images could not be captioned (see the \"error\" lines)\n", failed, len(mine))
	}
	return nil
}

// captionBatch decodes and preprocesses the batch (unreadable images become
// error lines) and captions the rest in one generate call. An error from
// generation itself (such as --num_beams 0) is the same for every batch, so
// it is returned and ends the run.
func captionBatch(cp *gitmodel.Captioner, gen gitmodel.GenerateConfig, root string, names []string, errw io.Writer) ([]inferLine, int, error) {
	lines := make([]inferLine, len(names))
	var pixels []float32
	var ok []int
	for i, name := range names {
		lines[i].FileName = name
		img, err := imageproc.DecodeFile(filepath.Join(root, filepath.FromSlash(name)))
		var px []float32
		if err == nil {
			px, err = cp.Processor.Process(img)
			if err != nil {
				err = fmt.Errorf("%s: %w", name, err)
			}
		}
		if err == nil && len(px) != imageValues(cp) {
			err = fmt.Errorf("%s: preprocessed to %d values, the model takes %d (check preprocessor_config.json crop_size)", name, len(px), imageValues(cp))
		}
		if err != nil {
			lines[i].Error = err.Error()
			fmt.Fprintln(errw, "gitcap: skipping image:", err)
			continue
		}
		pixels = append(pixels, px...)
		ok = append(ok, i)
	}
	if len(ok) == 0 {
		return lines, len(names), nil
	}
	res, err := cp.Caption(pixels, len(ok), gen)
	if err != nil {
		return nil, 0, fmt.Errorf("generate: %w", err)
	}
	failed := len(names) - len(ok)
	for j, i := range ok {
		r := res[j]
		best := r.Captions[0]
		lines[i].Caption, lines[i].TokenIDs, lines[i].Score = &r.Texts[0], best.IDs, finite(best.Score)
		if len(r.Captions) > 1 {
			for k, cpt := range r.Captions {
				lines[i].Captions = append(lines[i].Captions, captionEntry{r.Texts[k], cpt.IDs, finite(cpt.Score)})
			}
		}
		if lines[i].Score == nil {
			// JSON has no NaN: the line keeps the caption and says why
			// the score is missing.
			lines[i].Error = fmt.Sprintf("%s: score is %v: the model's log-probabilities are not finite (check its weights)", names[i], best.Score)
			fmt.Fprintln(errw, "gitcap:", lines[i].Error)
			failed++
		}
	}
	return lines, failed, nil
}

// finite returns &v, or nil (JSON null) for NaN and ±Inf.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func imageValues(cp *gitmodel.Captioner) int {
	v := cp.Model.Config.Vision
	return v.NumChannels * v.ImageSize * v.ImageSize
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// openOutput returns a writer for path (stdout when empty) and a commit
// function: commit(true) flushes and atomically renames the temporary file
// into place; commit(false) discards it. Calling commit again is a no-op.
func openOutput(path string, stdout io.Writer) (io.Writer, func(bool) error, error) {
	if path == "" {
		bw := bufio.NewWriter(stdout)
		return bw, func(bool) error { return bw.Flush() }, nil
	}
	a, err := gitmodel.CreateAtomic(path)
	if err != nil {
		return nil, nil, err
	}
	return a, func(ok bool) error {
		if !ok {
			a.Abort()
			return nil
		}
		return a.Commit()
	}, nil
}
