package metrics_test

import (
	"fmt"

	"github.com/gitcap/gitcap/gitmodel/metrics"
)

func Example() {
	cands := []string{"Two cats sleeping on a pink blanket next to remotes.", "A dog runs."}
	refs := [][]string{
		{"two cats sleeping on a pink blanket next to remotes", "Two cats asleep on a couch."},
		{"a dog running on the grass"},
	}
	s := metrics.Evaluate(cands, refs)
	fmt.Printf("Bleu_4 %.3f  CIDEr %.3f  exact %.2f\n", s.Bleu[3], s.CIDEr, s.ExactMatch)
	fmt.Println(metrics.PTBTokenize("A dog's toy (red)."))
	// Output:
	// Bleu_4 0.738  CIDEr 3.565  exact 0.50
	// [a dog 's toy -lrb- red -rrb-]
}
