package chain

import (
	"fmt"
	"unicode/utf8"

	"github.com/walrus-go/walrus/internal/bcs"
)

// bcsValue is implemented by every type the state machine stores or sends.
type bcsValue interface {
	encode(e *bcs.Encoder)
}

// encodeBCS returns the BCS encoding of v in a new slice.
func encodeBCS(v bcsValue) []byte {
	e := bcs.NewEncoder(nil)
	v.encode(e)
	return e.Out()
}

// decodeBCS decodes a complete BCS value into a new T, requiring canonical input with nothing
// left over. Errors wrap ErrMalformed.
func decodeBCS[T any, PT interface {
	*T
	decode(d *bcs.Decoder)
}](b []byte) (T, error) {
	var v T
	d := bcs.NewDecoder(b)
	PT(&v).decode(d)
	if err := d.Finish(); err != nil {
		var zero T
		return zero, fmt.Errorf("%w: %T: %w", ErrMalformed, v, err)
	}
	return v, nil
}

// Limits on variable-length fields. Decoding rejects longer values, so the encoded size of
// every stored record is bounded.
const (
	MaxChainIDLen        = 64
	MaxNameLen           = 128
	MaxNetworkAddressLen = 259 // host:port, as Walrus
	MaxAttributeKeyLen   = 256
	MaxAttributeValueLen = 4096
	MaxAttributes        = 64
	MaxBitmapLen         = (1<<16 - 1 + 7) / 8
	MaxMessageLen        = 256
	MaxMemoLen           = 128
	MaxTxSize            = 64 << 10
	maxListLen           = 1 << 16
)

// str reads a UTF-8 string of at most max bytes.
func str(d *bcs.Decoder, max int) string {
	b := d.Bytes(max)
	if d.Err() == nil && !utf8.Valid(b) {
		d.Fail(fmt.Errorf("%w: string is not valid UTF-8", bcs.ErrInvalidVariant))
	}
	return string(b)
}

func fixed32(d *bcs.Decoder) (out [32]byte) {
	copy(out[:], d.Fixed(32))
	return out
}

func fixed48(d *bcs.Decoder) (out [48]byte) {
	copy(out[:], d.Fixed(48))
	return out
}

func fixed96(d *bcs.Decoder) (out [96]byte) {
	copy(out[:], d.Fixed(96))
	return out
}

// bytesCopy reads a byte vector and copies it, so that the result does not alias the input.
func bytesCopy(d *bcs.Decoder, max int) []byte {
	b := d.Bytes(max)
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// optU32 encodes an Option<u32> held as (present, value).
func encOptU32(e *bcs.Encoder, present bool, v uint32) {
	e.Option(present)
	if present {
		e.U32(v)
	}
}

func decOptU32(d *bcs.Decoder) (bool, uint32) {
	if d.Option() {
		return true, d.U32()
	}
	return false, 0
}

// encodeOptionalID writes a BCS Option of a 32-byte identifier: present only when has.
func encodeOptionalID(e *bcs.Encoder, has bool, id [32]byte) {
	e.Option(has)
	if has {
		e.Fixed(id[:])
	}
}

// decodeOptionalID reads what encodeOptionalID writes; an absent identifier is all zeros.
func decodeOptionalID(d *bcs.Decoder) (has bool, id [32]byte) {
	if has = d.Option(); has {
		id = fixed32(d)
	}
	return has, id
}
