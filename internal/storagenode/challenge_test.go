package storagenode_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
)

// challengeItems returns one item per (owned shard, axis, symbol) for blob b.
func challengeItems(e *nodetest.Env, b *redstuff.EncodedBlob, shards []uint16) []sn.ChallengeItem {
	var items []sn.ChallengeItem
	for i, sh := range shards {
		for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
			items = append(items, sn.ChallengeItem{Blob: b.Metadata.BlobID, Shard: sh, Axis: a, Symbol: uint16((3*i + int(a)) % e.N)})
		}
	}
	return items
}

func TestChallengeAnswersVerify(t *testing.T) {
	const n = 10
	shards := []uint16{0, 1, 2, 3}
	e := nodetest.New(t, n, shards)
	b := e.Blob(5000, 21)
	e.Register(b, nodetest.ObjectID(1), 5, false)
	storeAll(t, e, b)
	items := challengeItems(e, b, shards)

	if _, err := e.Node.ChallengeAnswers(3, 0, len(items)); !errors.Is(err, sn.ErrInvalidEpoch) {
		t.Fatalf("answers without a challenge: %v", err)
	}
	if err := e.Node.SetChallenge(sn.Challenge{Epoch: 3, Items: items}); err != nil {
		t.Fatal(err)
	}
	answers, err := e.Node.ChallengeAnswers(3, 0, 100)
	if err != nil || len(answers) != len(items) {
		t.Fatalf("answers: %d, %v", len(answers), err)
	}
	for i, it := range items {
		if err := e.Node.VerifyChallengeAnswer(it, answers[i]); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	// Round trip through the wire form.
	wire := sn.EncodeChallengeAnswers(answers)
	if len(wire) > sn.MaxChallengeAnswerBytes(len(answers), redstuff.MaxSymbolSize, n) {
		t.Fatalf("answers of %d bytes exceed the bound", len(wire))
	}
	back, err := sn.DecodeChallengeAnswers(wire, len(items), redstuff.MaxSymbolSize)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if err := sn.VerifyChallengeAnswer(e.Enc, b.Metadata, it, back[i]); err != nil {
			t.Fatalf("decoded item %d: %v", i, err)
		}
	}
	// Paging.
	page, err := e.Node.ChallengeAnswers(3, 2, 3)
	if err != nil || len(page) != 3 || e.Node.VerifyChallengeAnswer(items[2], page[0]) != nil {
		t.Fatalf("page: %d, %v", len(page), err)
	}
	if _, err := e.Node.ChallengeAnswers(3, len(items)+1, 1); !errors.Is(err, sn.ErrIndexOutOfRange) {
		t.Fatalf("start beyond the items: %v", err)
	}
	if _, err := e.Node.ChallengeAnswers(4, 0, 1); !errors.Is(err, sn.ErrInvalidEpoch) {
		t.Fatalf("answers for another epoch: %v", err)
	}

	// Wrong answers: another item's symbol, tampered data, none.
	if err := e.Node.VerifyChallengeAnswer(items[0], answers[1]); !errors.Is(err, sn.ErrChallengeFailed) {
		t.Fatalf("answer of another item: %v", err)
	}
	bad := *answers[0].Symbol
	bad.Data = append([]byte(nil), bad.Data...)
	bad.Data[0] ^= 1
	if err := e.Node.VerifyChallengeAnswer(items[0], sn.ChallengeAnswer{Symbol: &bad}); !errors.Is(err, sn.ErrChallengeFailed) {
		t.Fatalf("tampered answer: %v", err)
	}
	if err := e.Node.VerifyChallengeAnswer(items[0], sn.ChallengeAnswer{}); !errors.Is(err, sn.ErrChallengeFailed) {
		t.Fatalf("no answer: %v", err)
	}
	// A verifier without the metadata does not judge.
	other := e.Blob(3000, 22)
	it := sn.ChallengeItem{Blob: other.Metadata.BlobID, Shard: 0}
	if err := e.Node.VerifyChallengeAnswer(it, answers[0]); !errors.Is(err, sn.ErrMissingMetadata) {
		t.Fatalf("verify without metadata: %v", err)
	}
	// Bad items are refused.
	if err := e.Node.SetChallenge(sn.Challenge{Items: []sn.ChallengeItem{{Shard: n}}}); !errors.Is(err, sn.ErrIndexOutOfRange) {
		t.Fatalf("item out of range: %v", err)
	}
}

