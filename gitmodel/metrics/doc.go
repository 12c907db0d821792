// Package metrics computes the COCO caption metrics the way pycocoevalcap
// (salaniz/pycocoevalcap, the pip package used by captioning papers) computes
// them: PTB tokenization, corpus BLEU-1..4 and CIDEr-D, plus an exact-match
// rate that pycocoevalcap does not have. METEOR and SPICE need Java and are
// out of scope; see shared/docs/users.md §8.
//
// Data layout: every scorer takes parallel slices, one entry per image:
//
//	cands[i]  the one generated caption for image i (raw text)
//	refs[i]   the reference captions of image i (raw text, at least one)
//
// Scorers tokenize with PTBTokenize first, as COCOEvalCap.evaluate does, so
// callers pass captions exactly as they appear in a COCO JSON file. Evaluate
// tokenizes once and runs every scorer.
//
// Scores are raw fractions, as pycocoevalcap prints them: papers report
// CIDEr-D × 100 (git-base-coco's 131.4 is 1.314 here). CIDEr-D's idf comes
// from the references of the evaluated images, so a score on a subset is not
// comparable to one on the full split, and a one-image corpus always scores 0.
package metrics
