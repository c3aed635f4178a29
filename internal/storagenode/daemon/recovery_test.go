package daemon_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/testnet"
)

func randomData(seed uint64, size int) []byte {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	b := make([]byte, size)
	rand.NewChaCha8(s).Read(b)
	return b
}

// startAll starts every node of the network in-process.
func startAll(t *testing.T, net *testnet.Cluster) {
	t.Helper()
	for _, nd := range net.Nodes {
		net.StartInProcess(nd)
	}
}

// TestRecoverEmptyStore stores certified blobs, wipes one node's store and restarts it:
// the node replays the chain's events from the start and recovers every sliver of its
// shards from the other nodes' recovery symbols, downloading what it rebuilds: the symbol
// bytes, their framing (under 1%) and the metadata, no proofs.
func TestRecoverEmptyStore(t *testing.T) {
	net := testnet.NewCluster(t, testnet.Options{Shards: 16})
	startAll(t, net)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	sizes := []int{1, 1000, 20_000, 150_000, 400_000}
	var blobs []*testnet.Blob
	total := 0
	for i, size := range sizes {
		b, err := net.Store(ctx, randomData(uint64(i), size), testnet.StoreOptions{Deletable: i%2 == 0})
		if err != nil {
			t.Fatalf("store blob %d: %v", i, err)
		}
		blobs = append(blobs, b)
		total += size
	}

	victim := net.Nodes[3]
	net.Stop(victim)
	if err := os.RemoveAll(victim.Config.DataDir); err != nil {
		t.Fatal(err)
	}
	victim.Config.MetricsListen = "127.0.0.1:0"
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
	if len(shards) == 0 {
		t.Fatal("the victim owns no shard")
	}
	testnet.WaitFor(t, 2*time.Minute, "the wiped node to recover every blob", func() (bool, error) {
		for _, b := range blobs {
			ok, err := net.HoldsAll(ctx, victim.Addr, b.ID, shards)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	})
	// The counters follow the stores: wait for the syncs to finish.
	testnet.WaitFor(t, 2*time.Minute, "the blob syncs to finish", func() (bool, error) {
		return victim.Daemon.Stats().BlobSyncsPending == 0, nil
	})
	st := victim.Daemon.Stats()
	var want int64
	for _, b := range blobs {
		for _, s := range shards {
			p := b.Encoded.Pairs[b.ID.ShardPair(int(s), net.Enc.NShards())]
			want += int64(len(p.Primary.Data) + len(p.Secondary.Data))
		}
	}
	t.Logf("recovered %d slivers, %d bytes (blobs: %d bytes); downloaded %d bytes: %d symbol bytes, %d framing bytes, %d proof bytes, %d metadata bytes",
		st.RecoveredSlivers, st.RecoveredBytes, total, st.RecoveryDownloadedBytes, st.RecoverySymbolBytes, st.RecoveryFramingBytes, st.RecoveryProofBytes, st.RecoveryMetadataBytes)
	if st.RecoveredSlivers != int64(2*len(shards)*len(blobs)) || st.RecoveredBytes != want {
		t.Fatalf("recovered %d slivers of %d bytes, want %d of %d bytes", st.RecoveredSlivers, st.RecoveredBytes, 2*len(shards)*len(blobs), want)
	}
	// With honest peers no proof is fetched: the node downloads the metadata, one symbol
	// byte per byte it rebuilds, and a bitmap per request.
	if st.RecoveryProofBytes != 0 || st.RecoveryProofRounds != 0 {
		t.Fatalf("%d proof bytes in %d rounds with honest peers", st.RecoveryProofBytes, st.RecoveryProofRounds)
	}
	if got := st.RecoverySymbolBytes + st.RecoveryFramingBytes + st.RecoveryMetadataBytes; got != st.RecoveryDownloadedBytes {
		t.Fatalf("downloaded %d bytes, but the parts add up to %d", st.RecoveryDownloadedBytes, got)
	}
	if st.RecoverySymbolBytes != st.RecoveredBytes || 100*st.RecoveryFramingBytes > st.RecoveredBytes {
		t.Fatalf("downloaded %d symbol bytes and %d framing bytes to rebuild %d bytes", st.RecoverySymbolBytes, st.RecoveryFramingBytes, st.RecoveredBytes)
	}
	// The metrics endpoint exports the same counters.
	resp, err := http.Get("http://" + victim.Daemon.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		fmt.Sprintf("walrus_node_recovered_bytes_total %d", st.RecoveredBytes),
		fmt.Sprintf("walrus_node_recovered_slivers_total %d", st.RecoveredSlivers),
		`walrus_node_shards{status="Active"} 4`,
		"walrus_node_recovery_downloaded_bytes_total ",
		"walrus_node_event_lag ",
		"walrus_node_served_bytes_total{endpoint=",
	} {
		if !strings.Contains(string(body), line) {
			t.Errorf("metrics lack %q", line)
		}
	}
	if st.BadPeerResponses != 0 {
		t.Fatalf("%d bad peer responses", st.BadPeerResponses)
	}
	// The node serves what it recovered: a read using its slivers succeeds.
	for _, b := range blobs {
		got, err := net.Read(ctx, b.ID)
		if err != nil || string(got) != string(b.Data) {
			t.Fatalf("read %s after recovery: %v", b.ID, err)
		}
	}
}
