package daemon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
	"github.com/walrus-go/walrus/internal/storagenode/store"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestStoredOverhead stores a 1 KB blob and a larger one and counts, from every node's
// store, the sliver and metadata bytes kept for each (store.BlobFootprint), next to what
// the chain billed (EncodedLength). By default it is CI-sized (4 in-process nodes, 100
// shards, 1 KB and 1 MB); WALRUS_OVERHEAD_SCALE=1 (make bench-overhead) runs Walrus's scale:
// 10 node processes, 1000 shards, 1 KB and 100 MB. Every sliver must be stored exactly
// once, and what is stored must not exceed what is billed.
func TestStoredOverhead(t *testing.T) {
	full := os.Getenv("WALRUS_OVERHEAD_SCALE") != ""
	nodes, shards, sizes := 4, uint16(100), []int{1000, 1_000_000}
	if full {
		nodes, shards, sizes = 10, 1000, []int{1000, 100_000_000}
	} else if testing.Short() {
		t.Skip("overhead measurement skipped in -short")
	}
	var bin string
	if full {
		bin = testnet.Binary(t)
	}
	net := testnet.NewCluster(t, testnet.Options{Nodes: nodes, Shards: int(shards), RPC: full, Config: func(i int, c *daemon.Config) {
		c.PeerTimeout = time.Minute
	}})
	for _, nd := range net.Nodes {
		if full {
			net.StartProcess(nd, bin)
		} else {
			net.StartInProcess(nd)
		}
	}
	stopped := false
	stopAll := func() {
		if !stopped {
			for _, nd := range net.Nodes {
				net.Stop(nd)
			}
			stopped = true
		}
	}
	t.Cleanup(stopAll)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	var blobs []*testnet.Blob
	for i, size := range sizes {
		var b *testnet.Blob
		var err error
		testnet.WaitFor(t, 10*time.Minute, "the blob to be stored", func() (bool, error) {
			b, err = net.Store(ctx, randomData(uint64(200+i), size), testnet.StoreOptions{})
			return err == nil, nil // the nodes may still be starting
		})
		blobs = append(blobs, b)
	}
	cmt, err := net.Chain.Committee(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A node that missed a write syncs it; count once every node holds all its slivers.
	for _, m := range cmt.Members {
		for _, b := range blobs {
			testnet.WaitFor(t, 30*time.Minute, "every node to hold its slivers", func() (bool, error) {
				ok, err := net.HoldsAll(ctx, m.NetworkAddress, b.ID, m.Shards)
				return err == nil && ok, nil
			})
		}
	}
	stopAll()
	totals := make([]store.Footprint, len(blobs))
	for _, nd := range net.Nodes {
		st, err := store.Open(filepath.Join(nd.Config.DataDir, "db"), store.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("%s: %v", nd.Name, err)
		}
		for i, b := range blobs {
			fp, err := st.BlobFootprint(b.ID)
			if err != nil {
				t.Fatal(err)
			}
			totals[i] = totals[i].Add(fp)
		}
		st.Close()
	}
	for i, b := range blobs {
		size := uint64(len(b.Data))
		billed, err := net.Enc.EncodedLength(size)
		if err != nil {
			t.Fatal(err)
		}
		walrus, _ := net.Enc.WalrusEncodedLength(size)
		fp := totals[i]
		t.Logf("%d shards, %d nodes, blob of %d bytes (%s): stored %d bytes (%sx) = %d sliver bytes in %d slivers + %d metadata bytes; billed %d (%sx); Walrus bills %d",
			shards, nodes, size, b.ID, fp.Total(), ratio(fp.Total(), size), fp.SliverBytes, fp.Slivers, fp.MetadataBytes,
			billed, ratio(billed, size), walrus)
		if fp.Slivers != 2*int(shards) {
			t.Errorf("blob %d: %d slivers stored, want %d", i, fp.Slivers, 2*int(shards))
		}
		sym, _ := net.Enc.SymbolSize(size)
		if want := uint64(shards) * uint64(net.Enc.SliverSize(redstuff.Primary, sym)+net.Enc.SliverSize(redstuff.Secondary, sym)); fp.SliverBytes < want {
			t.Errorf("blob %d: %d sliver bytes stored, below the %d of the slivers", i, fp.SliverBytes, want)
		}
		if fp.Total() > billed {
			t.Errorf("blob %d: %d bytes stored, more than the %d billed", i, fp.Total(), billed)
		}
	}
}

func ratio(a, b uint64) string { return fmt.Sprintf("%.3f", float64(a)/float64(b)) }
