// This file holds the public entry points (Options, Resolve, CacheDir), the
// environment variables they read, and the plan of which files a model or an
// adapter needs. The cache and HTTP mechanics live in cache.go and download.go.

package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"
)

// DefaultEndpoint is the hub used when neither Options.Endpoint nor
// HF_ENDPOINT is set.
const DefaultEndpoint = "https://huggingface.co"

// Options tunes Resolve. The zero value reads everything from the environment
// the way huggingface_hub does.
type Options struct {
	// CacheDir is the hub cache root; "" means CacheDir().
	CacheDir string
	// Endpoint is the hub URL; "" means HF_ENDPOINT, else DefaultEndpoint.
	Endpoint string
	// Token is sent as "Authorization: Bearer"; "" means HF_TOKEN, then
	// HUGGING_FACE_HUB_TOKEN, then the file HF_TOKEN_PATH ($HF_HOME/token),
	// unless HF_HUB_DISABLE_IMPLICIT_TOKEN is set.
	Token string
	// Revision is a branch, tag or commit id; "" means "main". An "@rev"
	// suffix on the id passed to Resolve takes precedence.
	Revision string
	// Offline forbids network access; nil means HF_HUB_OFFLINE or
	// TRANSFORMERS_OFFLINE set to 1/ON/YES/TRUE.
	Offline *bool
	// Quiet turns off progress bars and warnings.
	Quiet bool
	// Progress receives progress bars and warnings; nil means os.Stderr.
	// An *os.File that is not a terminal gets no progress bars.
	Progress io.Writer
	// Client does the HTTP requests; nil means a client with sane timeouts.
	Client *http.Client
	// Files lists the files to fetch; nil means the default set (see
	// Resolve). A name ending in "?" is optional: skipped when the repo lacks
	// it. A "*.safetensors.index.json" brings in the shards it names.
	Files []string
}

// Errors that Resolve wraps; test with errors.Is.
var (
	ErrNotCached        = errors.New("not in the cache")
	ErrRepoNotFound     = errors.New("repository not found")
	ErrRevisionNotFound = errors.New("revision not found")
	ErrFileNotFound     = errors.New("file not found")
	ErrAccessDenied     = errors.New("access denied")
	ErrChecksum         = errors.New("checksum mismatch")
)

// Error is what Resolve returns for a hub repo: it names the repo and, when
// the trouble is with one file, the file.
type Error struct {
	RepoID string
	File   string // "" when the error concerns the whole repo
	Err    error
}

func (e *Error) Error() string {
	if e.File == "" {
		return e.RepoID + ": " + e.Err.Error()
	}
	return e.RepoID + ": " + e.File + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// The default file set. config.json decides between a model and a PEFT
// adapter repo; the rest is optional because uploads differ.
var (
	modelOptional = []string{
		"preprocessor_config.json",
		"vocab.txt",
		"tokenizer.json",
		"tokenizer_config.json",
		"special_tokens_map.json",
		"generation_config.json",
	}
	adapterFiles = []string{"adapter_config.json", "adapter_model.safetensors"}
)

const (
	weightsFile = "model.safetensors"
	indexFile   = "model.safetensors.index.json"
)

// CacheDir returns the hub cache root, first match wins: HF_HUB_CACHE,
// HUGGINGFACE_HUB_CACHE, $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub,
// ~/.cache/huggingface/hub.
func CacheDir() string {
	for _, k := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
		if v := os.Getenv(k); v != "" {
			return expandHome(v)
		}
	}
	return filepath.Join(hfHome(), "hub")
}

func hfHome() string {
	if v := os.Getenv("HF_HOME"); v != "" {
		return expandHome(v)
	}
	if v := os.Getenv("XDG_CACHE_HOME"); v != "" {
		return filepath.Join(expandHome(v), "huggingface")
	}
	return filepath.Join(expandHome("~"), ".cache", "huggingface")
}

func expandHome(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") && !strings.HasPrefix(p, `~\`) {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, p[1:])
}

func envTrue(k string) bool {
	switch strings.ToUpper(strings.TrimSpace(os.Getenv(k))) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

func envToken() string {
	if envTrue("HF_HUB_DISABLE_IMPLICIT_TOKEN") {
		return ""
	}
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return v
		}
	}
	p := os.Getenv("HF_TOKEN_PATH")
	if p == "" {
		p = filepath.Join(hfHome(), "token")
	}
	b, err := os.ReadFile(expandHome(p))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Resolve returns a local folder holding the files of idOrPath.
