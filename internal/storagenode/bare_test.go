package storagenode_test

import (
	"bytes"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

func TestBareSymbolsRoundTrip(t *testing.T) {
	ids := []sn.SymbolID{{Primary: 5, Secondary: 1}, {Primary: 5, Secondary: 2}, {Primary: 5, Secondary: 1}, {Primary: 5, Secondary: 9}}
	// Served from secondary slivers 1 and 9 for primary target 5; 2 is not held.
	syms := []redstuff.RecoverySymbol{
		{Axis: redstuff.Primary, Index: 1, Target: 5, Data: []byte{1, 2}},
		{Axis: redstuff.Primary, Index: 9, Target: 5, Data: []byte{3, 4}},
	}
	b := sn.EncodeBareSymbols(ids, syms)
	if want := sn.BareFraming(len(ids), 2) + 4; len(b) != want {
		t.Fatalf("answer of %d bytes, want %d", len(b), want)
	}
	got, err := sn.DecodeBareSymbols(b, ids, redstuff.Secondary, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Index != 1 || got[1].Index != 9 || got[0].Target != 5 || got[1].Axis != redstuff.Primary ||
		!bytes.Equal(got[0].Data, []byte{1, 2}) || !bytes.Equal(got[1].Data, []byte{3, 4}) {
		t.Fatalf("decoded %+v", got)
	}
	// Secondary targets: the symbol of ID P-S comes from primary sliver P.
	ids2 := []sn.SymbolID{{Primary: 3, Secondary: 7}}
	b2 := sn.EncodeBareSymbols(ids2, []redstuff.RecoverySymbol{{Axis: redstuff.Secondary, Index: 3, Target: 7, Data: []byte{9, 9}}})
	got, err = sn.DecodeBareSymbols(b2, ids2, redstuff.Primary, 2)
	if err != nil || len(got) != 1 || got[0].Index != 3 || got[0].Target != 7 || got[0].Axis != redstuff.Secondary {
		t.Fatalf("secondary target: %+v, %v", got, err)
	}
	for name, c := range map[string]struct {
		b    []byte
		ids  []sn.SymbolID
		size int
	}{
		"wrong count":     {b, ids[:3], 2},
		"wrong size":      {b, ids, 4},
		"truncated":       {b[:len(b)-1], ids, 2},
		"trailing":        {append(bytes.Clone(b), 0), ids, 2},
		"stray bitmap":    {[]byte{1, 2, 0x02, 1, 2}, ids[:1], 2},
		"empty symbols":   {[]byte{1, 0, 0x01}, ids[:1], 0},
		"oversized":       {[]byte{1, 0xff, 0xff, 0x03, 1}, ids[:1], 0},
		"empty":           {nil, ids, 2},
		"no bitmap bytes": {[]byte{9, 2}, make([]sn.SymbolID, 9), 2},
	} {
		if _, err := sn.DecodeBareSymbols(c.b, c.ids, redstuff.Secondary, c.size); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzDecodeBareSymbols feeds the decoder of bare-symbol answers arbitrary bytes: it must
// not panic, and what it accepts must encode back to the same bytes.
func FuzzDecodeBareSymbols(f *testing.F) {
	ids := []sn.SymbolID{{Primary: 1, Secondary: 0}, {Primary: 1, Secondary: 2}, {Primary: 1, Secondary: 3}}
	f.Add(sn.EncodeBareSymbols(ids, []redstuff.RecoverySymbol{{Axis: redstuff.Primary, Index: 2, Target: 1, Data: []byte{7, 8}}}), uint8(3))
	f.Add([]byte{0, 0}, uint8(0))
	f.Add([]byte{1, 2, 1, 5, 6}, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, n uint8) {
		req := make([]sn.SymbolID, int(n)%20)
		for i := range req {
			req[i] = sn.SymbolID{Primary: 1, Secondary: i}
		}
		syms, err := sn.DecodeBareSymbols(b, req, redstuff.Secondary, 0)
		if err != nil {
			return
		}
		if len(syms) == 0 {
			return // the size of an empty answer is free
		}
		if got := sn.EncodeBareSymbols(req, syms); !bytes.Equal(got, b) {
			t.Fatalf("decoded %x and encoded back %x", b, got)
		}
	})
}
