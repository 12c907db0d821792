package tokenizer

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// golden mirrors testdata/cases.json (see testdata/PROVENANCE.md).
type golden struct {
	Settings struct {
		DoLowerCase          bool           `json:"do_lower_case"`
		StripAccents         *bool          `json:"strip_accents"`
		TokenizeChineseChars bool           `json:"tokenize_chinese_chars"`
		MaxInputChars        int            `json:"wordpiece_max_input_chars_per_word"`
		ModelMaxLength       int            `json:"model_max_length"`
		SpecialIDs           map[string]int `json:"special_ids"`
	} `json:"settings"`
	Cases []struct {
		Name              string   `json:"name"`
		Text              string   `json:"text"`
		Tokens            []string `json:"tokens"`
		IDs               []int    `json:"ids"`
		IDsSpecial        []int    `json:"ids_with_special_tokens"`
		DecodeSkip        string   `json:"decode_skip_special"`
		DecodeKeep        string   `json:"decode_keep_special"`
		DecodeSkipNoClean string   `json:"decode_skip_special_no_cleanup"`
	} `json:"cases"`
	Batch struct {
		Texts         []string `json:"texts"`
		InputIDs      [][]int  `json:"input_ids"`
		AttentionMask [][]int  `json:"attention_mask"`
		PaddingSide   string   `json:"padding_side"`
	} `json:"batch_padding"`
	Truncation struct {
		Text      string `json:"text"`
		MaxLength int    `json:"max_length"`
		InputIDs  []int  `json:"input_ids"`
	} `json:"truncation"`
}

var (
	goldenOnce sync.Once
	goldenData golden
	gitBase    *Tokenizer
	goldenErr  error
)

// loadGolden reads cases.json and the git-base tokenizer folder once.
func loadGolden(t testing.TB) (*golden, *Tokenizer) {
	t.Helper()
	goldenOnce.Do(func() {
		data, err := os.ReadFile(filepath.Join("testdata", "cases.json"))
		if err != nil {
			goldenErr = err
			return
		}
		if err := json.Unmarshal(data, &goldenData); err != nil {
			goldenErr = err
			return
		}
		gitBase, goldenErr = Load("testdata")
	})
	if goldenErr != nil {
		t.Fatal(goldenErr)
	}
	return &goldenData, gitBase
}

func TestGoldenCases(t *testing.T) {
	g, tok := loadGolden(t)
	if len(g.Cases) != 32 {
		t.Fatalf("cases.json has %d cases, want 32", len(g.Cases))
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			checkCase(t, tok, c.Text, c.Tokens, c.IDs, c.IDsSpecial, c.DecodeSkip, c.DecodeSkipNoClean, c.DecodeKeep)
		})
	}
}

func checkCase(t *testing.T, tok *Tokenizer, text string, tokens []string, ids, idsSpecial []int, skip, skipNoClean, keep string) {
	t.Helper()
	if got := tok.Tokenize(text); !equalStrings(got, tokens) {
		t.Errorf("Tokenize(%q)\n got %q\nwant %q", text, got, tokens)
	}
	if got := tok.Encode(text, false); !equalInts(got, ids) {
		t.Errorf("Encode(%q, false)\n got %v\nwant %v", text, got, ids)
	}
	if got := tok.Encode(text, true); !equalInts(got, idsSpecial) {
		t.Errorf("Encode(%q, true)\n got %v\nwant %v", text, got, idsSpecial)
	}
	for _, d := range []struct {
		skip, clean bool
		want        string
	}{{true, true, skip}, {true, false, skipNoClean}, {false, true, keep}} {
		if got := tok.Decode(idsSpecial, d.skip, d.clean); got != d.want {
			t.Errorf("Decode(skipSpecial=%v, cleanUp=%v)\n got %q\nwant %q", d.skip, d.clean, got, d.want)
		}
	}
}

