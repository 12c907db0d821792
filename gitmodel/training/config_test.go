package training

import (
	"strings"
	"testing"
)

func TestParseTargets(t *testing.T) {
	for in, want := range map[string]string{
		"query,value":           "[query value]",
		"k_proj v_proj q_proj":  "[k_proj v_proj q_proj]",
		"all-linear":            "regex all-linear",
		`.*encoder\.layer\..*`:  `regex .*encoder\.layer\..*`,
		" query , key , value ": "[query key value]",
	} {
		got := ParseTargets(in)
		s := ""
		if got.Regex != "" {
			s = "regex " + got.Regex
		} else {
			s = "[" + strings.Join(got.Names, " ") + "]"
		}
		if s != want {
			t.Errorf("%q → %s, want %s", in, s, want)
		}
	}
}

func TestValidate(t *testing.T) {
	base := DefaultConfig()
	base.Dataset, base.OutputDir = "d", "o"
	if err := base.Validate(); err != nil {
		t.Fatalf("defaults with dataset and output: %v", err)
	}
	for name, edit := range map[string]func(*Config){
		"--dataset":         func(c *Config) { c.Dataset = "" },
		"--epochs":          func(c *Config) { c.Epochs = 0 },
		"--learning_rate":   func(c *Config) { c.LearningRate = 0 },
		"--lora_bits must":  func(c *Config) { c.LoraBits = 5 },
		"--full_finetune":   func(c *Config) { c.LoraBits = 4; c.FullFinetune = true },
		"--log_with":        func(c *Config) { c.LogWith = []string{"mlflow"} },
		"--block_size":      func(c *Config) { c.BlockSize = 2 },
		"--caption_dropout": func(c *Config) { c.CaptionDropout = 1 },
	} {
		c := base
		edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), strings.Fields(name)[0]) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}
