package cli

import (
	"bytes"
	"testing"
)

func TestParseSecret(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []byte
		ok   bool
	}{
		{"0x00ff10", []byte{0, 0xff, 0x10}, true},
		{"plain text secret", []byte("plain text secret"), true},
		{"0xzz", nil, false},
		{"0x123", nil, false},
	} {
		got, err := parseSecret(c.in)
		if (err == nil) != c.ok || !bytes.Equal(got, c.want) {
			t.Errorf("parseSecret(%q) = %x, %v", c.in, got, err)
		}
	}
}
