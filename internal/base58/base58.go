// Package base58 is the Base58 text encoding with the Bitcoin alphabet, the form Sui and
// Walrus give transaction digests in ("EmcFpdozbobqH61w76T4UehhC4UGaAv32uZpv6c4CNyg").
//
// Every leading zero byte becomes a leading '1' and back, so an encoding is unique: Decode
// accepts exactly the strings Encode produces (no whitespace, no other alphabet). The
// functions are pure and safe for concurrent use. Their cost is quadratic in the length,
// so callers bound their input (digests are 32 bytes).
package base58

import (
	"errors"
	"fmt"
)

// alphabet is Bitcoin's: the digits and letters without 0, O, I and l.
const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// ErrInvalid is returned (wrapped) for a string that is not Base58.
var ErrInvalid = errors.New("base58: invalid encoding")

// index maps a character to its digit value, or -1.
var index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = int8(i)
	}
	return t
}()

// Encode returns the Base58 encoding of b.
func Encode(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	// log(256)/log(58) < 1.37: the digits of the rest fit in this many places.
	digits := make([]byte, 0, (len(b)-zeros)*138/100+1)
	for _, c := range b[zeros:] {
		carry := int(c)
		for i := range digits {
			carry += int(digits[i]) << 8
			digits[i] = byte(carry % 58)
			carry /= 58
		}
		for carry > 0 {
			digits = append(digits, byte(carry%58))
			carry /= 58
		}
	}
	out := make([]byte, zeros+len(digits))
	for i := 0; i < zeros; i++ {
		out[i] = '1'
	}
	for i, d := range digits {
		out[len(out)-1-i] = alphabet[d]
	}
	return string(out)
}

// Decode returns the bytes s encodes. Errors wrap ErrInvalid.
func Decode(s string) ([]byte, error) {
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	// log(58)/log(256) < 0.74: the bytes of the rest fit in this many places.
	bytes := make([]byte, 0, (len(s)-zeros)*74/100+1)
	for i := zeros; i < len(s); i++ {
		v := index[s[i]]
		if v < 0 {
			return nil, fmt.Errorf("%w: character %q at offset %d", ErrInvalid, s[i], i)
		}
		carry := int(v)
		for j := range bytes {
			carry += int(bytes[j]) * 58
			bytes[j] = byte(carry)
			carry >>= 8
		}
		for carry > 0 {
			bytes = append(bytes, byte(carry))
			carry >>= 8
		}
	}
	out := make([]byte, zeros+len(bytes))
	for i, c := range bytes {
		out[len(out)-1-i] = c
	}
	return out, nil
}

// Decode32 decodes a Base58 string of exactly 32 bytes, such as a transaction digest.
// Errors wrap ErrInvalid.
func Decode32(s string) ([32]byte, error) {
	var d [32]byte
	// 32 bytes take at most 44 characters; refuse longer input before the quadratic work.
	if len(s) > 44 {
		return d, fmt.Errorf("%w: %d characters, a 32-byte value has at most 44", ErrInvalid, len(s))
	}
	b, err := Decode(s)
	if err != nil {
		return d, err
	}
	if len(b) != 32 {
		return d, fmt.Errorf("%w: %d bytes, want 32", ErrInvalid, len(b))
	}
	copy(d[:], b)
	return d, nil
}
