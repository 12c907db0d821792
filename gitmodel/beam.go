package gitmodel

import (
	"math"
	"sort"
)

// Beam search as transformers v4.36 scores it (architecture doc §9.3):
// candidates are the top 2·k of log_softmax + running score over beams ×
// vocab; an EOS among the first k ranks finishes a hypothesis scored
// sum_logprobs / generated_len^length_penalty, where generated_len counts the
// tokens after the prompt including the EOS.

type hypothesis struct {
	score float64
	ids   []int
}

// beamHyps is HF's BeamHypotheses: the best k finished sequences of one image.
type beamHyps struct {
	k             int
	lengthPenalty float64
	earlyStopping bool
	beams         []hypothesis
	worst         float64
}

func (h *beamHyps) add(ids []int, sumLogprobs float64, generatedLen int) {
	score := sumLogprobs / math.Pow(float64(generatedLen), h.lengthPenalty)
	if len(h.beams) < h.k || score > h.worst {
		h.beams = append(h.beams, hypothesis{score, ids})
		if len(h.beams) > h.k {
			// drop the lowest score (lowest index among ties), as Python's
			// sorted([(score, idx)]) does
			lo := 0
			for i, b := range h.beams {
				if b.score < h.beams[lo].score {
					lo = i
				}
			}
			h.beams = append(h.beams[:lo], h.beams[lo+1:]...)
			h.worst = math.Inf(1)
			for _, b := range h.beams {
				h.worst = math.Min(h.worst, b.score)
			}
		} else {
			h.worst = math.Min(score, h.worst)
		}
	}
}

// done reports whether no live beam can beat the worst kept hypothesis.
func (h *beamHyps) done(bestSumLogprobs float64, generatedLen int) bool {
	if len(h.beams) < h.k {
		return false
	}
	if h.earlyStopping {
		return true
	}
	return h.worst >= bestSumLogprobs/math.Pow(float64(generatedLen), h.lengthPenalty)
}

type candidate struct {
	score float64
	beam  int
	token int
}

func (s *searcher) beam(b int, prompt []int) ([][]Caption, error) {
	cfg, g := &s.m.Config, s.g
	k, v := g.NumBeams, cfg.VocabSize
	r := b * k
	seqs := make([][]int, r)
	scores := make([]float64, r)
	for i := range seqs {
		seqs[i] = append([]int(nil), prompt...)
		if i%k != 0 {
			scores[i] = -1e9
		}
	}
	hyps := make([]*beamHyps, b)
	for i := range hyps {
		hyps[i] = &beamHyps{k: k, lengthPenalty: g.LengthPenalty, earlyStopping: g.EarlyStopping, worst: 1e9}
	}
	done := make([]bool, b)
	logits, err := s.firstStep(prompt)
	if err != nil {
		return nil, err
	}
	logp := make([]float64, r*v)
	for {
		cur := len(seqs[0]) // text length before this step's token
		if g.StepLogits != nil {
			g.StepLogits(cur-s.promptLen, logits)
		}
		for i := 0; i < r; i++ {
			row := logp[i*v : (i+1)*v]
			logSoftmax(row, logits[i*v:(i+1)*v])
			s.processLogProbs(row, seqs[i])
			for t := range row {
				row[t] += scores[i]
			}
		}
		nextSeqs := make([][]int, r)
		nextScores := make([]float64, r)
		src := make([]int, r)
		next := make([]int, r)
		for bi := 0; bi < b; bi++ {
			if done[bi] {
				for j := 0; j < k; j++ {
					i := bi*k + j
					nextSeqs[i] = append(append([]int(nil), seqs[bi*k]...), cfg.PadTokenID)
					src[i], next[i] = bi*k, cfg.PadTokenID
				}
				continue
			}
			cands := topCandidates(logp[bi*k*v:(bi+1)*k*v], v, 2*k)
			j := 0
			for rank, c := range cands {
				i := bi*k + c.beam
				if c.token == cfg.EosTokenID {
					if rank >= k {
						continue
					}
					ids := append(append([]int(nil), seqs[i]...), c.token)
					hyps[bi].add(ids, c.score, cur+1-s.promptLen)
				} else {
					dst := bi*k + j
					nextSeqs[dst] = append(append([]int(nil), seqs[i]...), c.token)
					nextScores[dst], src[dst], next[dst] = c.score, i, c.token
					j++
				}
				if j == k {
					break
				}
			}
			done[bi] = done[bi] || hyps[bi].done(cands[0].score, cur+1-s.promptLen)
		}
		seqs, scores = nextSeqs, nextScores
		allDone := true
		for _, d := range done {
			allDone = allDone && d
		}
		if allDone || len(seqs[0]) >= s.maxLen {
			break
		}
		s.sess.Reorder(src)
		if logits, err = s.step(next, 1); err != nil {
			return nil, err
		}
	}
	out := make([][]Caption, b)
	for bi := 0; bi < b; bi++ {
		h := hyps[bi]
		if !done[bi] {
			for j := 0; j < k; j++ {
				i := bi*k + j
				h.add(seqs[i], scores[i], len(seqs[i])-s.promptLen)
			}
		}
		sorted := append([]hypothesis(nil), h.beams...)
		sort.SliceStable(sorted, func(x, y int) bool { return sorted[x].score < sorted[y].score })
		for j := 0; j < g.NumReturnSequences; j++ {
			best := sorted[len(sorted)-1-j]
			out[bi] = append(out[bi], Caption{IDs: best.ids, Score: best.score})
		}
	}
	return out, nil
}

// processLogProbs runs the non-sampling processors on log-probabilities, as
// HF's beam search does (after log_softmax).
func (s *searcher) processLogProbs(row []float64, seq []int) {
	f := make([]float32, len(row))
	changed := s.g.RepetitionPenalty != 1 || s.g.NoRepeatNgramSize > 0 || len(seq) < s.g.MinLength
	if !changed {
		return
	}
	for i, x := range row {
		f[i] = float32(x)
	}
	s.process(f, seq)
	for i := range row {
		if f[i] != float32(row[i]) {
			row[i] = float64(f[i])
		}
	}
}

// topCandidates returns the n best (score, beam, token) of a (k, v) score
// block, best first; ties go to the lower flat index, as torch.topk does here.
func topCandidates(scores []float64, v, n int) []candidate {
	idx := make([]int, 0, n+1)
	for i, sc := range scores {
		if len(idx) == n && sc <= scores[idx[n-1]] {
			continue
		}
		pos := sort.Search(len(idx), func(j int) bool { return scores[idx[j]] < sc })
		idx = append(idx, 0)
		copy(idx[pos+1:], idx[pos:])
		idx[pos] = i
		if len(idx) > n {
			idx = idx[:n]
		}
	}
	out := make([]candidate, len(idx))
	for j, i := range idx {
		out[j] = candidate{scores[i], i / v, i % v}
	}
	return out
}
