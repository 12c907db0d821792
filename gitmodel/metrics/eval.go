// eval.go runs every metric over one tokenization, as COCOEvalCap.evaluate
// does, and adds exact match, a metric pycocoevalcap lacks but fine-tuning
// users on small, formulaic caption sets ask for.

package metrics

import "strings"

// ExactMatch returns the fraction of candidates whose PTB tokens equal those
// of at least one of their references (so case and the punctuation
// pycocoevalcap drops do not matter). It panics on the shapes BLEU panics
// on; with no images it returns 0.
func ExactMatch(cands []string, refs [][]string) float64 {
	c, r := tokenizeAll(cands, refs)
	return exactMatchTokens(c, r)
}

func exactMatchTokens(cands [][]string, refs [][][]string) float64 {
	if len(cands) == 0 {
		return 0
	}
	hits := 0
	for i, cand := range cands {
		want := strings.Join(cand, " ")
		for _, ref := range refs[i] {
			if strings.Join(ref, " ") == want {
				hits++
				break
			}
		}
	}
	return float64(hits) / float64(len(cands))
}

// Scores holds every metric of one evaluation. Bleu[k] is BLEU-(k+1).
type Scores struct {
	Bleu          [4]float64
	CIDEr         float64   // CIDEr-D, pycocoevalcap's "CIDEr"
	CIDErPerImage []float64 // in the order of the candidates
	ExactMatch    float64
}

// Map returns the scores under pycocoevalcap's result keys (Bleu_1..Bleu_4,
// CIDEr) plus ExactMatch, ready for a JSON log line.
func (s Scores) Map() map[string]float64 {
	return map[string]float64{
		"Bleu_1": s.Bleu[0], "Bleu_2": s.Bleu[1], "Bleu_3": s.Bleu[2], "Bleu_4": s.Bleu[3],
		"CIDEr":      s.CIDEr,
		"ExactMatch": s.ExactMatch,
	}
}

// Evaluate tokenizes the captions once and computes BLEU-1..4, CIDEr-D and
// exact match; the values equal those of BLEU, CIDErD and ExactMatch. It
// panics on the shapes BLEU panics on.
func Evaluate(cands []string, refs [][]string) Scores {
	c, r := tokenizeAll(cands, refs)
	var s Scores
	s.Bleu = bleuTokens(c, r)
	s.CIDEr, s.CIDErPerImage = ciderDTokens(c, r)
	s.ExactMatch = exactMatchTokens(c, r)
	return s
}
