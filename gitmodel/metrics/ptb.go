// ptb.go is a pure-Go stand-in for the tokenization step of pycocoevalcap:
// Stanford CoreNLP 3.4.1's PTBTokenizer run as `-preserveLines -lowerCase`
// (one caption per line), then pycocoevalcap's filter that drops the tokens
// listed in PUNCTUATIONS (tokenizer/ptbtokenizer.py).
//
// It is not a port of the Java lexer, a JFlex grammar thousands of lines long.
// It implements the Penn Treebank conventions that occur in captions, checked
// against the gold outputs in CoreNLP's PTBTokenizerTest: punctuation split off
// words, clitics split (dog's → dog 's, don't → do n't, can't → ca n't,
// gonna → gon na), internal hyphens, periods, commas and colons of numbers kept
// (black-and-white, 3.5, 1,000, 4:45), brackets escaped. Known differences
// from the Java tokenizer are listed in TestPTBTokenizeKnownDifferences.

package metrics

import (
	"strings"
	"unicode"
)

// ptbPunctuations is pycocoevalcap's PUNCTUATIONS list, compared exactly
// (case-sensitively) with each token of the Java output.
var ptbPunctuations = map[string]bool{
	"''": true, "'": true, "``": true, "`": true,
	"-LRB-": true, "-RRB-": true, "-LCB-": true, "-RCB-": true,
	".": true, "?": true, "!": true, ",": true, ":": true,
	"-": true, "--": true, "...": true, ";": true,
}

// ptbBrackets maps a bracket to its PTB escape as it leaves the Java tool:
// -lowerCase lower-cases every token after escaping, so "(" comes out as
// "-lrb-", which the upper-case entries of PUNCTUATIONS do not match. The
// escapes therefore stay in pycocoevalcap's tokenized captions, and here too.
var ptbBrackets = map[rune]string{
	'(': "-lrb-", ')': "-rrb-",
	'[': "-lsb-", ']': "-rsb-",
	'{': "-lcb-", '}': "-rcb-",
}

// ptbClitics are the suffixes PTB splits off a word (after lower-casing).
var ptbClitics = []string{"n't", "'s", "'re", "'ve", "'ll", "'d", "'m"}

// ptbWholeWords are words PTB splits into fixed parts.
var ptbWholeWords = map[string][]string{
	"cannot": {"can", "not"},
	"gonna":  {"gon", "na"},
	"gotta":  {"got", "ta"},
	"wanna":  {"wan", "na"},
	"gimme":  {"gim", "me"},
	"lemme":  {"lem", "me"},
	"dunno":  {"du", "n", "no"},
}

// ptbAbbreviations keep their final period (after lower-casing, period
// removed). Words made of single letters and periods (u.s., a.m.) are kept too.
var ptbAbbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "jr": true, "sr": true,
	"st": true, "mt": true, "vs": true, "etc": true, "inc": true, "ltd": true,
	"co": true, "corp": true, "prof": true,
}

// ptbApostropheWords begin with an apostrophe that is part of the word.
var ptbApostropheWords = map[string]bool{
	"'cause": true, "'em": true, "'n'": true, "'til": true, "'tis": true, "'twas": true,
}

// PTBTokenize returns the tokens pycocoevalcap scores for caption s: PTB
// tokens, lower-cased, without the punctuation tokens in pycocoevalcap's
// PUNCTUATIONS list. Newlines count as spaces, as pycocoevalcap replaces them
// before tokenizing. An empty or all-punctuation caption yields no tokens.
//
//	PTBTokenize("Two cats sleeping on a pink blanket next to remotes.")
//	  → [two cats sleeping on a pink blanket next to remotes]
//	PTBTokenize("A dog's toy (red).") → [a dog 's toy -lrb- red -rrb-]
func PTBTokenize(s string) []string {
	var t ptbTokenizer
	for _, chunk := range strings.FieldsFunc(strings.ToLower(s), unicode.IsSpace) {
		t.chunk([]rune(chunk))
	}
	out := t.toks[:0]
	for _, tok := range t.toks {
		if !ptbPunctuations[tok] {
			out = append(out, tok)
		}
	}
	return out
}

// ptbTokenizer collects the PTB tokens (before the punctuation filter) of one
// caption.
type ptbTokenizer struct {
	toks []string
	word []rune // the word being built within a whitespace-separated chunk
}

func (t *ptbTokenizer) emit(s string) { t.toks = append(t.toks, s) }