//
// An existing folder is returned unchanged. Anything else must be a repo id
// ("org/name" or "name", optionally "@revision"); its files are looked up in
// the cache and, unless offline, checked against and downloaded from the hub.
// The folder returned is then the cache's snapshots/<commit>. Network and HTTP
// failures fall back to the cache, as Python does; the error names the repo,
// the file and the cause.
//
// Default files: config.json, then model.safetensors or else
// model.safetensors.index.json plus its shards, and, if present,
// preprocessor_config.json, vocab.txt, tokenizer.json, tokenizer_config.json,
// special_tokens_map.json and generation_config.json. A repo without
// config.json but with adapter_config.json is a PEFT adapter: then
// adapter_config.json and adapter_model.safetensors.
func Resolve(ctx context.Context, idOrPath string, opt Options) (string, error) {
	if idOrPath == "" {
		return "", errors.New("hub: empty model id")
	}
	if fi, err := os.Stat(idOrPath); err == nil {
		if !fi.IsDir() {
			return "", fmt.Errorf("hub: %s is a file; --model_id wants a model folder or a repo id", idOrPath)
		}
		return idOrPath, nil
	}
	repoID, rev, err := splitID(idOrPath)
	if err != nil {
		return "", err
	}
	if rev == "" {
		rev = opt.Revision
	}
	if rev == "" {
		rev = "main"
	}
	if err := checkRevision(rev); err != nil {
		return "", &Error{RepoID: repoID, Err: err}
	}
	r := newResolver(repoID, rev, opt)
	if opt.Files != nil {
		err = r.fetchList(ctx, opt.Files)
	} else {
		err = r.fetchDefault(ctx)
	}
	if err != nil {
		return "", err
	}
	return r.snapshotDir(r.commit), nil
}

func newResolver(repoID, rev string, opt Options) *resolver {
	r := &resolver{repoID: repoID, revision: rev}
	r.cacheRoot = opt.CacheDir
	if r.cacheRoot == "" {
		r.cacheRoot = CacheDir()
	}
	r.repoDir = filepath.Join(r.cacheRoot, "models--"+strings.ReplaceAll(repoID, "/", "--"))
	r.endpoint = opt.Endpoint
	if r.endpoint == "" {
		r.endpoint = os.Getenv("HF_ENDPOINT")
	}
	if r.endpoint == "" {
		r.endpoint = DefaultEndpoint
	}
	r.endpoint = strings.TrimRight(r.endpoint, "/")
	r.token = opt.Token
	if r.token == "" {
		r.token = envToken()
	}
	switch {
	case opt.Offline != nil:
		r.offline = *opt.Offline
		r.offlineWhy = "offline mode is on (Options.Offline)"
	case envTrue("HF_HUB_OFFLINE"):
		r.offline, r.offlineWhy = true, "HF_HUB_OFFLINE is set"
	case envTrue("TRANSFORMERS_OFFLINE"):
		r.offline, r.offlineWhy = true, "TRANSFORMERS_OFFLINE is set"
	}
	r.client = opt.Client
	if r.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = time.Minute
		r.client = &http.Client{Transport: tr}
	}
	// HEAD follows only relative redirects (renamed repos); an absolute one
	// points at the CDN and its headers are the metadata we want.
	hc := *r.client
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if req.Response != nil && isAbsURL(req.Response.Header.Get("Location")) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	r.headClient = &hc
	r.headTimeout = 10 * time.Second
	if v, err := strconv.ParseFloat(os.Getenv("HF_HUB_ETAG_TIMEOUT"), 64); err == nil && v > 0 {
		r.headTimeout = time.Duration(v * float64(time.Second))
	}
	if !opt.Quiet {
		w := opt.Progress
		if w == nil {
			w = os.Stderr
		}
		r.warn = w
		r.progress = w
		if f, ok := w.(*os.File); ok && !term.IsTerminal(int(f.Fd())) {
			r.progress = nil
		}
	}
	return r
}

func isAbsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.IsAbs() || u.Host != "")
}

// splitID splits "org/name@rev" into the repo id and the revision ("" when
// absent) and validates the id like huggingface_hub's validate_repo_id.
func splitID(s string) (repoID, rev string, err error) {
	repoID, rev, hasRev := strings.Cut(s, "@")
	if hasRev && rev == "" {
		return "", "", fmt.Errorf("hub: %q: empty revision after @", s)
	}
	if err := checkRepoID(repoID); err != nil {
		return "", "", fmt.Errorf("hub: %q is not a local folder, and %v", s, err)
	}
	return repoID, rev, nil
}

