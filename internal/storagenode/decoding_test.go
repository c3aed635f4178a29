package storagenode_test

import (
	"bytes"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// FuzzDecodeDecodingSymbols feeds the decoder of decoding symbol answers arbitrary bytes:
// it must not panic, and what it accepts must encode back to the same bytes.
func FuzzDecodeDecodingSymbols(f *testing.F) {
	f.Add(sn.EncodeDecodingSymbols(map[int][]sn.DecodingSymbol{
		0: {{Axis: redstuff.Primary, Index: 3, Data: []byte{1, 2}}, {Axis: redstuff.Primary, Index: 4, Data: []byte{3, 4}}},
		2: {{Axis: redstuff.Primary, Index: 3, Data: []byte{5, 6}}},
	}))
	f.Add([]byte{0})
	f.Add([]byte{1, 0, 0, 1, 1, 0, 0, 1, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := sn.DecodeDecodingSymbols(b, redstuff.Primary, 10)
		if err != nil {
			return
		}
		if got := sn.EncodeDecodingSymbols(m); !bytes.Equal(got, b) {
			t.Fatalf("decoded %x and encoded back %x", b, got)
		}
	})
}
