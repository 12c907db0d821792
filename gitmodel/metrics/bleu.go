// bleu.go computes corpus BLEU-1..4 as pycocoevalcap's Bleu(4) does
// (bleu/bleu_scorer.py, called with option "closest"): clipped n-gram counts
// and lengths are summed over all images first, then combined once. It is not
// the mean of per-sentence BLEU, and not sacrebleu (no exponential smoothing).

package metrics

import (
	"fmt"
	"math"
	"strings"
)

// The additive constants of bleu_scorer.py: tiny keeps a zero match count
// from producing log(0) downstream, small avoids dividing by zero.
const (
	bleuTiny  = 1e-15
	bleuSmall = 1e-9
)

// BLEU returns corpus BLEU-1..4 (bleu[0] is BLEU-1) of the candidates
// against the references, after PTB tokenization. cands[i] is the caption for
// image i and refs[i] its references; it panics if the lengths differ or an
// image has no reference. With no images every score is 0.
//
// With, summed over images, correct_k the candidate k-grams matched (each
// clipped to its largest count in one reference), guess_k = Σ max(0, len−k+1),
// c the candidate length and r the reference length closest to it (the
// shorter on a tie):
//
//	BLEU_n = (Π_{k≤n} (correct_k + 1e-15) / (guess_k + 1e-9))^(1/n) · BP
//	BP     = exp(1 − 1/ratio) if ratio = (Σc + 1e-15)/(Σr + 1e-9) < 1, else 1
func BLEU(cands []string, refs [][]string) [4]float64 {
	c, r := tokenizeAll(cands, refs)
	return bleuTokens(c, r)
}

// bleuTokens is BLEU on tokenized captions.
func bleuTokens(cands [][]string, refs [][][]string) [4]float64 {
	const n = 4
	var correct, guess [n]float64
	var testLen, refLen float64
	for i, cand := range cands {
		// The largest count of each n-gram in any single reference.
		maxRef := map[string]int{}
		for _, ref := range refs[i] {
			for g, cnt := range ngramCounts(ref, n) {
				maxRef[g] = max(maxRef[g], cnt)
			}
		}
		for g, cnt := range ngramCounts(cand, n) {
			correct[ngramOrder(g)-1] += float64(min(cnt, maxRef[g]))
		}
		for k := 1; k <= n; k++ {
			guess[k-1] += float64(max(0, len(cand)-k+1))
		}
		testLen += float64(len(cand))
		refLen += float64(closestRefLen(len(cand), refs[i]))
	}

	var bleu [n]float64
	if len(cands) == 0 {
		return bleu
	}
	ratio := (testLen + bleuTiny) / (refLen + bleuSmall)
	for nn := 1; nn <= n; nn++ {
		b := 1.0
		for k := 0; k < nn; k++ {
			b *= (correct[k] + bleuTiny) / (guess[k] + bleuSmall)
		}
		b = math.Pow(b, 1/float64(nn))
		if ratio < 1 {
			b *= math.Exp(1 - 1/ratio)
		}
		bleu[nn-1] = b
	}
	return bleu
}

// closestRefLen is the reference length nearest testLen; on a tie, the
// shorter (Python's min over (|l−c|, l) tuples).
func closestRefLen(testLen int, refs [][]string) int {
	best := -1
	for _, ref := range refs {
		l := len(ref)
		d, bd := abs(l-testLen), abs(best-testLen)
		if best < 0 || d < bd || (d == bd && l < best) {
			best = l
		}
	}
	return best
}

// ngramCounts counts the n-grams of orders 1..n of a token list. The key is
// the tokens joined by single spaces (tokens never contain whitespace).
func ngramCounts(toks []string, n int) map[string]int {
	counts := make(map[string]int, n*len(toks))
	for k := 1; k <= n; k++ {
		for i := 0; i+k <= len(toks); i++ {
			counts[strings.Join(toks[i:i+k], " ")]++
		}
	}
	return counts
}

// ngramOrder is the number of tokens in an n-gram key.
func ngramOrder(g string) int { return strings.Count(g, " ") + 1 }

// tokenizeAll PTB-tokenizes parallel candidate and reference lists, checking
// the shapes the scorers rely on.
func tokenizeAll(cands []string, refs [][]string) ([][]string, [][][]string) {
	checkShapes(len(cands), refs)
	c := make([][]string, len(cands))
	r := make([][][]string, len(refs))
	for i := range cands {
		c[i] = PTBTokenize(cands[i])
		r[i] = make([][]string, len(refs[i]))
		for j, ref := range refs[i] {
			r[i][j] = PTBTokenize(ref)
		}
	}
	return c, r
}

func checkShapes(nCands int, refs [][]string) {
	if nCands != len(refs) {
		panic(fmt.Sprintf("metrics: %d candidates but %d reference lists", nCands, len(refs)))
	}
	for i, r := range refs {
		if len(r) == 0 {
			panic(fmt.Sprintf("metrics: image %d has no reference caption", i))
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