func TestGoldenSettings(t *testing.T) {
	g, tok := loadGolden(t)
	s := g.Settings
	o := tok.Options()
	if o.DoLowerCase != s.DoLowerCase || o.TokenizeChineseChars != s.TokenizeChineseChars ||
		s.StripAccents != nil || o.StripAccents != AccentsFollowLowerCase ||
		o.MaxInputCharsPerWord != s.MaxInputChars || tok.ModelMaxLength() != s.ModelMaxLength {
		t.Errorf("options %+v do not match cases.json settings %+v", o, s)
	}
	got := map[string]int{"[PAD]": tok.PAD(), "[UNK]": tok.UNK(), "[CLS]": tok.CLS(), "[SEP]": tok.SEP(), "[MASK]": tok.MASK()}
	if !reflect.DeepEqual(got, s.SpecialIDs) {
		t.Errorf("special ids %v, want %v", got, s.SpecialIDs)
	}
	for name, id := range s.SpecialIDs {
		if tid, ok := tok.TokenID(name); !ok || tid != id || tok.IDToken(id) != name {
			t.Errorf("TokenID(%q) = %d, %v; IDToken(%d) = %q", name, tid, ok, id, tok.IDToken(id))
		}
	}
	if tok.VocabSize() != 30522 {
		t.Errorf("VocabSize() = %d, want 30522", tok.VocabSize())
	}
}

func TestGoldenBatchPadding(t *testing.T) {
	g, tok := loadGolden(t)
	if g.Batch.PaddingSide != "right" {
		t.Fatalf("padding side %q", g.Batch.PaddingSide)
	}
	ids, mask := tok.EncodeBatch(g.Batch.Texts, true, 0)
	if !reflect.DeepEqual(ids, g.Batch.InputIDs) {
		t.Errorf("ids\n got %v\nwant %v", ids, g.Batch.InputIDs)
	}
	if !reflect.DeepEqual(mask, g.Batch.AttentionMask) {
		t.Errorf("mask\n got %v\nwant %v", mask, g.Batch.AttentionMask)
	}
}

func TestGoldenTruncation(t *testing.T) {
	g, tok := loadGolden(t)
	tr := g.Truncation
	ids, mask := tok.EncodeBatch([]string{tr.Text}, true, tr.MaxLength)
	if !equalInts(ids[0], tr.InputIDs) {
		t.Errorf("ids\n got %v\nwant %v", ids[0], tr.InputIDs)
	}
	if len(mask[0]) != tr.MaxLength {
		t.Errorf("mask length %d, want %d", len(mask[0]), tr.MaxLength)
	}
	for _, m := range mask[0] {
		if m != 1 {
			t.Errorf("mask %v, want all ones", mask[0])
			break
		}
	}
}

func TestTruncationEdges(t *testing.T) {
	_, tok := loadGolden(t)
	text := "a man riding a wave" // 5 tokens
	full := tok.Encode(text, true)
	for _, c := range []struct {
		addSpecial bool
		maxLength  int
		want       []int
	}{
		{true, 0, full},
		{true, 7, full},
		{true, 100, full},
		{true, 6, append(append([]int{}, full[:5]...), tok.SEP())},
		{true, 3, []int{tok.CLS(), full[1], tok.SEP()}},
		// HF refuses to remove every token and keeps the row whole.
		{true, 2, full},
		{true, 1, full},
		{false, 2, full[1:3]},
		{false, 1, full[1:2]},
	} {
		ids, mask := tok.EncodeBatch([]string{text}, c.addSpecial, c.maxLength)
		if !equalInts(ids[0], c.want) || len(mask[0]) != len(c.want) {
			t.Errorf("EncodeBatch(addSpecial=%v, maxLength=%d) = %v, want %v", c.addSpecial, c.maxLength, ids[0], c.want)
		}
	}
	if ids, mask := tok.EncodeBatch(nil, true, 0); ids != nil || mask != nil {
		t.Errorf("EncodeBatch(nil) = %v, %v", ids, mask)
	}
	ids, mask := tok.EncodeBatch([]string{"", "a dog"}, false, 0)
	if !reflect.DeepEqual(ids, [][]int{{0, 0}, tok.Encode("a dog", false)}) || !reflect.DeepEqual(mask, [][]int{{0, 0}, {1, 1}}) {
		t.Errorf("EncodeBatch without specials: %v %v", ids, mask)
	}
}

