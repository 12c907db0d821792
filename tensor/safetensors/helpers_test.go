package safetensors

import (
	"encoding/binary"
	"strings"
)

// craft builds a file from a header string (length prefix computed) and data.
func craft(header string, data []byte) []byte {
	b := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// withN builds a file whose length prefix is n, followed by rest.
func withN(n uint64, rest string) []byte {
	b := make([]byte, 8, 8+len(rest))
	binary.LittleEndian.PutUint64(b, n)
	return append(b, rest...)
}

func zeros(n int) []byte { return make([]byte, n) }

// entry formats one header entry.
func entry(name, dtype, shape, offsets string) string {
	return `"` + name + `":{"dtype":"` + dtype + `","shape":` + shape + `,"data_offsets":` + offsets + `}`
}

// hdr joins entries into a header object.
func hdr(entries ...string) string { return "{" + strings.Join(entries, ",") + "}" }

// invalidCase is a malformed file and the substrings its error must contain.
type invalidCase struct {
	name string
	data []byte
	want []string
}

// invalidCases lists one crafted file per validation rule. They double as
// the checked-in FuzzParse seed corpus (TestWriteFuzzCorpus).
func invalidCases() []invalidCase {
	a4 := entry("a", "F32", "[1]", "[0,4]")
	return []invalidCase{
		// Length prefix and framing.
		{"empty-file", nil, []string{"0 bytes", "shorter than the 8-byte"}},
		{"short-file", []byte{1, 0, 0}, []string{"3 bytes", "shorter than the 8-byte"}},
		{"header-too-large", withN(100_000_001, "{}"), []string{"N = 100000001", "exceeds the limit of 100000000"}},
		{"header-len-max-uint64", withN(1<<64-1, "{}"), []string{"exceeds the limit"}},
		{"header-len-past-eof", withN(64, hdr(a4)), []string{"N = 64", "runs past the end of the file"}},
		{"header-len-short-cuts-json", withN(10, hdr(a4)+"\x00\x00\x80\x3f"), []string{"header JSON ends early"}},
		{"header-len-zero", withN(0, "{}"), []string{"header is empty"}},
		{"truncated-data", craft(hdr(entry("w", "F32", "[4]", "[0,16]")), zeros(10)), []string{`tensor "w"`, "past the end of the 10-byte data buffer"}},
		// Header text.
		{"not-utf8", craft(hdr(entry("a\xff", "F32", "[1]", "[0,4]")), zeros(4)), []string{"not valid UTF-8", "0xff"}},
		{"not-brace", craft(`["a"]`, nil), []string{"does not start with '{'"}},
		{"leading-space", craft(` {}`, nil), []string{"does not start with '{'"}},
		{"invalid-json", craft(`{"a":}`, nil), []string{"not valid JSON"}},
		{"json-missing-colon", craft(`{"a" {}}`, nil), []string{"not valid JSON"}},
		{"json-ends-early", craft(`{"a":{"dtype":"F32"`, nil), []string{"ends early"}},
		{"trailing-garbage", craft(`{}x      `, nil), []string{`unexpected 'x'`, "after the JSON object"}},
		{"trailing-object", craft(`{}{}`, nil), []string{`unexpected '{'`, "after the JSON object"}},
		{"trailing-nul", craft("{}\x00", nil), []string{`unexpected '\x00'`}},
		// Entries.
		{"entry-not-object", craft(`{"a":[1,2]}`, nil), []string{`tensor "a"`, "must be an object", "an array"}},
		{"entry-null", craft(`{"a":null}`, nil), []string{`tensor "a"`, "must be an object", "null"}},
		{"entry-string", craft(`{"a":"F32"}`, nil), []string{`tensor "a"`, "must be an object"}},
		{"metadata-nested", craft(`{"__metadata__":{"format":{"x":"pt"}}}`, nil), []string{`__metadata__["format"] must be a string`, "an object"}},
		{"metadata-number", craft(`{"__metadata__":{"n":1}}`, nil), []string{`__metadata__["n"] must be a string`, "number 1"}},
		{"metadata-array", craft(`{"__metadata__":["pt"]}`, nil), []string{"__metadata__ must be an object of strings"}},
		{"metadata-string", craft(`{"__metadata__":"pt"}`, nil), []string{"__metadata__ must be an object of strings"}},
		{"duplicate-tensor", craft(hdr(a4, a4), zeros(8)), []string{`tensor "a"`, "duplicate key"}},
		{"duplicate-metadata", craft(`{"__metadata__":{},"__metadata__":{}}`, nil), []string{`duplicate key "__metadata__"`}},
		{"duplicate-metadata-key", craft(`{"__metadata__":{"format":"pt","format":"np"}}`, nil), []string{`duplicate key "format" in __metadata__`}},
		{"duplicate-field", craft(`{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}`, zeros(4)), []string{`tensor "a"`, `duplicate field "dtype"`}},
		{"unknown-dtype", craft(hdr(entry("a", "F33", "[1]", "[0,4]")), zeros(4)), []string{`tensor "a"`, `unknown dtype "F33"`}},
		{"lowercase-dtype", craft(hdr(entry("a", "f32", "[1]", "[0,4]")), zeros(4)), []string{`tensor "a"`, `unknown dtype "f32"`}},
		{"dtype-number", craft(`{"a":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}`, zeros(4)), []string{`tensor "a"`, "dtype must be a string"}},
		{"unknown-field", craft(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"stride":[1]}}`, zeros(4)), []string{`tensor "a"`, `unknown field "stride"`}},
		{"missing-field", craft(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, zeros(4)), []string{`tensor "a"`, "missing field(s) shape"}},
		// Shapes.
		{"negative-dim", craft(hdr(entry("a", "F32", "[2,-1]", "[0,4]")), zeros(4)), []string{`tensor "a"`, "negative dimension -1 at index 1"}},
		{"float-dim", craft(hdr(entry("a", "F32", "[1.0]", "[0,4]")), zeros(4)), []string{`tensor "a"`, "shape element 1.0 is not an integer"}},
		{"exp-dim", craft(hdr(entry("a", "F32", "[1e0]", "[0,4]")), zeros(4)), []string{`tensor "a"`, "not an integer"}},
		{"string-dim", craft(hdr(entry("a", "F32", `["1"]`, "[0,4]")), zeros(4)), []string{`tensor "a"`, "shape must contain only integers"}},
		{"shape-not-array", craft(hdr(entry("a", "F32", `1`, "[0,4]")), zeros(4)), []string{`tensor "a"`, "shape must be an array"}},
		{"dim-too-large", craft(hdr(entry("a", "U8", "[9223372036854775808]", "[0,4]")), zeros(4)), []string{`tensor "a"`, "9223372036854775808 does not fit in int64"}},
		{"absurd-shape", craft(hdr(entry("a", "U8", "[1000000,1000000,1000000]", "[0,4]")), zeros(4)), []string{`tensor "a"`, "needs 1000000000000000000 bytes"}},
		{"numel-overflow", craft(hdr(entry("a", "F32", "[4294967296,4294967296]", "[0,4]")), zeros(4)), []string{`tensor "a"`, "element count overflows int64"}},
		{"numel-overflow-then-zero", craft(hdr(entry("a", "F32", "[4294967296,4294967296,0]", "[0,0]")), nil), []string{`tensor "a"`, "element count overflows int64"}},
		{"bits-overflow", craft(hdr(entry("a", "F32", "[2305843009213693952]", "[0,4]")), zeros(4)), []string{`tensor "a"`, "size in bits overflows int64"}},
		{"subbyte-misaligned", craft(hdr(entry("a", "F4", "[3]", "[0,2]")), zeros(2)), []string{`tensor "a"`, "3 elements of 4 bits do not end on a byte boundary"}},
		{"f6-misaligned", craft(hdr(entry("a", "F6_E2M3", "[2]", "[0,2]")), zeros(2)), []string{`tensor "a"`, "byte boundary"}},
		// Offsets.
		{"offsets-one", craft(hdr(entry("a", "F32", "[1]", "[4]")), zeros(4)), []string{`tensor "a"`, "data_offsets must have exactly 2 integers, found 1"}},
		{"offsets-three", craft(hdr(entry("a", "F32", "[1]", "[0,4,8]")), zeros(4)), []string{`tensor "a"`, "exactly 2 integers, found 3"}},
		{"offsets-negative", craft(hdr(entry("a", "F32", "[1]", "[-4,0]")), zeros(4)), []string{`tensor "a"`, "data_offsets element -4 is negative"}},
		{"offsets-reversed", craft(hdr(entry("a", "F32", "[1]", "[4,0]")), zeros(4)), []string{`tensor "a"`, "data_offsets [4, 0]: begin is after end"}},
		{"offsets-object", craft(hdr(entry("a", "F32", "[1]", `{"b":0}`)), zeros(4)), []string{`tensor "a"`, "data_offsets must be an array"}},
		{"size-mismatch", craft(hdr(entry("git.embeddings.word_embeddings.weight", "F32", "[2,3]", "[0,12]")), zeros(12)), []string{`tensor "git.embeddings.word_embeddings.weight": data_offsets [0, 12] but F32 [2,3] needs 24 bytes`}},
		{"first-not-zero", craft(hdr(entry("a", "F32", "[1]", "[4,8]")), zeros(8)), []string{`tensor "a"`, "first tensor in the data buffer must begin at 0"}},
		{"overlap", craft(hdr(entry("a", "F32", "[2]", "[0,8]"), entry("b", "F32", "[2]", "[4,12]")), zeros(12)), []string{`tensor "b"`, `overlap tensor "a", which ends at 8`}},
		{"same-offsets", craft(hdr(entry("a", "F32", "[1]", "[0,4]"), entry("b", "F32", "[1]", "[0,4]")), zeros(4)), []string{"overlap tensor"}},
		{"gap", craft(hdr(entry("a", "F32", "[1]", "[0,4]"), entry("b", "F32", "[1]", "[8,12]")), zeros(12)), []string{`tensor "b"`, `gap of 4 bytes after tensor "a"`}},
		{"trailing-bytes", craft(hdr(a4), zeros(12)), []string{"tensors cover 4 bytes", "has 12: 8 trailing bytes"}},
		{"no-tensors-trailing-bytes", craft(`{}      `, zeros(3)), []string{"3 trailing bytes"}},
	}
}
