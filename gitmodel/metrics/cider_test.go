package metrics

import (
	"math"
	"testing"
)

// Two images whose candidates equal their single reference:
//
//	image 1: ref "a cat", cand "a cat"; image 2: ref "a dog", cand "a dog".
//
// df: a 2, cat 1, "a cat" 1, dog 1, "a dog" 1; log(#images) = ln 2.
// Weights: a → 1·(ln2 − ln2) = 0, cat → ln2, "a cat" → ln2.
// Order 1 and 2 cosines are 1; there are no 3- and 4-grams (norm 0 → 0);
// equal lengths → no penalty. Score = 10 · (1+1+0+0)/4 / 1 = 5 per image.
func TestCIDErDPerfectShort(t *testing.T) {
	score, per := CIDErD([]string{"A cat.", "a dog"}, [][]string{{"a cat"}, {"a dog"}})
	checkClose(t, "CIDEr-D", score, 5, 1e-12)
	checkClose(t, "image 1", per[0], 5, 1e-12)
	checkClose(t, "image 2", per[1], 5, 1e-12)
}

// Clipping and the length penalty, by hand. Same corpus, but image 1's
// candidate is "a cat a cat":
//
//	cand weights  order 1: a 0, cat 2ln2            ‖·‖ = 2ln2
//	              order 2: "a cat" 2ln2, "cat a" ln2 (df 0 → log max(1,0) = 0)
//	                                                 ‖·‖ = √5 ln2
//	              orders 3, 4: weights ln2, but the reference has none → 0
//	ref weights   order 1: cat ln2; order 2: "a cat" ln2
//	sim order 1 = min(2ln2, ln2)·ln2 / (2ln2 · ln2) = 1/2   (clipped; 1 without)
//	sim order 2 = min(2ln2, ln2)·ln2 / (√5 ln2 · ln2) = 1/√5
//	length = bigram count: 3 vs 1 → penalty exp(−2²/(2·6²)) = exp(−1/18)
//	image 1 = 10 · (1/2 + 1/√5)/4 · exp(−1/18) ≈ 2.24006; image 2 = 5.
func TestCIDErDClippingAndLengthPenalty(t *testing.T) {
	score, per := CIDErD([]string{"a cat a cat", "a dog"}, [][]string{{"a cat"}, {"a dog"}})
	want1 := 10 * (0.5 + 1/math.Sqrt(5)) / 4 * math.Exp(-1.0/18)
	checkClose(t, "image 1", per[0], want1, 1e-12)
	checkClose(t, "image 2", per[1], 5, 1e-12)
	checkClose(t, "CIDEr-D", score, (want1+5)/2, 1e-12)
}

// Each image's sum over references is divided by the number of references.
// Image 1 has refs "a cat" and "a dog"; image 2 has "a bird". df: a 2,
// cat/dog/bird and their bigrams 1. Candidate "a cat" matches ref 1 exactly
// (orders 1, 2 → 1) and shares only "a" (weight 0) with ref 2 → 0:
// image 1 = 10 · (2/4) / 2 = 2.5.
func TestCIDErDDividesByReferenceCount(t *testing.T) {
	_, per := CIDErD([]string{"a cat", "a bird"}, [][]string{{"a cat", "a dog"}, {"a bird"}})
	checkClose(t, "image 1", per[0], 2.5, 1e-12)
	checkClose(t, "image 2", per[1], 5, 1e-12)
}

// A perfect candidate of ≥4 words, one reference per image, references
// different across images: every order has cosine 1, so each image scores 10
// (the scale papers show as 100+ after ×100 means "near the references").
func TestCIDErDPerfectLong(t *testing.T) {
	refs := []string{
		"a man riding a wave on top of a surfboard",
		"two cats sleeping on a pink blanket next to remotes",
		"a plate of food with broccoli and rice",
	}
	score, per := CIDErD(refs, [][]string{{refs[0]}, {refs[1]}, {refs[2]}})
	checkClose(t, "CIDEr-D", score, 10, 1e-9)
	for _, p := range per {
		checkClose(t, "image", p, 10, 1e-9)
	}
	// With a second, different reference per image the score drops but stays
	// on the same scale.
	score2, _ := CIDErD(refs, [][]string{
		{refs[0], "a surfer rides a big wave"},
		{refs[1], "cats asleep on a blanket"},
		{refs[2], "rice and vegetables on a plate"},
	})
	if !(score2 > 4 && score2 < 10) {
		t.Errorf("CIDEr-D with a second reference = %g, want in (4, 10)", score2)
	}
}

// Appending words the references lack lengthens the candidate: the cosine
// drops and the Gaussian penalty applies, so the score falls.
func TestCIDErDLongerCandidatePenalized(t *testing.T) {
	refs := [][]string{{"a man riding a wave on a surfboard"}, {"two cats on a blanket"}}
	base, _ := CIDErD([]string{"a man riding a wave on a surfboard", "two cats on a blanket"}, refs)
	long, per := CIDErD([]string{"a man riding a wave on a surfboard near the beach at sunset today", "two cats on a blanket"}, refs)
	if !(long < base) || !(per[0] < 10) || per[0] <= 0 {
		t.Errorf("longer candidate: corpus %g (perfect %g), image %g; want lower and positive", long, base, per[0])
	}
}

func TestCIDErDEmptyAndDegenerate(t *testing.T) {
	score, per := CIDErD([]string{"", "a dog"}, [][]string{{"a cat"}, {"a dog"}})
	checkClose(t, "empty candidate", per[0], 0, 0)
	checkClose(t, "CIDEr-D", score, 2.5, 1e-12)

	// One image: log(#images) = 0 and every df is 1, so every weight is 0.
	score, _ = CIDErD([]string{"a cat"}, [][]string{{"a cat"}})
	checkClose(t, "one-image corpus", score, 0, 0)

	score, per = CIDErD(nil, nil)
	if score != 0 || len(per) != 0 {
		t.Errorf("no images: %g %v", score, per)
	}
}
