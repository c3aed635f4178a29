package storagenode_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

func TestSyncShardMessage(t *testing.T) {
	req := sn.SyncShardRequest{Shard: 513, Axis: redstuff.Secondary, From: redstuff.BlobID{1, 2, 3}, Count: 1000, Epoch: 7}
	msg := sn.SyncShardMessage(req)
	// intent (3, 0, 3) ‖ epoch ‖ V1 ‖ shard ‖ sliver type ‖ blob ID ‖ count ‖ epoch
	want := []byte{3, 0, 3, 7, 0, 0, 0, 0, 1, 2, 1}
	want = append(want, req.From[:]...)
	want = append(want, 0xe8, 3, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0)
	if !bytes.Equal(msg, want) {
		t.Fatalf("message %x, want %x", msg, want)
	}
	got, err := sn.ParseSyncShardMessage(msg)
	if err != nil || got != req {
		t.Fatalf("parse: %+v, %v", got, err)
	}
	key := nodetest.Key(t, 5)
	signed := sn.SignSyncShard(key, req)
	dec, err := sn.DecodeSignedMessage(sn.EncodeSignedMessage(signed))
	if err != nil || !bytes.Equal(dec.Message, signed.Message) || !dec.Signature.Equal(signed.Signature) {
		t.Fatalf("signed message round trip: %v", err)
	}
	if r, err := sn.VerifySyncShard(dec, key.PublicKey()); err != nil || r != req {
		t.Fatalf("verify: %+v, %v", r, err)
	}
	if _, err := sn.VerifySyncShard(dec, nodetest.Key(t, 6).PublicKey()); !errors.Is(err, sn.ErrUnauthorized) {
		t.Fatalf("verify under another key: %v, want ErrUnauthorized", err)
	}

	bad := map[string][]byte{
		"intent":        append([]byte{1}, msg[1:]...),
		"version":       append([]byte{3, 1}, msg[2:]...),
		"app":           append([]byte{3, 0, 2}, msg[3:]...),
		"epochs differ": append(append([]byte{}, msg[:len(msg)-4]...), 8, 0, 0, 0),
		"variant":       append(append(append([]byte{}, msg[:7]...), 1), msg[8:]...),
		"sliver type":   append(append(append([]byte{}, msg[:10]...), 2), msg[11:]...),
		"trailing":      append(append([]byte{}, msg...), 0),
		"truncated":     msg[:len(msg)-1],
		"empty":         nil,
	}
	for name, b := range bad {
		if _, err := sn.ParseSyncShardMessage(b); !errors.Is(err, sn.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	enc := sn.EncodeSignedMessage(signed)
	for name, b := range map[string][]byte{
		"trailing":  append(append([]byte{}, enc...), 0),
		"truncated": enc[:len(enc)-1],
		"bad point": append(append([]byte{}, enc[:len(enc)-96]...), make([]byte, 96)...),
	} {
		if _, err := sn.DecodeSignedMessage(b); !errors.Is(err, sn.ErrMalformed) {
			t.Errorf("signed message %s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestShardSliversRoundTrip(t *testing.T) {
	e := nodetest.New(t, 7, []uint16{0, 1, 2})
	var ids []redstuff.BlobID
	for i := range 5 {
		b := e.Blob(2000+i*100, uint64(i))
		e.Register(b, nodetest.ObjectID(i), 5, false)
		u, err := e.Node.NewUpload(b.Metadata.BlobID, b.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range e.OwnedPairs(b) {
			u.Add(t.Context(), p.Index, &p.Primary, p.Primary.Bytes())
			u.Add(t.Context(), p.Index, &p.Secondary, p.Secondary.Bytes())
		}
		if _, err := u.Commit(); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.Metadata.BlobID)
	}
	// Page through shard 1 two slivers at a time.
	var got []sn.ShardSliver
	var from redstuff.BlobID
	for {
		page, err := e.Node.ShardSlivers(sn.SyncShardRequest{Shard: 1, Axis: redstuff.Secondary, From: from, Count: 2, Epoch: 1}, 1000, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 2 {
			t.Fatalf("page of %d slivers, asked for 2", len(page))
		}
		body := sn.EncodeShardSlivers(redstuff.Secondary, page)
		items, slivers, err := sn.DecodeShardSlivers(body, redstuff.Secondary, 2, 1<<16)
		if err != nil || len(items) != len(page) {
			t.Fatalf("decode: %d items, %v", len(items), err)
		}
		for i := range items {
			if items[i].BlobID != page[i].BlobID || !bytes.Equal(items[i].Sliver, page[i].Sliver) || slivers[i].Axis != redstuff.Secondary {
				t.Fatalf("item %d differs after the round trip", i)
			}
		}
		got = append(got, page...)
		from = page[len(page)-1].BlobID
		from[31]++ // IDs here never end in 0xff
	}
	if len(got) != len(ids) {
		t.Fatalf("%d slivers in shard 1, want %d", len(got), len(ids))
	}
	// The byte cap holds at least one sliver per answer.
	page, err := e.Node.ShardSlivers(sn.SyncShardRequest{Shard: 1, Axis: redstuff.Primary, Count: 100, Epoch: 1}, 1000, 1)
	if err != nil || len(page) != 1 {
		t.Fatalf("byte-capped page: %d slivers, %v", len(page), err)
	}
	for name, tc := range map[string]struct {
		req  sn.SyncShardRequest
		want error
	}{
		"future epoch":    {sn.SyncShardRequest{Shard: 1, Count: 1, Epoch: 2}, sn.ErrInvalidEpoch},
		"shard not held":  {sn.SyncShardRequest{Shard: 5, Count: 1, Epoch: 1}, sn.ErrShardNotAssigned},
		"shard too large": {sn.SyncShardRequest{Shard: 7, Count: 1, Epoch: 1}, sn.ErrIndexOutOfRange},
	} {
		if _, err := e.Node.ShardSlivers(tc.req, 10, 1<<20); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	// Wrong axis and disorder in answers are refused.
	body := sn.EncodeShardSlivers(redstuff.Secondary, got[:2])
	if _, _, err := sn.DecodeShardSlivers(body, redstuff.Primary, 10, 1<<16); !errors.Is(err, sn.ErrMalformed) {
		t.Errorf("answer of the wrong axis: %v", err)
	}
	body = sn.EncodeShardSlivers(redstuff.Secondary, []sn.ShardSliver{got[1], got[0]})
	if _, _, err := sn.DecodeShardSlivers(body, redstuff.Secondary, 10, 1<<16); !errors.Is(err, sn.ErrMalformed) {
		t.Errorf("answer out of order: %v", err)
	}
	if _, _, err := sn.DecodeShardSlivers(sn.EncodeShardSlivers(redstuff.Secondary, got), redstuff.Secondary, 2, 1<<16); !errors.Is(err, sn.ErrMalformed) {
		t.Errorf("answer with too many slivers: %v", err)
	}
}

// TestStoreShardSlivers stores slivers received by shard sync into a node that gained a
// shard: valid ones are stored with their metadata, bad and unregistered ones are refused
// one by one, and a shard the node does not own is refused whole.
func TestStoreShardSlivers(t *testing.T) {
	e := nodetest.New(t, 7, []uint16{0})
	e.Apply(sn.EpochChangeStart{Epoch: 2, Shards: []uint16{0, 3}})
	if st := e.Node.ShardStatus(3); st != store.ShardActiveSync {
		t.Fatalf("gained shard is %s, want ActiveSync", st)
	}
	good := e.Blob(3000, 1)
	other := e.Blob(3000, 2)
	unregistered := e.Blob(3000, 3)
	e.Register(good, nodetest.ObjectID(1), 9, false)
	e.Register(other, nodetest.ObjectID(2), 9, false)
	item := func(b *redstuff.EncodedBlob, a redstuff.Axis, withMeta bool) sn.SyncedSliver {
		p := b.Pairs[e.PairOf(b, 3)]
		s := p.Primary
		if a == redstuff.Secondary {
			s = p.Secondary
		}
		it := sn.SyncedSliver{BlobID: b.Metadata.BlobID, Sliver: &s, Encoded: s.Bytes()}
		if withMeta {
			it.Metadata = b.Metadata
		}
		return it
	}
	corrupt := item(other, redstuff.Primary, true)
	bad := *corrupt.Sliver
	bad.Data = bytes.Clone(bad.Data)
	bad.Data[0] ^= 1
	corrupt.Sliver, corrupt.Encoded = &bad, bad.Bytes()
	items := []sn.SyncedSliver{
		item(good, redstuff.Primary, true),
		item(good, redstuff.Secondary, false), // metadata comes with the first item
		corrupt,
		item(unregistered, redstuff.Primary, true),
		item(other, redstuff.Secondary, false), // no metadata stored or given
	}
	errs, err := e.Node.StoreShardSlivers(3, items)
	if err != nil {
		t.Fatal(err)
	}
	want := []error{nil, sn.ErrMissingMetadata, sn.ErrInvalidSliver, sn.ErrNotRegistered, sn.ErrMissingMetadata}
	for i := range want {
		if !errors.Is(errs[i], want[i]) || (want[i] == nil) != (errs[i] == nil) {
			t.Errorf("item %d: %v, want %v", i, errs[i], want[i])
		}
	}
	// The secondary sliver of the good blob, now that its metadata is stored.
	errs, err = e.Node.StoreShardSlivers(3, []sn.SyncedSliver{item(good, redstuff.Secondary, false)})
	if err != nil || errs[0] != nil {
		t.Fatalf("second page: %v, %v", errs, err)
	}
	for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
		if st, err := e.Node.SliverStatus(good.Metadata.BlobID, e.PairOf(good, 3), a); err != nil || st != sn.StatusStored {
			t.Fatalf("%s sliver of the synced blob: %s, %v", a, st, err)
		}
	}
	// The sync finishes only from a sync status.
	if ok, err := e.Node.SwapShardStatus(3, store.ShardActiveRecover, store.ShardActive); ok || err != nil {
		t.Fatalf("swap from the wrong status: %v, %v", ok, err)
	}
	if ok, err := e.Node.SwapShardStatus(3, store.ShardActiveSync, store.ShardActive); !ok || err != nil || e.Node.ShardStatus(3) != store.ShardActive {
		t.Fatalf("swap: %v, %v", ok, err)
	}
	if _, err := e.Node.SwapShardStatus(3, store.ShardActive, store.ShardNone); !errors.Is(err, sn.ErrMalformed) {
		t.Fatalf("swap to None: %v", err)
	}
	if _, err := e.Node.StoreShardSlivers(5, items[:1]); !errors.Is(err, sn.ErrShardNotAssigned) {
		t.Fatalf("store into a shard not owned: %v", err)
	}
	e.Apply(sn.EpochChangeStart{Epoch: 3, Shards: []uint16{3}})
	if _, err := e.Node.StoreShardSlivers(0, items[:1]); !errors.Is(err, sn.ErrShardLocked) {
		t.Fatalf("store into a locked shard: %v", err)
	}
}

// TestNeedsSync follows what blob sync must fetch as a blob is registered, certified,
// partly stored and deleted.
func TestNeedsSync(t *testing.T) {
	e := nodetest.New(t, 7, []uint16{1, 4})
	b := e.Blob(4000, 1)
	id := b.Metadata.BlobID
	need := func() sn.SyncNeed {
		t.Helper()
		n, err := e.Node.NeedsSync(id, nil)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := need(); n.Certified || !n.Done() {
		t.Fatalf("unknown blob: %+v", n)
	}
	e.Register(b, nodetest.ObjectID(1), 5, true)
	if n := need(); n.Certified || !n.Done() {
		t.Fatalf("registered blob: %+v", n)
	}
	e.Apply(sn.BlobCertified{Epoch: 1, BlobID: id, ObjectID: nodetest.ObjectID(1), EndEpoch: 5, Deletable: true})
	if n := need(); !n.Certified || !n.MetadataMissing || len(n.Slivers) != 4 || n.Done() {
		t.Fatalf("certified blob: %+v", n)
	}
	ids, _, more, err := e.Node.CertifiedBlobs(redstuff.BlobID{}, 10)
	if err != nil || len(ids) != 1 || ids[0] != id || more {
		t.Fatalf("certified blobs: %v, %v, %v", ids, more, err)
	}
	// Recovered slivers of one shard (AddVerified skips the verification).
	u, err := e.Node.NewUpload(id, b.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	p := b.Pairs[e.PairOf(b, 4)]
	if err := u.AddVerified(p.Index, &p.Primary, p.Primary.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := u.AddVerified(p.Index, &p.Secondary, p.Secondary.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := u.AddVerified(e.PairOf(b, 2), &p.Primary, p.Primary.Bytes()); !errors.Is(err, sn.ErrShardNotAssigned) {
		t.Fatalf("AddVerified for a shard not owned: %v", err)
	}
	if _, err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := need(); n.MetadataMissing || len(n.Slivers) != 2 || n.Slivers[0].Shard != 1 {
		t.Fatalf("partly stored blob: %+v", n)
	}
	if n, err := e.Node.NeedsSync(id, []uint16{4}); err != nil || !n.Done() {
		t.Fatalf("shard 4 only: %+v, %v", n, err)
	}
	e.Apply(sn.BlobDeleted{Epoch: 1, BlobID: id, ObjectID: nodetest.ObjectID(1), EndEpoch: 5, WasCertified: true})
	if n := need(); n.Certified || !n.Done() {
		t.Fatalf("deleted blob: %+v", n)
	}
	if ids, _, _, _ := e.Node.CertifiedBlobs(redstuff.BlobID{}, 10); len(ids) != 0 {
		t.Fatalf("certified blobs after the deletion: %v", ids)
	}
}
