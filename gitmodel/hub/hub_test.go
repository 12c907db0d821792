package hub

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// clearEnv keeps the developer's HF_* settings out of the tests.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
		"HF_ENDPOINT", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME",
		"HF_HUB_DISABLE_IMPLICIT_TOKEN", "HF_HUB_ETAG_TIMEOUT"} {
		t.Setenv(k, "")
	}
	t.Setenv("HF_TOKEN_PATH", filepath.Join(t.TempDir(), "no-token"))
}

func blobData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>9)
	}
	return b
}

// gitBase is a small stand-in for microsoft/git-base: an LFS weights file,
// some tokenizer files, and no tokenizer.json, special_tokens_map.json or
// generation_config.json (the server answers 404 for those).
func gitBase() *fakeRepo {
	return &fakeRepo{
		files: map[string][]byte{
			"config.json":              []byte(`{"model_type":"git"}`),
			"model.safetensors":        blobData(300_000),
			"preprocessor_config.json": []byte(`{"processor_class":"GitProcessor"}`),
			"vocab.txt":                []byte("[PAD]\n[unused0]\n"),
			"tokenizer_config.json":    []byte(`{"do_lower_case":true}`),
			"sub/extra.json":           []byte(`{}`),
		},
		lfs: map[string]bool{"model.safetensors": true},
	}
}

func testOpts(h *fakeHub, cache string) Options {
	return Options{CacheDir: cache, Endpoint: h.srv.URL, Client: h.srv.Client(), Quiet: true}
}

func ptr[T any](v T) *T { return &v }

func mustResolve(t *testing.T, id string, opt Options) string {
	t.Helper()
	dir, err := Resolve(context.Background(), id, opt)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", id, err)
	}
	return dir
}

func checkFiles(t *testing.T, dir string, r *fakeRepo, names ...string) {
	t.Helper()
	for _, n := range names {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(n)))
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if !bytes.Equal(got, r.files[n]) {
			t.Errorf("%s: content differs (%d bytes, want %d)", n, len(got), len(r.files[n]))
		}
	}
}

func TestDownloadThenOffline(t *testing.T) {
	clearEnv(t)
	h := newFakeHub(t)
	repo := h.add("microsoft/git-base", gitBase())
	cache := t.TempDir()
	opt := testOpts(h, cache)

	dir := mustResolve(t, "microsoft/git-base", opt)
	want := filepath.Join(cache, "models--microsoft--git-base", "snapshots", repo.commit)
	if dir != want {
		t.Fatalf("dir = %s, want %s", dir, want)
	}
	checkFiles(t, dir, repo, "config.json", "model.safetensors", "preprocessor_config.json", "vocab.txt", "tokenizer_config.json")
	for _, n := range []string{"tokenizer.json", "special_tokens_map.json", "generation_config.json"} {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			t.Errorf("%s should not exist", n)
		}
	}
	heads, gets := h.counts()
	if heads != 8 || gets != 5 {
		t.Errorf("first run: %d HEAD, %d GET; want 8, 5", heads, gets)
	}

	// Offline, by option and by each environment variable: no requests at all.
	opt.Offline = ptr(true)
	if got := mustResolve(t, "microsoft/git-base", opt); got != dir {
		t.Errorf("offline dir = %s, want %s", got, dir)
	}
	opt.Offline = nil
	for _, env := range []string{"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"} {
		t.Setenv(env, "yes")
		if got := mustResolve(t, "microsoft/git-base", opt); got != dir {
			t.Errorf("%s: dir = %s, want %s", env, got, dir)
		}
		t.Setenv(env, "")
	}
	if h2, g2 := h.counts(); h2 != heads || g2 != gets {
		t.Errorf("offline runs made %d HEAD, %d GET requests", h2-heads, g2-gets)
	}

	// Online again: HEADs to check for updates, but nothing is downloaded.
	if got := mustResolve(t, "microsoft/git-base", opt); got != dir {
		t.Errorf("second online dir = %s", got)
	}
	if _, g2 := h.counts(); g2 != gets {
		t.Errorf("second online run downloaded again (%d GET)", g2-gets)
	}
}

