// This file is the network side: the HEAD that yields a file's commit, blob
// name and size, and the resumable, verified GET into blobs/, following
// huggingface_hub's hf_hub_download (file_download.py).

package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progressMin is the smallest download that gets a progress bar.
var progressMin int64 = 1 << 20

const userAgent = "gitcap (hub; +https://github.com/gitcap/gitcap)"

// meta is what the HEAD tells about one file.
type meta struct {
	commit string
	etag   string
	size   int64  // -1 when unknown
	url    string // where to GET the bytes
}

// get makes name available in the snapshot and reports whether it is there;
// false (with a nil error) only for an optional file the repo lacks.
func (r *resolver) get(ctx context.Context, name string, optional bool) (bool, error) {
	if err := checkFilename(name); err != nil {
		return false, &Error{RepoID: r.repoID, Err: err}
	}
	if r.cacheOnly() {
		return r.fromCache(name, optional)
	}
	// A commit id never moves: what the cache has for it is final.
	if isCommit(r.revision) {
		if present, absent := r.lookup(r.revision, name); present || absent && optional {
			r.commit = r.revision
			return present, nil
		}
	}
	m, err := r.head(ctx, name)
	if err != nil {
		if ctx.Err() != nil {
			return false, r.fileErr(name, ctx.Err())
		}
		if errors.Is(err, ErrFileNotFound) {
			if optional {
				return false, nil
			}
			return false, r.fileErr(name, err)
		}
		if errors.Is(err, ErrRevisionNotFound) {
			return false, &Error{RepoID: r.repoID, Err: err}
		}
		// Like Python: network trouble, auth or server errors switch to
		// the cache; the error comes back if the cache cannot help.
		r.headErr = err
		if r.warn != nil && !r.warned && r.cachedCommit() != "" {
			r.warned = true
			fmt.Fprintf(r.warn, "hub: %s: %v; using the cached files\n", r.repoID, err)
		}
		return r.fromCache(name, optional)
	}
	if r.commit == "" {
		r.commit = m.commit
		r.ensureRoot()
		if err := r.writeRef(m.commit); err != nil {
			return false, r.fileErr(name, err)
		}
	}
	if err := r.download(ctx, name, m); err != nil {
		return false, r.fileErr(name, err)
	}
	if err := r.link(r.commit, name, m.etag); err != nil {
		return false, r.fileErr(name, err)
	}
	return true, nil
}

// fileURL is {endpoint}/{repo}/resolve/{rev}/{name}: the revision escaped
// whole (refs/pr/1 -> refs%2Fpr%2F1), the name per path segment.
func (r *resolver) fileURL(rev, name string) string {
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return r.endpoint + "/" + r.repoID + "/resolve/" + url.PathEscape(rev) + "/" + strings.Join(segs, "/")
}

func (r *resolver) setHeaders(req *http.Request) {
	req.Header.Set("User-Agent", userAgent)
	// identity: Content-Length must be the file size, not a gzip size.
	req.Header.Set("Accept-Encoding", "identity")
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
}

