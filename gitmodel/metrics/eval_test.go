package metrics

import (
	"fmt"
	"testing"
)

func TestExactMatch(t *testing.T) {
	got := ExactMatch(
		[]string{"A cat on a mat.", "a dog", "a bird!", ""},
		[][]string{{"a dog", "a cat on a mat"}, {"the dog"}, {"A bird"}, {"x"}})
	checkClose(t, "ExactMatch", got, 0.5, 0) // images 1 and 3 match after tokenization
	checkClose(t, "no images", ExactMatch(nil, nil), 0, 0)
}

func TestEvaluateMatchesScorers(t *testing.T) {
	cands := []string{"a man riding a wave.", "two cats on a blanket", "a plate of food"}
	refs := [][]string{
		{"A man rides a wave on a surfboard.", "a surfer riding a wave"},
		{"two cats sleeping on a pink blanket"},
		{"a plate of food", "food on a plate"},
	}
	s := Evaluate(cands, refs)
	if b := BLEU(cands, refs); b != s.Bleu {
		t.Errorf("Evaluate BLEU %v != BLEU %v", s.Bleu, b)
	}
	c, per := CIDErD(cands, refs)
	if c != s.CIDEr || fmt.Sprint(per) != fmt.Sprint(s.CIDErPerImage) {
		t.Errorf("Evaluate CIDEr %v %v != CIDErD %v %v", s.CIDEr, s.CIDErPerImage, c, per)
	}
	if e := ExactMatch(cands, refs); e != s.ExactMatch {
		t.Errorf("Evaluate ExactMatch %v != %v", s.ExactMatch, e)
	}
	// Provenance: an independent pure-Python transcription of the formulas in
	// users.md §8.2/§8.5 (float64, no numpy), run on the tokens
	// [a man riding a wave] [two cats on a blanket] [a plate of food] and the
	// tokenized references above.
	want := [4]float64{0.8668778996263423, 0.7392759567655318, 0.5621697260313984, 0.4189358944973598}
	checkBLEU(t, s.Bleu, want, 1e-12)
	checkClose(t, "CIDEr-D", s.CIDEr, 3.9785408435074836, 1e-12)
	for i, w := range []float64{2.962234595107553, 2.4424568461754106, 6.530931089239487} {
		checkClose(t, fmt.Sprint("CIDEr-D image ", i), s.CIDErPerImage[i], w, 1e-12)
	}
	checkClose(t, "ExactMatch", s.ExactMatch, 1.0/3, 1e-15)

	m := s.Map()
	for _, k := range []string{"Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "CIDEr", "ExactMatch"} {
		if _, ok := m[k]; !ok {
			t.Errorf("Map lacks %q", k)
		}
	}
	if m["Bleu_4"] != s.Bleu[3] || m["CIDEr"] != s.CIDEr {
		t.Errorf("Map values differ from fields: %v", m)
	}
}
