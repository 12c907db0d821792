// Package tokenizer turns captions into BERT WordPiece ids and back, with the
// behaviour of transformers 4.36's slow BertTokenizer (the tokenizer GIT's
// processor uses). Token lists, ids and decoded strings match HF exactly on
// the golden cases in testdata/cases.json.
//
// # Pipeline
//
//	text
//	 │ do_lower_case: lower-case every character outside literal special
//	 │                tokens (PreTrainedTokenizer.tokenize)
//	 │ cut at literal "[CLS]" "[SEP]" "[PAD]" "[MASK]" "[UNK]" ──► kept whole
//	 ▼
//	chunk ── basic.go (BasicTokenizer) ────────────────────────────────────
//	 │ clean: drop NUL, U+FFFD, category C* (\t \n \r become spaces),
//	 │        Zs → ' ';  CJK ideographs → " 字 "
//	 │ NFC;  split on whitespace
//	 │ per word: lower-case; strip accents (NFD, drop Mn); split off
//	 │           punctuation (ASCII !-/ :-@ [-` {-~ and Unicode P*)
//	 ▼
//	word ── wordpiece.go: greedy longest match, "##" continuations,
//	        > 100 characters or no cover → [UNK]
//
// Encode adds [CLS] … [SEP]; EncodeBatch truncates and right-pads; Decode
// joins tokens with spaces, removes " ##", trims, and optionally applies
// HF's clean_up_tokenization.
//
// Invalid UTF-8 reads as U+FFFD, which cleaning deletes (Python strings
// cannot hold invalid UTF-8, so HF has no behaviour to copy there). No input
// string makes the tokenizer panic.
//
// # Use of github.com/nlpodyssey/gotokenizers v0.2.0
//
// WordPiece uses gotokenizers' models/wordpiecemodel and vocabulary. The
// rest is written here, because of these gaps against HF (checked against
// the v0.2.0 sources):
//
//  1. wordpiecemodel shortens a candidate by len(string(lastByte)), which is
//     wrong after a 3-byte UTF-8 character: "タワー" gave [UNK] instead of
//     タ ##ワ ##ー, and "a中" lost the "a". Fixed in wordpiece.go by moving
//     U+0800..U+FFFF to 4-byte private-use runes before calling the model and
//     back afterwards; the greedy search itself is unchanged.
//  2. vocabulary.AddTerm numbers terms by insertion and skips repeats, so a
//     vocab.txt with a repeated line would shift every later id. Ids are kept
//     in our own map (last line wins, as HF's load_vocab); gotokenizers only
//     answers "is this piece in the vocabulary".
//  3. pretokenizers/bertpretokenizer does not build in this module: it
//     imports splitpattern, which needs github.com/dlclark/regexp2, absent
//     from go.sum. It would also be wrong: its punctuation is Unicode P only
//     (HF also splits ASCII $ + < = > ^ ` | ~), and it splits on White_Space
//     rather than Python's str.split.
//  4. normalizers/bertnormalizer: no NFD before dropping Mn (a TODO), so
//     "é" and "Å" keep their accents and Hangul is not split into jamo; no
//     NFC step (HF 4.36 applies NFC after CJK spacing); accents are stripped
//     before lower-casing (HF lower-cases first); it keeps unassigned (Cn)
//     code points that HF deletes as control characters; its CJK table
//     misses U+2B820..U+2B91F; Go's ToLower maps İ to "i" where Python gives
//     "i̇". It also sees the whole string, so literal special tokens would be
//     lower-cased. basic.go implements HF's BasicTokenizer directly.
//  5. Not in gotokenizers at all: literal special-token matching (and HF's
//     per-character lower-casing around it), never_split, [CLS]/[SEP]
//     wrapping, truncation, padding, decoding with skip_special_tokens and
//     clean_up_tokenization, and reading vocab.txt, tokenizer_config.json
//     and tokenizer.json.
//
// NFC and NFD come from golang.org/x/text/unicode/norm (Unicode 15.0.0
// tables); character categories from Go's unicode package.
package tokenizer