func checkRepoID(id string) error {
	bad := func(why string) error {
		return fmt.Errorf("not a repo id like \"microsoft/git-base\" (%s)", why)
	}
	if len(id) > 96 {
		return bad("longer than 96 characters")
	}
	parts := strings.Split(id, "/")
	if len(parts) > 2 {
		return bad("more than one /")
	}
	for _, p := range parts {
		if p == "" {
			return bad("empty part")
		}
		for _, c := range p {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return bad(fmt.Sprintf("character %q", c))
			}
		}
		if strings.HasPrefix(p, ".") || strings.HasPrefix(p, "-") || strings.HasSuffix(p, ".") || strings.HasSuffix(p, "-") {
			return bad("a part starts or ends with . or -")
		}
	}
	if strings.Contains(id, "--") || strings.Contains(id, "..") {
		return bad(`contains "--" or ".."`)
	}
	if strings.HasSuffix(id, ".git") {
		return bad("ends with .git")
	}
	return nil
}

// checkRevision keeps a revision usable as a path under refs/.
func checkRevision(rev string) error {
	if strings.ContainsAny(rev, "\\\x00") || strings.HasPrefix(rev, "/") {
		return fmt.Errorf("bad revision %q", rev)
	}
	for _, p := range strings.Split(rev, "/") {
		if p == "" || p == "." || p == ".." {
			return fmt.Errorf("bad revision %q", rev)
		}
	}
	return nil
}

// checkFilename keeps a repo file name inside the snapshot folder.
func checkFilename(name string) error {
	if name == "" || strings.ContainsAny(name, "\\\x00") || strings.HasPrefix(name, "/") {
		return fmt.Errorf("bad file name %q", name)
	}
	for _, p := range strings.Split(name, "/") {
		if p == "" || p == "." || p == ".." {
			return fmt.Errorf("bad file name %q", name)
		}
	}
	return nil
}

// fetchDefault fetches the default model or adapter file set.
func (r *resolver) fetchDefault(ctx context.Context) error {
	ok, err := r.get(ctx, "config.json", true)
	if err != nil {
		return err
	}
	if !ok {
		ok, err = r.get(ctx, adapterFiles[0], true)
		if err != nil {
			return err
		}
		if !ok {
			if r.cacheOnly() {
				return r.notCached("config.json")
			}
			return r.fileErr("config.json", fmt.Errorf("%w in %s at %s (nor adapter_config.json): not a model repo",
				ErrFileNotFound, r.revision, r.endpoint))
		}
		_, err = r.get(ctx, adapterFiles[1], false)
		return err
	}
	ok, err = r.get(ctx, weightsFile, true)
	if err != nil {
		return err
	}
	if !ok {
		ok, err = r.get(ctx, indexFile, true)
		if err != nil {
			return err
		}
		if !ok {
			if r.cacheOnly() {
				return r.notCached(weightsFile)
			}
			return r.fileErr(weightsFile, fmt.Errorf("%w in %s at %s (nor %s)", ErrFileNotFound, r.revision, r.endpoint, indexFile))
		}
		if err := r.fetchShards(ctx, indexFile); err != nil {
			return err
		}
	}
	for _, f := range modelOptional {
		if _, err := r.get(ctx, f, true); err != nil {
			return err
		}
	}
	return nil
}

// fetchList fetches Options.Files.
func (r *resolver) fetchList(ctx context.Context, files []string) error {
	for _, f := range files {
		name, optional := strings.CutSuffix(f, "?")
		ok, err := r.get(ctx, name, optional)
		if err != nil {
			return err
		}
		if ok && strings.HasSuffix(name, ".safetensors.index.json") {
			if err := r.fetchShards(ctx, name); err != nil {
				return err
			}
		}
	}
	if r.commit == "" {
		if r.cacheOnly() {
			return r.notCached("")
		}
		return &Error{RepoID: r.repoID, Err: fmt.Errorf("%w: none of %q is in %s at %s", ErrFileNotFound, files, r.revision, r.endpoint)}
	}
	return nil
}

// fetchShards fetches every shard named in the weight_map of a sharded
// safetensors index already in the snapshot.
func (r *resolver) fetchShards(ctx context.Context, index string) error {
	raw, err := os.ReadFile(filepath.Join(r.snapshotDir(r.commit), filepath.FromSlash(index)))
	if err != nil {
		return r.fileErr(index, err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		return r.fileErr(index, fmt.Errorf("bad index: %v", err))
	}
	seen := map[string]bool{}
	var shards []string
	for _, s := range idx.WeightMap {
		if !seen[s] {
			seen[s] = true
			shards = append(shards, s)
		}
	}
	if len(shards) == 0 {
		return r.fileErr(index, errors.New("bad index: empty weight_map"))
	}
	sort.Strings(shards)
	dir := path.Dir(index)
	for _, s := range shards {
		if err := checkFilename(s); err != nil {
			return r.fileErr(index, err)
		}
		if dir != "." {
			s = dir + "/" + s
		}
		if _, err := r.get(ctx, s, false); err != nil {
			return err
		}
	}
	return nil
}
