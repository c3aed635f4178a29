package api_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// benchNode is a node owning a tenth of the shards (one node of a committee of ten), with
// its store on disk, served over loopback HTTP.
type benchNode struct {
	*nodetest.Env
	client *nodeclient.Client
}

func newBenchNode(b *testing.B, n int, cacheBytes int64) *benchNode {
	return newBenchNodeEvery(b, n, 10, cacheBytes)
}

// newBenchNodeEvery is newBenchNode for a node owning every step-th shard.
func newBenchNodeEvery(b *testing.B, n, step int, cacheBytes int64) *benchNode {
	var shards []uint16
	for s := 0; s < n; s += step {
		shards = append(shards, uint16(s))
	}
	e := nodetest.New(b, n, shards, nodetest.Options{Config: func(c *storagenode.Config) {
		st, err := store.Open(b.TempDir(), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		c.Store = st
		c.CacheBytes = cacheBytes
	}})
	srv := httptest.NewServer(api.NewHandler(e.Node, api.Options{}))
	b.Cleanup(srv.Close)
	c, err := nodeclient.New(srv.URL, nodeclient.Options{NShards: n})
	if err != nil {
		b.Fatal(err)
	}
	return &benchNode{Env: e, client: c}
}

const benchBlobSize = 4 << 20

// BenchmarkIngest measures the batched upload: metadata and every pair the node owns in
// one request, verified and stored (synced) by the node. Bytes are request body bytes.
// Each iteration uploads the same blob under a new registration, after the previous one
// was deleted (untimed), so the node verifies and writes everything every time.
func BenchmarkIngest(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("n=%d/blob=4MiB", n), func(b *testing.B) {
			node := newBenchNode(b, n, 0)
			blob := node.Blob(benchBlobSize, 1)
			pairs := node.OwnedPairs(blob)
			_, size := api.EncodeBatch(blob.Metadata, pairs)
			ctx := context.Background()
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				obj := nodetest.ObjectID(i)
				node.Register(blob, obj, 100, true)
				b.StartTimer()
				res, err := node.client.StoreSlivers(ctx, blob.Metadata, pairs)
				if err != nil || res.SliversCreated != 2*len(pairs) {
					b.Fatalf("StoreSlivers: %+v, %v", res, err)
				}
				b.StopTimer()
				node.Apply(storagenode.BlobDeleted{Epoch: 1, BlobID: blob.Metadata.BlobID, ObjectID: obj})
				b.StartTimer()
			}
		})
	}
}

// BenchmarkIngestDevnet is BenchmarkIngest for one node of the 4-node, 100-shard devnet
// storing a 64 MiB blob: 25 sliver pairs of about 1.4 MiB each in one request. Besides
// the throughput it reports the CPU time of the whole test process per upload
// (cpu-ms/op, user and system; the in-process client's share is small: it writes the
// body to a loopback socket) and the page faults per upload (minflt/op).
func BenchmarkIngestDevnet(b *testing.B) {
	node := newBenchNodeEvery(b, 100, 4, 0)
	blob := node.Blob(64<<20, 1)
	pairs := node.OwnedPairs(blob)
	_, size := api.EncodeBatch(blob.Metadata, pairs)
	ctx := context.Background()
	b.SetBytes(size)
	b.ReportAllocs()
	var cpu, faults int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		obj := nodetest.ObjectID(i)
		node.Register(blob, obj, 100, true)
		before := usage(b)
		b.StartTimer()
		res, err := node.client.StoreSlivers(ctx, blob.Metadata, pairs)
		if err != nil || res.SliversCreated != 2*len(pairs) {
			b.Fatalf("StoreSlivers: %+v, %v", res, err)
		}
		b.StopTimer()
		after := usage(b)
		cpu += after.cpu - before.cpu
		faults += after.minflt - before.minflt
		node.Apply(storagenode.BlobDeleted{Epoch: 1, BlobID: blob.Metadata.BlobID, ObjectID: obj})
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(faults)/float64(b.N), "minflt/op")
}

type rusage struct{ cpu, minflt int64 }

// usage returns the process's CPU time (ns, user and system) and minor page faults.
func usage(b *testing.B) rusage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return rusage{cpu: ru.Utime.Nano() + ru.Stime.Nano(), minflt: ru.Minflt}
}

// BenchmarkIngestPerSliver is BenchmarkIngest with Walrus's per-sliver requests: the
// metadata, then one PUT per sliver, each its own synced write. Bytes are sliver and
// metadata bytes, comparable with BenchmarkIngest.
func BenchmarkIngestPerSliver(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("n=%d/blob=4MiB", n), func(b *testing.B) {
			node := newBenchNode(b, n, 0)
			blob := node.Blob(benchBlobSize, 1)
			pairs := node.OwnedPairs(blob)
			_, size := api.EncodeBatch(blob.Metadata, pairs)
			ctx := context.Background()
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				obj := nodetest.ObjectID(i)
				node.Register(blob, obj, 100, true)
				b.StartTimer()
				if _, err := node.client.PutMetadata(ctx, blob.Metadata); err != nil {
					b.Fatal(err)
				}
				for _, p := range pairs {
					for _, s := range []*redstuff.Sliver{&p.Primary, &p.Secondary} {
						if _, err := node.client.PutSliver(ctx, blob.Metadata.BlobID, p.Index, s); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StopTimer()
				node.Apply(storagenode.BlobDeleted{Epoch: 1, BlobID: blob.Metadata.BlobID, ObjectID: obj})
				b.StartTimer()
			}
		})
	}
}

func storedBenchBlob(b *testing.B, node *benchNode) (*redstuff.EncodedBlob, []*redstuff.SliverPair) {
	blob := node.Blob(benchBlobSize, 2)
	pairs := node.OwnedPairs(blob)
	node.Register(blob, nodetest.ObjectID(0), 100, false)
	if _, err := node.client.StoreSlivers(context.Background(), blob.Metadata, pairs); err != nil {
		b.Fatal(err)
	}
	return blob, pairs
}

// BenchmarkServeSliver measures GET of a primary sliver. Bytes are sliver bytes.
func BenchmarkServeSliver(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("n=%d/blob=4MiB", n), func(b *testing.B) {
			node := newBenchNode(b, n, 0)
			blob, pairs := storedBenchBlob(b, node)
			ctx := context.Background()
			b.SetBytes(int64(len(pairs[0].Primary.Data)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := pairs[i%len(pairs)]
				if _, err := node.client.Sliver(ctx, blob.Metadata.BlobID, p.Index, redstuff.Primary); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRecoverySymbols measures GET recoverySymbols?targetSliver=&targetType=primary:
// one symbol with its Merkle proof from each secondary sliver the node holds. "cached"
// serves from expanded slivers kept in the node's cache; "uncached" expands the slivers
// on every request. Bytes are response bytes.
func BenchmarkRecoverySymbols(b *testing.B) {
	for _, n := range []int{100, 1000} {
		for _, cached := range []bool{true, false} {
			name := fmt.Sprintf("n=%d/blob=4MiB/cached", n)
			cache := int64(0)
			if !cached {
				name, cache = fmt.Sprintf("n=%d/blob=4MiB/uncached", n), -1
			}
			b.Run(name, func(b *testing.B) {
				node := newBenchNode(b, n, cache)
				blob, _ := storedBenchBlob(b, node)
				ctx := context.Background()
				syms, err := node.client.RecoverySymbolsFor(ctx, blob.Metadata.BlobID, redstuff.Primary, 0)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(redstuff.EncodeSymbolList(syms))))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := node.client.RecoverySymbolsFor(ctx, blob.Metadata.BlobID, redstuff.Primary, i%n); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
