package main

import (
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/gitcap/gitcap/tensor/safetensors"
	"github.com/urfave/cli/v2"
)

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "list the tensors of a .safetensors file or a model folder",
		ArgsUsage: "PATH",
		Description: "PATH is a .safetensors file, or a folder holding model.safetensors, a sharded\n" +
			"model.safetensors.index.json, or a PEFT adapter_model.safetensors.\n" +
			"Prints one line per tensor (name, dtype, shape, bytes) and the totals.",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("inspect: expected one PATH (see gitcap inspect --help)", 2)
			}
			return inspect(c.App.Writer, c.Args().First())
		},
	}
}

// tensorSource is what inspect needs from a single file or a sharded set.
type tensorSource interface {
	Names() []string
	Info(name string) (safetensors.TensorInfo, bool)
	Close() error
}

func openTensors(path string) (tensorSource, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return safetensors.Open(path)
	}
	adapter := filepath.Join(path, "adapter_model.safetensors")
	if _, err := os.Stat(filepath.Join(path, "model.safetensors")); err != nil {
		if _, err := os.Stat(filepath.Join(path, "model.safetensors.index.json")); err != nil {
			if _, err := os.Stat(adapter); err == nil {
				return safetensors.Open(adapter)
			}
		}
	}
	return safetensors.OpenModel(path)
}

func inspect(w interface{ Write([]byte) (int, error) }, path string) error {
	src, err := openTensors(path)
	if err != nil {
		return err
	}
	defer src.Close()
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDTYPE\tSHAPE\tBYTES")
	var params, bytes int64
	names := src.Names()
	for _, name := range names {
		info, _ := src.Info(name)
		n := info.NumElements()
		params += n
		bytes += info.End - info.Begin
		fmt.Fprintf(tw, "%s\t%v\t%v\t%d\n", name, info.DType, info.Shape, info.End-info.Begin)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "total: %d tensors, %d parameters, %d bytes\n", len(names), params, bytes)
	return err
}
