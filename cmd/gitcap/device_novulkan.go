//go:build !vulkan

package main

import (
	"fmt"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/urfave/cli/v2"
)

// deviceEngine picks the engine for --device. This build has no Vulkan path:
// the default binary stays static and cgo-free.
func deviceEngine(c *cli.Context, m *gitmodel.Model) (gitmodel.Engine, error) {
	switch d := c.String("device"); d {
	case "cpu", "auto", "":
		return nil, nil
	case "vulkan":
		return nil, fmt.Errorf("--device vulkan: this gitcap was built without the Vulkan path; build one with 'go build -tags vulkan ./cmd/gitcap' (it loads libvulkan at run time, so that binary is dynamically linked)")
	default:
		return nil, fmt.Errorf("--device %q: want cpu, vulkan or auto", d)
	}
}