// TestChallengeWindow checks that a blob in the window is served by no route but its
// metadata, that other blobs stay readable, and that the node still answers its own
// challenge from its store.
func TestChallengeWindow(t *testing.T) {
	const n = 10
	shards := []uint16{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	e := nodetest.New(t, n, shards)
	b := e.Blob(5000, 31)
	free := e.Blob(5000, 32)
	for i, x := range []*redstuff.EncodedBlob{b, free} {
		e.Register(x, nodetest.ObjectID(i+1), 5, false)
		storeAll(t, e, x)
	}
	id := b.Metadata.BlobID
	items := challengeItems(e, b, shards[:2])
	if err := e.Node.SetChallenge(sn.Challenge{Epoch: 1, Items: items, Blocked: []redstuff.BlobID{id}}); err != nil {
		t.Fatal(err)
	}
	if got := e.Node.Challenge(); got.Epoch != 1 || len(got.Blocked) != 1 || got.Blocked[0] != id || len(got.Items) != len(items) {
		t.Fatalf("installed challenge: %+v", got)
	}
	routes := func(id redstuff.BlobID) map[string]error {
		_, sliver := e.Node.Sliver(id, 0, redstuff.Primary)
		_, byID := e.Node.RecoverySymbols(id, []sn.SymbolID{{1, 2}}, nil)
		_, forTarget := e.Node.RecoverySymbolsFor(id, redstuff.Secondary, 3)
		_, decoding := e.Node.DecodingSymbols(id, redstuff.Primary, []int{0}, 1<<20)
		return map[string]error{"sliver": sliver, "recovery symbols": byID, "recovery symbols for a target": forTarget, "decoding symbols": decoding}
	}
	for route, err := range routes(id) {
		if !errors.Is(err, sn.ErrChallenged) {
			t.Errorf("%s of a challenged blob: %v", route, err)
		}
	}
	for route, err := range routes(free.Metadata.BlobID) {
		if err != nil {
			t.Errorf("%s of a blob outside the window: %v", route, err)
		}
	}
	if _, err := e.Node.MetadataBytes(context.Background(), id); err != nil {
		t.Errorf("metadata of a challenged blob: %v", err)
	}
	answers, err := e.Node.ChallengeAnswers(1, 0, len(items))
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if err := e.Node.VerifyChallengeAnswer(it, answers[i]); err != nil {
			t.Fatalf("own answer in the window: %v", err)
		}
	}
	// Before the seed, every blob certified before the epoch is blocked; the others
	// stay readable.
	e.Apply(sn.BlobCertified{Epoch: e.Node.Epoch(), BlobID: free.Metadata.BlobID, ObjectID: nodetest.ObjectID(2), EndEpoch: 5})
	if err := e.Node.SetChallenge(sn.Challenge{Epoch: 9, BlockCertifiedBefore: 9}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Node.Sliver(free.Metadata.BlobID, 0, redstuff.Primary); !errors.Is(err, sn.ErrChallenged) {
		t.Fatalf("sliver of an indexed blob before the seed: %v", err)
	}
	if err := e.Node.SetChallenge(sn.Challenge{Epoch: 9, BlockCertifiedBefore: e.Node.Epoch()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Node.Sliver(free.Metadata.BlobID, 0, redstuff.Primary); err != nil {
		t.Fatalf("sliver of a blob certified in the epoch: %v", err)
	}
	// Ending the window serves the blob again.
	if err := e.Node.SetChallenge(sn.Challenge{Epoch: 1, Items: items}); err != nil {
		t.Fatal(err)
	}
	for route, err := range routes(id) {
		if err != nil {
			t.Errorf("%s after the window: %v", route, err)
		}
	}
}

// TestChallengeWindowShardSync checks that a shard sync page stops before a challenged
// blob and refuses a page that would start with one.
func TestChallengeWindowShardSync(t *testing.T) {
	const n = 10
	e := nodetest.New(t, n, []uint16{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	for i := range 3 {
		b := e.Blob(2000, uint64(40+i))
		e.Register(b, nodetest.ObjectID(i+1), 5, false)
		storeAll(t, e, b)
	}
	all, err := e.Node.ShardSlivers(sn.SyncShardRequest{Shard: 0, Axis: redstuff.Primary, Count: 10}, 10, 1<<20)
	if err != nil || len(all) != 3 {
		t.Fatalf("shard slivers: %d, %v", len(all), err)
	}
	blocked := all[1].BlobID
	if err := e.Node.SetChallenge(sn.Challenge{Epoch: 1, Blocked: []redstuff.BlobID{blocked}}); err != nil {
		t.Fatal(err)
	}
	page, err := e.Node.ShardSlivers(sn.SyncShardRequest{Shard: 0, Axis: redstuff.Primary, Count: 10}, 10, 1<<20)
	if err != nil || len(page) != 1 || page[0].BlobID != all[0].BlobID {
		t.Fatalf("page before a challenged blob: %d, %v", len(page), err)
	}
	if _, err := e.Node.ShardSlivers(sn.SyncShardRequest{Shard: 0, Axis: redstuff.Primary, From: blocked, Count: 10}, 10, 1<<20); !errors.Is(err, sn.ErrChallenged) {
		t.Fatalf("page starting at a challenged blob: %v", err)
	}
}

// TestChallengeWindowSyncOpen checks that the window leaves a shard whose owner changed at
// the challenge epoch open to sync by its new owner (the owner of that epoch), including
// while the whole index is closed before the seed, and keeps it closed to requests of any
// other epoch and for every other shard.
func TestChallengeWindowSyncOpen(t *testing.T) {
	const n = 10
	e := nodetest.New(t, n, []uint16{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	for i := range 3 {
		b := e.Blob(2000, uint64(60+i))
		e.Register(b, nodetest.ObjectID(i+1), 5, false)
		storeAll(t, e, b)
		e.Apply(sn.BlobCertified{Epoch: e.Node.Epoch(), BlobID: b.Metadata.BlobID, ObjectID: nodetest.ObjectID(i + 1), EndEpoch: 5})
	}
	ep := e.Node.Epoch()
	if ep == 0 {
		t.Fatal("the test needs a node past epoch 0")
	}
	all, err := e.Node.ShardSlivers(sn.SyncShardRequest{Shard: 0, Axis: redstuff.Primary, Count: 10, Epoch: ep}, 10, 1<<20)
	if err != nil || len(all) != 3 {
		t.Fatalf("shard slivers: %d, %v", len(all), err)
	}
	windows := map[string]sn.Challenge{
		"answer phase":    {Epoch: ep, Blocked: []redstuff.BlobID{all[0].BlobID, all[1].BlobID, all[2].BlobID}, SyncOpen: []uint16{0}},
		"before the seed": {Epoch: ep, BlockCertifiedBefore: ep + 1, SyncOpen: []uint16{0}},
	}
	for name, w := range windows {
		if err := e.Node.SetChallenge(w); err != nil {
			t.Fatal(err)
		}
		page, err := e.Node.ShardSlivers(sn.SyncShardRequest{Shard: 0, Axis: redstuff.Primary, Count: 10, Epoch: ep}, 10, 1<<20)
		if err != nil || len(page) != 3 {
			t.Fatalf("%s: the new owner's sync of an open shard: %d slivers, %v", name, len(page), err)
		}
		for i := range page {
			if page[i].BlobID != all[i].BlobID || !bytes.Equal(page[i].Sliver, all[i].Sliver) {
				t.Fatalf("%s: sliver %d differs", name, i)
			}
		}
		// The attack: the same shard asked for as its owner of an earlier epoch, or another
		// shard, is refused.
		if _, err := e.Node.ShardSlivers(sn.SyncShardRequest{Shard: 0, Axis: redstuff.Primary, Count: 10, Epoch: ep - 1}, 10, 1<<20); !errors.Is(err, sn.ErrChallenged) {
			t.Fatalf("%s: sync as an earlier epoch's owner: %v", name, err)
		}
		if _, err := e.Node.ShardSlivers(sn.SyncShardRequest{Shard: 1, Axis: redstuff.Primary, Count: 10, Epoch: ep}, 10, 1<<20); !errors.Is(err, sn.ErrChallenged) {
			t.Fatalf("%s: sync of a shard that did not move: %v", name, err)
		}
	}
	if got := e.Node.Challenge().SyncOpen; len(got) != 1 || got[0] != 0 {
		t.Fatalf("installed sync-open shards: %v", got)
	}
	if err := e.Node.SetChallenge(sn.Challenge{Epoch: ep, SyncOpen: []uint16{n}}); !errors.Is(err, sn.ErrIndexOutOfRange) {
		t.Fatalf("sync-open shard out of range: %v", err)
	}
}

// TestChallengeFaults checks the test fault modes: a lazy node's dropped slivers and a
// forger's answers fail verification.
func TestChallengeFaults(t *testing.T) {
	const n = 10
	shards := []uint16{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	e := nodetest.New(t, n, shards)
	b := e.Blob(5000, 51)
	e.Register(b, nodetest.ObjectID(1), 5, false)
	storeAll(t, e, b)
	id := b.Metadata.BlobID
	dropped, err := e.Node.DropSlivers(id, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, sh := range shards {
		if sn.LazyDrop(id, sh, 0.5) {
			want += 2
		}
	}
	if dropped != want || want == 0 || want == 2*n {
		t.Fatalf("dropped %d slivers, want %d (of %d)", dropped, want, 2*n)
	}
	items := challengeItems(e, b, shards)
	if err := e.Node.SetChallenge(sn.Challenge{Epoch: 2, Items: items}); err != nil {
		t.Fatal(err)
	}
	answers, err := e.Node.ChallengeAnswers(2, 0, len(items))
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		err := e.Node.VerifyChallengeAnswer(it, answers[i])
		if sn.LazyDrop(id, it.Shard, 0.5) != errors.Is(err, sn.ErrChallengeFailed) {
			t.Fatalf("item %d (shard %d, dropped %v): %v", i, it.Shard, sn.LazyDrop(id, it.Shard, 0.5), err)
		}
	}
	if _, err := e.Node.MetadataBytes(context.Background(), id); err != nil {
		t.Fatalf("the lazy node dropped metadata: %v", err)
	}

	f := nodetest.New(t, n, shards, nodetest.Options{Config: func(c *sn.Config) { c.ForgeChallengeAnswers = true }})
	f.Register(b, nodetest.ObjectID(1), 5, false)
	storeAll(t, f, b)
	if err := f.Node.SetChallenge(sn.Challenge{Epoch: 2, Items: items}); err != nil {
		t.Fatal(err)
	}
	answers, err = f.Node.ChallengeAnswers(2, 0, len(items))
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if err := f.Node.VerifyChallengeAnswer(it, answers[i]); !errors.Is(err, sn.ErrChallengeFailed) {
			t.Fatalf("forged item %d: %v", i, err)
		}
	}
}

func TestChallengeAnswersRequest(t *testing.T) {
	k := nodetest.Key(t, 1)
	m := sn.SignChallengeAnswers(k, 7, 10, 20)
	r, err := sn.VerifyChallengeAnswersRequest(m)
	if err != nil || r.Epoch != 7 || r.Start != 10 || r.Count != 20 || !r.Requester.Equal(k.PublicKey()) {
		t.Fatalf("request: %+v, %v", r, err)
	}
	other := nodetest.Key(t, 2)
	forged := sn.SignedMessage{Message: m.Message, Signature: other.Sign(m.Message)}
	if _, err := sn.VerifyChallengeAnswersRequest(forged); !errors.Is(err, sn.ErrUnauthorized) {
		t.Fatalf("signed by another key: %v", err)
	}
	// A sync-shard request is not a challenge request.
	sync := sn.SignSyncShard(k, sn.SyncShardRequest{Epoch: 7})
	if _, err := sn.VerifyChallengeAnswersRequest(sync); !errors.Is(err, sn.ErrMalformed) {
		t.Fatalf("sync-shard message: %v", err)
	}
}

func FuzzDecodeChallengeAnswers(f *testing.F) {
	e := nodetest.New(f, 10, []uint16{0, 1})
	b := e.Blob(3000, 61)
	e.Register(b, nodetest.ObjectID(1), 5, false)
	u, err := e.Node.NewUpload(b.Metadata.BlobID, b.Metadata)
	if err != nil {
		f.Fatal(err)
	}
	u.Abort()
	x, err := e.Enc.Expand(b.Metadata, &b.Pairs[0].Primary)
	if err != nil {
		f.Fatal(err)
	}
	sym, err := x.RecoverySymbol(3)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sn.EncodeChallengeAnswers([]sn.ChallengeAnswer{{Symbol: &sym}, {}}))
	f.Add([]byte{1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := sn.DecodeChallengeAnswers(data, 16, 1024)
		if err != nil {
			if !errors.Is(err, sn.ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if len(got) > 16 {
			t.Fatalf("%d answers", len(got))
		}
		for _, a := range got {
			if a.Symbol != nil && len(a.Symbol.Data) > 1024 {
				t.Fatalf("symbol of %d bytes", len(a.Symbol.Data))
			}
		}
	})
}