// head asks the hub for the metadata of name. Once a commit is known, later
// files are asked for at that commit, so all land in one snapshot.
func (r *resolver) head(ctx context.Context, name string) (meta, error) {
	rev := r.revision
	if r.commit != "" {
		rev = r.commit
	}
	u := r.fileURL(rev, name)
	hctx, cancel := context.WithTimeout(ctx, r.headTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(hctx, http.MethodHead, u, nil)
	if err != nil {
		return meta{}, err
	}
	r.setHeaders(req)
	resp, err := r.headClient.Do(req)
	if err != nil {
		return meta{}, fmt.Errorf("cannot reach %s: %w", r.endpoint, unwrapURLError(err))
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		err := r.statusErr(resp, rev)
		if errors.Is(err, ErrFileNotFound) {
			if c := resp.Header.Get("X-Repo-Commit"); safeComponent(c) {
				r.markAbsent(c, name) // best effort, as in Python
			}
		}
		return meta{}, err
	}
	m := meta{
		commit: resp.Header.Get("X-Repo-Commit"),
		etag:   normETag(resp.Header.Get("X-Linked-Etag")),
		size:   -1,
		url:    resp.Request.URL.String(),
	}
	if m.etag == "" {
		m.etag = normETag(resp.Header.Get("ETag"))
	}
	redirect := resp.StatusCode >= 300 && resp.StatusCode < 400
	sz := resp.Header.Get("X-Linked-Size")
	if sz == "" && !redirect {
		sz = resp.Header.Get("Content-Length")
	}
	if n, err := strconv.ParseInt(sz, 10, 64); err == nil && n >= 0 {
		m.size = n
	}
	if !redirect && resp.Request.URL.String() == u && safeComponent(m.commit) {
		// GET at the commit the HEAD named, so a push between the two
		// requests cannot put other bytes under this etag.
		m.url = r.fileURL(m.commit, name)
	}
	if redirect {
		loc, err := resp.Location()
		if err != nil {
			return meta{}, fmt.Errorf("HTTP %d from %s without a usable Location", resp.StatusCode, u)
		}
		m.url = loc.String()
	}
	if m.commit == "" || m.etag == "" {
		return meta{}, fmt.Errorf("%s answered without X-Repo-Commit or ETag headers (HTTP %d); is %s a Hugging Face hub? (HF_ENDPOINT)",
			u, resp.StatusCode, r.endpoint)
	}
	if !safeComponent(m.commit) || !safeComponent(m.etag) {
		return meta{}, fmt.Errorf("%s sent an unusable commit %q or ETag %q", u, m.commit, m.etag)
	}
	if r.commit != "" && m.commit != r.commit {
		return meta{}, fmt.Errorf("hub answered commit %s while fetching commit %s", m.commit, r.commit)
	}
	return m, nil
}

// normETag strips the weak prefix and quotes: W/"abc" -> abc.
func normETag(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	return strings.Trim(s, `"`)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// statusErr turns an HTTP error answer into an error that says what to do.
// The hub tells the cases apart with X-Error-Code.
func (r *resolver) statusErr(resp *http.Response, rev string) error {
	code := resp.Header.Get("X-Error-Code")
	msg := resp.Header.Get("X-Error-Message")
	if msg != "" {
		msg = " (" + msg + ")"
	}
	st := fmt.Sprintf("HTTP %d from %s%s", resp.StatusCode, r.endpoint, msg)
	tokenHint := "set HF_TOKEN to a token with access"
	gatedHint := "accept its terms on its hub page and set HF_TOKEN to a token with access"
	if r.token != "" {
		tokenHint = "check that the token sent (HF_TOKEN) has access"
		gatedHint = "the token sent (HF_TOKEN) was refused or lacks access; check it, and accept the terms on the repo's hub page"
	}
	switch {
	case code == "RepoNotFound":
		return fmt.Errorf("%w: %s; check the id, and if the repo is private or gated, %s", ErrRepoNotFound, st, tokenHint)
	case code == "RevisionNotFound":
		return fmt.Errorf("%w: %q: %s", ErrRevisionNotFound, rev, st)
	case code == "EntryNotFound" || resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w in %s: %s", ErrFileNotFound, rev, st)
	case code == "GatedRepo" || resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w: %s; the repo is gated or private: %s", ErrAccessDenied, st, gatedHint)
	}
	return fmt.Errorf("%s", st)
}

// download puts the bytes of m into blobs/<etag>, unless they are there. A
// lock per blob (shared with huggingface_hub's filelock) keeps two processes
// from writing the same .incomplete file.
func (r *resolver) download(ctx context.Context, name string, m meta) error {
	blob := r.blobPath(m.etag)
	if _, err := os.Stat(blob); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return err
	}
	unlock, err := lockFile(ctx, r.lockPath(m.etag))
	if err != nil {
		return fmt.Errorf("lock %s: %w", r.lockPath(m.etag), err)
	}
	defer unlock()
	if _, err := os.Stat(blob); err == nil {
		return nil // another process finished it while we waited
	}
	tmp := blob + ".incomplete"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	err = r.fetch(ctx, f, name, m)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, ErrChecksum) {
			os.Remove(tmp) // corrupt: resuming it would only fail again
		}
		return err
	}
	return os.Rename(tmp, blob)
}

