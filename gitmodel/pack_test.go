package gitmodel

import (
	"math"
	"strings"
	"testing"
)

// PackVision leaves the image tokens bit for bit as they were, at a batch
// large enough (4 tiny images, 68 rows) for the packed weights to be used.
func TestPackVision(t *testing.T) {
	m := loadTiny(t, nil)
	px := goldenF32(t, golden(t), "inputs.pixel_values") // 2 images
	px = append(px, px...)
	want := m.EncodeImages(px, 4)
	// 2 layers of q/k/v/out (32×32) and fc1/fc2 (32×64), the patch
	// embedding (32×3·8·8) and the projection (32×32)
	if n := m.PackVision(); n != 2*(4*32*32+2*32*64)+32*3*8*8+32*32 {
		t.Errorf("packed %d floats", n)
	}
	for _, nl := range m.Linears() {
		if vision := nl.Linear == m.Projection || strings.HasPrefix(nl.Name, "git.image_encoder."); nl.Linear.Packed() != vision {
			t.Errorf("%s: packed %v", nl.Name, nl.Linear.Packed())
		}
	}
	got := m.EncodeImages(px, 4)
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("image token value %d: %v packed, %v before", i, got[i], want[i])
		}
	}
}
