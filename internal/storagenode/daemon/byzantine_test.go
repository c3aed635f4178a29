package daemon_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/faultproxy"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestRecoverPastLyingPeers is the attack on proof-less recovery: a node loses its disk
// while two of its peers (behind fault proxies) corrupt every recovery symbol they send,
// bare or with proofs. The node's rebuilt slivers fail their hashes, it fetches proofs,
// excludes the liars and rebuilds from the others: it stores only the correct slivers,
// and its counters report what the liars cost (proof rounds and proof bytes).
func TestRecoverPastLyingPeers(t *testing.T) {
	net := testnet.NewCluster(t, testnet.Options{Nodes: 7, Shards: 14, Config: func(i int, c *daemon.Config) {
		c.Listen = testnet.FreeAddr(t)
		c.PlainHTTP = true
		c.PeerTimeout = 5 * time.Second
	}})
	proxies := map[string]*faultproxy.Proxy{}
	for _, nd := range net.Nodes {
		tlsConfig, err := nodetls.ServerConfig(nd.Keys.Network, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		p, err := faultproxy.NewTLS(nd.Addr, nd.Config.Listen, tlsConfig)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		proxies[nd.Addr] = p
	}
	startAll(t, net)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var blobs []*testnet.Blob
	for i, size := range []int{3000, 200_000} {
		b, err := net.Store(ctx, randomData(uint64(10+i), size), testnet.StoreOptions{})
		if err != nil {
			t.Fatalf("store blob %d: %v", i, err)
		}
		blobs = append(blobs, b)
	}
	victim, liars := net.Nodes[0], net.Nodes[1:3]
	for _, l := range liars {
		proxies[l.Addr].Set(faultproxy.Fault{Kind: faultproxy.CorruptSymbols})
	}
	net.Stop(victim)
	if err := os.RemoveAll(victim.Config.DataDir); err != nil {
		t.Fatal(err)
	}
	net.StartInProcess(victim)
	cmt, err := net.Chain.Committee(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var shards []uint16
	for _, m := range cmt.Members {
		if m.NetworkAddress == victim.Addr {
			shards = m.Shards
		}
	}
	testnet.WaitFor(t, 3*time.Minute, "the wiped node to recover every blob", func() (bool, error) {
		for _, b := range blobs {
			ok, err := net.HoldsAll(ctx, victim.Config.Listen, b.ID, shards)
			if err != nil || !ok {
				return false, err
			}
		}
		return victim.Daemon.Stats().BlobSyncsPending == 0, nil
	})
	// Every stored sliver is the blob's own.
	c := net.Client(victim.Config.Listen)
	for _, b := range blobs {
		for _, s := range shards {
			pair := b.ID.ShardPair(int(s), net.Enc.NShards())
			for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
				got, err := c.Sliver(ctx, b.ID, pair, a)
				if err != nil {
					t.Fatalf("%s sliver of pair %d of %s: %v", a, pair, b.ID, err)
				}
				want := b.Encoded.Pairs[pair].Primary
				if a == redstuff.Secondary {
					want = b.Encoded.Pairs[pair].Secondary
				}
				if !bytes.Equal(got.Data, want.Data) {
					t.Fatalf("%s sliver of pair %d of %s differs from the encoding", a, pair, b.ID)
				}
			}
		}
	}
	st := victim.Daemon.Stats()
	corrupted := uint64(0)
	for _, l := range liars {
		corrupted += proxies[l.Addr].Stats().Faulted[faultproxy.CorruptSymbols]
	}
	t.Logf("liars corrupted %d answers; recovered %d slivers, %d bytes; downloaded %d bytes: %d symbol, %d framing, %d proof, %d metadata; %d proof rounds, %d bad peer answers",
		corrupted, st.RecoveredSlivers, st.RecoveredBytes, st.RecoveryDownloadedBytes, st.RecoverySymbolBytes, st.RecoveryFramingBytes,
		st.RecoveryProofBytes, st.RecoveryMetadataBytes, st.RecoveryProofRounds, st.BadPeerResponses)
	if corrupted == 0 {
		t.Fatal("no liar was asked: the test tested nothing")
	}
	if st.RecoveryProofRounds == 0 || st.RecoveryProofBytes == 0 || st.BadPeerResponses == 0 {
		t.Fatalf("the liars cost no proof round (%d), proof bytes (%d) or bad answers (%d)", st.RecoveryProofRounds, st.RecoveryProofBytes, st.BadPeerResponses)
	}
	if st.InvalidBlobsSubmitted != 0 {
		t.Fatal("the node took lying peers for an inconsistent blob")
	}

	// A client's row rebuild in a range read meets a liar: the node holding the row
	// refuses, the row decoded from bare symbols fails its hash, and the reader retries
	// with proofs; it returns the right bytes. (With 14 shards f is 4: the refusing node
	// and one liar are all the faults the rebuild tolerates.)
	b := blobs[1]
	n := net.Enc.NShards()
	proxies[liars[1].Addr].Set(faultproxy.Fault{})
	isLiar := func(addr string) bool { return addr == liars[0].Addr }
	row, holder := -1, ""
	for r := range net.Enc.SourceSymbols(redstuff.Primary) {
		shard := uint16(b.ID.PairShard(r, n))
		for _, m := range cmt.Members {
			if containsShard(m.Shards, shard) && !isLiar(m.NetworkAddress) {
				row, holder = r, m.NetworkAddress
			}
		}
		if row >= 0 {
			break
		}
	}
	if row < 0 {
		t.Fatal("every source row is held by a liar")
	}
	proxies[holder].Set(faultproxy.Fault{Kind: faultproxy.Refuse})
	lies := proxies[liars[0].Addr].Stats().Faulted[faultproxy.CorruptSymbols]
	cl, err := client.New(client.Config{Chain: net.Chain, Signer: net.Wallet})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// Whether the liar's answer reaches the reader before it has enough symbols from the
	// others (it then cancels the rest) depends on scheduling; every read must be right,
	// and reads are repeated, each with a fresh reader, until one met the liar.
	rowLen := len(b.Encoded.Pairs[0].Primary.Data)
	off := int64(row * rowLen)
	for attempt := 1; ; attempt++ {
		br, err := cl.OpenBlob(ctx, b.ID, client.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, 100)
		if got, err := br.ReadAt(p, off); got != len(p) || err != nil || !bytes.Equal(p, b.Data[off:off+100]) {
			t.Fatalf("ReadAt of row %d with its node refusing and two liars: %d, %v", row, got, err)
		}
		if st := br.Stats(); st.Recovered != 1 {
			t.Fatalf("the reader rebuilt %d rows, want 1 (%+v, row %d of %s)", st.Recovered, st, row, holder)
		}
		br.Close()
		if proxies[liars[0].Addr].Stats().Faulted[faultproxy.CorruptSymbols] > lies {
			t.Logf("the liar answered read %d", attempt)
			break
		}
		if attempt == 50 {
			t.Fatal("the liar answered none of 50 reads: the read tested nothing")
		}
	}
	t.Logf("the reader counted %d bad answers", cl.BadResponses().Slivers)
}

func containsShard(shards []uint16, s uint16) bool {
	for _, x := range shards {
		if x == s {
			return true
		}
	}
	return false
}
