package nn

import "github.com/gitcap/gitcap/kernels"

// packedMinRows is the batch size from which Forward uses a packed weight:
// below it the dot-product kernels read the weight's rows directly.
const packedMinRows = 64

// Pack packs the F32 weight once for Forward's large batches (the vision
// tower's 197 rows per image), so that products no longer repack it on
// every call; Forward gives the bits it gave before for those batches
// (kernels.SgemmPacked). It returns the floats the packed copy takes, 0 if
// the weight is quantized. The weight must not change while it is packed:
// Unpack before training or merging.
func (l *Linear) Pack() int {
	if l.Q != nil || l.Weight == nil {
		return 0
	}
	l.packed = kernels.PackB(true, l.In(), l.Out(), l.Weight.Data(), l.In())
	return l.packed.K() * l.packed.N()
}

// Unpack drops the packed copy.
func (l *Linear) Unpack() { l.packed = nil }

// Packed reports whether Pack is in effect.
func (l *Linear) Packed() bool { return l.packed != nil }
