//go:build vulkan

package main

import (
	"fmt"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/gitmodel/training"
	"github.com/gitcap/gitcap/gitmodel/vkgit"
	"github.com/gitcap/gitcap/kernels/vulkan"
	"github.com/gitcap/gitcap/nn"
	"github.com/urfave/cli/v2"
)

// deviceEngine picks the engine for --device in a build with -tags vulkan:
// cpu (nil: the model itself), vulkan (the device or an error), or auto
// (the device when one initialises and takes the model, else the CPU with
// a note on stderr). GITCAP_VULKAN_DEVICE picks among several devices.
func deviceEngine(c *cli.Context, m *gitmodel.Model) (gitmodel.Engine, error) {
	switch d := c.String("device"); d {
	case "cpu", "":
		return nil, nil
	case "vulkan", "auto":
		e, err := vkgit.Open(m, vulkan.Options{})
		if err != nil {
			if d == "auto" {
				fmt.Fprintf(c.App.ErrWriter, "gitcap: no Vulkan device (%v); running on the CPU\n", err)
				return nil, nil
			}
			return nil, fmt.Errorf("--device vulkan: %w", err)
		}
		fmt.Fprintf(c.App.ErrWriter, "gitcap: running on %s, %.1f MiB of weights on the device\n", e.Device(), float64(e.Device().AllocatedBytes())/(1<<20))
		return e, nil
	default:
		return nil, fmt.Errorf("--device %q: want cpu, vulkan or auto", d)
	}
}

// trainDevice maps --device for training: cpu (nil), vulkan (the frozen
// weights' products on the device, or an error) or auto (the device when
// one initialises, else the CPU with a note on stderr).
func trainDevice(c *cli.Context) (func(*gitmodel.Model, []nn.NamedTensor) (training.Device, error), error) {
	d := c.String("device")
	switch d {
	case "cpu", "":
		return nil, nil
	case "vulkan", "auto":
	default:
		return nil, fmt.Errorf("--device %q: want cpu, vulkan or auto", d)
	}
	return func(m *gitmodel.Model, trainable []nn.NamedTensor) (training.Device, error) {
		t, err := vkgit.OpenTrainer(m, trainable, vulkan.Options{})
		if err != nil {
			if d == "auto" {
				fmt.Fprintf(c.App.ErrWriter, "gitcap: no Vulkan device (%v); training on the CPU\n", err)
				return nil, nil
			}
			return nil, fmt.Errorf("--device vulkan: %w", err)
		}
		fmt.Fprintf(c.App.ErrWriter, "gitcap: %d frozen weights (%.1f MiB) on %s; adapters, norms, attention and the optimizer on the CPU\n",
			t.Layers, float64(t.Bytes)/(1<<20), t.Device())
		return t, nil
	}, nil
}
