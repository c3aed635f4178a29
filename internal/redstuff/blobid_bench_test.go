package redstuff

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/blake2b"
)

// BenchmarkBlobID measures computing only a blob's metadata and ID (what `walrus blob-id`
// and dry runs do) for 64 MiB at n = 1000, reusing one Encoder as a long-lived process does.
// ns/op, B/op and allocs/op are the blob ID's alone. In the same run, with the timer
// stopped, every iteration also hashes as many bytes as the encoding holds (n² symbols,
// each with its own Blake2b-256 as the encoding's Merkle leaves are) with
// golang.org/x/crypto/blake2b on GOMAXPROCS goroutines; ref-ns/op is that time and
// ratio the blob ID's time over it (the target: at most 0.8).
func BenchmarkBlobID(b *testing.B) {
	for _, n := range []int{1000} {
		for _, bs := range benchBlobSizes[2:] {
			b.Run(fmt.Sprintf("n=%d/%s", n, bs.name), func(b *testing.B) {
				c, _ := NewConfig(n)
				blob := benchBlob(bs.size)
				sym, _ := c.SymbolSize(uint64(len(blob)))
				enc := c.NewEncoder()
				if _, err := enc.ComputeMetadata(blob); err != nil { // size the buffers once
					b.Fatal(err)
				}
				var ids, ref time.Duration
				b.SetBytes(int64(bs.size))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					if _, err := enc.ComputeMetadata(blob); err != nil {
						b.Fatal(err)
					}
					ids += time.Since(t0)
					b.StopTimer()
					t1 := time.Now()
					hashSymbolsXCrypto(blob, sym, n*n, runtime.GOMAXPROCS(0))
					ref += time.Since(t1)
					b.StartTimer()
				}
				b.ReportMetric(float64(ref.Nanoseconds())/float64(b.N), "ref-ns/op")
				b.ReportMetric(float64(ids)/float64(ref), "ratio")
			})
		}
	}
}

// hashSymbolsXCrypto hashes count symbols of sym bytes, taken from data in order and
// wrapping around at its end, one Blake2b-256 each, on workers goroutines.
func hashSymbolsXCrypto(data []byte, sym, count, workers int) {
	per := len(data) / sym
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*count/workers, (w+1)*count/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sink byte
			for i := lo; i < hi; i++ {
				o := (i % per) * sym
				d := blake2b.Sum256(data[o : o+sym])
				sink ^= d[0]
			}
			benchSink[w%len(benchSink)] = sink
		}()
	}
	wg.Wait()
}

var benchSink [64]byte
