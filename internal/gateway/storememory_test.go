package gateway_test

import (
	"testing"

	"github.com/walrus-go/walrus/internal/gateway"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// StoreMemory covers a blob's sliver pairs (the body aliased by the systematic slivers
// included) at every shard count and size.
func TestStoreMemoryCoversTheEncoding(t *testing.T) {
	for _, n := range []int{4, 5, 6, 7, 10, 100, 301, 998, 999, 1000} {
		c, err := redstuff.NewConfig(n)
		if err != nil {
			t.Fatal(err)
		}
		r, col := c.SourceSymbols(redstuff.Primary), c.SourceSymbols(redstuff.Secondary)
		for _, size := range []uint64{0, 1, 1000, 1 << 20, 10 << 20, 64 << 20, 100 << 20, c.MaxBlobSize()} {
			if size > c.MaxBlobSize() {
				continue
			}
			sym, err := c.SymbolSize(size)
			if err != nil {
				t.Fatal(err)
			}
			slivers := uint64(n) * uint64(r+col) * uint64(sym)
			if got := gateway.StoreMemory(int64(size)); uint64(got) < slivers {
				t.Errorf("n=%d, %d bytes: StoreMemory %d < %d bytes of slivers", n, size, got, slivers)
			}
		}
	}
}
