// cider.go computes CIDEr-D as pycocoevalcap's Cider class does
// (cider/cider_scorer.py: n = 4, σ = 6): tf-idf n-gram vectors whose idf
// comes from the references of the evaluated images, cosine similarity with
// the candidate weights clipped to the reference's, a Gaussian penalty on the
// length difference, ×10. It is not the original CIDEr (no clipping, no
// penalty) nor pycocoevalcap's CiderD class of the coco-caption fork with its
// df file.

package metrics

import "math"

const (
	ciderN     = 4   // n-gram orders 1..4
	ciderSigma = 6.0 // width of the length penalty
)

// CIDErD returns the corpus CIDEr-D score (the mean over images) and each
// image's score, after PTB tokenization. cands[i] is the caption for image i
// and refs[i] its references; it panics if the lengths differ or an image has
// no reference. With no images it returns 0 and an empty slice.
//
// For order n, a sentence's vector holds, per n-gram g,
// tf(g)·(log(#images) − log(max(1, df(g)))), with tf the raw count and df(g)
// the number of images whose references contain g. For candidate c and each
// reference r:
//
//	sim_n(c, r) = Σ_g min(c_g, r_g)·r_g / (‖c‖‖r‖) · exp(−(ℓ_c − ℓ_r)²/(2σ²))
//	score       = 10 · mean_n Σ_r sim_n(c, r) / #refs
//
// where ℓ is the number of bigrams (words − 1, 0 for one word): pycocoevalcap
// counts length only while visiting bigrams, and this reproduces it. A norm of
// 0 makes that order's similarity 0.
func CIDErD(cands []string, refs [][]string) (score float64, perImage []float64) {
	c, r := tokenizeAll(cands, refs)
	return ciderDTokens(c, r)
}

// ciderVec is one sentence's tf-idf vectors, one map per order (index n−1).
type ciderVec struct {
	vec    [ciderN]map[string]float64
	norm   [ciderN]float64
	length float64 // bigram count, see CIDErD
}

// ciderDTokens is CIDErD on tokenized captions.
func ciderDTokens(cands [][]string, refs [][][]string) (float64, []float64) {
	perImage := make([]float64, len(cands))
	if len(cands) == 0 {
		return 0, perImage
	}

	// Document frequency: in how many images' reference sets each n-gram occurs.
	df := map[string]float64{}
	candCounts := make([]map[string]int, len(cands))
	refCounts := make([][]map[string]int, len(refs))
	for i := range cands {
		candCounts[i] = ngramCounts(cands[i], ciderN)
		seen := map[string]bool{}
		refCounts[i] = make([]map[string]int, len(refs[i]))
		for j, ref := range refs[i] {
			refCounts[i][j] = ngramCounts(ref, ciderN)
			for g := range refCounts[i][j] {
				seen[g] = true
			}
		}
		for g := range seen {
			df[g]++
		}
	}
	logImages := math.Log(float64(len(cands)))

	toVec := func(counts map[string]int) ciderVec {
		var v ciderVec
		for n := range v.vec {
			v.vec[n] = map[string]float64{}
		}
		for g, tf := range counts {
			n := ngramOrder(g) - 1
			w := float64(tf) * (logImages - math.Log(math.Max(1, df[g])))
			v.vec[n][g] = w
			v.norm[n] += w * w
			if n == 1 {
				v.length += float64(tf)
			}
		}
		for n := range v.norm {
			v.norm[n] = math.Sqrt(v.norm[n])
		}
		return v
	}

	sum := 0.0
	for i := range cands {
		hyp := toVec(candCounts[i])
		var acc [ciderN]float64
		for _, rc := range refCounts[i] {
			ref := toVec(rc)
			delta := hyp.length - ref.length
			penalty := math.Exp(-(delta * delta) / (2 * ciderSigma * ciderSigma))
			for n := 0; n < ciderN; n++ {
				val := 0.0
				for g, h := range hyp.vec[n] {
					r := ref.vec[n][g]
					val += math.Min(h, r) * r
				}
				if hyp.norm[n] != 0 && ref.norm[n] != 0 {
					val /= hyp.norm[n] * ref.norm[n]
				}
				acc[n] += val * penalty
			}
		}
		mean := (acc[0] + acc[1] + acc[2] + acc[3]) / ciderN
		perImage[i] = mean / float64(len(refCounts[i])) * 10
		sum += perImage[i]
	}
	return sum / float64(len(cands)), perImage
}
