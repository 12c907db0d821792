package tokenizer

import (
	"strings"
	"testing"
)

// FuzzEncode checks that no input panics and that decoding what Encode
// produced never leaves a "##" continuation marker behind.
//
//	go test -run '^$' -fuzz FuzzEncode -fuzztime 30s ./gitmodel/tokenizer/
func FuzzEncode(f *testing.F) {
	g, tok := loadGolden(f)
	for _, c := range g.Cases {
		f.Add(c.Text)
	}
	f.Add("\xff[CLS]\xe3\x81 ##x ##")
	f.Fuzz(func(t *testing.T, text string) {
		ids := tok.Encode(text, true)
		if len(ids) < 2 || ids[0] != tok.CLS() || ids[len(ids)-1] != tok.SEP() {
			t.Fatalf("Encode(%q) = %v: not wrapped in [CLS] ... [SEP]", text, ids)
		}
		for _, clean := range []bool{false, true} {
			if d := tok.Decode(ids, true, clean); strings.Contains(d, "##") {
				t.Fatalf("Decode(Encode(%q)) = %q contains ##", text, d)
			}
		}
		batch, mask := tok.EncodeBatch([]string{text, "a"}, true, 8)
		if len(batch) != 2 || len(batch[0]) != len(mask[0]) || len(batch[1]) != len(batch[0]) {
			t.Fatalf("EncodeBatch(%q): ragged result %v %v", text, batch, mask)
		}
	})
}
