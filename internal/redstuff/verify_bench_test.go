package redstuff

import (
	"testing"
)

// BenchmarkVerifySliver measures checking one primary sliver of a 64 MiB blob at n=100
// (about 2 MB) against its metadata, as a range read does for each row it fetches; the
// allocations per operation show that the expansion reuses pooled buffers.
func BenchmarkVerifySliver(b *testing.B) {
	c, _ := NewConfig(100)
	enc, err := c.Encode(benchBlob(64 << 20))
	if err != nil {
		b.Fatal(err)
	}
	s := &enc.Pairs[0].Primary
	b.SetBytes(int64(len(s.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.VerifySliver(enc.Metadata, s); err != nil {
			b.Fatal(err)
		}
	}
}
