package client_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestBlobReader reads ranges of stored blobs: every range matches the blob, a small range
// fetches only the slivers holding it, and with the node holding those slivers down the
// reader falls back to a whole read and still answers correctly.
func TestBlobReader(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	c := newClient(t, net)
	ctx := testContext(t)
	n := int(net.Genesis.Params.NShards)
	enc, err := redstuff.NewConfig(n)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{1, 1000, 1<<20 + 12345} {
		data := randomBlob(size, uint64(size))
		res := mustStore(t, c, data, client.StoreOptions{Epochs: 2})
		id, err := redstuff.ParseBlobID(res.BlobID())
		if err != nil {
			t.Fatal(err)
		}
		br, err := c.OpenBlob(ctx, id, client.ReadOptions{})
		if err != nil {
			t.Fatalf("open %d B: %v", size, err)
		}
		if br.Size() != int64(size) {
			t.Fatalf("size %d, want %d", br.Size(), size)
		}
		sym, _ := enc.SymbolSize(uint64(size))
		rowLen := enc.SourceSymbols(redstuff.Secondary) * sym
		ranges := [][2]int{{0, 1}, {size - 1, 1}, {0, size}, {0, 0}}
		if size > rowLen {
			ranges = append(ranges, [2]int{rowLen - 3, 6}) // across a row boundary
		}
		for range 20 {
			off := rng.IntN(size)
			ranges = append(ranges, [2]int{off, rng.IntN(size - off + 1)})
		}
		for _, rg := range ranges {
			off, l := rg[0], rg[1]
			before := br.Stats().Slivers
			p := make([]byte, l)
			got, err := br.ReadAt(p, int64(off))
			if got != l || (err != nil && !(errors.Is(err, io.EOF) && off+l == size)) {
				t.Fatalf("%d B: ReadAt(%d, %d) = %d, %v", size, off, l, got, err)
			}
			if !bytes.Equal(p, data[off:off+l]) {
				t.Fatalf("%d B: ReadAt(%d, %d) differs from the blob", size, off, l)
			}
			if l > 0 {
				rows := (off+l-1)/rowLen - off/rowLen + 1
				if fetched := br.Stats().Slivers - before; fetched > int64(rows) {
					t.Fatalf("%d B: ReadAt(%d, %d) fetched %d slivers for %d rows", size, off, l, fetched, rows)
				}
			}
		}
		// Past the end, and reading through Seek and Read.
		if got, err := br.ReadAt(make([]byte, 4), int64(size)); got != 0 || err != io.EOF {
			t.Fatalf("ReadAt past the end: %d, %v", got, err)
		}
		if size >= 2 {
			if got, err := br.ReadAt(make([]byte, 4), int64(size-2)); got != 2 || err != io.EOF {
				t.Fatalf("ReadAt over the end: %d, %v", got, err)
			}
		}
		if _, err := br.Seek(int64(size/2), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		rest, err := io.ReadAll(br)
		if err != nil || !bytes.Equal(rest, data[size/2:]) {
			t.Fatalf("%d B: Seek and ReadAll: %v", size, err)
		}
		if st := br.Stats(); st.FellBack {
			t.Fatalf("%d B: fell back to a whole read with every node up", size)
		}
		// Prefetch fetches a range's rows at once; reading the range then needs nothing more.
		pf, err := c.OpenBlob(ctx, id, client.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := pf.Prefetch(0, int64(size)); err != nil {
			t.Fatal(err)
		}
		rows := int64((size-1)/rowLen + 1)
		requests := pf.Stats().HTTPRequests
		all, err := io.ReadAll(pf)
		if err != nil || !bytes.Equal(all, data) {
			t.Fatalf("%d B: read after Prefetch: %v", size, err)
		}
		if st := pf.Stats(); st.Slivers != rows || st.HTTPRequests != requests {
			t.Fatalf("%d B: %d slivers and %d more requests after prefetching %d rows", size, st.Slivers, st.HTTPRequests-requests, rows)
		}
	}

	// The node holding the first row is down: the reader rebuilds the row from recovery
	// symbols of the other nodes.
	data := randomBlob(300_000, 77)
	res := mustStore(t, c, data, client.StoreOptions{Epochs: 2})
	c.WaitTail()
	id, _ := redstuff.ParseBlobID(res.BlobID())
	holder := -1
	owner := make([]int, n) // owner[shard] is the index of its node
	for i, node := range net.Nodes {
		for _, s := range node.Node().OwnedShards() {
			owner[s] = i
			if id.ShardPair(int(s), n) == 0 {
				holder = i
			}
		}
	}
	if holder < 0 {
		t.Fatal("no node holds pair 0")
	}
	if err := net.Nodes[holder].Stop(); err != nil {
		t.Fatal(err)
	}
	br, err := c.OpenBlob(ctx, id, client.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 100)
	if got, err := br.ReadAt(p, 10); got != 100 || err != nil || !bytes.Equal(p, data[10:110]) {
		t.Fatalf("ReadAt with the row's node down: %d, %v", got, err)
	}
	if st := br.Stats(); st.Recovered != 1 || st.FellBack {
		t.Fatalf("with the row's node down: %d rows rebuilt, fell back %v; want 1 rebuilt and no fall-back", st.Recovered, st.FellBack)
	}
	if got, err := br.ReadAt(p, 200_000); got != 100 || err != nil || !slices.Equal(p, data[200_000:200_100]) {
		t.Fatalf("ReadAt of another row: %d, %v", got, err)
	}

	// A second node down: too few symbols to rebuild the row (n-f are needed), but n-2f
	// primary slivers are still there, so the reader falls back to a whole read. The
	// blob's metadata holders hold more than 2f shards, so one of them is still up to
	// serve the full metadata that a read starts from; a non-holder is taken down if
	// there is one.
	metaHolders := redstuff.MetadataHolders(id, owner, enc.MaxFaulty())
	second := -1
	for i := range net.Nodes {
		if i != holder && (second < 0 || !slices.Contains(metaHolders, i)) {
			second = i
		}
	}
	if err := net.Nodes[second].Stop(); err != nil {
		t.Fatal(err)
	}
	br, err = c.OpenBlob(ctx, id, client.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := br.ReadAt(p, 10); got != 100 || err != nil || !bytes.Equal(p, data[10:110]) {
		t.Fatalf("ReadAt with two nodes down: %d, %v", got, err)
	}
	if !br.Stats().FellBack {
		t.Fatal("the read did not fall back with two nodes down")
	}
	// Unless the blob is larger than MaxWholeRead: then the read fails instead of holding
	// the whole blob.
	br, err = c.OpenBlob(ctx, id, client.ReadOptions{MaxWholeRead: int64(len(data)) - 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := br.ReadAt(p, 10); !errors.Is(err, client.ErrUnavailable) || br.Stats().FellBack {
		t.Fatalf("ReadAt with two nodes down and MaxWholeRead under the size: %v, fell back %v", err, br.Stats().FellBack)
	}
	br.Close()
	if _, err := br.ReadAt(p, 0); !errors.Is(err, client.ErrReaderClosed) {
		t.Fatalf("ReadAt after Close: %v", err)
	}
}
