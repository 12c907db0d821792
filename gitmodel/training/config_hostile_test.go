package training

import (
	"strings"
	"testing"
)

// Negative counts and a non-positive alpha used to be accepted silently
// (--frozen_parts -1, --alpha -4, --save_every_n_steps -2 …), and a rank of
// 2^40 went on to allocate the adapters: each is an error naming its flag.
func TestValidateRejectsNegativeFlags(t *testing.T) {
	base := DefaultConfig()
	base.Dataset, base.OutputDir = "d", "o"
	for flag, edit := range map[string]func(*Config){
		"--frozen_parts":          func(c *Config) { c.FrozenParts = -1 },
		"--alpha":                 func(c *Config) { c.Alpha = -4 },
		"--save_every_n_epochs":   func(c *Config) { c.SaveEveryNEpochs = -1 },
		"--save_every_n_steps":    func(c *Config) { c.SaveEveryNSteps = -2 },
		"--sample_every_n_epochs": func(c *Config) { c.SampleEveryNEpochs = -1 },
		"--sample_every_n_steps":  func(c *Config) { c.SampleEveryNSteps = -5 },
		"--rank":                  func(c *Config) { c.Rank = 1 << 40 },
	} {
		c := base
		edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("%s: got %v", flag, err)
		}
	}
	c := base
	c.FrozenParts, c.SaveEveryNSteps, c.SampleEveryNEpochs = 2, 10, 1
	if err := c.Validate(); err != nil {
		t.Errorf("positive values: %v", err)
	}
}
