package base58

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// vectors are known encodings: Bitcoin's test vectors (base58_encode_decode.json) and a
// Sui transaction digest from Walrus's API documentation.
var vectors = []struct{ hex, b58 string }{
	{"", ""},
	{"61", "2g"},
	{"626262", "a3gV"},
	{"636363", "aPEr"},
	{"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
	{"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
	{"516b6fcd0f", "ABnLTmg"},
	{"bf4f89001e670274dd", "3SEo3LWLoPntC"},
	{"572e4794", "3EFU7m"},
	{"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
	{"10c8511e", "Rt5zm"},
	{"00000000000000000000", "1111111111"},
	{"0000000000000000000000000000000000000000000000000000000000000000", "11111111111111111111111111111111"},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		b, _ := hex.DecodeString(v.hex)
		if got := Encode(b); got != v.b58 {
			t.Errorf("Encode(%s) = %q, want %q", v.hex, got, v.b58)
		}
		got, err := Decode(v.b58)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("Decode(%q) = %x, %v, want %s", v.b58, got, err, v.hex)
		}
	}
}

func TestDecode32(t *testing.T) {
	// The example transaction digest of Walrus's upload relay API.
	const digest = "EmcFpdozbobqH61w76T4UehhC4UGaAv32uZpv6c4CNyg"
	d, err := Decode32(digest)
	if err != nil {
		t.Fatal(err)
	}
	if Encode(d[:]) != digest {
		t.Fatalf("round trip of %s gave %s", digest, Encode(d[:]))
	}
	for _, bad := range []string{"", "0OIl", "2g", digest + "1", digest + "111111111111", "EmcFpdozbobqH61w76T4UehhC4UGaAv32uZpv6c4CNy!"} {
		if _, err := Decode32(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Decode32(%q): %v, want ErrInvalid", bad, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.b58)
	}
	f.Add("0")
	f.Add("1l")
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 512 {
			return
		}
		b, err := Decode(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode(%q): error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		// Decode accepts only canonical encodings.
		if got := Encode(b); got != s {
			t.Fatalf("Decode(%q) = %x, which encodes to %q", s, b, got)
		}
	})
}

func FuzzEncode(f *testing.F) {
	for _, v := range vectors {
		b, _ := hex.DecodeString(v.hex)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 256 {
			return
		}
		got, err := Decode(Encode(b))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("round trip of %x gave %x, %v", b, got, err)
		}
	})
}
