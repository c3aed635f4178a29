// Package bcs implements Binary Canonical Serialization (BCS), the wire
// format of Sui, Move and Walrus, as primitive operations that callers compose
// into encoders and decoders for their own types.
//
// The format, as implemented by the Rust bcs crate that Walrus uses:
//
//   - u8, u16, u32 and u64 are fixed-size little-endian integers;
//   - bool is one byte, 0x00 or 0x01; any other byte is rejected;
//   - lengths of variable-length sequences and enum variant indices are
//     ULEB128-encoded u32 values; the decoder accepts only the minimal
//     encoding of values up to 2^32-1, and lengths up to [MaxSequenceLen];
//   - a vector or byte string is its ULEB128 length followed by its elements;
//     a fixed-size array is its elements only;
//   - an enum is its ULEB128 variant index followed by the variant's payload;
//   - Option is 0x00 (None) or 0x01 followed by the value (Some);
//   - structs and tuples are their fields in order, with no framing.
//
// Because every value has exactly one encoding, decoding then re-encoding
// canonical input reproduces it byte for byte, and [Decoder.Finish] rejects
// input with bytes left over.
//
// An [Encoder] appends to a byte slice and cannot fail; it panics only when
// asked to encode a length that BCS cannot represent. A [Decoder] reads from a
// byte slice and records the first error it meets: after an error every read
// returns a zero value and consumes nothing, so a caller can decode a whole
// structure and check [Decoder.Err] or [Decoder.Finish] once at the end.
// Errors wrap one of the sentinel errors below and can be tested with
// [errors.Is].
//
// The package does no I/O and holds no global state. Encoders and Decoders are
// not safe for concurrent use.
package bcs
