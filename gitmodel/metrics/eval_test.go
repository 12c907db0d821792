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
