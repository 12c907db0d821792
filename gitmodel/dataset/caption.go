// This file is caption augmentation (--shuffle_captions, --frozen_parts,
// --caption_dropout) and the per-epoch choice among several captions. Every
// random draw comes from the *rand.Rand the caller passes, in a documented
// order, so a run is reproducible from its seed.

package dataset

import (
	"math/rand/v2"
	"strings"
)

// CaptionSeparator is what --shuffle_captions splits captions on (and joins
// them back with), as caption-train does.
const CaptionSeparator = ", "

// CaptionAug is caption augmentation. The zero value changes nothing.
type CaptionAug struct {
	Shuffle     bool    // --shuffle_captions: shuffle the parts after the frozen ones
	FrozenParts int     // --frozen_parts: leading parts that never move and are never dropped
	Dropout     float64 // --caption_dropout: probability of dropping each other part
}

// Active reports whether Apply can change a caption.
func (a CaptionAug) Active() bool { return a.Shuffle || a.Dropout > 0 }

// Apply augments one caption. The caption is split on ", " into parts
// (each stripped, empty parts removed); the first FrozenParts stay first, in
// order; each other part is dropped with probability Dropout (one
// rng.Float64 per part, in order: dropped when < Dropout); if that would leave
// the caption empty, one part chosen with rng.IntN is kept; with Shuffle the
// remaining parts are then shuffled (rng.Shuffle). The result is the parts
// joined with ", ". An inactive CaptionAug returns caption unchanged and draws
// nothing.
func (a CaptionAug) Apply(caption string, rng *rand.Rand) string {
	if !a.Active() {
		return caption
	}
	var parts []string
	for _, p := range strings.Split(caption, CaptionSeparator) {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return strings.TrimSpace(caption)
	}
	frozen := min(max(a.FrozenParts, 0), len(parts))
	rest := parts[frozen:]
	if a.Dropout > 0 && len(rest) > 0 {
		kept := make([]string, 0, len(rest))
		for _, p := range rest {
			if rng.Float64() >= a.Dropout {
				kept = append(kept, p)
			}
		}
		if len(kept) == 0 && frozen == 0 {
			kept = append(kept, rest[rng.IntN(len(rest))])
		}
		rest = kept
	}
	if a.Shuffle {
		rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	}
	out := append(parts[:frozen:frozen], rest...)
	return strings.Join(out, CaptionSeparator)
}

// PickCaption returns the caption to train on this time: with rng nil the
// first one; otherwise one chosen with rng.IntN, drawn only when there are
// several.
func PickCaption(ex Example, rng *rand.Rand) string {
	switch {
	case len(ex.Captions) == 0:
		return ""
	case rng == nil || len(ex.Captions) == 1:
		return ex.Captions[0]
	}
	return ex.Captions[rng.IntN(len(ex.Captions))]
}
