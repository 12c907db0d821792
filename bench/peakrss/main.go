//go:build linux || darwin

// Command peakrss runs a command and reports its peak resident set size, so
// bench/ can measure memory without GNU time:
//
//	peakrss [-label TEXT] [-o FILE] -- COMMAND [ARGS...]
//
// The child's own output passes through unchanged; after it exits, peakrss
// prints one line, to FILE when -o is given and to stderr otherwise:
//
//	peak_rss_kb=123456 peak_rss_mb=120.6 wall_s=1.23 [label]
//
// The number is the child's ru_maxrss from wait4(2): the high-water mark of
// its resident set (anonymous memory plus the pages of memory-mapped files it
// touched; the page cache behind read(2) does not count). On Linux ru_maxrss
// is in KiB; MB here means MiB. peakrss exits with the child's status (128+N
// for a signal). It is not a sandbox: grandchildren are not included (gitcap
// starts none). Linux and macOS only (macOS reports bytes; peakrss
// converts).
//
// With -sample D (Linux), peakrss also reads /proc/PID/status every D and
// adds the split of the largest sampled VmRSS into anonymous memory (Go
// heap, stacks) and file pages (the memory-mapped checkpoint, the binary):
//
//	... sampled_rss_mb=119.8 anon_mb=38.1 file_mb=81.7
//
// A sample can miss a short peak, so sampled_rss_mb ≤ peak_rss_mb.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	label := flag.String("label", "", "text appended to the report line")
	out := flag.String("o", "", "append the report line to this file instead of stderr")
	sample := flag.Duration("sample", 0, "also sample /proc/PID/status this often (Linux; 0: off)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: peakrss [-label TEXT] [-o FILE] -- COMMAND [ARGS...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(run(flag.Args(), *label, *out, *sample))
}

func run(argv []string, label, out string, sample time.Duration) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Ctrl-C reaches the child through the terminal; peakrss waits for it.
	signal.Ignore(os.Interrupt)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "peakrss:", err)
		return 127
	}
	var peak procStatus
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		if sample <= 0 {
			return
		}
		for {
			if st, ok := readStatus(cmd.Process.Pid); ok && st.rss > peak.rss {
				peak = st
			}
			select {
			case <-stop:
				return
			case <-time.After(sample):
			}
		}
	}()
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	for {
		_, err := syscall.Wait4(cmd.Process.Pid, &ws, 0, &ru)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "peakrss: wait4:", err)
			return 127
		}
		break
	}
	close(stop)
	<-sampled
	kb := int64(ru.Maxrss)
	if runtime.GOOS == "darwin" {
		kb /= 1024 // bytes there
	}
	line := fmt.Sprintf("peak_rss_kb=%d peak_rss_mb=%.1f wall_s=%.2f", kb, mb(kb), time.Since(t0).Seconds())
	if peak.rss > 0 {
		line += fmt.Sprintf(" sampled_rss_mb=%.1f anon_mb=%.1f file_mb=%.1f", mb(peak.rss), mb(peak.anon), mb(peak.file))
	}
	if label != "" {
		line += " " + label
	}
	w := os.Stderr
	if out != "" {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "peakrss:", err)
			return 127
		}
		defer f.Close()
		w = f
	}
	fmt.Fprintln(w, line)
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return 1
}

// procStatus is the resident set of /proc/PID/status, in KiB.
type procStatus struct{ rss, anon, file int64 }

// readStatus reads VmRSS, RssAnon and RssFile (+RssShmem) of a running
// process; ok is false once it has exited (or outside Linux).
func readStatus(pid int) (st procStatus, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			st.rss, ok = v, true
		case "RssAnon:":
			st.anon = v
		case "RssFile:", "RssShmem:":
			st.file += v
		}
	}
	return st, ok
}

func mb(kb int64) float64 { return float64(kb) / 1024 }