func TestCacheLayout(t *testing.T) {
	clearEnv(t)
	h := newFakeHub(t)
	repo := h.add("microsoft/git-base", gitBase())
	cache := t.TempDir()
	opt := testOpts(h, cache)
	opt.Files = []string{"config.json", "model.safetensors", "sub/extra.json", "generation_config.json?"}
	mustResolve(t, "microsoft/git-base", opt)

	rd := filepath.Join(cache, "models--microsoft--git-base")
	ref, err := os.ReadFile(filepath.Join(rd, "refs", "main"))
	if err != nil || string(ref) != repo.commit {
		t.Errorf("refs/main = %q, %v; want %q without newline", ref, err, repo.commit)
	}
	links := map[string]string{
		"config.json":       "../../blobs/" + gitSHA1(repo.files["config.json"]),
		"model.safetensors": "../../blobs/" + sha256Hex(repo.files["model.safetensors"]),
		"sub/extra.json":    "../../../blobs/" + gitSHA1(repo.files["sub/extra.json"]),
	}
	for name, want := range links {
		got, err := os.Readlink(filepath.Join(rd, "snapshots", repo.commit, filepath.FromSlash(name)))
		if err != nil || got != filepath.FromSlash(want) {
			t.Errorf("snapshot %s -> %q, %v; want %q", name, got, err, want)
		}
	}
	blobs, _ := os.ReadDir(filepath.Join(rd, "blobs"))
	if len(blobs) != 3 {
		t.Errorf("blobs/ has %d entries, want 3", len(blobs))
	}
	for _, b := range blobs {
		if strings.Contains(b.Name(), ".") || !b.Type().IsRegular() {
			t.Errorf("stray blob entry %s (%v)", b.Name(), b.Type())
		}
	}
	for _, p := range []string{
		filepath.Join(rd, ".no_exist", repo.commit, "generation_config.json"),
		filepath.Join(cache, ".locks", "models--microsoft--git-base", sha256Hex(repo.files["model.safetensors"])+".lock"),
		filepath.Join(cache, "CACHEDIR.TAG"),
	} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("missing %s", p)
		}
	}
}

func TestResume(t *testing.T) {
	clearEnv(t)
	for _, noRange := range []bool{false, true} {
		h := newFakeHub(t)
		h.noRange = noRange
		repo := h.add("microsoft/git-base", gitBase())
		cache := t.TempDir()
		data := repo.files["model.safetensors"]
		blob := filepath.Join(cache, "models--microsoft--git-base", "blobs", sha256Hex(data))
		os.MkdirAll(filepath.Dir(blob), 0o755)
		prefix := append([]byte(nil), data[:100_000]...)
		if noRange {
			prefix[5] ^= 0xff // must be thrown away, not trusted
		}
		if err := os.WriteFile(blob+".incomplete", prefix, 0o644); err != nil {
			t.Fatal(err)
		}
		opt := testOpts(h, cache)
		opt.Files = []string{"config.json", "model.safetensors"}
		dir := mustResolve(t, "microsoft/git-base", opt)
		checkFiles(t, dir, repo, "model.safetensors")
		if got := h.seenRanges(); len(got) != 1 || got[0] != "bytes=100000-" {
			t.Errorf("noRange=%v: Range headers %q, want [bytes=100000-]", noRange, got)
		}
		if _, err := os.Stat(blob + ".incomplete"); !os.IsNotExist(err) {
			t.Errorf(".incomplete left behind: %v", err)
		}
	}
}

func TestInterruptedThenResume(t *testing.T) {
	clearEnv(t)
	h := newFakeHub(t)
	repo := h.add("microsoft/git-base", gitBase())
	h.cutAt = 150_000
	cache := t.TempDir()
	opt := testOpts(h, cache)
	opt.Files = []string{"model.safetensors"}
	_, err := Resolve(context.Background(), "microsoft/git-base", opt)
	if err == nil || !strings.Contains(err.Error(), "run again to resume") {
		t.Fatalf("err = %v, want an interrupted download", err)
	}
	data := repo.files["model.safetensors"]
	part := filepath.Join(cache, "models--microsoft--git-base", "blobs", sha256Hex(data)+".incomplete")
	if fi, err := os.Stat(part); err != nil || fi.Size() != 150_000 {
		t.Fatalf("partial file: %v, %v", fi, err)
	}
	h.cutAt = 0
	checkFiles(t, mustResolve(t, "microsoft/git-base", opt), repo, "model.safetensors")
	if got := h.seenRanges(); len(got) != 1 || got[0] != "bytes=150000-" {
		t.Errorf("Range headers %q", got)
	}
}

