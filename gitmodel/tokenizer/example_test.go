package tokenizer_test

import (
	"fmt"

	"github.com/gitcap/gitcap/gitmodel/tokenizer"
)

func Example() {
	// testdata holds git-base's vocab.txt and tokenizer_config.json.
	tok, err := tokenizer.Load("testdata")
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Tokenize("Two cats sleeping on remotes."))
	ids := tok.Encode("Two cats sleeping on remotes.", true)
	fmt.Println(ids)
	fmt.Println(tok.Decode(ids, true, true))
	// Output:
	// [two cats sleeping on remote ##s .]
	// [101 2048 8870 5777 2006 6556 2015 1012 102]
	// two cats sleeping on remotes.
}

func ExampleTokenizer_EncodeBatch() {
	tok, err := tokenizer.Load("testdata")
	if err != nil {
		panic(err)
	}
	ids, mask := tok.EncodeBatch([]string{"a dog", "a man riding a wave"}, true, 6)
	fmt.Println(ids)
	fmt.Println(mask)
	// Output:
	// [[101 1037 3899 102 0 0] [101 1037 2158 5559 1037 102]]
	// [[1 1 1 1 0 0] [1 1 1 1 1 1]]
}
