package api

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
)

// owners is a fixed committee for sync-shard authorization: one key owns every shard in
// epoch 1; other epochs are unknown. It counts its lookups, which stand for queries to
// the chain.
type owners struct {
	key     bls.PublicKey
	lookups atomic.Int64
}

func (o *owners) ShardOwner(_ context.Context, epoch uint32, shard uint16) (bls.PublicKey, error) {
	o.lookups.Add(1)
	if epoch != 1 {
		return bls.PublicKey{}, errors.New("no committee for that epoch")
	}
	return o.key, nil
}

const syncPath = "/v1/migrate/sync_shard"

func TestSyncShardEndpoint(t *testing.T) {
	requester := nodetest.Key(t, 40)
	chain := &owners{key: requester.PublicKey()}
	a := newAPI(t, 7, []uint16{0, 2, 4}, Options{ShardOwners: chain, MaxSyncShardSlivers: 2})
	var ids []redstuff.BlobID
	for i := range 3 {
		b := a.Blob(1000+i, uint64(i))
		a.Register(b, nodetest.ObjectID(i), 9, false)
		r := a.do("PUT", "/v1/blobs/"+b.Metadata.BlobID.String()+"/slivers", batchBody(b.Metadata, a.OwnedPairs(b)))
		if r.code != http.StatusCreated {
			t.Fatalf("setup: %d %s", r.code, r.body)
		}
		ids = append(ids, b.Metadata.BlobID)
	}
	body := func(k *bls.SecretKey, req sn.SyncShardRequest) []byte {
		return sn.EncodeSignedMessage(sn.SignSyncShard(k, req))
	}
	req := sn.SyncShardRequest{Shard: 2, Axis: redstuff.Primary, Count: 10, Epoch: 1}

	// Two pages of at most two slivers (the server cap), then an empty one.
	var got []sn.ShardSliver
	for from := (redstuff.BlobID{}); ; {
		r := req
		r.From = from
		resp := a.do("POST", syncPath, body(requester, r))
		if resp.code != http.StatusOK || resp.header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("sync shard: %d %s", resp.code, resp.body)
		}
		items, _, err := sn.DecodeShardSlivers(resp.body, redstuff.Primary, 2, 1<<16)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 0 {
			break
		}
		got = append(got, items...)
		from = items[len(items)-1].BlobID
		from[31]++
	}
	if len(got) != len(ids) {
		t.Fatalf("synced %d slivers, want %d", len(got), len(ids))
	}
	for _, it := range got {
		want, err := a.Node.Sliver(it.BlobID, it.BlobID.ShardPair(2, 7), redstuff.Primary)
		if err != nil || string(want) != string(it.Sliver) {
			t.Fatalf("synced sliver of %s differs from the stored one: %v", it.BlobID, err)
		}
	}

	other := nodetest.Key(t, 41)
	wrongIntent := sn.SignSyncShard(requester, req)
	wrongIntent.Message = append([]byte{2}, wrongIntent.Message[1:]...)
	wrongIntent.Signature = requester.Sign(wrongIntent.Message)
	// lookups is how many times the request may ask who owns the shard: only a request
	// that parses, for the node's current or previous epoch, gets that far, so a stranger
	// cannot make the node query its chain for arbitrary epochs.
	cases := []struct {
		name    string
		body    []byte
		code    int
		reason  string
		lookups int64
	}{
		{"signed by another node", body(other, req), http.StatusForbidden, "REQUEST_UNAUTHORIZED", 1},
		{"signature over another request", func() []byte {
			m := sn.SignSyncShard(requester, req)
			r2 := req
			r2.Shard = 4
			m.Message = sn.SyncShardMessage(r2)
			return sn.EncodeSignedMessage(m)
		}(), http.StatusForbidden, "REQUEST_UNAUTHORIZED", 1},
		{"shard not held", body(requester, sn.SyncShardRequest{Shard: 1, Count: 1, Epoch: 1}), badRequest, "SHARD_NOT_ASSIGNED", 1},
		{"shard out of range", body(requester, sn.SyncShardRequest{Shard: 7, Count: 1, Epoch: 1}), badRequest, "INDEX_OUT_OF_RANGE", 0},
		{"previous epoch without committee", body(requester, sn.SyncShardRequest{Shard: 2, Count: 1, Epoch: 0}), http.StatusServiceUnavailable, "UNAVAILABLE", 1},
		{"future epoch", body(requester, sn.SyncShardRequest{Shard: 2, Count: 1, Epoch: 9}), badRequest, "INVALID_EPOCH", 0},
		{"unsigned future epoch", body(other, sn.SyncShardRequest{Shard: 2, Count: 1, Epoch: 1 << 31}), badRequest, "INVALID_EPOCH", 0},
		{"wrong intent", sn.EncodeSignedMessage(wrongIntent), badRequest, "MALFORMED_REQUEST", 0},
		{"malformed BCS", []byte{1, 2, 3}, badRequest, "MALFORMED_REQUEST", 0},
		{"empty body", nil, badRequest, "MALFORMED_REQUEST", 0},
		{"oversized body", make([]byte, sn.MaxSignedMessageSize+1), http.StatusForbidden, "BODY_TOO_LARGE", 0},
	}
	for _, c := range cases {
		before := chain.lookups.Load()
		a.unchanged(t, c.name, func() { a.do("POST", syncPath, c.body).expect(t, c.code, c.reason) })
		if got := chain.lookups.Load() - before; got != c.lookups {
			t.Errorf("%s: %d owner lookups, want %d", c.name, got, c.lookups)
		}
	}

	// A node that has not reached the request's epoch refuses: it may not have locked the
	// shard yet. Here the owners know epoch 2 but the node is at epoch 1.
	b := newAPI(t, 7, []uint16{2}, Options{ShardOwners: ownersAll{requester.PublicKey()}})
	r := req
	r.Epoch = 2
	b.do("POST", syncPath, body(requester, r)).expect(t, badRequest, "INVALID_EPOCH")

	// Without a committee view the endpoint is off.
	c := newAPI(t, 7, []uint16{2})
	c.do("POST", syncPath, body(requester, req)).expect(t, http.StatusServiceUnavailable, "UNAVAILABLE")
	// The concurrency limit answers 429, and is not asked about requests refused before.
	for range cap(a.h.syncs) {
		a.h.syncs <- struct{}{}
	}
	a.do("POST", syncPath, body(requester, req)).expect(t, http.StatusTooManyRequests, "TOO_MANY_REQUESTS")
	a.do("POST", syncPath, []byte{1, 2, 3}).expect(t, badRequest, "MALFORMED_REQUEST")
}

