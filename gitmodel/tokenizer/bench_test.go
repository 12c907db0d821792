package tokenizer

import "testing"

// BenchmarkEncode measures one caption (the golden long_caption, 48 tokens)
// and a batch of the three golden batch texts.
func BenchmarkEncode(b *testing.B) {
	g, tok := loadGolden(b)
	text := g.Truncation.Text
	b.Run("Caption", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			tok.Encode(text, true)
		}
	})
	b.Run("Batch3", func(b *testing.B) {
		for b.Loop() {
			tok.EncodeBatch(g.Batch.Texts, true, 0)
		}
	})
	ids := tok.Encode(text, true)
	b.Run("Decode", func(b *testing.B) {
		for b.Loop() {
			tok.Decode(ids, true, true)
		}
	})
}
