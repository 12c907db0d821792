package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/urfave/cli/v2"
)

// Flags keep the snake_case names of the Python scripts gitcap replaces
// (--model_path) and accept kebab-case aliases (--model-path).

func kebab(name string) []string {
	if k := strings.ReplaceAll(name, "_", "-"); k != name {
		return []string{k}
	}
	return nil
}

func withAliases(name string, extra ...string) []string {
	return append(kebab(name), extra...)
}

func stringFlag(name, value, usage string, aliases ...string) *cli.StringFlag {
	return &cli.StringFlag{Name: name, Aliases: withAliases(name, aliases...), Value: value, Usage: usage}
}

func intFlag(name string, value int, usage string, aliases ...string) *cli.IntFlag {
	return &cli.IntFlag{Name: name, Aliases: withAliases(name, aliases...), Value: value, Usage: usage}
}

func floatFlag(name string, value float64, usage string) *cli.Float64Flag {
	return &cli.Float64Flag{Name: name, Aliases: kebab(name), Value: value, Usage: usage}
}

func boolFlag(name string, value bool, usage string) *cli.BoolFlag {
	return &cli.BoolFlag{Name: name, Aliases: kebab(name), Value: value, Usage: usage}
}

// maxThreads bounds --threads: each worker is an OS thread, and a typo such
// as --threads 100000 otherwise starts that many.
const maxThreads = 1024

// checkFlags runs before every command: a float flag must be a finite
// number (--learning_rate inf or --temperature nan would otherwise reach
// the arithmetic), and --threads must be in [0, maxThreads].
func checkFlags(c *cli.Context) error {
	for _, f := range c.Command.Flags {
		switch f := f.(type) {
		case *cli.Float64Flag:
			if v := c.Float64(f.Name); math.IsNaN(v) || math.IsInf(v, 0) {
				return cli.Exit(fmt.Sprintf("%s: --%s %v: want a finite number", c.Command.Name, f.Name, v), 2)
			}
		case *cli.IntFlag:
			if v := c.Int(f.Name); f.Name == "threads" && (v < 0 || v > maxThreads) {
				return cli.Exit(fmt.Sprintf("%s: --threads %d: want 0 (all cores) to %d", c.Command.Name, v, maxThreads), 2)
			}
		}
	}
	return nil
}

// withFlagChecks installs checkFlags on every command that runs an action
// (subcommands included), ahead of any Before it already has.
func withFlagChecks(cmds []*cli.Command) []*cli.Command {
	for _, cmd := range cmds {
		withFlagChecks(cmd.Subcommands)
		if cmd.Action == nil {
			continue
		}
		before := cmd.Before
		cmd.Before = func(c *cli.Context) error {
			if err := checkFlags(c); err != nil {
				return err
			}
			if before != nil {
				return before(c)
			}
			return nil
		}
	}
	return cmds
}
