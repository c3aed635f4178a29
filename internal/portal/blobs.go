package portal

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/quilt"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// DefaultQuiltCache is the default bound of ClientBlobs' quilt cache in bytes.
const DefaultQuiltCache = 64 << 20

// ClientBlobs reads content with the client SDK (the aggregator's read path). A quilt patch
// is read by reading its quilt and decoding the patch's columns; quilts are kept in a cache
// of at most MaxCache bytes (blobs are immutable), and concurrent reads of one quilt share
// one fetch. It is safe for concurrent use.
type ClientBlobs struct {
	Client   *client.Client
	Encoding *redstuff.Config // of the network's shard count
	MaxCache int              // 0 means DefaultQuiltCache

	mu       sync.Mutex
	cache    map[redstuff.BlobID][]byte
	order    []redstuff.BlobID // insertion order, for eviction
	size     int
	inflight map[redstuff.BlobID]*fetch
}

type fetch struct {
	done chan struct{}
	data []byte
	err  error
}

// ReadBlob implements Blobs.
func (b *ClientBlobs) ReadBlob(ctx context.Context, id redstuff.BlobID) ([]byte, error) {
	return b.Client.Read(ctx, id, client.ReadOptions{})
}

// ReadPatch implements Blobs.
func (b *ClientBlobs) ReadPatch(ctx context.Context, quiltID redstuff.BlobID, patch quilt.InternalID) ([]byte, error) {
	blob, err := b.quilt(ctx, quiltID)
	if err != nil {
		return nil, err
	}
	return PatchData(b.Encoding, blob, patch)
}

// PatchData decodes one patch of a whole quilt blob.
func PatchData(enc *redstuff.Config, blob []byte, patch quilt.InternalID) ([]byte, error) {
	cols, err := quilt.Columns(enc, blob)
	if err != nil {
		return nil, err
	}
	if int(patch.End) > len(cols) {
		return nil, fmt.Errorf("%w: columns %d..%d of %d", quilt.ErrMalformed, patch.Start, patch.End, len(cols))
	}
	p, err := quilt.DecodePatch(cols[patch.Start:patch.End])
	if err != nil {
		return nil, err
	}
	return p.Data, nil
}

func (b *ClientBlobs) quilt(ctx context.Context, id redstuff.BlobID) ([]byte, error) {
	b.mu.Lock()
	if data, ok := b.cache[id]; ok {
		b.mu.Unlock()
		return data, nil
	}
	if b.inflight == nil {
		b.inflight = map[redstuff.BlobID]*fetch{}
		b.cache = map[redstuff.BlobID][]byte{}
	}
	f, ok := b.inflight[id]
	if !ok {
		f = &fetch{done: make(chan struct{})}
		b.inflight[id] = f
		go b.fetch(id, f)
	}
	b.mu.Unlock()
	select {
	case <-f.done:
		return f.data, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fetch reads a quilt for every waiter; it runs with its own bounded context so that one
// waiter going away does not fail the others.
func (b *ClientBlobs) fetch(id redstuff.BlobID, f *fetch) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f.data, f.err = b.Client.Read(ctx, id, client.ReadOptions{Raw: true})
	max := b.MaxCache
	if max == 0 {
		max = DefaultQuiltCache
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.inflight, id)
	if f.err == nil && len(f.data) <= max {
		for b.size+len(f.data) > max && len(b.order) > 0 {
			old := b.order[0]
			b.order = b.order[1:]
			b.size -= len(b.cache[old])
			delete(b.cache, old)
		}
		b.cache[id] = f.data
		b.order = append(b.order, id)
		b.size += len(f.data)
	}
	close(f.done)
}
