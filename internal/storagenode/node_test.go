package storagenode_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
)

func TestUploadAcceptance(t *testing.T) {
	ctx := context.Background()
	e := nodetest.New(t, 10, []uint16{0, 1, 2, 3})
	b := e.Blob(5000, 7)
	id := b.Metadata.BlobID

	if _, err := e.Node.NewUpload(id, b.Metadata); !errors.Is(err, sn.ErrNotRegistered) {
		t.Fatalf("unregistered: %v", err)
	}
	e.Register(b, nodetest.ObjectID(1), 5, false)
	if _, err := e.Node.NewUpload(id, nil); !errors.Is(err, sn.ErrMissingMetadata) {
		t.Fatalf("sliver before metadata: %v", err)
	}
	other := e.Blob(5000, 8)
	if _, err := e.Node.NewUpload(id, other.Metadata); !errors.Is(err, sn.ErrInvalidMetadata) {
		t.Fatalf("metadata of another blob: %v", err)
	}
	bad := *b.Metadata
	bad.Hashes = append([]redstuff.PairHashes(nil), b.Metadata.Hashes...)
	bad.Hashes[3].Primary[0] ^= 1
	if _, err := e.Node.NewUpload(id, &bad); !errors.Is(err, sn.ErrInvalidMetadata) {
		t.Fatalf("tampered metadata: %v", err)
	}
	bad = *b.Metadata
	bad.EncodingType = 0
	if _, err := e.Node.NewUpload(id, &bad); !errors.Is(err, sn.ErrUnsupportedEncoding) {
		t.Fatalf("RaptorQ metadata: %v", err)
	}

	u, err := e.Node.NewUpload(id, b.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	owned := e.OwnedPairs(b)
	p := owned[0]
	if err := u.Add(ctx, e.UnownedPair(b), &b.Pairs[e.UnownedPair(b)].Primary, nil); !errors.Is(err, sn.ErrShardNotAssigned) {
		t.Fatalf("unowned pair: %v", err)
	}
	if err := u.Add(ctx, p.Index, &b.Pairs[(p.Index+1)%10].Primary, nil); !errors.Is(err, sn.ErrInvalidSliver) {
		t.Fatalf("sliver of another pair: %v", err)
	}
	if err := u.Add(ctx, 10, &p.Primary, nil); !errors.Is(err, sn.ErrIndexOutOfRange) {
		t.Fatalf("pair out of range: %v", err)
	}
	if err := u.Add(ctx, p.Index, &p.Primary, p.Primary.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := u.Add(ctx, p.Index, &p.Primary, p.Primary.Bytes()); !errors.Is(err, sn.ErrMalformed) {
		t.Fatalf("same sliver twice: %v", err)
	}
	tampered := p.Secondary
	tampered.Data = bytes.Clone(tampered.Data)
	tampered.Data[0] ^= 1
	if err := u.Add(ctx, p.Index, &tampered, tampered.Bytes()); err != nil {
		t.Fatal(err) // verification is asynchronous
	}
	before := e.Fingerprint(t)
	if _, err := u.Commit(); !errors.Is(err, sn.ErrInvalidSliver) {
		t.Fatalf("commit with a tampered sliver: %v", err)
	}
	if e.Fingerprint(t) != before {
		t.Fatal("a failed upload changed the store")
	}
	u.Abort()

	// A good upload, then the same again: nothing new.
	storeAll(t, e, b)
	u, _ = e.Node.NewUpload(id, b.Metadata)
	for _, p := range owned {
		u.Add(ctx, p.Index, &p.Primary, p.Primary.Bytes())
	}
	res, err := u.Commit()
	if err != nil || res.Created() || res.SliversPresent != len(owned) {
		t.Fatalf("repeated upload: %+v, %v", res, err)
	}
	for _, p := range owned {
		got, err := e.Node.Sliver(id, p.Index, redstuff.Secondary)
		if err != nil || !bytes.Equal(got, p.Secondary.Bytes()) {
			t.Fatalf("Sliver(%d, secondary): %v", p.Index, err)
		}
	}
	if _, err := e.Node.Sliver(id, e.UnownedPair(b), redstuff.Primary); !errors.Is(err, sn.ErrShardNotAssigned) {
		t.Fatalf("read of an unowned shard: %v", err)
	}

	// After an epoch change the lost shard is locked: reads work, writes do not.
	lost := uint16(0)
	e.Apply(sn.EpochChangeStart{Epoch: 2, Shards: []uint16{1, 2, 3}})
	b2 := e.Blob(3000, 9)
	e.Register(b2, nodetest.ObjectID(2), 5, false)
	u, _ = e.Node.NewUpload(b2.Metadata.BlobID, b2.Metadata)
	lp := e.PairOf(b2, lost)
	if err := u.Add(ctx, lp, &b2.Pairs[lp].Primary, nil); !errors.Is(err, sn.ErrShardLocked) {
		t.Fatalf("write to a locked shard: %v", err)
	}
	u.Abort()
	if _, err := e.Node.Sliver(id, e.PairOf(b, lost), redstuff.Primary); err != nil {
		t.Fatalf("read of a locked shard: %v", err)
	}

	// An upload that races with the blob's invalidation is refused at commit.
	u, _ = e.Node.NewUpload(b2.Metadata.BlobID, b2.Metadata)
	e.Apply(sn.BlobInvalid{Epoch: 2, BlobID: b2.Metadata.BlobID})
	if _, err := u.Commit(); !errors.Is(err, sn.ErrInvalidBlob) {
		t.Fatalf("commit after invalidation: %v", err)
	}
}

func TestConfirmation(t *testing.T) {
	e := nodetest.New(t, 7, []uint16{2, 4, 6})
	b := e.Blob(4000, 11)
	id := b.Metadata.BlobID
	obj := nodetest.ObjectID(5)

	if _, err := e.Node.Confirm(id, sn.Persistence{}); !errors.Is(err, sn.ErrNotRegistered) {
		t.Fatalf("unregistered: %v", err)
	}
	e.Register(b, obj, 4, true)
	if _, err := e.Node.Confirm(id, sn.Persistence{}); !errors.Is(err, sn.ErrNotRegistered) {
		t.Fatalf("permanent confirmation of a deletable-only blob: %v", err)
	}
	del := sn.Persistence{Deletable: true, ObjectID: obj}
	if _, err := e.Node.Confirm(id, del); !errors.Is(err, sn.ErrMissingSlivers) {
		t.Fatalf("nothing stored: %v", err)
	}
	// All but one sliver: still refused.
	u, _ := e.Node.NewUpload(id, b.Metadata)
	owned := e.OwnedPairs(b)
	for i, p := range owned {
		u.Add(context.Background(), p.Index, &p.Primary, p.Primary.Bytes())
		if i > 0 {
			u.Add(context.Background(), p.Index, &p.Secondary, p.Secondary.Bytes())
		}
	}
	if _, err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Node.Confirm(id, del); !errors.Is(err, sn.ErrMissingSlivers) {
		t.Fatalf("one sliver missing: %v", err)
	}
	storeAll(t, e, b)
	if _, err := e.Node.Confirm(id, sn.Persistence{Deletable: true, ObjectID: nodetest.ObjectID(6)}); !errors.Is(err, sn.ErrNotRegistered) {
		t.Fatalf("unknown object: %v", err)
	}
	msg, err := e.Node.Confirm(id, del)
	if err != nil {
		t.Fatal(err)
	}
	// The exact bytes: intent (1, 0, 3), epoch 1 LE, blob ID, variant 1, object ID.
	want := append([]byte{1, 0, 3, 1, 0, 0, 0}, id[:]...)
	want = append(append(want, 1), obj[:]...)
	if !bytes.Equal(msg.Message, want) || len(msg.Message) != 72 {
		t.Fatalf("message %x\nwant    %x", msg.Message, want)
	}
	if err := bls.Verify(e.Key.PublicKey(), want, msg.Signature); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if err := bls.Verify(nodetest.Key(t, 2).PublicKey(), want, msg.Signature); err == nil {
		t.Fatal("signature verifies under another key")
	}

	// Permanent: 40 bytes ending in variant 0, at the current epoch.
	e.Register(b, nodetest.ObjectID(7), 9, false)
	e.Apply(sn.EpochChangeStart{Epoch: 4, Shards: []uint16{2, 4, 6}})
	msg, err = e.Node.Confirm(id, sn.Persistence{})
	if err != nil {
		t.Fatal(err)
	}
	want = append(append([]byte{1, 0, 3, 4, 0, 0, 0}, id[:]...), 0)
	if !bytes.Equal(msg.Message, want) || msg.Verify(e.Key.PublicKey()) != nil {
		t.Fatalf("permanent confirmation %x, want %x", msg.Message, want)
	}
	if _, err := e.Node.Confirm(id, del); !errors.Is(err, sn.ErrBlobExpired) {
		t.Fatalf("expired deletable registration: %v", err)
	}
	// A newly gained shard without the blob's slivers blocks confirmations.
	e.Apply(sn.EpochChangeStart{Epoch: 4, Shards: []uint16{2, 4, 6, 1}})
	if _, err := e.Node.Confirm(id, sn.Persistence{}); !errors.Is(err, sn.ErrMissingSlivers) {
		t.Fatalf("gained shard without slivers: %v", err)
	}
}

func TestRecoverySymbolsRecoverSlivers(t *testing.T) {
	const n = 7
	e := nodetest.New(t, n, []uint16{0, 1, 2, 3, 4, 5, 6})
	b := e.Blob(6000, 12)
	id := b.Metadata.BlobID
	e.Register(b, nodetest.ObjectID(1), 5, false)
	storeAll(t, e, b)

	for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
		for target := 0; target < n; target++ {
			syms, err := e.Node.RecoverySymbolsFor(id, a, target)
			if err != nil {
				t.Fatal(err)
			}
			if len(syms) != n {
				t.Fatalf("%d symbols for %s %d, want %d", len(syms), a, target, n)
			}
			for i := range syms {
				if err := e.Enc.VerifyRecoverySymbol(b.Metadata, &syms[i]); err != nil {
					t.Fatal(err)
				}
			}
			s, err := e.Enc.RecoverSliver(b.Metadata, a, target, syms)
			if err != nil {
				t.Fatal(err)
			}
			want := b.Pairs[target].Primary
			if a == redstuff.Secondary {
				want = b.Pairs[n-1-target].Secondary
			}
			if !bytes.Equal(s.Data, want.Data) {
				t.Fatalf("recovered %s sliver %d differs", a, target)
			}
		}
	}

	// By ID, with and without a proof axis.
	sec := redstuff.Secondary
	syms, err := e.Node.RecoverySymbols(id, []sn.SymbolID{{3, 5}, {3, 5}, {6, 0}}, nil)
	if err != nil || len(syms) != 2 || syms[0].ID() != "3-5" || syms[0].Axis != redstuff.Secondary {
		t.Fatalf("by ID: %v %+v", err, syms)
	}
	syms, err = e.Node.RecoverySymbols(id, []sn.SymbolID{{3, 5}}, &sec)
	if err != nil || syms[0].Axis != redstuff.Primary || syms[0].ID() != "3-5" || e.Enc.VerifyRecoverySymbol(b.Metadata, &syms[0]) != nil {
		t.Fatalf("by ID from the secondary axis: %v %+v", err, syms)
	}
	if _, err := e.Node.RecoverySymbols(id, []sn.SymbolID{{7, 0}}, nil); !errors.Is(err, sn.ErrIndexOutOfRange) {
		t.Fatalf("out of range: %v", err)
	}
	if _, err := e.Node.RecoverySymbols(id, nil, nil); !errors.Is(err, sn.ErrNoSymbols) {
		t.Fatalf("no IDs: %v", err)
	}
	if _, err := e.Node.RecoverySymbolsFor(e.Blob(10, 1).Metadata.BlobID, redstuff.Primary, 0); !errors.Is(err, sn.ErrMetadataNotFound) {
		t.Fatalf("unknown blob: %v", err)
	}
}

func TestRecoverySymbolsOfPartialNode(t *testing.T) {
	e := nodetest.New(t, 10, []uint16{4})
	b := e.Blob(2000, 13)
	id := b.Metadata.BlobID
	e.Register(b, nodetest.ObjectID(1), 5, false)
	if err := func() error {
		u, err := e.Node.NewUpload(id, b.Metadata)
		if err != nil {
			return err
		}
		_, err = u.Commit()
		return err
	}(); err != nil {
		t.Fatal(err)
	}
	p := e.PairOf(b, 4)
	if _, err := e.Node.RecoverySymbolsFor(id, redstuff.Primary, 0); !errors.Is(err, sn.ErrSliverNotFound) {
		t.Fatalf("slivers not stored: %v", err)
	}
	storeAll(t, e, b)
	syms, err := e.Node.RecoverySymbolsFor(id, redstuff.Primary, 0)
	if err != nil || len(syms) != 1 || syms[0].Index != 10-1-p {
		t.Fatalf("one shard: %v %+v", err, syms)
	}
	other := (p + 1) % 10
	if _, err := e.Node.RecoverySymbols(id, []sn.SymbolID{{other, 10 - 1 - other}}, nil); !errors.Is(err, sn.ErrSymbolNotPresent) {
		t.Fatalf("symbol of other shards: %v", err)
	}
}

func TestInconsistencyAttestation(t *testing.T) {
	e := nodetest.New(t, 7, []uint16{0, 1, 2, 3, 4, 5, 6})
	b, bad := nodetest.Inconsistent(t, e.Enc, 3000, 14)
	id := b.Metadata.BlobID
	proof := nodetest.InconsistencyProof(t, e.Enc, b, bad)
	if _, err := e.Node.VerifyInconsistency(context.Background(), id, proof); !errors.Is(err, sn.ErrMissingMetadata) {
		t.Fatalf("without metadata: %v", err)
	}
	e.Register(b, nodetest.ObjectID(1), 5, false)
	storeAll(t, e, b) // every sliver verifies on its own
	msg, err := e.Node.VerifyInconsistency(context.Background(), id, proof)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{2, 0, 3, 1, 0, 0, 0}, id[:]...)
	if !bytes.Equal(msg.Message, want) || msg.Verify(e.Key.PublicKey()) != nil {
		t.Fatalf("attestation %x, want %x", msg.Message, want)
	}
	// A proof of a consistent sliver proves nothing.
	good := *proof
	good.Target = 0
	good.Symbols = nil
	for j := 0; j < e.Enc.RecoverySymbolsNeeded(redstuff.Primary); j++ {
		s := b.Pairs[7-1-j].Secondary
		x, _ := e.Enc.Expand(b.Metadata, &s)
		sym, _ := x.RecoverySymbol(0)
		good.Symbols = append(good.Symbols, sym)
	}
	if _, err := e.Node.VerifyInconsistency(context.Background(), id, &good); !errors.Is(err, sn.ErrInvalidProof) {
		t.Fatalf("consistent proof: %v", err)
	}
}