func TestChecksumMismatch(t *testing.T) {
	clearEnv(t)
	h := newFakeHub(t)
	repo := h.add("microsoft/git-base", gitBase())
	bad := append([]byte(nil), repo.files["model.safetensors"]...)
	bad[1234] ^= 1
	repo.bad = map[string][]byte{"model.safetensors": bad}
	cache := t.TempDir()
	opt := testOpts(h, cache)
	opt.Files = []string{"model.safetensors"}
	_, err := Resolve(context.Background(), "microsoft/git-base", opt)
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("err = %v, want ErrChecksum", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "microsoft/git-base: model.safetensors: checksum mismatch") {
		t.Errorf("message %q", msg)
	}
	rd := filepath.Join(cache, "models--microsoft--git-base")
	blobs, _ := os.ReadDir(filepath.Join(rd, "blobs"))
	for _, b := range blobs {
		if !strings.HasSuffix(b.Name(), ".incomplete") {
			t.Errorf("blobs/%s left after a checksum mismatch", b.Name())
		}
	}
	if _, err := os.Lstat(filepath.Join(rd, "snapshots", repo.commit, "model.safetensors")); err == nil {
		t.Error("snapshot entry created for a corrupt download")
	}
}

func TestOfflineEmptyCache(t *testing.T) {
	clearEnv(t)
	h := newFakeHub(t)
	h.add("microsoft/git-base", gitBase())
	cache := t.TempDir()
	t.Setenv("HF_HUB_OFFLINE", "1")
	_, err := Resolve(context.Background(), "microsoft/git-base", testOpts(h, cache))
	want := "microsoft/git-base: not in the cache at " + cache + " and HF_HUB_OFFLINE is set"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant   %s", err, want)
	}
	if !errors.Is(err, ErrNotCached) {
		t.Errorf("not ErrNotCached: %v", err)
	}
	var he *Error
	if !errors.As(err, &he) || he.RepoID != "microsoft/git-base" {
		t.Errorf("not a *hub.Error naming the repo: %#v", err)
	}
	if heads, gets := h.counts(); heads+gets != 0 {
		t.Errorf("offline made %d requests", heads+gets)
	}
}

func TestLocalFolder(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	got, err := Resolve(context.Background(), dir, Options{Offline: ptr(true)})
	if err != nil || got != dir {
		t.Errorf("folder: %q, %v", got, err)
	}
	file := filepath.Join(dir, "config.json")
	os.WriteFile(file, []byte("{}"), 0o644)
	if _, err := Resolve(context.Background(), file, Options{}); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("file: %v", err)
	}
	missing := filepath.Join(dir, "no", "such")
	if _, err := Resolve(context.Background(), missing, Options{}); err == nil || !strings.Contains(err.Error(), "not a local folder") {
		t.Errorf("missing folder: %v", err)
	}
}

