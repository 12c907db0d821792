package gitmodel

import "strings"

// PackVision packs the F32 weights of the image side once (the patch
// embedding, every vision-layer Linear and the visual projection; see
// nn.Linear.Pack), so that encoding an image no longer repacks 86 M weights,
// and drops their memory-mapped pages, which nothing reads afterwards. The
// text decoder keeps its weights as they are: its decoding steps read the
// rows directly. For inference only, after adapters are applied and
// quantization is done: the packed weights must not change afterwards. It
// returns the number of floats packed.
func (m *Model) PackVision() int64 {
	var n int64
	pack := func(name string, l interface{ Pack() int }) {
		if k := l.Pack(); k > 0 {
			n += int64(k)
			if m.release != nil {
				m.release(name)
			}
		}
	}
	pack("git.image_encoder.vision_model.embeddings.patch_embedding.weight", m.Vision.Embeddings.patch)
	for _, nl := range m.Linears() {
		if strings.HasPrefix(nl.Name, "git.image_encoder.") || nl.Linear == m.Projection {
			pack(nl.Name+".weight", nl.Linear)
		}
	}
	return n
}
