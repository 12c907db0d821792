package gitmodel

// Merge folds every attached adapter into its base weight,
// W ← W + scaling·B·A (PEFT's merge_and_unload), and detaches it. The
// weights must be writable (LoadOptions.Writable).
func (m *Model) Merge() {
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
}
