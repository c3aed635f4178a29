package explorer

import (
	"context"
	"testing"
	"time"
)

// BenchmarkPages renders every page server-side with 10,000 blobs on chain (one owner
// holding all of them, so the account page pages through the largest list). Run:
//
//	go test -run '^$' -bench Pages -benchtime 200x ./internal/explorer/
func BenchmarkPages(b *testing.B) {
	const blobs = 10_000
	tn := newTestNet(b, 25, 1000)
	tn.x.cfg.PageSize = DefaultPageSize
	for i := 0; i < blobs; i++ {
		tn.chain.addBlob(i, tn.owner, uint64(1000+i), 50, i%3 != 0)
	}
	start := time.Now()
	tn.x.Collect(context.Background())
	b.Logf("collecting %d blobs' events took %v", blobs, time.Since(start))
	if got := tn.x.agg.stored.Blobs; got != blobs {
		b.Fatalf("stored %d blobs", got)
	}
	pages := map[string]string{
		"overview": "/explorer/",
		"nodes":    "/explorer/nodes",
		"blob":     "/explorer/blobs/" + oid(0xB0, blobs/2).String(),
		"account":  "/explorer/accounts/" + tn.owner.String(),
		"epochs":   "/explorer/epochs",
	}
	for name, path := range pages {
		b.Run(name, func(b *testing.B) {
			var worst time.Duration
			for b.Loop() {
				t0 := time.Now()
				tn.get(b, path, 200)
				worst = max(worst, time.Since(t0))
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
		})
	}
}