func TestDecodeEdges(t *testing.T) {
	_, tok := loadGolden(t)
	for _, c := range []struct {
		ids   []int
		skip  bool
		clean bool
		want  string
	}{
		{nil, true, true, ""},
		// Out-of-range ids decode to [UNK] even when skipping specials (HF).
		{[]int{-1, 1037, 99999}, true, true, "[UNK] a [UNK]"},
		{[]int{101, 102, 0, 103, 100}, true, true, ""},
		{[]int{101, 102, 0, 103, 100}, false, false, "[CLS] [SEP] [PAD] [MASK] [UNK]"},
		{[]int{2123, 1005, 1056}, true, false, "don ' t"},
		{[]int{2123, 1005, 1056}, true, true, "don't"},
	} {
		if got := tok.Decode(c.ids, c.skip, c.clean); got != c.want {
			t.Errorf("Decode(%v, %v, %v) = %q, want %q", c.ids, c.skip, c.clean, got, c.want)
		}
	}
	if got := tok.IDToken(-5); got != "[UNK]" {
		t.Errorf("IDToken(-5) = %q", got)
	}
	if _, ok := tok.TokenID("no-such-token"); ok {
		t.Error("TokenID found a missing token")
	}
}

// TestLowerCaseBeforeSpecials checks HF's order: lower-case outside special
// tokens first, then cut at special tokens (so "[cls]" stays text).
func TestLowerCaseBeforeSpecials(t *testing.T) {
	_, tok := loadGolden(t)
	for text, want := range map[string][]string{
		"[cls]":        {"[", "cl", "##s", "]"},
		"a[SEP]b":      {"a", "[SEP]", "b"},
		"[[CLS]]":      {"[", "[CLS]", "]"},
		"x [PAD][PAD]": {"x", "[PAD]", "[PAD]"},
		"İ":            {"i"},
		"ǅ":            tok.Tokenize("ǆ"),
	} {
		if got := tok.Tokenize(text); !equalStrings(got, want) {
			t.Errorf("Tokenize(%q) = %q, want %q", text, got, want)
		}
	}
}

