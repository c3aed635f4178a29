package storagenode_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
)

// fakePeers is a committee for one node: it is never a metadata holder, and FetchFull
// returns what full holds (which a test may forge).
type fakePeers struct {
	full map[redstuff.BlobID]*redstuff.Metadata
}

func (p *fakePeers) KeepsFull(redstuff.BlobID) bool { return false }

func (p *fakePeers) FetchFull(_ context.Context, id redstuff.BlobID) (*redstuff.Metadata, error) {
	if m, ok := p.full[id]; ok {
		return m, nil
	}
	return nil, fmt.Errorf("no peer has %s", id)
}

func TestPartialMetadataKept(t *testing.T) {
	e := nodetest.New(t, 10, []uint16{2, 3})
	peers := &fakePeers{full: map[redstuff.BlobID]*redstuff.Metadata{}}
	e.Node.SetMetadataPeers(peers)
	b := e.Blob(3000, 21)
	id := b.Metadata.BlobID
	e.Register(b, nodetest.ObjectID(1), 5, false)
	storeAll(t, e, b)

	// The store holds the partial metadata of the node's two pairs, not the full copy.
	raw, err := e.Store.Metadata(id)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := redstuff.DecodePartialMetadata(raw)
	if err != nil {
		t.Fatalf("stored metadata is not partial: %v", err)
	}
	if err := e.Enc.VerifyPartialMetadata(pm, id); err != nil {
		t.Fatal(err)
	}
	want := []uint16{uint16(e.PairOf(b, 2)), uint16(e.PairOf(b, 3))}
	if want[0] > want[1] {
		want[0], want[1] = want[1], want[0]
	}
	if len(pm.Pairs) != 2 || pm.Pairs[0] != want[0] || pm.Pairs[1] != want[1] {
		t.Fatalf("stored pairs %v, want %v", pm.Pairs, want)
	}
	if len(raw) >= len(b.Metadata.Bytes()) {
		t.Fatalf("partial copy of %d bytes is not smaller than the full %d", len(raw), len(b.Metadata.Bytes()))
	}

	// Everything the node does with its own slivers still works.
	if _, err := e.Node.Confirm(id, sn.Persistence{}); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	pair := e.PairOf(b, 2)
	ppb, err := e.Node.PairProof(id, pair)
	if err != nil {
		t.Fatal(err)
	}
	pp, err := redstuff.DecodePairProof(ppb)
	if err != nil || e.Enc.VerifyPairProof(pp, id) != nil || pp.Hashes != b.Metadata.Hashes[pair] {
		t.Fatalf("pair proof of pair %d does not verify: %v", pair, err)
	}
	if _, err := e.Node.PairProof(id, e.UnownedPair(b)); !errors.Is(err, sn.ErrMetadataNotFound) {
		t.Fatalf("pair proof of a pair not held: %v", err)
	}
	if _, err := e.Node.RecoverySymbols(id, []sn.SymbolID{{Primary: pair, Secondary: 0}}, nil); err != nil {
		t.Fatalf("recovery symbols: %v", err)
	}

	// The full metadata is assembled from peers when asked for, and a forged copy is
	// refused.
	forged := *b.Metadata
	forged.Hashes = append([]redstuff.PairHashes(nil), b.Metadata.Hashes...)
	forged.Hashes[0].Primary[0] ^= 1
	peers.full[id] = &forged
	if _, err := e.Node.MetadataBytes(context.Background(), id); !errors.Is(err, sn.ErrMetadataNotFound) {
		t.Fatalf("forged metadata from peers: %v", err)
	}
	peers.full[id] = b.Metadata
	got, err := e.Node.MetadataBytes(context.Background(), id)
	if err != nil || !bytes.Equal(got, b.Metadata.Bytes()) {
		t.Fatalf("assembled metadata: %v", err)
	}

	// A shard the node does not hold needs the full metadata before its slivers.
	need, err := e.Node.NeedsMetadata(id, uint16((int(pm.Pairs[1])+5)%10))
	if err != nil || !need {
		t.Fatalf("NeedsMetadata for another shard = %v, %v", need, err)
	}
	if need, err := e.Node.NeedsMetadata(id, 2); err != nil || need {
		t.Fatalf("NeedsMetadata for an owned shard = %v, %v", need, err)
	}
}

// TestPartialMetadataForgedUpload is the attack: metadata whose hashes do not derive the
// blob ID is refused, so no partial copy of it is stored.
func TestPartialMetadataForgedUpload(t *testing.T) {
	e := nodetest.New(t, 10, []uint16{2, 3})
	e.Node.SetMetadataPeers(&fakePeers{})
	b := e.Blob(3000, 22)
	id := b.Metadata.BlobID
	e.Register(b, nodetest.ObjectID(1), 5, false)
	forged := *b.Metadata
	forged.Hashes = append([]redstuff.PairHashes(nil), b.Metadata.Hashes...)
	forged.Hashes[e.PairOf(b, 2)].Secondary[3] ^= 1
	if _, err := e.Node.NewUpload(id, &forged); !errors.Is(err, sn.ErrInvalidMetadata) {
		t.Fatalf("forged metadata: %v", err)
	}
	if ok, _ := e.Store.HasMetadata(id); ok {
		t.Fatal("forged metadata stored")
	}
}
