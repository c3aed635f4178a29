package redstuff

import "testing"

// TestBilledOverhead pins the encoded size the chain bills at Walrus's shard count: a 1 KB
// blob is billed at most 2.7 MB (Walrus: 66,034,000 bytes) and a 100 MB blob at most 4.6x its
// size.
func TestBilledOverhead(t *testing.T) {
	c, err := NewConfig(1000)
	if err != nil {
		t.Fatal(err)
	}
	l := c.Layout(BillingNodes(1000))
	if l != (StorageLayout{Nodes: 10, Holders: 7, ProofHashes: 4270}) {
		t.Fatalf("layout at 1000 shards = %+v", l)
	}
	for _, tc := range []struct {
		length         uint64
		billed, walrus uint64
		maxBilled      uint64
	}{
		{1024, 2_650_864, 66_034_000, 2_700_000},
		{100_000_000, 451_098_864, 514_482_000, 460_000_000},
		{100 << 20, 473_120_864, 536_504_000, 482_344_960},
	} {
		got, err := c.EncodedLength(tc.length)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := c.WalrusEncodedLength(tc.length)
		t.Logf("%d bytes: billed %d (%.3fx), Walrus %d", tc.length, got, float64(got)/float64(tc.length), w)
		if got != tc.billed || w != tc.walrus {
			t.Errorf("%d bytes: billed %d, Walrus %d; want %d, %d", tc.length, got, w, tc.billed, tc.walrus)
		}
		if got > tc.maxBilled {
			t.Errorf("%d bytes: billed %d, over the bound %d", tc.length, got, tc.maxBilled)
		}
	}
}

// TestLayoutHolders checks that the holders' shards exceed 2f (MetadataHolders) even when the
// smallest nodes are chosen, and that fewer holders would not, for every shard count up to 300 and every node
// count.
func TestLayoutHolders(t *testing.T) {
	for n := MinShards; n <= 300; n++ {
		c, err := NewConfig(n)
		if err != nil {
			t.Fatal(err)
		}
		for nodes := 1; nodes <= n; nodes++ {
			l := c.Layout(nodes)
			small := n / nodes
			if l.Holders*small <= 2*c.f && l.Holders < nodes {
				t.Fatalf("n=%d nodes=%d: %d holders of %d shards do not exceed 2f=%d", n, nodes, l.Holders, small, 2*c.f)
			}
			if l.Holders > 1 && (l.Holders-1)*small > 2*c.f {
				t.Fatalf("n=%d nodes=%d: %d holders, one fewer already exceeds 2f=%d", n, nodes, l.Holders, 2*c.f)
			}
		}
		if got, _ := c.EncodedLength(1); got == 0 {
			t.Fatalf("n=%d: zero encoded length", n)
		}
	}
}