// TestSyncShardOldEpoch: a node accepts shard sync requests for its current and previous
// epoch only; an older request (a replayed one, or one signed by a node that owned the
// shard long ago) is refused before the owner is looked up.
func TestSyncShardOldEpoch(t *testing.T) {
	requester := nodetest.Key(t, 40)
	chain := &countingAll{key: requester.PublicKey()}
	a := newAPI(t, 7, []uint16{2}, Options{ShardOwners: chain})
	a.Apply(sn.EpochChangeStart{Epoch: 2, Shards: []uint16{2}}, sn.EpochChangeStart{Epoch: 3, Shards: []uint16{2}})
	for _, c := range []struct {
		epoch   uint32
		code    int
		lookups int64
	}{
		{0, badRequest, 0},
		{1, badRequest, 0},
		{2, http.StatusOK, 1},
		{3, http.StatusOK, 1},
		{4, badRequest, 0},
	} {
		before := chain.lookups.Load()
		r := a.do("POST", syncPath, sn.EncodeSignedMessage(sn.SignSyncShard(requester, sn.SyncShardRequest{Shard: 2, Count: 1, Epoch: c.epoch})))
		if c.code == http.StatusOK {
			if r.code != http.StatusOK {
				t.Fatalf("epoch %d at a node in epoch 3: %d %s", c.epoch, r.code, r.body)
			}
		} else {
			r.expect(t, c.code, "INVALID_EPOCH")
		}
		if got := chain.lookups.Load() - before; got != c.lookups {
			t.Errorf("epoch %d: %d owner lookups, want %d", c.epoch, got, c.lookups)
		}
	}
}

// countingAll makes one key the owner of every shard in every epoch and counts lookups.
type countingAll struct {
	key     bls.PublicKey
	lookups atomic.Int64
}

func (o *countingAll) ShardOwner(context.Context, uint32, uint16) (bls.PublicKey, error) {
	o.lookups.Add(1)
	return o.key, nil
}

// ownersAll makes one key the owner of every shard in every epoch.
type ownersAll struct{ key bls.PublicKey }

func (o ownersAll) ShardOwner(context.Context, uint32, uint16) (bls.PublicKey, error) {
	return o.key, nil
}

// FuzzSyncShard sends arbitrary bodies to POST /v1/migrate/sync_shard.
func FuzzSyncShard(f *testing.F) {
	e := newFuzzEnv(f)
	requester := nodetest.Key(f, 40)
	e.h.opts.ShardOwners = ownersAll{requester.PublicKey()}
	f.Add(sn.EncodeSignedMessage(sn.SignSyncShard(requester, sn.SyncShardRequest{Shard: 2, Count: 5, Epoch: 1})))
	f.Add(sn.EncodeSignedMessage(sn.SignSyncShard(requester, sn.SyncShardRequest{Shard: 3, Axis: redstuff.Secondary, Count: 5, Epoch: 1})))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		before := e.Fingerprint(t)
		r := e.do("POST", syncPath, body)
		if e.Fingerprint(t) != before {
			t.Fatalf("shard sync (%d) changed the store", r.code)
		}
		if r.code == http.StatusOK {
			signed, err := sn.DecodeSignedMessage(body)
			if err != nil {
				t.Fatalf("200 for a body that does not decode: %v", err)
			}
			req, err := sn.ParseSyncShardMessage(signed.Message)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := sn.DecodeShardSlivers(r.body, req.Axis, 1000, 1<<16); err != nil {
				t.Fatalf("malformed answer: %v", err)
			}
			return
		}
		if reason, _ := r.errorReason(t); reason == "" || reason == "INTERNAL_ERROR" {
			t.Fatalf("answer %d %s: %s", r.code, reason, r.body)
		}
	})
}
