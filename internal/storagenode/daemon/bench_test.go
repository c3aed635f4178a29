package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
)

// recoveryBench is a committee of ten nodes, each owning a tenth of the shards: nine peers
// that store a blob and serve recovery symbols over loopback HTTP, and a node whose store
// lacks the blob and recovers the slivers of its shards from them.
type recoveryBench struct {
	d     *Daemon
	env   *nodetest.Env
	hs    *holderSet
	blob  *redstuff.EncodedBlob
	owned []uint16
}

func newRecoveryBench(b *testing.B, n, size int) *recoveryBench {
	const nodes = 10
	shardsOf := func(k int) []uint16 {
		var out []uint16
		for s := k; s < n; s += nodes {
			out = append(out, uint16(s))
		}
		return out
	}
	enc := nodetest.Encoding(b, n)
	blob := nodetest.EncodeBlob(b, enc, size, 1)
	hs := &holderSet{names: []string{""}, clients: []*nodeclient.Client{nil}, shards: [][]uint16{nil}}
	hc := &http.Client{Transport: countingTransport{base: &http.Transport{MaxIdleConnsPerHost: 64}}}
	for k := 1; k < nodes; k++ {
		e := nodetest.New(b, n, shardsOf(k), nodetest.Options{Config: func(c *sn.Config) { c.Encoding = enc; c.CacheBytes = 256 << 20 }})
		e.Register(blob, nodetest.ObjectID(0), 100, false)
		u, err := e.Node.NewUpload(blob.Metadata.BlobID, blob.Metadata)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range e.OwnedPairs(blob) {
			u.Add(context.Background(), p.Index, &p.Primary, p.Primary.Bytes())
			u.Add(context.Background(), p.Index, &p.Secondary, p.Secondary.Bytes())
		}
		if _, err := u.Commit(); err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(api.NewHandler(e.Node, api.Options{}))
		b.Cleanup(srv.Close)
		c, err := nodeclient.New(srv.URL, nodeclient.Options{HTTPClient: hc, NShards: n})
		if err != nil {
			b.Fatal(err)
		}
		hs.names = append(hs.names, srv.URL)
		hs.clients = append(hs.clients, c)
		hs.shards = append(hs.shards, shardsOf(k))
	}
	owned := shardsOf(0)
	env := nodetest.New(b, n, owned, nodetest.Options{Config: func(c *sn.Config) { c.Encoding = enc }})
	d := &Daemon{
		cfg: Config{}.withDefaults(), log: slog.New(slog.DiscardHandler), node: env.Node, enc: enc, n: n,
		maxSymbolIDs: min(n, 1000), invalidating: map[redstuff.BlobID]bool{},
	}
	d.peerSem = make(chan struct{}, d.cfg.PeerRequestConcurrency)
	d.metrics = newMetrics(prometheus.NewRegistry(), &d.counters, d.node)
	return &recoveryBench{d: d, env: env, hs: hs, blob: blob, owned: owned}
}

// BenchmarkRecovery measures blob sync: one node of ten rebuilds the primary and
// secondary slivers of all its shards (a tenth of the shards) of a 4 MiB blob from
// recovery symbols fetched from the nine others over loopback HTTP, verifies and stores
// them, metadata included. Bytes are the sliver bytes rebuilt; the downloaded bytes
// (symbols, proofs, metadata) are reported per operation.
func BenchmarkRecovery(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("n=%d/blob=4MiB", n), func(b *testing.B) {
			r := newRecoveryBench(b, n, 4<<20)
			id := r.blob.Metadata.BlobID
			var need sn.SyncNeed
			need.Certified, need.MetadataMissing = true, true
			var sliverBytes int64
			for _, s := range r.owned {
				p := r.blob.Pairs[id.ShardPair(int(s), n)]
				sliverBytes += int64(len(p.Primary.Data) + len(p.Secondary.Data))
				need.Slivers = append(need.Slivers, sn.SliverRef{Shard: s, Axis: redstuff.Primary}, sn.SliverRef{Shard: s, Axis: redstuff.Secondary})
			}
			ctx := context.Background()
			b.SetBytes(sliverBytes)
			b.ReportAllocs()
			before := r.d.counters.recDownloaded.Load()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				obj := nodetest.ObjectID(i)
				r.env.Register(r.blob, obj, 100, true)
				b.StartTimer()
				if err := r.d.recoverFrom(ctx, r.hs, id, need); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				r.env.Apply(sn.BlobDeleted{Epoch: 1, BlobID: id, ObjectID: obj})
				b.StartTimer()
			}
			b.StopTimer()
			if got := r.d.counters.recovered.Load(); got != sliverBytes*int64(b.N) {
				b.Fatalf("recovered %d bytes, want %d", got, sliverBytes*int64(b.N))
			}
			b.ReportMetric(float64(r.d.counters.recDownloaded.Load()-before)/float64(b.N), "downloaded-B/op")
		})
	}
}
