// Package tblog writes TensorBoard event files with scalar summaries, so
// `tensorboard --logdir` and `wandb sync --sync-tensorboard` can read a
// training run (shared/docs/formats.md §6.2). It is a writer only, without a
// protobuf dependency: the three messages it needs are encoded by hand.
//
// A file is a sequence of TFRecords, all integers little-endian:
//
//	uint64 length L | uint32 masked CRC32C(length bytes) | L bytes data | uint32 masked CRC32C(data)
//
// mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8 (mod 2³²), CRC32C being the
// Castagnoli CRC. Each data block is a serialized tensorflow.Event:
//
//	Event         1: wall_time double   2: step int64   3: file_version string   5: summary Summary
//	Summary       1: value repeated Summary.Value
//	Summary.Value 1: tag string         2: simple_value float (in the oneof "value")
//
// The first record is Event{wall_time, file_version: "brain.Event:2"}; every
// Scalar call adds Event{wall_time, step, summary{value{tag, simple_value}}},
// the legacy scalar form that TensorBoard converts on load.
package tblog