// fetch fills f (the .incomplete file, possibly holding a prefix from an
// interrupted run) and checks size and, for LFS files, sha256.
func (r *resolver) fetch(ctx context.Context, f *os.File, name string, m meta) error {
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if m.size >= 0 && have > m.size {
		have = 0 // longer than the file: not ours to resume
	}
	var h hash.Hash
	if isHex(m.etag, 64) {
		h = sha256.New()
	}
	// The first round resumes with a Range request; a second round starts
	// over when the server refuses the range.
	for round := 0; ; round++ {
		if have == 0 {
			if err := f.Truncate(0); err != nil {
				return err
			}
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if h != nil {
			h.Reset()
			if _, err := io.CopyN(h, f, have); err != nil {
				return err
			}
		} else if _, err := f.Seek(have, io.SeekStart); err != nil {
			return err
		}
		if m.size >= 0 && have == m.size {
			break
		}
		restart, err := r.get1(ctx, f, h, name, m, have)
		if err != nil {
			return err
		}
		if !restart {
			break
		}
		if round > 0 {
			return fmt.Errorf("server at %s refuses to resume and to restart", m.url)
		}
		have = 0
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if m.size >= 0 && size != m.size {
		if size > m.size {
			f.Truncate(0)
		}
		return fmt.Errorf("download incomplete: got %d of %d bytes; run again to resume", size, m.size)
	}
	if h != nil {
		if got := hex.EncodeToString(h.Sum(nil)); got != m.etag {
			return fmt.Errorf("%w: sha256 of the %d bytes downloaded is %s, the hub says %s; the download was removed, run again",
				ErrChecksum, size, got, m.etag)
		}
	}
	return nil
}

// get1 does one GET from offset have (a Range request when have > 0) and
// appends the body to f. restart reports that the server ignored the range
// in a way that needs a fresh start.
func (r *resolver) get1(ctx context.Context, f *os.File, h hash.Hash, name string, m meta, have int64) (restart bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.url, nil)
	if err != nil {
		return false, err
	}
	r.setHeaders(req)
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("cannot download from %s: %w", r.endpoint, unwrapURLError(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		if !strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", have)) {
			return true, nil
		}
	case resp.StatusCode == http.StatusOK:
		if have > 0 {
			// A 200 to a Range request is the whole file: start over.
			if err := f.Truncate(0); err != nil {
				return false, err
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return false, err
			}
			if h != nil {
				h.Reset()
			}
			have = 0
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		return true, nil
	default:
		return false, r.statusErr(resp, r.commit)
	}
	total := m.size
	if total < 0 && resp.ContentLength >= 0 {
		total = have + resp.ContentLength
	}
	w := []io.Writer{f}
	if h != nil {
		w = append(w, h)
	}
	var bar *progressbar.ProgressBar
	if r.progress != nil && total >= progressMin {
		bar = newBar(r.progress, total, name)
		bar.Set64(have)
		w = append(w, bar)
	}
	buf := make([]byte, 1<<20)
	n, err := io.CopyBuffer(io.MultiWriter(w...), resp.Body, buf)
	if bar != nil && err != nil {
		bar.Exit()
	}
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, fmt.Errorf("download interrupted after %d bytes: %w; run again to resume", have+n, err)
	}
	return false, nil
}

func newBar(w io.Writer, total int64, name string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total,
		progressbar.OptionSetDescription(name),
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionSetWidth(10),
		progressbar.OptionThrottle(65*time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionOnCompletion(func() { fmt.Fprint(w, "\n") }),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionFullWidth(),
		progressbar.OptionSetRenderBlankState(true),
	)
}