func TestHealth(t *testing.T) {
	e := nodetest.New(t, 7, []uint16{1, 2})
	e.Apply(sn.EpochChangeStart{Epoch: 2, Shards: []uint16{2, 3}})
	h := e.Node.Health(true)
	pk := e.Key.PublicKey().Bytes()
	if h.Epoch != 2 || h.NodeStatus != "Active" || !bytes.Equal(h.PublicKey, pk[:]) ||
		h.EventProgress.Persisted != 2 || *h.EventProgress.HighestFinishedEventIndex != 1 ||
		h.ShardSummary != (sn.ShardSummary{Owned: 2, OwnedShardStatus: sn.OwnedShardStatus{Ready: 1, InTransfer: 1}, ReadOnly: 1}) {
		t.Fatalf("health %+v", h)
	}
	if h := e.Node.Health(false); h.ShardDetail != nil {
		t.Fatal("detail without asking")
	}
}

// TestConcurrentUploadsAndEvents runs uploads of many blobs while events register,
// invalidate and delete them, and checks afterwards that no data of a blob without a live
// registration survived (the race detector checks the rest).
func TestConcurrentUploadsAndEvents(t *testing.T) {
	e := nodetest.New(t, 4, []uint16{0, 1, 2, 3})
	const blobs = 24
	encoded := make([]*redstuff.EncodedBlob, blobs)
	for i := range encoded {
		encoded[i] = e.Blob(64+i, uint64(100+i))
		e.Register(encoded[i], nodetest.ObjectID(i), 10, true)
	}
	var wg sync.WaitGroup
	for i := range encoded {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := encoded[i]
			u, err := e.Node.NewUpload(b.Metadata.BlobID, b.Metadata)
			if err != nil {
				return
			}
			for _, p := range e.OwnedPairs(b) {
				if u.Add(context.Background(), p.Index, &p.Primary, p.Primary.Bytes()) != nil ||
					u.Add(context.Background(), p.Index, &p.Secondary, p.Secondary.Bytes()) != nil {
					u.Abort()
					return
				}
			}
			u.Commit()
		}()
	}
	for i := range encoded {
		id := encoded[i].Metadata.BlobID
		switch i % 3 {
		case 0:
			e.Apply(sn.BlobInvalid{Epoch: 1, BlobID: id})
		case 1:
			e.Apply(sn.BlobDeleted{Epoch: 1, BlobID: id, ObjectID: nodetest.ObjectID(i)})
		}
	}
	wg.Wait()
	for i := range encoded {
		id := encoded[i].Metadata.BlobID
		if i%3 != 2 && hasData(t, e, id) {
			t.Fatalf("blob %d (removed by event %d) has data", i, i%3)
		}
		for _, sh := range []uint16{0, 1, 2, 3} {
			ok, _ := e.Store.HasSliver(sh, redstuff.Primary, id)
			if i%3 != 2 && ok {
				t.Fatalf("blob %d has a sliver in shard %d", i, sh)
			}
		}
	}
}

func TestConfigValidation(t *testing.T) {
	e := nodetest.New(t, 4, nil)
	for name, cfg := range map[string]sn.Config{
		"NShards":       {NShards: 3, Key: e.Key, Store: e.Store},
		"Key":           {NShards: 4, Store: e.Store},
		"Store":         {NShards: 4, Key: e.Key},
		"MaxSymbolSize": {NShards: 4, Key: e.Key, Store: e.Store, MaxSymbolSize: 3},
		"Encoding":      {NShards: 5, Key: e.Key, Store: e.Store, Encoding: e.Enc},
	} {
		if _, err := sn.New(cfg); err == nil || !bytes.Contains([]byte(err.Error()), []byte(name)) {
			t.Errorf("config with a bad %s: %v", name, err)
		}
	}
}
