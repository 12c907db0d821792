package gitmodel

import (
	"fmt"
	"math"

	"github.com/gitcap/gitcap/nn"
)

// Weights is the prefix-scoped checkpoint reader of package nn.
type Weights = nn.Weights

func activationOf(field, name string) (nn.Activation, error) {
	switch name {
	case "gelu":
		return nn.GELU, nil
	case "quick_gelu":
		return nn.QuickGELU, nil
	}
	return 0, fmt.Errorf("%s %q is not supported (want \"gelu\" or \"quick_gelu\")", field, name)
}

var negInf = float32(math.Inf(-1))
