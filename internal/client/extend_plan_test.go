package client

import (
	"testing"

	"github.com/walrus-go/walrus/internal/chain"
)

func TestExtendCandidate(t *testing.T) {
	id := func(b byte) chain.ObjectID { return chain.ObjectID{b} }
	blob := func(b byte, certified, deletable bool, end uint32) *chain.Blob {
		return &chain.Blob{ID: id(b), Certified: certified, Deletable: deletable,
			Storage: chain.Storage{ID: id(b + 100), StartEpoch: 1, EndEpoch: end, Size: 1 << 20}}
	}
	shared := blob(9, true, true, 6)
	shared.Shared = true
	const now, end = 5, 10
	cases := []struct {
		name      string
		owned     []*chain.Blob
		deletable bool
		want      chain.ObjectID // zero: none
	}{
		{"nothing owned", nil, true, chain.ObjectID{}},
		{"certified, ends too early", []*chain.Blob{blob(1, true, true, 7)}, true, id(1)},
		{"not certified", []*chain.Blob{blob(1, false, true, 7)}, true, chain.ObjectID{}},
		{"other persistence", []*chain.Blob{blob(1, true, false, 7)}, true, chain.ObjectID{}},
		{"permanent wanted and owned", []*chain.Blob{blob(1, true, false, 7)}, false, id(1)},
		{"expired", []*chain.Blob{blob(1, true, true, now)}, true, chain.ObjectID{}},
		{"ends with the current epoch", []*chain.Blob{blob(1, true, true, now+1)}, true, id(1)},
		{"long enough already", []*chain.Blob{blob(1, true, true, end)}, true, chain.ObjectID{}},
		{"shared", []*chain.Blob{shared}, true, chain.ObjectID{}},
		{"the one ending last", []*chain.Blob{blob(1, true, true, 6), blob(2, true, true, 8), blob(3, true, true, 7)}, true, id(2)},
		{"ties: lowest ID", []*chain.Blob{blob(4, true, true, 8), blob(2, true, true, 8)}, true, id(2)},
		{"skips unusable", []*chain.Blob{blob(1, false, true, 9), blob(2, true, false, 9), blob(3, true, true, 6)}, true, id(3)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := extendCandidate(c.owned, now, end, c.deletable)
			switch {
			case c.want == (chain.ObjectID{}) && got != nil:
				t.Fatalf("got %s, want none", got.ID)
			case c.want != (chain.ObjectID{}) && (got == nil || got.ID != c.want):
				t.Fatalf("got %v, want %s", got, c.want)
			}
		})
	}
}
