package metrics

import (
	"math"
	"testing"
)

func checkClose(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol || math.IsNaN(got) {
		t.Errorf("%s = %.12g, want %.12g (tol %g)", what, got, want, tol)
	}
}

func checkBLEU(t *testing.T, got, want [4]float64, tol float64) {
	t.Helper()
	for k := range got {
		checkClose(t, "BLEU-"+string(rune('1'+k)), got[k], want[k], tol)
	}
}

// One image, two references; every count derived by hand.
//
//	cand: the cat sat on the mat            (6 tokens)
//	ref1: the cat is on the mat             (6 tokens)
//	ref2: there is a cat on the mat         (7 tokens)
//
// unigrams: the×2 (max in one ref 2), cat, sat (0), on, mat  → 5/6
// bigrams:  the cat ✓, cat sat, sat on, on the ✓, the mat ✓   → 3/5
// trigrams: the cat sat, cat sat on, sat on the, on the mat ✓ → 1/4
// 4-grams:  none of 3 match                                  → 0/3
// closest reference length 6 = candidate length: ratio = (6+1e-15)/(6+1e-9),
// a hair below 1, so BP = exp(1−1/ratio) ≈ 1 − 1.7e-10.
func TestBLEUHandComputed(t *testing.T) {
	got := BLEU([]string{"The cat sat on the mat."},
		[][]string{{"the cat is on the mat", "There is a cat on the mat."}})
	want := [4]float64{
		5.0 / 6,
		math.Sqrt(5.0 / 6 * 3 / 5),         // √0.5
		math.Cbrt(5.0 / 6 * 3 / 5 * 1 / 4), // 0.5
		math.Pow(0.125*(1e-15/3), 1.0/4),   // zero matches → the 1e-15/1e-9 constants decide
	}
	checkBLEU(t, got, want, 1e-9)
	if got[3] > 1e-4 || got[3] <= 0 {
		t.Errorf("BLEU-4 with no 4-gram match = %g, want tiny but positive (%g)", got[3], want[3])
	}
}

// A short candidate: "the cat" against "the cat sat on the mat".
// p1 = 2/2, p2 = 1/1, p3 = p4 = (0+1e-15)/(0+1e-9) = 1e-6;
// ratio = 2/6 → BP = exp(1 − 3) = e⁻².
func TestBLEUBrevityPenalty(t *testing.T) {
	got := BLEU([]string{"the cat"}, [][]string{{"the cat sat on the mat"}})
	bp := math.Exp(-2)
	want := [4]float64{bp, bp, math.Cbrt(1e-6) * bp, math.Pow(1e-12, 0.25) * bp}
	checkBLEU(t, got, want, 1e-9)
}

// "closest" breaks a tie toward the shorter reference: a 5-token candidate
// with references of 4 and 6 tokens uses 4, so no brevity penalty
// (with 6 it would be exp(1−6/5) ≈ 0.82).
func TestBLEUClosestTieTakesShorter(t *testing.T) {
	got := BLEU([]string{"a b c d e"}, [][]string{{"a b c d", "a b c d e f"}})
	checkClose(t, "BLEU-1", got[0], 1, 1e-9)
	checkClose(t, "BLEU-4", got[3], 1, 1e-9)
}

// Counts are summed over images before combining (corpus BLEU), so a perfect
// and a useless image give BLEU-2 = √(2/4 · 1/2) = 0.5, not the mean of the
// per-image scores.
func TestBLEUCorpusLevel(t *testing.T) {
	got := BLEU([]string{"a b", "c d"}, [][]string{{"a b"}, {"e f"}})
	checkClose(t, "BLEU-1", got[0], 0.5, 1e-9)
	checkClose(t, "BLEU-2", got[1], 0.5, 1e-9)
}

func TestBLEUIdentical(t *testing.T) {
	caps := []string{"a man riding a wave on a surfboard", "two cats sleeping on a pink blanket"}
	got := BLEU(caps, [][]string{{caps[0]}, {caps[1], "something else entirely"}})
	for k, b := range got {
		checkClose(t, "BLEU-"+string(rune('1'+k)), b, 1, 1e-6)
	}
}

func TestBLEUEmpty(t *testing.T) {
	got := BLEU([]string{""}, [][]string{{"a cat on a mat"}})
	checkBLEU(t, got, [4]float64{}, 1e-12)
	got = BLEU([]string{"... !"}, [][]string{{""}})
	checkBLEU(t, got, [4]float64{}, 1e-12)
	got = BLEU(nil, nil)
	checkBLEU(t, got, [4]float64{}, 0)
}

func TestScorersPanicOnBadShapes(t *testing.T) {
	for name, f := range map[string]func(){
		"length": func() { BLEU([]string{"a"}, nil) },
		"norefs": func() { CIDErD([]string{"a"}, [][]string{{}}) },
		"exact":  func() { ExactMatch([]string{"a", "b"}, [][]string{{"a"}}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
