package client_test

import (
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
)

// countingTransport counts every request sent to the storage nodes, tail uploads included.
type countingTransport struct {
	n    atomic.Int64
	base http.RoundTripper
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.base.RoundTrip(r)
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

// BenchmarkStoreRead stores and reads blobs of 1 KiB, 1 MiB and 64 MiB on an in-process
// network shaped like the default devnet (4 storage node daemons, 100 shards, one
// validator),
// everything sharing this machine's cores. It reports throughput (MB/s of blob data),
// p50 and p90 latency and the HTTP requests per store (tail uploads included: each store
// waits for its tail before the next), and for 1 MiB and 64 MiB blobs a 64 KiB range read.
//
//	go test -run '^$' -bench StoreRead -benchtime 10x ./internal/client/
func BenchmarkStoreRead(b *testing.B) {
	net := testnet.New(b, testnet.Options{Nodes: 4, Shards: 100})
	ct := &countingTransport{base: nodetls.NewTransport(&http.Transport{MaxIdleConnsPerHost: 64})}
	cfg := net.ClientConfig()
	cfg.HTTPClient = &http.Client{Transport: ct}
	c, err := net.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, size := range []int{1 << 10, 1 << 20, 64 << 20} {
		name := map[int]string{1 << 10: "1KiB", 1 << 20: "1MiB", 64 << 20: "64MiB"}[size]
		data := randomBlob(size, uint64(size))
		var last redstuff.BlobID
		b.Run("store/"+name, func(b *testing.B) {
			b.SetBytes(int64(size))
			var lat []time.Duration
			var reqs int64
			i := uint64(0)
			for b.Loop() {
				i++
				binary.LittleEndian.PutUint64(data[:8], i^uint64(time.Now().UnixNano())) // a new blob each time
				before := ct.n.Load()
				start := time.Now()
				res, err := c.Store(ctx, data, client.StoreOptions{Epochs: 1})
				lat = append(lat, time.Since(start))
				if err != nil || res.NewlyCreated == nil {
					b.Fatalf("store: %v", err)
				}
				b.StopTimer()
				c.WaitTail()
				reqs += ct.n.Load() - before
				last, _ = redstuff.ParseBlobID(res.NewlyCreated.BlobObject.BlobID)
				b.StartTimer()
			}
			b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(lat, 0.9).Microseconds())/1000, "p90-ms")
			b.ReportMetric(float64(reqs)/float64(len(lat)), "requests/store")
		})
		b.Run("read/"+name, func(b *testing.B) {
			b.SetBytes(int64(size))
			var lat []time.Duration
			var reqs int64
			for b.Loop() {
				before := ct.n.Load()
				start := time.Now()
				got, err := c.Read(ctx, last, client.ReadOptions{})
				lat = append(lat, time.Since(start))
				if err != nil || len(got) != size {
					b.Fatalf("read: %v (%d bytes)", err, len(got))
				}
				reqs += ct.n.Load() - before
			}
			b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(lat, 0.9).Microseconds())/1000, "p90-ms")
			b.ReportMetric(float64(reqs)/float64(len(lat)), "requests/read")
		})
		if size < 1<<20 {
			continue
		}
		// A 64 KiB range from the middle of the blob (an HTTP Range read at the aggregator).
		b.Run("range64KiB/"+name, func(b *testing.B) {
			b.SetBytes(64 << 10)
			var lat []time.Duration
			var reqs, slivers int64
			p := make([]byte, 64<<10)
			for b.Loop() {
				before := ct.n.Load()
				start := time.Now()
				br, err := c.OpenBlob(ctx, last, client.ReadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := br.ReadAt(p, int64(size/2)); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				reqs += ct.n.Load() - before
				slivers += br.Stats().Slivers
			}
			b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(reqs)/float64(len(lat)), "requests/read")
			b.ReportMetric(float64(slivers)/float64(len(lat)), "slivers/read")
		})
	}
}

// BenchmarkWriteRange streams a whole 64 MiB blob with BlobReader.WriteRange (as the
// aggregator answers GET /v1/blobs/{id}, with its default 16 MiB window) on an
// in-process network shaped like the default devnet (4 storage node daemons over TLS,
// 100 shards). The storage nodes run in the benchmark's process, so the allocations
// reported are theirs and the reader's together.
//
//	go test -run '^$' -bench WriteRange -benchtime 10x ./internal/client/
func BenchmarkWriteRange(b *testing.B) {
	net := testnet.New(b, testnet.Options{Nodes: 4, Shards: 100})
	c, err := net.NewClient(net.ClientConfig())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	const size = 64 << 20
	res, err := c.Store(ctx, randomBlob(size, 64), client.StoreOptions{Epochs: 3})
	if err != nil || res.NewlyCreated == nil {
		b.Fatalf("store: %v", err)
	}
	c.WaitTail()
	id, _ := redstuff.ParseBlobID(res.NewlyCreated.BlobObject.BlobID)
	b.SetBytes(size)
	b.ReportAllocs()
	var slivers int64
	for b.Loop() {
		br, err := c.OpenBlob(ctx, id, client.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		n, err := br.WriteRange(io.Discard, 0, size, 16<<20)
		if err != nil || n != size {
			b.Fatalf("WriteRange: %d bytes, %v", n, err)
		}
		slivers += br.Stats().Slivers
		br.Close()
	}
	b.ReportMetric(float64(slivers)/float64(b.N), "slivers/read")
}
