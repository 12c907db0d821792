package main

import (
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
