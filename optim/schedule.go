package optim

import (
	"fmt"
	"math"
)

// Schedule names a learning-rate schedule of transformers'
// optimization.py; each multiplies the base rate by a factor of the number
// of updates already done, s (0 for the first update).
type Schedule string

const (
	Constant Schedule = "constant" // warmup s/w, then 1
	Linear   Schedule = "linear"   // warmup s/w, then (total-s)/(total-w), floored at 0
	Cosine   Schedule = "cosine"   // warmup s/w, then ½(1+cos(π·progress))
)

// ParseSchedule accepts the names transformers uses, with and without
// "_with_warmup".
func ParseSchedule(s string) (Schedule, error) {
	switch s {
	case "constant", "constant_with_warmup":
		return Constant, nil
	case "linear":
		return Linear, nil
	case "cosine":
		return Cosine, nil
	}
	return "", fmt.Errorf("unknown lr_scheduler %q (want constant, linear or cosine)", s)
}

// Factor is the multiplier for update s (0-based) of total with warmup
// warmup steps (transformers get_*_schedule_with_warmup).
func (sc Schedule) Factor(s, warmup, total int) float64 {
	if s < warmup {
		return float64(s) / float64(max(1, warmup))
	}
	switch sc {
	case Linear:
		return math.Max(0, float64(total-s)/float64(max(1, total-warmup)))
	case Cosine:
		progress := float64(s-warmup) / float64(max(1, total-warmup))
		return math.Max(0, 0.5*(1+math.Cos(math.Pi*progress)))
	}
	return 1
}
