package bcs

import (
	"encoding/binary"
	"fmt"
)

// MaxSequenceLen is the largest length of a variable-length sequence that BCS
// allows (2^31-1, as in the Rust bcs crate). Longer lengths are rejected by
// [Decoder.Len] and [Decoder.Bytes] with [ErrTooLong].
const MaxSequenceLen = 1<<31 - 1

// maxULEB128Len is the number of bytes of the longest ULEB128 encoding of a
// u32.
const maxULEB128Len = 5

// An Encoder appends BCS encodings to a byte slice. The zero Encoder is ready
// to use and starts with an empty buffer.
//
// Writes cannot fail. Len and Bytes panic if given a length that is negative
// or larger than [MaxSequenceLen], which is a caller bug, not a property of
// the input.
//
// An Encoder is not safe for concurrent use.
type Encoder struct {
	buf []byte
}

// NewEncoder returns an Encoder that appends to buf. Passing buf[:0] reuses
// the capacity of an existing buffer.
func NewEncoder(buf []byte) *Encoder {
	return &Encoder{buf: buf}
}

// Out returns the bytes encoded so far. The slice aliases the Encoder's
// buffer: it stays valid until the next write or Reset, which may overwrite
// or reallocate it. Copy it to keep it longer.
func (e *Encoder) Out() []byte { return e.buf }

// Reset empties the Encoder, keeping its buffer's capacity for reuse. Slices
// returned earlier by Out may be overwritten by later writes.
func (e *Encoder) Reset() { e.buf = e.buf[:0] }

// U8 appends v.
func (e *Encoder) U8(v uint8) { e.buf = append(e.buf, v) }

// U16 appends v as 2 little-endian bytes.
func (e *Encoder) U16(v uint16) { e.buf = binary.LittleEndian.AppendUint16(e.buf, v) }

// U32 appends v as 4 little-endian bytes.
func (e *Encoder) U32(v uint32) { e.buf = binary.LittleEndian.AppendUint32(e.buf, v) }

// U64 appends v as 8 little-endian bytes.
func (e *Encoder) U64(v uint64) { e.buf = binary.LittleEndian.AppendUint64(e.buf, v) }

// Bool appends v as 0x01 (true) or 0x00 (false).
func (e *Encoder) Bool(v bool) {
	if v {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// ULEB128 appends the minimal ULEB128 encoding of v (1 to 5 bytes).
func (e *Encoder) ULEB128(v uint32) {
	for v >= 0x80 {
		e.buf = append(e.buf, byte(v)|0x80)
		v >>= 7
	}
	e.buf = append(e.buf, byte(v))
}

// ULEB128Len returns the number of bytes ULEB128 writes for v, which is also what Len
// writes for a vector of v elements: one byte per started group of 7 bits, at least one.
// v must not be negative.
func ULEB128Len(v int) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// Len appends the length prefix of a vector of n elements. The caller then
// appends the n elements. It panics if n is negative or larger than
// [MaxSequenceLen].
func (e *Encoder) Len(n int) {
	if n < 0 || n > MaxSequenceLen {
		panic(fmt.Sprintf("bcs: sequence length %d out of range [0, %d]", n, MaxSequenceLen))
	}
	e.ULEB128(uint32(n))
}

// Bytes appends b as a byte vector: its length as ULEB128, then its bytes.
// It panics if len(b) is larger than [MaxSequenceLen].
func (e *Encoder) Bytes(b []byte) {
	e.Len(len(b))
	e.buf = append(e.buf, b...)
}

// Fixed appends b as a fixed-size byte array: its bytes, with no length.
func (e *Encoder) Fixed(b []byte) { e.buf = append(e.buf, b...) }

// Variant appends an enum variant index. The caller then appends the
// variant's payload, if any.
func (e *Encoder) Variant(index uint32) { e.ULEB128(index) }

// Option appends the tag of an Option: 0x01 if a value is present (the caller
// then appends it), 0x00 if not.
func (e *Encoder) Option(present bool) { e.Bool(present) }