func TestSplitID(t *testing.T) {
	for _, c := range []struct{ in, id, rev string }{
		{"microsoft/git-base", "microsoft/git-base", ""},
		{"microsoft/git-base@main", "microsoft/git-base", "main"},
		{"microsoft/git-base@v1.0", "microsoft/git-base", "v1.0"},
		{"microsoft/git-base@refs/pr/1", "microsoft/git-base", "refs/pr/1"},
		{"gpt2", "gpt2", ""},
		{"org/name_1.x@0123456789abcdef0123456789abcdef01234567", "org/name_1.x", "0123456789abcdef0123456789abcdef01234567"},
	} {
		id, rev, err := splitID(c.in)
		if err != nil || id != c.id || rev != c.rev {
			t.Errorf("splitID(%q) = %q, %q, %v; want %q, %q", c.in, id, rev, err, c.id, c.rev)
		}
	}
	for _, bad := range []string{"a/b/c", "./model", "/abs/path", "org/na--me", "org/..x", "org/name@", "org/", "org/name.git", "org/na me"} {
		if _, _, err := splitID(bad); err == nil {
			t.Errorf("splitID(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"../x", "a//b", "/x", `a\b`} {
		if err := checkRevision(bad); err == nil {
			t.Errorf("checkRevision(%q) accepted", bad)
		}
	}
}

func TestRevision(t *testing.T) {
	clearEnv(t)
	h := newFakeHub(t)
	repo := h.add("microsoft/git-base", gitBase())
	cache := t.TempDir()
	opt := testOpts(h, cache)
	opt.Files = []string{"config.json", "model.safetensors"}
	rd := filepath.Join(cache, "models--microsoft--git-base")

	// A commit id: no refs file, and a second run needs no network.
	dir := mustResolve(t, "microsoft/git-base@"+repo.commit, opt)
	if dir != filepath.Join(rd, "snapshots", repo.commit) {
		t.Errorf("dir = %s", dir)
	}
	if _, err := os.Stat(filepath.Join(rd, "refs")); err == nil {
		t.Error("refs/ written for a commit revision")
	}
	heads, gets := h.counts()
	mustResolve(t, "microsoft/git-base@"+repo.commit, opt)
	if h2, g2 := h.counts(); h2 != heads || g2 != gets {
		t.Errorf("cached commit revision made %d requests", h2+g2-heads-gets)
	}

	// refs/pr/1: escaped whole in the URL, nested under refs/.
	opt.Revision = "refs/pr/1"
	mustResolve(t, "microsoft/git-base", opt)
	if ref, err := os.ReadFile(filepath.Join(rd, "refs", "refs", "pr", "1")); err != nil || string(ref) != repo.commit {
		t.Errorf("refs/refs/pr/1 = %q, %v", ref, err)
	}
	found := false
	for _, p := range h.paths {
		found = found || strings.Contains(p, "/resolve/refs%2Fpr%2F1/config.json")
	}
	if !found {
		t.Errorf("no request for /resolve/refs%%2Fpr%%2F1/config.json in %q", h.paths)
	}

	// "@v9" beats Options.Revision and does not exist.
	_, err := Resolve(context.Background(), "microsoft/git-base@v9", opt)
	if !errors.Is(err, ErrRevisionNotFound) || !strings.Contains(err.Error(), `"v9"`) {
		t.Errorf("unknown revision: %v", err)
	}
}

func TestGatedRepo(t *testing.T) {
	clearEnv(t)
	h := newFakeHub(t)
	repo := gitBase()
	repo.gated = true
	h.add("acme/gated", repo)
	opt := testOpts(h, t.TempDir())
	_, err := Resolve(context.Background(), "acme/gated", opt)
	if !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("err = %v, want ErrAccessDenied", err)
	}
	for _, s := range []string{"acme/gated", "HF_TOKEN", "401", "gated"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message lacks %q: %v", s, err)
		}
	}
	opt.Token = "good-token"
	mustResolve(t, "acme/gated", opt)

	opt.Token = ""
	opt.CacheDir = t.TempDir()
	t.Setenv("HF_TOKEN", "good-token")
	mustResolve(t, "acme/gated", opt)
}

func TestRepoNotFound(t *testing.T) {
	clearEnv(t)
	h := newFakeHub(t)
	_, err := Resolve(context.Background(), "microsoft/git-nope", testOpts(h, t.TempDir()))
	if !errors.Is(err, ErrRepoNotFound) || !strings.HasPrefix(err.Error(), "microsoft/git-nope: ") {
		t.Errorf("err = %v", err)
	}
}

