// This file orders examples into epochs and batches. An epoch's order is a
// pure function of (seed, epoch), so a resumed run can rebuild it and skip
// the batches already done; BatchRand gives each batch its own random stream
// for the same reason.

package dataset

import "math/rand/v2"

// Stream constants keep the sampler's and the batches' PCG streams apart.
const (
	streamEpoch uint64 = 0x9e3779b97f4a7c15
	streamBatch uint64 = 0xbf58476d1ce4e5b9
)

// Sampler gives the example order of each epoch.
type Sampler struct {
	N       int    // number of examples
	Shuffle bool   // --shuffle; false keeps file order 0..N-1 every epoch
	Seed    uint64 // --seed
}

// Epoch returns the order of epoch e (0-based): 0..N-1 without Shuffle,
// otherwise a permutation drawn from PCG(Seed, f(e)) that depends on nothing
// else.
func (s Sampler) Epoch(e int) []int { return EpochOrder(s.N, s.Shuffle, s.Seed, e) }

// EpochOrder is Sampler{n, shuffle, seed}.Epoch(epoch).
func EpochOrder(n int, shuffle bool, seed uint64, epoch int) []int {
	if !shuffle {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		return order
	}
	rng := rand.New(rand.NewPCG(seed, streamEpoch^mix(uint64(epoch))))
	return rng.Perm(n)
}

// BatchRand returns the random stream of batch b (0-based) of epoch e, for
// Collate's caption and image augmentation: PCG(seed, f(e, b)), independent
// of every other batch, so resuming at any batch reproduces it.
func BatchRand(seed uint64, epoch, batch int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, streamBatch^mix(uint64(epoch)<<32^uint64(uint32(batch)))))
}

// mix is splitmix64's finaliser: nearby inputs give unrelated streams.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Batches cuts order into consecutive batches of batchSize; the last one is
// shorter when batchSize does not divide len(order) (nothing is dropped).
// batchSize must be positive.
func Batches(order []int, batchSize int) [][]int {
	if batchSize <= 0 {
		panic("dataset: Batches: batch size must be positive")
	}
	out := make([][]int, 0, NumBatches(len(order), batchSize))
	for i := 0; i < len(order); i += batchSize {
		out = append(out, order[i:min(i+batchSize, len(order))])
	}
	return out
}

// NumBatches is the number of batches Batches makes of n examples.
func NumBatches(n, batchSize int) int { return (n + batchSize - 1) / batchSize }

// Select returns ex[idx[0]], ex[idx[1]], ...
func Select(ex []Example, idx []int) []Example {
	out := make([]Example, len(idx))
	for i, j := range idx {
		out[i] = ex[j]
	}
	return out
}
