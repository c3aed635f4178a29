package storagenode_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

func ptr(v uint32) *uint32 { return &v }

func ev(seq uint64) sn.EventID { return sn.EventID{TxDigest: [32]byte{byte(seq)}, Seq: seq} }

func status(t *testing.T, e *nodetest.Env, id redstuff.BlobID) sn.BlobStatus {
	t.Helper()
	s, err := e.Node.BlobStatus(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// storeAll stores metadata and every owned pair of b with one upload.
func storeAll(t *testing.T, e *nodetest.Env, b *redstuff.EncodedBlob) {
	t.Helper()
	u, err := e.Node.NewUpload(b.Metadata.BlobID, b.Metadata)
	if err != nil {
		t.Fatalf("NewUpload: %v", err)
	}
	for _, p := range e.OwnedPairs(b) {
		for _, s := range []*redstuff.Sliver{&p.Primary, &p.Secondary} {
			if err := u.Add(context.Background(), p.Index, s, s.Bytes()); err != nil {
				t.Fatalf("Add: %v", err)
			}
		}
	}
	if _, err := u.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func hasData(t *testing.T, e *nodetest.Env, id redstuff.BlobID) bool {
	t.Helper()
	st, err := e.Node.MetadataStatus(id)
	if err != nil {
		t.Fatal(err)
	}
	return st == sn.StatusStored
}

// TestBlobLifecycle walks a blob through the events of its life and checks the status
// after each, in Walrus's JSON form.
func TestBlobLifecycle(t *testing.T) {
	e := nodetest.New(t, 7, []uint16{0, 1, 2, 3, 4, 5, 6})
	b := e.Blob(1000, 1)
	id := b.Metadata.BlobID
	perm, del1, del2 := nodetest.ObjectID(1), nodetest.ObjectID(2), nodetest.ObjectID(3)
	zero := "0000000000000000000000000000000000000000000000000000000000000000"
	_ = zero

	steps := []struct {
		name string
		ev   sn.Event
		want sn.BlobStatus
		json string
	}{
		{"nothing", nil, sn.BlobStatus{}, `"nonexistent"`},
		{"deletable registered", sn.BlobRegistered{Epoch: 1, BlobID: id, ObjectID: del1, Size: 1000, EncodingType: 1, EndEpoch: 5, Deletable: true},
			sn.BlobStatus{Kind: sn.BlobStatusDeletable, Deletable: sn.DeletableCounts{Total: 1}},
			`{"deletable":{"initialCertifiedEpoch":null,"deletableCounts":{"count_deletable_total":1,"count_deletable_certified":0}}}`},
		{"deletable certified", sn.BlobCertified{Epoch: 1, BlobID: id, ObjectID: del1, EndEpoch: 5, Deletable: true},
			sn.BlobStatus{Kind: sn.BlobStatusDeletable, Deletable: sn.DeletableCounts{Total: 1, Certified: 1}, InitialCertifiedEpoch: ptr(1)}, ""},
		{"permanent registered", sn.BlobRegistered{Epoch: 1, BlobID: id, ObjectID: perm, Size: 1000, EncodingType: 1, EndEpoch: 4},
			sn.BlobStatus{Kind: sn.BlobStatusPermanent, EndEpoch: 4, Event: ev(3), Deletable: sn.DeletableCounts{Total: 1, Certified: 1}, InitialCertifiedEpoch: ptr(1)}, ""},
		{"permanent certified", sn.BlobCertified{Epoch: 1, BlobID: id, ObjectID: perm, EndEpoch: 4},
			sn.BlobStatus{Kind: sn.BlobStatusPermanent, EndEpoch: 4, IsCertified: true, Event: ev(4), Deletable: sn.DeletableCounts{Total: 1, Certified: 1}, InitialCertifiedEpoch: ptr(1)},
			`{"permanent":{"endEpoch":4,"isCertified":true,"statusEvent":{"txDigest":"GcdayuLaLyrdmUu324nahyv33G5poQdLUEZ1nEytDeP","eventSeq":"4"},"deletableCounts":{"count_deletable_total":1,"count_deletable_certified":1},"initialCertifiedEpoch":1}}`},
		{"permanent extended", sn.BlobCertified{Epoch: 1, BlobID: id, ObjectID: perm, EndEpoch: 9, IsExtension: true},
			sn.BlobStatus{Kind: sn.BlobStatusPermanent, EndEpoch: 9, IsCertified: true, Event: ev(5), Deletable: sn.DeletableCounts{Total: 1, Certified: 1}, InitialCertifiedEpoch: ptr(1)}, ""},
		{"second deletable", sn.BlobRegistered{Epoch: 1, BlobID: id, ObjectID: del2, Size: 1000, EncodingType: 1, EndEpoch: 3, Deletable: true},
			sn.BlobStatus{Kind: sn.BlobStatusPermanent, EndEpoch: 9, IsCertified: true, Event: ev(5), Deletable: sn.DeletableCounts{Total: 2, Certified: 1}, InitialCertifiedEpoch: ptr(1)}, ""},
		{"first deletable deleted", sn.BlobDeleted{Epoch: 1, BlobID: id, ObjectID: del1, EndEpoch: 5, WasCertified: true},
			sn.BlobStatus{Kind: sn.BlobStatusPermanent, EndEpoch: 9, IsCertified: true, Event: ev(5), Deletable: sn.DeletableCounts{Total: 1}, InitialCertifiedEpoch: ptr(1)}, ""},
		{"invalid", sn.BlobInvalid{Epoch: 1, BlobID: id},
			sn.BlobStatus{Kind: sn.BlobStatusInvalid, Event: ev(8)},
			`{"invalid":{"event":{"txDigest":"YEGAxog9gxiGXxo538aAQxq55XAebpFfwU72ZUxmSHm","eventSeq":"8"}}}`},
	}
	for i, s := range steps {
		if i == 0 {
			continue
		}
		if i == 3 {
			storeAll(t, e, b)
		}
		e.Apply(s.ev)
		got := status(t, e, id)
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Fatalf("after %s: status diff (-want +got):\n%s", s.name, diff)
		}
		if s.json != "" {
			j, _ := got.MarshalJSON()
			if string(j) != s.json {
				t.Fatalf("after %s: JSON\n%s\nwant\n%s", s.name, j, s.json)
			}
		}
		var back sn.BlobStatus
		j, _ := got.MarshalJSON()
		if err := back.UnmarshalJSON(j); err != nil || !cmp.Equal(back, got) {
			t.Fatalf("after %s: JSON round trip: %v, %+v", s.name, err, back)
		}
	}
	if hasData(t, e, id) {
		t.Fatal("the data of an invalid blob was kept")
	}
	if _, err := e.Node.NewUpload(id, b.Metadata); !errors.Is(err, sn.ErrInvalidBlob) {
		t.Fatalf("upload of an invalid blob: %v", err)
	}
}

func TestDeletionRemovesData(t *testing.T) {
	e := nodetest.New(t, 4, []uint16{0, 1})
	b := e.Blob(300, 2)
	id := b.Metadata.BlobID
	e.Register(b, nodetest.ObjectID(1), 10, true)
	e.Register(b, nodetest.ObjectID(2), 10, true)
	storeAll(t, e, b)
	e.Apply(sn.BlobDeleted{Epoch: 1, BlobID: id, ObjectID: nodetest.ObjectID(1), EndEpoch: 10})
	if !hasData(t, e, id) {
		t.Fatal("data deleted while a registration remains")
	}
	e.Apply(sn.BlobDeleted{Epoch: 1, BlobID: id, ObjectID: nodetest.ObjectID(2), EndEpoch: 10})
	if hasData(t, e, id) {
		t.Fatal("data kept after the last registration was deleted")
	}
	for _, sh := range []uint16{0, 1} {
		for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
			if ok, _ := e.Store.HasSliver(sh, a, id); ok {
				t.Fatalf("sliver %s in shard %d kept", a, sh)
			}
		}
	}
	if got := status(t, e, id); got.Kind != sn.BlobStatusNonexistent {
		t.Fatalf("status %+v, want nonexistent", got)
	}
	// A deletion of an unknown object changes nothing.
	before := e.Fingerprint(t)
	e.Apply(sn.BlobDeleted{Epoch: 1, BlobID: id, ObjectID: nodetest.ObjectID(9)})
	if after := e.Fingerprint(t); before == after {
		t.Fatal("the cursor did not move")
	}
}

func TestEventCursor(t *testing.T) {
	e := nodetest.New(t, 4, []uint16{0})
	b := e.Blob(100, 3)
	reg := sn.BlobRegistered{Epoch: 1, BlobID: b.Metadata.BlobID, ObjectID: nodetest.ObjectID(1), Size: 100, EncodingType: 1, EndEpoch: 5}
	if err := e.Node.ApplyEvent(sn.EventID{Seq: 10}, reg); err != nil {
		t.Fatal(err)
	}
	if c := e.Node.Cursor(); c != 11 {
		t.Fatalf("cursor %d, want 11", c)
	}
	// Redelivery of an applied event is skipped: the count stays 1.
	if err := e.Node.ApplyEvent(sn.EventID{Seq: 10}, reg); err != nil {
		t.Fatal(err)
	}
	info, _ := e.Store.BlobInfo(b.Metadata.BlobID)
	if info.PermanentTotal != 1 {
		t.Fatalf("replayed registration counted: %+v", info)
	}
	// Out of order: nothing applied.
	before := e.Fingerprint(t)
	err := e.Node.ApplyEvents([]sn.SequencedEvent{
		{ID: sn.EventID{Seq: 20}, Event: sn.BlobInvalid{BlobID: b.Metadata.BlobID}},
		{ID: sn.EventID{Seq: 15}, Event: nil},
	})
	if err == nil || e.Fingerprint(t) != before {
		t.Fatalf("out-of-order events: %v; store changed %v", err, e.Fingerprint(t) != before)
	}
	if err := e.Node.AdvanceCursor(30); err != nil || e.Node.Cursor() != 30 {
		t.Fatalf("AdvanceCursor: %v, cursor %d", err, e.Node.Cursor())
	}

	// The cursor, epoch and shards survive a restart.
	node2, err := sn.New(sn.Config{NShards: 4, Key: e.Key, Store: e.Store})
	if err != nil {
		t.Fatal(err)
	}
	if node2.Cursor() != 30 || node2.Epoch() != 1 || !cmp.Equal(node2.OwnedShards(), []uint16{0}) {
		t.Fatalf("after restart: cursor %d epoch %d shards %v", node2.Cursor(), node2.Epoch(), node2.OwnedShards())
	}
}

func TestEpochChange(t *testing.T) {
	e := nodetest.New(t, 7, []uint16{0, 1, 2})
	if e.Node.Status() != store.NodeActive {
		t.Fatalf("status %s", e.Node.Status())
	}
	e.Apply(sn.EpochChangeStart{Epoch: 2, Shards: []uint16{1, 2, 5, 6}})
	want := []store.ShardState{{Shard: 0, Status: store.ShardLockedToMove}, {Shard: 1, Status: store.ShardActive}, {Shard: 2, Status: store.ShardActive}, {Shard: 5, Status: store.ShardActiveSync}, {Shard: 6, Status: store.ShardActiveSync}}
	if diff := cmp.Diff(want, e.Node.Shards()); diff != "" {
		t.Fatalf("shards after epoch change (-want +got):\n%s", diff)
	}
	if e.Node.Epoch() != 2 || !cmp.Equal(e.Node.OwnedShards(), []uint16{1, 2, 5, 6}) {
		t.Fatalf("epoch %d owned %v", e.Node.Epoch(), e.Node.OwnedShards())
	}
	if err := e.Node.SetShardStatus(5, store.ShardActive); err != nil {
		t.Fatal(err)
	}
	if err := e.Node.DropShard(1); err == nil {
		t.Fatal("dropped an owned shard")
	}
	if err := e.Node.DropShard(0); err != nil {
		t.Fatal(err)
	}
	e.Apply(sn.EpochChangeDone{Epoch: 2}, sn.EpochChangeStart{Epoch: 3, Shards: nil})
	if e.Node.Status() != store.NodeStandby || len(e.Node.OwnedShards()) != 0 {
		t.Fatalf("status %s owned %v after losing every shard", e.Node.Status(), e.Node.OwnedShards())
	}
	h := e.Node.Health(true)
	if h.ShardSummary.ReadOnly != 4 || h.ShardSummary.Owned != 0 || len(h.ShardDetail.Other) != 4 {
		t.Fatalf("health %+v", h)
	}
	ns, _ := e.Store.NodeState()
	if ns.ChangeDoneEpoch != 2 || ns.Epoch != 3 {
		t.Fatalf("node state %+v", ns)
	}
}

func TestGarbageCollection(t *testing.T) {
	e := nodetest.New(t, 4, []uint16{0, 1, 2, 3})
	short, long, stale := e.Blob(200, 4), e.Blob(200, 5), e.Blob(200, 6)
	e.Register(short, nodetest.ObjectID(1), 3, false)
	e.Register(short, nodetest.ObjectID(2), 3, true)
	e.Register(long, nodetest.ObjectID(3), 3, true)
	e.Register(long, nodetest.ObjectID(4), 8, false)
	e.Register(stale, nodetest.ObjectID(5), 2, false)
	for _, b := range []*redstuff.EncodedBlob{short, long, stale} {
		storeAll(t, e, b)
	}
	e.Apply(sn.EpochChangeStart{Epoch: 3, Shards: []uint16{0, 1, 2, 3}})
	if _, err := e.Node.NewUpload(short.Metadata.BlobID, nil); !errors.Is(err, sn.ErrBlobExpired) {
		t.Fatalf("upload of an expired blob: %v", err)
	}
	if got := status(t, e, short.Metadata.BlobID); got.Kind != sn.BlobStatusNonexistent {
		t.Fatalf("status of an expired blob %+v", got)
	}
	stats, err := e.Node.CollectGarbage(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Registrations != 4 || stats.Blobs != 2 {
		t.Fatalf("stats %+v", stats)
	}
	if hasData(t, e, short.Metadata.BlobID) || hasData(t, e, stale.Metadata.BlobID) || !hasData(t, e, long.Metadata.BlobID) {
		t.Fatal("wrong data collected")
	}
	if _, err := e.Store.BlobInfo(short.Metadata.BlobID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("blob info of a collected blob: %v", err)
	}
	info, _ := e.Store.BlobInfo(long.Metadata.BlobID)
	if info.DeletableTotal != 0 || info.PermanentTotal != 1 {
		t.Fatalf("info of the surviving blob %+v", info)
	}
	// Idempotent.
	before := e.Fingerprint(t)
	if stats, err := e.Node.CollectGarbage(context.Background(), 3); err != nil || stats.Registrations != 0 || stats.Blobs != 0 || e.Fingerprint(t) != before {
		t.Fatalf("second collection: %+v, %v", stats, err)
	}
}

// TestGarbageCollectionLateRegistration pins the two orders in which a node can see a new
// registration made in the epoch at which the blob's only other registration ends, and
// the collection of that epoch. Applied before the collection, the new registration keeps
// the data; applied after, it finds the data gone (the blob was unregistered when the node
// collected) and the client has to upload again, which the node accepts. A test that
// expects a registration to keep a blob alive must therefore land it before the other one
// ends.
func TestGarbageCollectionLateRegistration(t *testing.T) {
	e := nodetest.New(t, 4, []uint16{0, 1, 2, 3})
	before, after := e.Blob(300, 7), e.Blob(300, 8)
	e.Register(before, nodetest.ObjectID(1), 3, false)
	e.Register(after, nodetest.ObjectID(2), 3, false)
	storeAll(t, e, before)
	storeAll(t, e, after)
	e.Apply(sn.EpochChangeStart{Epoch: 3, Shards: []uint16{0, 1, 2, 3}})
	e.Register(before, nodetest.ObjectID(3), 13, true)
	stats, err := e.Node.CollectGarbage(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Registrations != 2 || stats.Blobs != 1 {
		t.Fatalf("stats %+v", stats)
	}
	e.Register(after, nodetest.ObjectID(4), 13, true)
	if !hasData(t, e, before.Metadata.BlobID) {
		t.Fatal("collected the data of a blob registered again before the collection")
	}
	if hasData(t, e, after.Metadata.BlobID) {
		t.Fatal("data of a blob unregistered at the collection survived")
	}
	if got := status(t, e, after.Metadata.BlobID); got.Kind == sn.BlobStatusNonexistent {
		t.Fatalf("status of a blob registered after the collection %+v", got)
	}
	storeAll(t, e, after)
	if !hasData(t, e, after.Metadata.BlobID) {
		t.Fatal("upload after the late registration not stored")
	}
}
