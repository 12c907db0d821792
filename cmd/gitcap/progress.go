package main

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// progress is a bar on stderr, silent when stderr is not a terminal, with
// --quiet, or when show is false.
type progress struct{ bar *progressbar.ProgressBar }

func newProgress(c *cli.Context, total int, what string, show bool) progress {
	w := c.App.ErrWriter
	f, isFile := w.(*os.File)
	if !show || c.Bool("quiet") || !isFile || !term.IsTerminal(int(f.Fd())) {
		return progress{}
	}
	return progress{progressbar.NewOptions(total,
		progressbar.OptionSetWriter(io.Writer(w)),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("img"),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
	)}
}

func (p progress) Add(n int) {
	if p.bar != nil {
		p.bar.Add(n)
	}
}

func (p progress) Finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
