package bcs

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Sentinel errors. Every error a Decoder returns wraps exactly one of them
// and adds the offset of the offending value.
var (
	// ErrTruncated means the input ended inside a value, or a length
	// prefix promised more elements or bytes than remain.
	ErrTruncated = errors.New("bcs: truncated input")
	// ErrNonCanonical means a ULEB128 value was not minimally encoded or
	// does not fit in a u32.
	ErrNonCanonical = errors.New("bcs: non-canonical uleb128")
	// ErrTooLong means a length prefix exceeds the caller's limit or
	// [MaxSequenceLen].
	ErrTooLong = errors.New("bcs: length too large")
	// ErrTrailingBytes means input remained after the value was decoded.
	ErrTrailingBytes = errors.New("bcs: trailing bytes")
	// ErrInvalidBool means a bool byte was neither 0x00 nor 0x01.
	ErrInvalidBool = errors.New("bcs: invalid bool")
	// ErrInvalidVariant means an enum variant index or Option tag is not
	// one the type defines. Callers decoding their own enums wrap it too.
	ErrInvalidVariant = errors.New("bcs: invalid enum variant")
)

// A Decoder reads BCS values from a byte slice.
//
// It records the first error it meets. A read that fails consumes nothing
// (so [Decoder.Offset] points at the start of the bad value), and once an
// error is recorded every read returns a zero value (nil for slices) and
// consumes nothing. Callers can therefore decode a whole structure and check
// [Decoder.Err] once, or call [Decoder.Finish] to also require that all input
// was consumed.
//
// Slices returned by [Decoder.Bytes] and [Decoder.Fixed] alias the input;
// callers that keep them while the input may change must copy them.
//
// Methods panic only on caller bugs: a negative size or limit argument.
// A Decoder is not safe for concurrent use.
type Decoder struct {
	buf []byte
	off int
	err error
}

// NewDecoder returns a Decoder that reads b from its start. The Decoder does
// not modify b.
func NewDecoder(b []byte) *Decoder {
	return &Decoder{buf: b}
}

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Offset returns the number of bytes consumed so far.
func (d *Decoder) Offset() int { return d.off }

// Remaining returns the number of bytes not yet consumed.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

// Finish returns the first error met; if there was none and input remains,
// it records and returns an error wrapping [ErrTrailingBytes]. Canonical
// input must be consumed exactly, so callers decoding a complete message
// call Finish instead of Err at the end.
func (d *Decoder) Finish() error {
	if d.err == nil && d.off != len(d.buf) {
		d.err = fmt.Errorf("%w: %d bytes after offset %d", ErrTrailingBytes, len(d.buf)-d.off, d.off)
	}
	return d.err
}

// Fail records err as the Decoder's error unless one is already recorded
// or err is nil. Callers use it to report a value that is well-formed BCS
// but invalid for their type (an unknown enum variant, say), so that later
// reads stop and Err reports it.
func (d *Decoder) Fail(err error) {
	if d.err == nil && err != nil {
		d.err = err
	}
}

// take consumes n bytes and returns them, capacity-limited so that appending
// to the result cannot overwrite the input. It returns nil on error.
func (d *Decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.buf)-d.off {
		d.err = fmt.Errorf("%w: %s at offset %d needs %d bytes, %d remain",
			ErrTruncated, what, d.off, n, len(d.buf)-d.off)
		return nil
	}
	b := d.buf[d.off : d.off+n : d.off+n]
	d.off += n
	return b
}

// U8 reads one byte.
func (d *Decoder) U8() uint8 {
	b := d.take(1, "u8")
	if b == nil {
		return 0
	}
	return b[0]
}

// U16 reads a 2-byte little-endian integer.
func (d *Decoder) U16() uint16 {
	b := d.take(2, "u16")
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(b)
}

