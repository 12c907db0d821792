//go:build !vulkan

package main

import (
	"errors"
	"fmt"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/gitmodel/training"
	"github.com/gitcap/gitcap/nn"
	"github.com/urfave/cli/v2"
)

var errNoVulkan = errors.New("--device vulkan: this gitcap was built without the Vulkan path; build one with 'go build -tags vulkan ./cmd/gitcap' (it loads libvulkan at run time, so that binary is dynamically linked)")

// deviceEngine picks the engine for --device. This build has no Vulkan path:
// the default binary stays static and cgo-free.
func deviceEngine(c *cli.Context, m *gitmodel.Model) (gitmodel.Engine, error) {
	return nil, checkCPUDevice(c)
}

// trainDevice maps --device for training: the CPU (nil) for cpu and auto.
func trainDevice(c *cli.Context) (func(*gitmodel.Model, []nn.NamedTensor) (training.Device, error), error) {
	return nil, checkCPUDevice(c)
}

// checkCPUDevice accepts the --device values this build runs on the CPU.
func checkCPUDevice(c *cli.Context) error {
	switch d := c.String("device"); d {
	case "cpu", "auto", "":
		return nil
	case "vulkan":
		return errNoVulkan
	default:
		return fmt.Errorf("--device %q: want cpu, vulkan or auto", d)
	}
}
