// Package safetensors reads and writes Hugging Face safetensors files
// (formats.md §1) in pure Go: a validating, memory-mapping reader, a writer
// whose output is byte-identical to the reference Rust/Python writer, and a
// loader for sharded checkpoints (model.safetensors.index.json).
//
// # Layout
//
//	offset 0        8                   8+N                              end of file
//	       +--------+-------------------+----------------------------------+
//	       |   N    |  header (N bytes) |  data buffer                     |
//	       | u64 LE |  JSON + ' ' pad   |  tensor bytes, back to back      |
//	       +--------+-------------------+----------------------------------+
//	                                    ^ data_offsets are relative to here
//
//	header: {"__metadata__":{"format":"pt"},
//	         "name":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}, ...}
//
// Tensor data is little-endian, row-major. Shape [] is a scalar (1 element);
// a 0 dimension gives an empty tensor that still has an entry.
//
// # Validation (Parse, Open)
//
// A file is rejected, with a *FormatError naming the file and, where one is
// involved, the tensor, when:
//
//   - it is shorter than 8 bytes;
//   - N > 100,000,000 (MaxHeaderSize) or 8+N exceeds the file size;
//   - the header is empty, not valid UTF-8, does not start with '{', is not
//     valid JSON, or is followed (inside its N bytes) by anything but JSON
//     whitespace (the writer pads with spaces; serde_json also skips tab, CR
//     and LF, so those are accepted too);
//   - a key appears twice (at the top level, in __metadata__ or inside an
//     entry), which encoding/json would silently accept;
//   - __metadata__ is not a flat object of string to string;
//   - an entry is not an object with exactly the fields dtype, shape and
//     data_offsets; the dtype string is unknown; shape is not an array of
//     non-negative integers fitting int64; data_offsets is not two such
//     integers, or begin > end;
//   - the element count or bit size overflows int64 (folded left to right
//     with checked multiplication, as Rust does);
//   - end-begin differs from elements × bits / 8, or the bits of a sub-byte
//     dtype (F4, F6_*) do not end on a byte boundary;
//   - sorted by (begin, end), the entries do not start at 0 and follow each
//     other exactly (overlap or gap);
//   - the last end is not the data buffer's length (truncated file, or
//     trailing bytes).
//
// Parse never panics, whatever the input (FuzzParse checks this).
// Known leniency: a \uD800-style escaped lone surrogate in a JSON string is
// decoded as U+FFFD (encoding/json) where serde_json would reject it.
//
// # Reading
//
// Open maps the file read-only (syscall.Mmap on Linux and macOS, os.ReadFile
// elsewhere or as a fallback). Bytes returns a zero-copy slice of the
// mapping; Float32s returns a zero-copy view of F32 data when it is 4-byte
// aligned on a little-endian host, and widens F16/BF16 into a new slice.
// Slices that alias the mapping are read-only and die with Close.
//
// RowReader reads chosen rows of a 2-D float tensor (an embedding table)
// with pread on the descriptor behind the mapping, so that a lookup of a
// few rows does not make the kernel map whole folios of the table into the
// resident set (see rows.go for the measurement).
//
// # Writing
//
// Write reproduces the reference writer's layout (safetensors prepare() in
// tensor.rs): tensors sorted by dtype descending in the Rust enum order
//
//	BOOL F4 F6_E2M3 F6_E3M2 U8 I8 F8_E5M2 F8_E4M3 F8_E8M0 F8_E4M3FNUZ
//	F8_E5M2FNUZ I16 U16 F16 BF16 I32 U32 F32 C64 F64 I64 U64
//
// (so U64 first, BOOL last), ties by name in ascending byte order; offsets
// back to back; a compact header with __metadata__ first and the fields of
// each tensor in the order dtype, shape, data_offsets; strings escaped like
// serde_json (no HTML escaping, \u00xx in lower case for other control
// characters, non-ASCII written raw); spaces to a multiple of 8.
//
// Metadata key order: Rust keeps metadata in a HashMap, so its order is
// unspecified and only single-key metadata ({"format":"pt"}, all the golden
// files) has one canonical form. This package writes keys in ascending byte
// order, which is deterministic and byte-identical for every file with at
// most one metadata key. A nil map writes no __metadata__; an empty non-nil
// map writes "__metadata__":{}.
//
// WriteFile writes atomically (temporary file in the same folder, fsync,
// rename).
//
// # Sharded checkpoints
//
// OpenModel(dir) opens dir/model.safetensors, or else every distinct shard
// listed in dir/model.safetensors.index.json, and checks that each
// weight_map entry exists in its shard.
package safetensors
