package daemon_test

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/storagenode/daemon"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestRecoveryScale measures what a node that lost its disk downloads to rebuild its
// slivers, on 10 nodes. By default it is CI-sized (100 shards, in-process nodes, blobs of
// 200 kB and 1 MB); WALRUS_RECOVERY_SCALE=1 (make bench-recovery) runs Walrus's scale:
// 1000 shards, 10 node processes, blobs of 20 MB and 100 MB. Either way the downloaded
// bytes (metadata, symbols, framing; counted by the node's recovery metrics) must be at
// most 1.1 times the sliver bytes rebuilt.
func TestRecoveryScale(t *testing.T) {
	full := os.Getenv("WALRUS_RECOVERY_SCALE") != ""
	shards, sizes := uint16(100), []int{200_000, 1_000_000}
	if full {
		shards, sizes = 1000, []int{20_000_000, 100_000_000}
	} else if testing.Short() {
		t.Skip("recovery measurement skipped in -short")
	}
	var bin string
	if full {
		bin = testnet.Binary(t)
	}
	net := testnet.NewCluster(t, testnet.Options{Nodes: 10, Shards: int(shards), RPC: full, Config: func(i int, c *daemon.Config) {
		c.MetricsListen = testnet.FreeAddr(t)
		c.LogLevel = "info"
		c.PeerTimeout = time.Minute
	}})
	for _, nd := range net.Nodes {
		if full {
			net.StartProcess(nd, bin)
		} else {
			net.StartInProcess(nd)
		}
	}
	t.Cleanup(func() {
		for _, nd := range net.Nodes {
			net.Stop(nd)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
	defer cancel()
	var blobs []*testnet.Blob
	for i, size := range sizes {
		var b *testnet.Blob
		var err error
		testnet.WaitFor(t, 10*time.Minute, "the blob to be stored", func() (bool, error) {
			b, err = net.Store(ctx, randomData(uint64(100+i), size), testnet.StoreOptions{})
			return err == nil, nil // the nodes may still be starting
		})
		blobs = append(blobs, b)
		t.Logf("stored blob %d: %d bytes, %s", i, size, b.ID)
	}
	victim := net.Nodes[4]
	net.Stop(victim)
	if err := os.RemoveAll(victim.Config.DataDir); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if full {
		net.StartProcess(victim, bin)
	} else {
		net.StartInProcess(victim)
	}
	cmt, err := net.Chain.Committee(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var owned []uint16
	for _, m := range cmt.Members {
		if m.NetworkAddress == victim.Addr {
			owned = m.Shards
		}
	}
	var met map[string]int64
	testnet.WaitFor(t, time.Hour, "the wiped node to rebuild its slivers", func() (bool, error) {
		for _, b := range blobs {
			ok, err := net.HoldsAll(ctx, victim.Addr, b.ID, owned)
			if err != nil || !ok {
				return false, nil
			}
		}
		met = scrape(victim.Config.MetricsListen)
		return met != nil && met["walrus_node_blob_syncs_pending"] == 0, nil
	})
	took := time.Since(start)
	if full {
		// Failed syncs (and what failed) explain downloads beyond the symbols needed.
		if b, err := os.ReadFile(filepath.Join(victim.Dir, "node.log")); err == nil {
			var failed []string
			for _, l := range strings.Split(string(b), "\n") {
				if strings.Contains(l, "sync failed") || strings.Contains(l, "level=WARN") {
					failed = append(failed, l)
				}
			}
			t.Logf("%d warnings and failed syncs in the victim's log; first: %s", len(failed), strings.Join(failed[:min(len(failed), 5)], "\n"))
		}
	}
	rebuilt, down := met["walrus_node_recovered_bytes_total"], met["walrus_node_recovery_downloaded_bytes_total"]
	t.Logf("%d shards, 10 nodes, the victim owns %d shards; blobs of %v bytes; rebuilt %d slivers, %d bytes in %s; downloaded %d bytes = %d symbol + %d framing + %d proof + %d metadata; ratio %.3f",
		shards, len(owned), sizes, met["walrus_node_recovered_slivers_total"], rebuilt, took.Round(time.Second), down,
		met["walrus_node_recovery_symbol_bytes_total"], met["walrus_node_recovery_framing_bytes_total"],
		met["walrus_node_recovery_proof_bytes_total"], met["walrus_node_recovery_metadata_bytes_total"], float64(down)/float64(rebuilt))
	if want := int64(2 * len(owned) * len(blobs)); met["walrus_node_recovered_slivers_total"] != want {
		t.Fatalf("rebuilt %d slivers, want %d", met["walrus_node_recovered_slivers_total"], want)
	}
	if 10*down > 11*rebuilt {
		t.Fatalf("downloaded %d bytes to rebuild %d: more than 1.1x", down, rebuilt)
	}
}

// scrape reads a node's Prometheus counters (integers, labels summed); nil if it does
// not answer.
func scrape(addr string) map[string]int64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, "{")
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		out[name] += int64(v)
	}
	if sc.Err() != nil {
		return nil
	}
	return out
}