// chunk splits one whitespace-free chunk at the characters that always stand
// alone, collecting everything else into words for t.flush.
func (t *ptbTokenizer) chunk(rs []rune) {
	isDigit := func(i int) bool { return i >= 0 && i < len(rs) && unicode.IsDigit(rs[i]) }
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case ptbBrackets[r] != "":
			t.flush()
			t.emit(ptbBrackets[r])
		case r == '"' || r == '“' || r == '”' || r == '„':
			opening := r == '“' || r == '„' || (r == '"' && len(t.word) == 0)
			t.flush()
			if opening {
				t.emit("``")
			} else {
				t.emit("''")
			}
		case r == '!' || r == '?':
			// A run such as "?!" or "!!" is one token, which pycocoevalcap keeps.
			j := i
			for j < len(rs) && (rs[j] == '!' || rs[j] == '?') {
				j++
			}
			t.flush()
			t.emit(string(rs[i:j]))
			i = j - 1
		case r == ';' || r == '%':
			t.flush()
			t.emit(string(r))
		case r == ',' || r == ':':
			// Kept inside numbers: 1,000 and 4:45.
			if len(t.word) > 0 && isDigit(i-1) && isDigit(i+1) {
				t.word = append(t.word, r)
				continue
			}
			t.flush()
			t.emit(string(r))
		case r == '.':
			j := i
			for j < len(rs) && rs[j] == '.' {
				j++
			}
			switch j - i {
			case 1:
				t.word = append(t.word, r) // decided in flush: 3.5, u.s., end of sentence
			case 2: // "u.s.." is "u.s." then "."
				t.word = append(t.word, r)
				t.flush()
				t.emit(".")
			default:
				t.flush()
				t.emit("...")
			}
			i = j - 1
		case r == '…':
			t.flush()
			t.emit("...")
		case r == '–' || r == '—':
			t.flush()
			t.emit("--")
		case r == '\u00ad': // soft hyphen: dropped inside words
		case r == '’':
			t.word = append(t.word, '\'')
		case r == '‘':
			t.word = append(t.word, '`')
		default:
			t.word = append(t.word, r)
		}
	}
	t.flush()
}

// flush splits the pending word into leading punctuation, the word proper
// (with clitics split off), and trailing punctuation, and emits them in order.
func (t *ptbTokenizer) flush() {
	w := string(t.word)
	t.word = t.word[:0]

	// Leading: quotes, dashes, currency.
	for w != "" {
		switch {
		case w[0] == '`':
			t.emit("`")
			w = w[1:]
			continue
		case w[0] == '\'' && !isClitic(w) && !ptbApostropheWords[w] && !(len(w) > 1 && isASCIIDigit(w[1])):
			t.emit("`") // an opening single quote
			w = w[1:]
			continue
		case w[0] == '-':
			k := hyphenRun(w, 0)
			if k < len(w) && k == 1 && isASCIIDigit(w[1]) {
				break // a negative number
			}
			t.emit(dashToken(k))
			w = w[k:]
			continue
		case (w[0] == '$' || w[0] == '#') && len(w) > 1:
			t.emit(w[:1])
			w = w[1:]
			continue
		}
		break
	}

	// Trailing: closing quotes, dashes, sentence-final period.
	var tail []string
	for len(w) > 1 {
		last := w[len(w)-1]
		if last == '\'' && !ptbApostropheWords[w] {
			tail = append(tail, "'")
			w = w[:len(w)-1]
			continue
		}
		if last == '-' {
			k := 0
			for k < len(w) && w[len(w)-1-k] == '-' {
				k++
			}
			if k == len(w) {
				break
			}
			tail = append(tail, dashToken(k))
			w = w[:len(w)-k]
			continue
		}
		if last == '.' && !isAbbreviation(w) {
			tail = append(tail, ".")
			w = w[:len(w)-1]
			continue
		}
		break
	}

	t.emitWord(w)
	for i := len(tail) - 1; i >= 0; i-- {
		t.emit(tail[i])
	}
}

// emitWord emits a word with its clitics split off.
func (t *ptbTokenizer) emitWord(w string) {
	if w == "" {
		return
	}
	if strings.Trim(w, "-") == "" {
		t.emit(dashToken(len(w)))
		return
	}
	if parts, ok := ptbWholeWords[w]; ok {
		for _, p := range parts {
			t.emit(p)
		}
		return
	}
	for _, c := range ptbClitics {
		if len(w) > len(c) && strings.HasSuffix(w, c) {
			t.emit(w[:len(w)-len(c)])
			t.emit(c)
			return
		}
	}
	t.emit(w)
}

func isClitic(w string) bool {
	for _, c := range ptbClitics {
		if w == c {
			return true
		}
	}
	return false
}

// isAbbreviation reports whether w, which ends in '.', keeps its period.
func isAbbreviation(w string) bool {
	body := w[:len(w)-1]
	if ptbAbbreviations[body] {
		return true
	}
	// u.s. / a.m.: single letters separated by periods.
	if !strings.Contains(body, ".") {
		return false
	}
	for _, seg := range strings.Split(body, ".") {
		r := []rune(seg)
		if len(r) != 1 || !unicode.IsLetter(r[0]) {
			return false
		}
	}
	return true
}

func hyphenRun(w string, i int) int {
	k := 0
	for i+k < len(w) && w[i+k] == '-' {
		k++
	}
	return k
}

// dashToken is PTB's token for a run of k hyphens: "-" or "--".
func dashToken(k int) string {
	if k == 1 {
		return "-"
	}
	return "--"
}

func isASCIIDigit(b byte) bool { return b >= '0' && b <= '9' }