// U32 reads a 4-byte little-endian integer.
func (d *Decoder) U32() uint32 {
	b := d.take(4, "u32")
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

// U64 reads an 8-byte little-endian integer.
func (d *Decoder) U64() uint64 {
	b := d.take(8, "u64")
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// Bool reads a bool. Bytes other than 0x00 and 0x01 are rejected with
// [ErrInvalidBool].
func (d *Decoder) Bool() bool {
	if d.err != nil {
		return false
	}
	if d.off >= len(d.buf) {
		d.take(1, "bool") // records ErrTruncated
		return false
	}
	switch b := d.buf[d.off]; b {
	case 0, 1:
		d.off++
		return b == 1
	default:
		d.err = fmt.Errorf("%w: byte 0x%02x at offset %d", ErrInvalidBool, b, d.off)
		return false
	}
}

// ULEB128 reads a ULEB128-encoded u32. It rejects with [ErrNonCanonical] an
// encoding that is not minimal (such as 0x80 0x00 for zero) or whose value
// exceeds 2^32-1, and with [ErrTruncated] one cut short by the end of input.
func (d *Decoder) ULEB128() uint32 {
	if d.err != nil {
		return 0
	}
	start := d.off
	var v uint64
	for i := 0; i < maxULEB128Len; i++ {
		if start+i >= len(d.buf) {
			d.err = fmt.Errorf("%w: uleb128 at offset %d ends after %d bytes", ErrTruncated, start, i)
			return 0
		}
		b := d.buf[start+i]
		v |= uint64(b&0x7f) << (7 * i)
		if b&0x80 != 0 {
			continue
		}
		switch {
		case i > 0 && b == 0:
			d.err = fmt.Errorf("%w: uleb128 at offset %d has a redundant final zero byte", ErrNonCanonical, start)
			return 0
		case v > 1<<32-1:
			d.err = fmt.Errorf("%w: uleb128 at offset %d exceeds 2^32-1", ErrNonCanonical, start)
			return 0
		}
		d.off = start + i + 1
		return uint32(v)
	}
	d.err = fmt.Errorf("%w: uleb128 at offset %d is longer than %d bytes", ErrNonCanonical, start, maxULEB128Len)
	return 0
}

// Len reads the length prefix of a vector and returns it. It rejects with
// [ErrTooLong] a length above max or [MaxSequenceLen], and with
// [ErrTruncated] a length above Remaining(), so that callers can allocate the
// result before decoding the elements. The last check assumes every element
// takes at least one byte; for zero-sized elements read the length with
// ULEB128 instead. Len panics if max is negative.
func (d *Decoder) Len(max int) int {
	return d.length(max, "vector")
}

func (d *Decoder) length(max int, what string) int {
	if max < 0 {
		panic("bcs: negative maximum length")
	}
	start := d.off
	v := d.ULEB128()
	if d.err != nil {
		return 0
	}
	if v > MaxSequenceLen || int(v) > max {
		d.off = start
		d.err = fmt.Errorf("%w: %s length %d at offset %d exceeds limit %d",
			ErrTooLong, what, v, start, min(max, MaxSequenceLen))
		return 0
	}
	n := int(v)
	if rest := len(d.buf) - d.off; n > rest {
		d.off = start
		d.err = fmt.Errorf("%w: %s length %d at offset %d exceeds the %d bytes that follow",
			ErrTruncated, what, n, start, rest)
		return 0
	}
	return n
}

// Bytes reads a byte vector (ULEB128 length, then the bytes) of at most max
// bytes. The length is checked against max and the remaining input before
// anything is consumed or allocated. The result aliases the input (its
// capacity is limited, so appending to it copies). Bytes panics if max is
// negative.
func (d *Decoder) Bytes(max int) []byte {
	start := d.off
	n := d.length(max, "byte vector")
	b := d.take(n, "byte vector")
	if d.err != nil {
		d.off = start
		return nil
	}
	return b
}

// Fixed reads a fixed-size array of n bytes (no length prefix). The result
// aliases the input, with limited capacity as for Bytes. Fixed panics if n is
// negative.
func (d *Decoder) Fixed(n int) []byte {
	if n < 0 {
		panic("bcs: negative fixed length")
	}
	return d.take(n, "fixed array")
}

// Variant reads an enum variant index and checks that it is below n, the
// number of variants of the enum; otherwise it records an error wrapping
// [ErrInvalidVariant]. The caller then reads the variant's payload.
func (d *Decoder) Variant(n uint32) uint32 {
	start := d.off
	v := d.ULEB128()
	if d.err != nil {
		return 0
	}
	if v >= n {
		d.off = start
		d.err = fmt.Errorf("%w: index %d at offset %d, want < %d", ErrInvalidVariant, v, start, n)
		return 0
	}
	return v
}

// Option reads the tag of an Option and reports whether a value follows.
// Tags other than 0x00 and 0x01 are rejected with [ErrInvalidVariant].
func (d *Decoder) Option() bool {
	if d.err != nil {
		return false
	}
	if d.off >= len(d.buf) {
		d.take(1, "option tag") // records ErrTruncated
		return false
	}
	switch b := d.buf[d.off]; b {
	case 0, 1:
		d.off++
		return b == 1
	default:
		d.err = fmt.Errorf("%w: option tag 0x%02x at offset %d", ErrInvalidVariant, b, d.off)
		return false
	}
}
