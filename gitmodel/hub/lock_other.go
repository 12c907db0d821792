//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

// This file locks a blob download where flock(2) is missing (Windows and
// the rarer Unixes): the lock is the existence of the lock file, created
// with O_EXCL and removed on unlock. A lock file older than staleLock is
// taken to be left behind by a crashed process.

package hub

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"
)

const staleLock = time.Hour

func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > staleLock {
			os.Remove(path)
			continue
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return nil, err
		}
	}
}
