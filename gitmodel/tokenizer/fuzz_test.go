package tokenizer

import (
	"os"
	"path/filepath"
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

// FuzzLoad feeds Load hostile tokenizer files: a vocab.txt (or, when it is
// empty, a tokenizer.json) and a tokenizer_config.json. Load must return a
// tokenizer or an error that names a file, never panic; a tokenizer it
// returns must encode and decode.
//
//	go test -run '^$' -fuzz FuzzLoad -fuzztime 30s ./gitmodel/tokenizer/
func FuzzLoad(f *testing.F) {
	vocab, err := os.ReadFile("testdata/tiny/vocab.txt")
	if err != nil {
		f.Fatal(err)
	}
	cfg, err := os.ReadFile("testdata/tiny/tokenizer_config.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(vocab, cfg, []byte(nil))
	f.Add([]byte(nil), []byte(`{"do_lower_case": false, "model_max_length": -1}`),
		[]byte(`{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, "[MASK]": 4, "a": 5}}, "normalizer": {"type": "BertNormalizer"}}`))
	f.Add([]byte("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n##\n\xff\n"), []byte(`{"never_split": ["[CLS]", 3], "unk_token": {"content": "[UNK]"}}`), []byte(nil))
	f.Fuzz(func(t *testing.T, vocab, cfg, fast []byte) {
		dir := t.TempDir()
		if len(vocab) > 0 {
			os.WriteFile(filepath.Join(dir, VocabFile), vocab, 0o644)
		} else {
			os.WriteFile(filepath.Join(dir, FastFile), fast, 0o644)
		}
		os.WriteFile(filepath.Join(dir, ConfigFile), cfg, 0o644)
		tok, err := Load(dir)
		if err != nil {
			if !strings.Contains(err.Error(), dir) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		ids := tok.Encode("a ##b, c\u00e9 [SEP] x", true)
		for _, id := range ids {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("id %d outside the vocabulary of %d", id, tok.VocabSize())
			}
		}
		tok.Decode(ids, true, true)
	})
}
