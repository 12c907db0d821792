package gitmodel

import (
	"fmt"

	"github.com/gitcap/gitcap/tensor"
)

// Merge folds every attached adapter into its base weight,
// W ← W + scaling·B·A (PEFT's merge_and_unload), and detaches it. The
// weights must be writable (LoadOptions.Writable) and F32: a weight stored
// quantized is an error naming the layer, and then nothing is merged.
func (m *Model) Merge() error {
	for _, nl := range m.Linears() {
		l := nl.Linear
		if l.LoRA == nil {
			continue
		}
		if w := l.Weight; w == nil || w.DType() != tensor.F32 {
			format := "not F32"
			if l.Q != nil {
				format = l.Q.Format.String()
			}
			return fmt.Errorf("merge: %s's weight is stored quantized (%s): merge the adapter into the unquantized base, then quantize", nl.Name, format)
		}
	}
	for _, nl := range m.Linears() {
		l := nl.Linear
		a := l.LoRA
		if a == nil {
			continue
		}
		in, out, r := l.In(), l.Out(), a.Rank()
		w, A, B := l.Weight.Data(), a.A.Data(), a.B.Data()
		for o := 0; o < out; o++ {
			row := w[o*in : (o+1)*in]
			for k := 0; k < r; k++ {
				s := a.Scaling * B[o*r+k]
				if s == 0 {
					continue
				}
				for i, v := range A[k*in : (k+1)*in] {
					row[i] += s * v
				}
			}
		}
		l.LoRA = nil
	}
	return nil
}
