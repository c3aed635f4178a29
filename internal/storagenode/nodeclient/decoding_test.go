package nodeclient_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
)

// TestDecodingSymbols fetches decoding symbols over real HTTP and checks each against
// the orthogonal sliver it comes from.
func TestDecodingSymbols(t *testing.T) {
	ctx := context.Background()
	e := nodetest.New(t, 10, []uint16{0, 3, 5, 9})
	c := serve(t, e)
	b := e.Blob(30000, 1)
	id := b.Metadata.BlobID
	e.Register(b, nodetest.ObjectID(1), 5, false)
	if _, err := c.StoreSlivers(ctx, b.Metadata, e.OwnedPairs(b)); err != nil {
		t.Fatal(err)
	}
	for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
		targets := []int{0, 2}
		m, err := c.DecodingSymbols(ctx, id, a, targets)
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		for _, tg := range targets {
			syms := m[tg]
			if len(syms) != len(e.OwnedPairs(b)) {
				t.Fatalf("%s target %d: %d symbols, want one per owned shard", a, tg, len(syms))
			}
			for _, s := range syms {
				pair := s.Index
				if a == redstuff.Primary { // symbols from secondary slivers
					pair = e.N - 1 - s.Index
				}
				src := &b.Pairs[pair].Secondary
				if a == redstuff.Secondary {
					src = &b.Pairs[pair].Primary
				}
				want := src.Data[tg*src.SymbolSize : (tg+1)*src.SymbolSize]
				if s.Axis != a || !bytes.Equal(s.Data, want) {
					t.Fatalf("%s target %d: symbol of sliver %d differs from the sliver", a, tg, s.Index)
				}
			}
		}
	}
	if _, err := c.DecodingSymbols(ctx, id, redstuff.Primary, []int{9}); err == nil {
		t.Fatal("a target that is not a source sliver was served")
	}
}
