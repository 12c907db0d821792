// This file is a fake Hugging Face hub on 127.0.0.1 for the tests: the
// resolve/ URL layout with the headers the real hub sends (X-Repo-Commit,
// ETag / X-Linked-Etag / X-Linked-Size, X-Error-Code), LFS files redirected
// to a /cdn/ path with Range support, and request counters.

package hub

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeRepo struct {
	commit string
	files  map[string][]byte
	lfs    map[string]bool   // served through the CDN redirect, etag = sha256
	bad    map[string][]byte // what the CDN really sends for a file (corruption)
	gated  bool              // needs "Bearer good-token"
}

type fakeHub struct {
	srv     *httptest.Server
	repos   map[string]*fakeRepo
	noRange bool              // the CDN ignores Range headers
	renamed map[string]string // old repo id -> new one (relative redirect)
	cutAt   int               // >0: the CDN drops the connection after this many bytes

	mu     sync.Mutex
	heads  int
	gets   int
	ranges []string // Range headers seen on GETs
	paths  []string // escaped request paths
}

func newFakeHub(t *testing.T) *fakeHub {
	t.Helper()
	h := &fakeHub{repos: map[string]*fakeRepo{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *fakeHub) add(id string, r *fakeRepo) *fakeRepo {
	if r.commit == "" {
		sum := sha1.Sum([]byte(id))
		r.commit = hex.EncodeToString(sum[:])
	}
	if r.lfs == nil {
		r.lfs = map[string]bool{}
	}
	h.repos[id] = r
	return r
}

func (h *fakeHub) counts() (heads, gets int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.heads, h.gets
}

func (h *fakeHub) seenRanges() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.ranges...)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func gitSHA1(b []byte) string {
	s := sha1.New()
	fmt.Fprintf(s, "blob %d\x00", len(b))
	s.Write(b)
	return hex.EncodeToString(s.Sum(nil))
}

func (h *fakeHub) serve(w http.ResponseWriter, req *http.Request) {
	h.mu.Lock()
	switch req.Method {
	case http.MethodHead:
		h.heads++
	case http.MethodGet:
		h.gets++
		if rg := req.Header.Get("Range"); rg != "" {
			h.ranges = append(h.ranges, rg)
		}
	}
	h.paths = append(h.paths, req.URL.EscapedPath())
	h.mu.Unlock()

	parts := strings.Split(strings.TrimPrefix(req.URL.EscapedPath(), "/"), "/")
	if len(parts) == 3 && parts[0] == "cdn" {
		// /cdn/<repo-commit>/<sha256>
		for _, r := range h.repos {
			if r.commit != parts[1] {
				continue
			}
			for name, data := range r.files {
				if sha256Hex(data) == parts[2] {
					if h.noRange {
						req.Header.Del("Range")
					}
					if h.cutAt > 0 && req.Method == http.MethodGet && req.Header.Get("Range") == "" {
						w.Header().Set("Content-Length", fmt.Sprint(len(data)))
						w.WriteHeader(http.StatusOK)
						w.Write(data[:h.cutAt])
						w.(http.Flusher).Flush()
						panic(http.ErrAbortHandler)
					}
					if bad, ok := r.bad[name]; ok {
						data = bad
					}
					http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(data))
					return
				}
			}
		}
		http.NotFound(w, req)
		return
	}
	if len(parts) < 5 || parts[2] != "resolve" {
		http.NotFound(w, req)
		return
	}
	id := parts[0] + "/" + parts[1]
	rev, _ := url.PathUnescape(parts[3])
	name, _ := url.PathUnescape(strings.Join(parts[4:], "/"))
	if to, ok := h.renamed[id]; ok {
		w.Header().Set("Location", "/"+to+"/"+strings.Join(parts[2:], "/"))
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	r, ok := h.repos[id]
	if !ok {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		w.Header().Set("X-Error-Message", "Repository Not Found")
		w.WriteHeader(http.StatusUnauthorized) // the hub answers 401, not 404, without a token
		return
	}
	if r.gated && req.Header.Get("Authorization") != "Bearer good-token" {
		w.Header().Set("X-Error-Code", "GatedRepo")
		w.Header().Set("X-Error-Message", "Access to model "+id+" is restricted.")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if rev != "main" && rev != r.commit && rev != "refs/pr/1" {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("X-Repo-Commit", r.commit)
	data, ok := r.files[name]
	if !ok {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if r.lfs[name] {
		sum := sha256Hex(data)
		w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
		w.Header().Set("X-Linked-Size", fmt.Sprint(len(data)))
		w.Header().Set("ETag", `"pointer-etag"`)
		w.Header().Set("Location", h.srv.URL+"/cdn/"+r.commit+"/"+sum)
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `W/"`+gitSHA1(data)+`"`)
	http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(data))
}
