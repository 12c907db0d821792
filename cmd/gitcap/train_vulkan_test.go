//go:build vulkan

package main

import (
	"os"
	"testing"

	"github.com/gitcap/gitcap/gitmodel"
	"github.com/gitcap/gitcap/gitmodel/vkgit"
	"github.com/gitcap/gitcap/kernels/vulkan"
)

// eval takes its losses from the engine's whole forward pass when it has
// one (training.rowLosses): the device engine does.
var _ interface {
	Forward(gitmodel.Batch) ([]float32, error)
} = (*vkgit.Engine)(nil)

func requireDevice(t *testing.T) {
	t.Helper()
	if _, err := vulkan.Devices(); err != nil && os.Getenv("GITCAP_REQUIRE_VULKAN") != "1" {
		t.Skipf("no Vulkan device: %v", err)
	}
}

// `gitcap train --device vulkan`: the frozen weights' products on the
// device, and the same losses and adapters as transformers + PEFT, within
// the CPU run's tolerances. Without a Vulkan driver it skips, unless
// GITCAP_REQUIRE_VULKAN=1 (make test-vulkan).
func TestTrainOnDeviceMatchesHF(t *testing.T) {
	requireDevice(t)
	trainMatchesHF(t, "--device", "vulkan")
}

// `gitcap eval --device vulkan`: the losses from the device's forward pass
// (and its captions), against HF's numbers.
func TestEvalOnDeviceMatchesHF(t *testing.T) {
	requireDevice(t)
	evalMatchesHF(t, "--device", "vulkan")
}