func TestMissingFile(t *testing.T) {
	clearEnv(t)
	h := newFakeHub(t)
	repo := h.add("microsoft/git-base", gitBase())
	opt := testOpts(h, t.TempDir())
	opt.Files = []string{"config.json", "nope.json"}
	_, err := Resolve(context.Background(), "microsoft/git-base", opt)
	if !errors.Is(err, ErrFileNotFound) || !strings.HasPrefix(err.Error(), "microsoft/git-base: nope.json: ") {
		t.Errorf("err = %v", err)
	}
	opt.Files = []string{"config.json", "nope.json?"}
	checkFiles(t, mustResolve(t, "microsoft/git-base", opt), repo, "config.json")

	// A model repo without weights.
	delete(repo.files, "model.safetensors")
	opt.Files = nil
	_, err = Resolve(context.Background(), "microsoft/git-base", opt)
	if !errors.Is(err, ErrFileNotFound) || !strings.Contains(err.Error(), "model.safetensors") {
		t.Errorf("no weights: %v", err)
	}
}

func TestNetworkErrorUsesCache(t *testing.T) {
	clearEnv(t)
	h := newFakeHub(t)
	h.add("microsoft/git-base", gitBase())
	cache := t.TempDir()
	opt := testOpts(h, cache)
	dir := mustResolve(t, "microsoft/git-base", opt)
	h.srv.Close()

	var warn bytes.Buffer
	opt.Quiet, opt.Progress = false, &warn
	if got := mustResolve(t, "microsoft/git-base", opt); got != dir {
		t.Errorf("dir = %s, want %s", got, dir)
	}
	if !strings.Contains(warn.String(), "using the cached files") {
		t.Errorf("no warning: %q", warn.String())
	}

	opt.CacheDir = t.TempDir()
	_, err := Resolve(context.Background(), "microsoft/git-base", opt)
	if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "cannot reach") ||
		!strings.HasPrefix(err.Error(), "microsoft/git-base: ") {
		t.Errorf("err = %v", err)
	}
}

func TestRenamedRepo(t *testing.T) {
	clearEnv(t)
	h := newFakeHub(t)
	repo := h.add("microsoft/git-base", gitBase())
	h.renamed = map[string]string{"msft/git-base": "microsoft/git-base"}
	cache := t.TempDir()
	dir := mustResolve(t, "msft/git-base", testOpts(h, cache))
	if want := filepath.Join(cache, "models--msft--git-base", "snapshots", repo.commit); dir != want {
		t.Errorf("dir = %s, want %s", dir, want)
	}
	checkFiles(t, dir, repo, "config.json", "model.safetensors", "vocab.txt")
}

func TestSharded(t *testing.T) {
	clearEnv(t)
	h := newFakeHub(t)
	repo := gitBase()
	delete(repo.files, "model.safetensors")
	repo.files["model.safetensors.index.json"] = []byte(`{"metadata":{},"weight_map":{
		"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors","c":"model-00001-of-00002.safetensors"}}`)
	repo.files["model-00001-of-00002.safetensors"] = blobData(1000)
	repo.files["model-00002-of-00002.safetensors"] = blobData(2000)
	repo.lfs = map[string]bool{"model-00001-of-00002.safetensors": true, "model-00002-of-00002.safetensors": true}
	h.add("acme/big", repo)
	cache := t.TempDir()
	dir := mustResolve(t, "acme/big", testOpts(h, cache))
	checkFiles(t, dir, repo, "config.json", "model.safetensors.index.json",
		"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")
	if _, err := os.Stat(filepath.Join(cache, "models--acme--big", ".no_exist", repo.commit, "model.safetensors")); err != nil {
		t.Errorf("no .no_exist marker for model.safetensors: %v", err)
	}
	// And offline from the cache.
	opt := testOpts(h, cache)
	opt.Offline = ptr(true)
	if got := mustResolve(t, "acme/big", opt); got != dir {
		t.Errorf("offline dir = %s", got)
	}
}

func TestAdapter(t *testing.T) {
	clearEnv(t)
	h := newFakeHub(t)
	repo := h.add("me/git-lora", &fakeRepo{
		files: map[string][]byte{
			"adapter_config.json":       []byte(`{"peft_type":"LORA","r":8}`),
			"adapter_model.safetensors": blobData(5000),
		},
		lfs: map[string]bool{"adapter_model.safetensors": true},
	})
	cache := t.TempDir()
	dir := mustResolve(t, "me/git-lora", testOpts(h, cache))
	checkFiles(t, dir, repo, "adapter_config.json", "adapter_model.safetensors")
	opt := testOpts(h, cache)
	opt.Offline = ptr(true)
	if got := mustResolve(t, "me/git-lora", opt); got != dir {
		t.Errorf("offline dir = %s", got)
	}
}

