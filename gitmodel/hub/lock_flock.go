//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

// This file locks a blob download with flock(2) on
// <cache>/.locks/models--org--name/<etag>.lock, the same file and the same
// kind of lock that huggingface_hub's filelock takes, so gitcap and Python
// exclude each other too.

package hub

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockFile takes an exclusive lock on path, polling so that ctx can cancel
// the wait. The lock file itself stays (removing it would race).
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(fd, syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, err
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			f.Close()
			return nil, err
		}
	}
}
