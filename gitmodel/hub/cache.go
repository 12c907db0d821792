// This file is the cache side: reading refs and snapshots, and writing blobs
// into the snapshot as relative symlinks, refs and .no_exist markers exactly
// as huggingface_hub's file_download.py does. It does no network I/O.

package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// resolver fetches the files of one repo at one revision.
type resolver struct {
	repoID   string
	revision string // as asked: branch, tag or commit

	cacheRoot string
	repoDir   string // <cacheRoot>/models--org--name

	endpoint    string
	token       string
	client      *http.Client
	headClient  *http.Client // follows only relative redirects
	headTimeout time.Duration

	offline    bool
	offlineWhy string // "HF_HUB_OFFLINE is set"
	// headErr is the first failure to get metadata from the hub (network,
	// auth, server). After it, every file comes from the cache, and it is
	// the cause reported when the cache lacks a file.
	headErr error

	// commit is the snapshot every file goes into: the first X-Repo-Commit
	// the hub sent, or the cached commit of the revision.
	commit string

	progress io.Writer // progress bars; nil = none
	warn     io.Writer // one-line warnings; nil = none
	warned   bool
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isCommit reports whether rev is a full commit id.
func isCommit(rev string) bool { return isHex(rev, 40) }

// safeComponent reports whether s (an etag or commit from the server) can be
// used as one path element.
func safeComponent(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func (r *resolver) snapshotDir(commit string) string {
	return filepath.Join(r.repoDir, "snapshots", commit)
}

func (r *resolver) snapshotPath(commit, name string) string {
	return filepath.Join(r.snapshotDir(commit), filepath.FromSlash(name))
}

func (r *resolver) blobPath(etag string) string { return filepath.Join(r.repoDir, "blobs", etag) }

func (r *resolver) noExistPath(commit, name string) string {
	return filepath.Join(r.repoDir, ".no_exist", commit, filepath.FromSlash(name))
}

func (r *resolver) lockPath(etag string) string {
	return filepath.Join(r.cacheRoot, ".locks", filepath.Base(r.repoDir), etag+".lock")
}

func (r *resolver) refPath() string {
	return filepath.Join(r.repoDir, "refs", filepath.FromSlash(r.revision))
}

func (r *resolver) cacheOnly() bool { return r.offline || r.headErr != nil }

// cachedCommit is the commit the cache holds for the revision, "" if none.
func (r *resolver) cachedCommit() string {
	if r.commit != "" {
		return r.commit
	}
	if isCommit(r.revision) {
		return r.revision
	}
	b, err := os.ReadFile(r.refPath())
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(b))
	if !safeComponent(c) {
		return ""
	}
	return c
}

// lookup says whether name is in the snapshot of commit (present), or known
// to be absent there through a .no_exist marker (absent). A dangling symlink
// counts as missing.
func (r *resolver) lookup(commit, name string) (present, absent bool) {
	if fi, err := os.Stat(r.snapshotPath(commit, name)); err == nil && fi.Mode().IsRegular() {
		return true, false
	}
	if _, err := os.Lstat(r.noExistPath(commit, name)); err == nil {
		return false, true
	}
	return false, false
}

// fromCache serves name from the cache alone.
func (r *resolver) fromCache(name string, optional bool) (bool, error) {
	if commit := r.cachedCommit(); commit != "" {
		present, absent := r.lookup(commit, name)
		if present {
			r.commit = commit
			return true, nil
		}
		if absent && !optional {
			return false, r.fileErr(name, fmt.Errorf("%w at commit %s (cached .no_exist marker)", ErrFileNotFound, commit))
		}
	}
	if optional {
		return false, nil
	}
	return false, r.notCached(name)
}

// notCached is the error for a file (or, with name "" or nothing cached, the
// repo) that only the cache could have provided.
func (r *resolver) notCached(name string) error {
	where := r.cacheRoot
	commit := r.cachedCommit()
	if commit == "" {
		name = ""
	} else if name != "" {
		where = r.snapshotDir(commit)
	}
	if r.headErr != nil {
		return &Error{RepoID: r.repoID, File: name, Err: fmt.Errorf("%w, and it is %w at %s", r.headErr, ErrNotCached, where)}
	}
	return &Error{RepoID: r.repoID, File: name, Err: fmt.Errorf("%w at %s and %s", ErrNotCached, where, r.offlineWhy)}
}

func (r *resolver) fileErr(name string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{RepoID: r.repoID, File: name, Err: err}
}

// link points snapshots/<commit>/<name> at blobs/<etag> with a relative
// symlink, replacing whatever was there atomically. Where symlinks are not
// allowed (Windows without developer mode) the snapshot gets a copy.
func (r *resolver) link(commit, name, etag string) error {
	dst := r.snapshotPath(commit, name)
	blob := r.blobPath(etag)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	rel, err := filepath.Rel(filepath.Dir(dst), blob)
	if err != nil {
		return err
	}
	if cur, err := os.Readlink(dst); err == nil && cur == rel {
		return nil
	}
	tmp := dst + "." + randHex() + ".tmp"
	if err := os.Symlink(rel, tmp); err != nil {
		if err := copyFile(blob, tmp); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// writeRef records commit as the target of the revision (refs/<revision>,
// no trailing newline) unless the revision is the commit itself.
func (r *resolver) writeRef(commit string) error {
	if r.revision == commit {
		return nil
	}
	p := r.refPath()
	if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == commit {
		return nil
	}
	return writeFileAtomic(p, []byte(commit))
}

// markAbsent writes the .no_exist marker for name at commit.
func (r *resolver) markAbsent(commit, name string) error {
	p := r.noExistPath(commit, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// ensureRoot creates the cache root with the CACHEDIR.TAG that tells backup
// tools to skip it (huggingface_hub writes the same file).
func (r *resolver) ensureRoot() {
	if err := os.MkdirAll(r.cacheRoot, 0o755); err != nil {
		return
	}
	tag := filepath.Join(r.cacheRoot, "CACHEDIR.TAG")
	if _, err := os.Lstat(tag); err == nil {
		return
	}
	f, err := os.OpenFile(tag, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	fmt.Fprint(f, "Signature: 8a477f597d28d172789f06886806bc55\n"+
		"# This file is a cache directory tag created by Hugging Face Hub clients.\n"+
		"# For information about cache directory tags, see https://bford.info/cachedir/\n")
	f.Close()
}

func writeFileAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := p + "." + randHex() + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}

func randHex() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