func TestConcurrentResolve(t *testing.T) {
	clearEnv(t)
	h := newFakeHub(t)
	repo := h.add("microsoft/git-base", gitBase())
	cache := t.TempDir()
	var wg sync.WaitGroup
	dirs := make([]string, 4)
	errs := make([]error, 4)
	for i := range dirs {
		wg.Go(func() {
			dirs[i], errs[i] = Resolve(context.Background(), "microsoft/git-base", testOpts(h, cache))
		})
	}
	wg.Wait()
	for i := range dirs {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		checkFiles(t, dirs[i], repo, "config.json", "model.safetensors")
	}
	cdn := 0
	for _, p := range h.paths {
		if strings.HasPrefix(p, "/cdn/") {
			cdn++
		}
	}
	if cdn != 1 {
		t.Errorf("model.safetensors downloaded %d times, want 1", cdn)
	}
}

func TestProgress(t *testing.T) {
	clearEnv(t)
	old := progressMin
	progressMin = 1000
	defer func() { progressMin = old }()
	for _, quiet := range []bool{false, true} {
		h := newFakeHub(t)
		h.add("microsoft/git-base", gitBase())
		var buf bytes.Buffer
		opt := testOpts(h, t.TempDir())
		opt.Quiet, opt.Progress = quiet, &buf
		opt.Files = []string{"config.json", "model.safetensors"}
		mustResolve(t, "microsoft/git-base", opt)
		shown := strings.Contains(buf.String(), "model.safetensors")
		if shown == quiet {
			t.Errorf("quiet=%v: progress output %q", quiet, buf.String())
		}
		if strings.Contains(buf.String(), "config.json") {
			t.Errorf("bar for a small file: %q", buf.String())
		}
	}
}

func TestCacheDir(t *testing.T) {
	clearEnv(t)
	home, _ := os.UserHomeDir()
	if got, want := CacheDir(), filepath.Join(home, ".cache", "huggingface", "hub"); got != want {
		t.Errorf("default: %s, want %s", got, want)
	}
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if got := CacheDir(); got != filepath.FromSlash("/xdg/huggingface/hub") {
		t.Errorf("XDG_CACHE_HOME: %s", got)
	}
	t.Setenv("HF_HOME", "/hfhome")
	if got := CacheDir(); got != filepath.FromSlash("/hfhome/hub") {
		t.Errorf("HF_HOME: %s", got)
	}
	t.Setenv("HUGGINGFACE_HUB_CACHE", "/legacy")
	if got := CacheDir(); got != "/legacy" {
		t.Errorf("HUGGINGFACE_HUB_CACHE: %s", got)
	}
	t.Setenv("HF_HUB_CACHE", "/new")
	if got := CacheDir(); got != "/new" {
		t.Errorf("HF_HUB_CACHE: %s", got)
	}
}

func TestTokenFromFile(t *testing.T) {
	clearEnv(t)
	p := filepath.Join(t.TempDir(), "token")
	os.WriteFile(p, []byte(" hf_abc\n"), 0o600)
	t.Setenv("HF_TOKEN_PATH", p)
	if got := envToken(); got != "hf_abc" {
		t.Errorf("token file: %q", got)
	}
	t.Setenv("HF_TOKEN", "hf_env")
	if got := envToken(); got != "hf_env" {
		t.Errorf("HF_TOKEN: %q", got)
	}
	t.Setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
	if got := envToken(); got != "" {
		t.Errorf("disabled: %q", got)
	}
}

func TestNormETag(t *testing.T) {
	for in, want := range map[string]string{`"abc"`: "abc", `W/"abc"`: "abc", "abc": "abc", ` "x" `: "x"} {
		if got := normETag(in); got != want {
			t.Errorf("normETag(%q) = %q, want %q", in, got, want)
		}
	}
}