// TestWordPieceMultiByte covers gotokenizers gap 1 (doc.go): greedy matching
// across 1-, 2-, 3- and 4-byte UTF-8 characters.
func TestWordPieceMultiByte(t *testing.T) {
	vocab := "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\n##中\nタ\n##ワ\n##ー\né\n##😀\n##é\nab\n##b\n"
	tok, err := FromVocab(strings.NewReader(vocab), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	tok.opts.TokenizeChineseChars = false // keep 中 inside the word
	for word, want := range map[string][]string{
		"a中":  {"a", "##中"},
		"タワー": {"タ", "##ワ", "##ー"},
		"a😀":  {"a", "##😀"},
		"ab":  {"ab"},
		"abb": {"ab", "##b"},
		"a中中": {"a", "##中", "##中"},
		"タx":  {"[UNK]"},
		"éé":  {"é", "##é"},
	} {
		if got := tok.wp.tokenize(word, nil); !equalStrings(got, want) {
			t.Errorf("wordpiece(%q) = %q, want %q", word, got, want)
		}
	}
}

// refWordPiece is HF's WordpieceTokenizer loop for one word, on runes.
func refWordPiece(vocab map[string]int, word string, maxChars int) []string {
	chars := []rune(word)
	if len(chars) > maxChars {
		return []string{"[UNK]"}
	}
	var out []string
	for start := 0; start < len(chars); {
		end := len(chars)
		cur := ""
		for start < end {
			sub := string(chars[start:end])
			if start > 0 {
				sub = "##" + sub
			}
			if _, ok := vocab[sub]; ok {
				cur = sub
				break
			}
			end--
		}
		if cur == "" {
			return []string{"[UNK]"}
		}
		out = append(out, cur)
		start = end
	}
	return out
}

// TestWordPieceMatchesReference compares the gotokenizers-based WordPiece
// with HF's loop on random words mixing 1- to 4-byte characters.
func TestWordPieceMatchesReference(t *testing.T) {
	alphabet := []rune("abcé中ワー😀ß")
	var lines []string
	rng := rand.New(rand.NewSource(1))
	randWord := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[rng.Intn(len(alphabet))])
		}
		return b.String()
	}
	lines = append(lines, "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
	for range 60 {
		w := randWord(1 + rng.Intn(3))
		lines = append(lines, w, "##"+randWord(1+rng.Intn(2)))
	}
	tok, err := FromVocab(strings.NewReader(strings.Join(lines, "\n")), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for range 3000 {
		w := randWord(1 + rng.Intn(8))
		got := tok.wp.tokenize(w, nil)
		want := refWordPiece(tok.vocab, w, 100)
		if !equalStrings(got, want) {
			t.Fatalf("wordpiece(%q) = %q, want %q", w, got, want)
		}
	}
}

func TestVocabLines(t *testing.T) {
	// CRLF and CR line ends read like LF; a repeated line takes the later
	// id and hides the earlier one, as in HF's load_vocab.
	vocab := "[PAD]\r\n[UNK]\r[CLS]\n[SEP]\n[MASK]\nx\n\nx\ny"
	tok, err := FromVocab(strings.NewReader(vocab), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := tok.TokenID("x"); id != 7 {
		t.Errorf("TokenID(x) = %d, want 7", id)
	}
	if id, ok := tok.TokenID(""); !ok || id != 6 {
		t.Errorf("TokenID(\"\") = %d, %v; want 6", id, ok)
	}
	if got := tok.IDToken(5); got != "[UNK]" {
		t.Errorf("IDToken(5) = %q, want [UNK] (shadowed)", got)
	}
	if tok.VocabSize() != 8 || tok.UNK() != 1 || tok.CLS() != 2 {
		t.Errorf("VocabSize %d UNK %d CLS %d", tok.VocabSize(), tok.UNK(), tok.CLS())
	}
	if got := tok.Encode("x y z", false); !equalInts(got, []int{7, 8, 1}) {
		t.Errorf("Encode = %v", got)
	}
	if got := splitLines([]byte("a\r")); !equalStrings(got, []string{"a"}) {
		t.Errorf("splitLines(a\\r) = %q", got)
	}
}

func TestOptionsVariants(t *testing.T) {
	_, base := loadGolden(t)
	data, err := os.ReadFile(filepath.Join("testdata", "vocab.txt"))
	if err != nil {
		t.Fatal(err)
	}
	build := func(f func(*Options)) *Tokenizer {
		o := DefaultOptions()
		f(&o)
		tok, err := FromVocab(strings.NewReader(string(data)), o)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	keep := build(func(o *Options) { o.StripAccents = AccentsKeep })
	if got := keep.Tokenize("café"); equalStrings(got, base.Tokenize("café")) {
		t.Errorf("AccentsKeep stripped accents: %q", got)
	}
	strip := build(func(o *Options) { o.DoLowerCase, o.StripAccents = false, AccentsStrip })
	if got := strip.Tokenize("café"); !equalStrings(got, []string{"cafe"}) {
		t.Errorf("cased AccentsStrip Tokenize = %q", got)
	}
	cased := build(func(o *Options) { o.DoLowerCase = false })
	if got := cased.Tokenize("[cls] a"); !equalStrings(got, []string{"[", "cl", "##s", "]", "a"}) {
		t.Errorf("cased Tokenize = %q", got)
	}
	if got := cased.Tokenize("Dog"); equalStrings(got, base.Tokenize("Dog")) {
		t.Errorf("cased and uncased agree on %q: %q", "Dog", got)
	}
	nocjk := build(func(o *Options) { o.TokenizeChineseChars = false })
	if got := nocjk.Tokenize("東京"); equalStrings(got, []string{"東", "京"}) {
		t.Errorf("CJK split although disabled: %q", got)
	}
	never := build(func(o *Options) { o.NeverSplit = []string{"hello-world"} })
	if got := never.Tokenize("say hello-world"); !equalStrings(got, []string{"say", "hello-world"}) {
		t.Errorf("never_split Tokenize = %q", got)
	}
	if _, err := FromVocab(strings.NewReader(string(data)), Options{StripAccents: 9}); err == nil {
		t.Error("invalid AccentMode accepted")
	}
}

func TestTinyFolder(t *testing.T) {
	tok, err := Load(filepath.Join("testdata", "tiny"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 120 || tok.ModelMaxLength() != 64 ||
		tok.PAD() != 0 || tok.UNK() != 100 || tok.CLS() != 101 || tok.SEP() != 102 || tok.MASK() != 103 {
		t.Errorf("tiny: size %d max %d ids %d %d %d %d %d", tok.VocabSize(), tok.ModelMaxLength(),
			tok.PAD(), tok.UNK(), tok.CLS(), tok.SEP(), tok.MASK())
	}
	ids := tok.Encode("road and field", true)
	if got := tok.Decode(ids, true, true); got != "road and field" {
		t.Errorf("tiny round trip: %v → %q", ids, got)
	}
}

// writeFastJSON writes a minimal tokenizer.json holding the vocabulary.
func writeFastJSON(t *testing.T, dir string, tokens []string, normalizer string) {
	t.Helper()
	vocab := make(map[string]int, len(tokens))
	for id, tok := range tokens {
		vocab[tok] = id
	}
	vj, err := json.Marshal(vocab)
	if err != nil {
		t.Fatal(err)
	}
	doc := fmt.Sprintf(`{"version": "1.0", "truncation": null, "padding": null,
  "added_tokens": [{"id": 0, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
  "normalizer": %s,
  "pre_tokenizer": {"type": "BertPreTokenizer"},
  "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
  "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": %s}}`,
		normalizer, vj)
	if err := os.WriteFile(filepath.Join(dir, FastFile), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadTokenizerJSON(t *testing.T) {
	g, want := loadGolden(t)
	data, err := os.ReadFile(filepath.Join("testdata", "vocab.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := splitLines(data)
	dir := t.TempDir()
	writeFastJSON(t, dir, tokens, `{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true}`)
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantOpts := want.Options()
	wantOpts.ModelMaxLength = 0 // only tokenizer_config.json has it
	if !reflect.DeepEqual(tok.Options(), wantOpts) {
		t.Errorf("options %+v, want %+v", tok.Options(), wantOpts)
	}
	if tok.VocabSize() != want.VocabSize() {
		t.Errorf("VocabSize %d, want %d", tok.VocabSize(), want.VocabSize())
	}
	for _, c := range g.Cases {
		checkCase(t, tok, c.Text, c.Tokens, c.IDs, c.IDsSpecial, c.DecodeSkip, c.DecodeSkipNoClean, c.DecodeKeep)
	}

	// tokenizer_config.json overrides the normalizer settings.
	dir2 := t.TempDir()
	writeFastJSON(t, dir2, tokens, `{"type": "BertNormalizer", "lowercase": true}`)
	if err := os.WriteFile(filepath.Join(dir2, ConfigFile), []byte(`{"do_lower_case": false}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cased, err := Load(dir2)
	if err != nil {
		t.Fatal(err)
	}
	if cased.Options().DoLowerCase {
		t.Error("tokenizer_config.json did not override normalizer.lowercase")
	}
}

func TestLoadErrors(t *testing.T) {
	write := func(dir, name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	smallVocab := "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\n"
	for _, c := range []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"missing vocab", nil, []string{VocabFile, FastFile}},
		{"empty vocab", map[string]string{VocabFile: ""}, []string{VocabFile, "empty"}},
		{"malformed config", map[string]string{VocabFile: smallVocab, ConfigFile: `{"do_lower_case": true,`},
			[]string{ConfigFile, "invalid JSON"}},
		{"config not an object", map[string]string{VocabFile: smallVocab, ConfigFile: `null`}, []string{ConfigFile}},
		{"bad field type", map[string]string{VocabFile: smallVocab, ConfigFile: `{"do_lower_case": "yes"}`},
			[]string{ConfigFile, "do_lower_case"}},
		{"bad strip_accents", map[string]string{VocabFile: smallVocab, ConfigFile: `{"strip_accents": 1}`},
			[]string{ConfigFile, "strip_accents"}},
		{"bad special token", map[string]string{VocabFile: smallVocab, SpecialTokensFile: `{"cls_token": 5}`},
			[]string{SpecialTokensFile, "cls_token"}},
		{"special token not in vocab", map[string]string{VocabFile: smallVocab, ConfigFile: `{"cls_token": "<s>"}`},
			[]string{"cls_token", "<s>", "not in the vocabulary", VocabFile}},
		{"invalid UTF-8 vocab", map[string]string{VocabFile: smallVocab + "\xff\n"}, []string{VocabFile, "line 7", "UTF-8"}},
		{"unsupported class", map[string]string{VocabFile: smallVocab, ConfigFile: `{"tokenizer_class": "GPT2Tokenizer"}`},
			[]string{ConfigFile, "tokenizer_class"}},
		{"extra added token", map[string]string{VocabFile: smallVocab,
			ConfigFile: `{"added_tokens_decoder": {"6": {"content": "<x>", "special": true}}}`},
			[]string{ConfigFile, "added_tokens_decoder.6"}},
		{"bad model_max_length", map[string]string{VocabFile: smallVocab, ConfigFile: `{"model_max_length": 1.5}`},
			[]string{ConfigFile, "model_max_length"}},
		{"malformed tokenizer.json", map[string]string{FastFile: `{`}, []string{FastFile, "invalid JSON"}},
		{"tokenizer.json BPE", map[string]string{FastFile: `{"model": {"type": "BPE", "vocab": {}}}`},
			[]string{FastFile, "model.type"}},
		{"tokenizer.json empty vocab", map[string]string{FastFile: `{"model": {"type": "WordPiece", "vocab": {}}}`},
			[]string{FastFile, "model.vocab"}},
		{"tokenizer.json id gap", map[string]string{FastFile: `{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 2}}}`},
			[]string{FastFile, "model.vocab"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range c.files {
				write(dir, name, body)
			}
			_, err := Load(dir)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := FromVocab(strings.NewReader(""), DefaultOptions()); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("FromVocab(empty) error = %v", err)
	}
	if _, err := FromVocab(strings.NewReader("a\nb\n"), DefaultOptions()); err == nil || !strings.Contains(err.Error(), "unk_token") {
		t.Errorf("FromVocab without [UNK]: error = %v", err)
	}
}

// TestNoPanicOddInput runs odd strings (invalid UTF-8, lone marks, long
// runs) through every entry point.
func TestNoPanicOddInput(t *testing.T) {
	_, tok := loadGolden(t)
	for _, s := range []string{
		"\xff\xfe", "a\xc3", "\xe3\x81", "[CLS\xff]", "́́́", "\u0000\u0085\u2028x\u2029y", "\U000F0800", "\U0010FFFF",
		strings.Repeat("é", 150), strings.Repeat("[", 50), "[SEP", "[UNK][UNK]", strings.Repeat("中", 200),
	} {
		ids := tok.Encode(s, true)
		if d := tok.Decode(ids, true, true); !utf8.ValidString(d) || strings.Contains(d, "##") {
			t.Errorf("Decode(Encode(%q)) = %q", s, d)
		}
		tok.EncodeBatch([]string{s, "a"}, true, 4)
	}
	// Unassigned code points (Cn) are control characters to HF.
	if got := tok.Tokenize("do\u0378g"); !equalStrings(got, tok.Tokenize("dog")) {
		t.Errorf("unassigned U+0378 kept: %q", got)
	}
	if got := tok.Tokenize("\u2028a\u2029b"); !equalStrings(got, []string{"a", "b"}) {
		t.Errorf("line/paragraph separators do not split words: %q", got)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
