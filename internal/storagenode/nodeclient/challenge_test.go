package nodeclient_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
)

// members is a committee of fixed keys.
type members []bls.PublicKey

func (m members) IsMember(_ context.Context, _ uint32, pk bls.PublicKey) (bool, error) {
	for _, k := range m {
		if k.Equal(pk) {
			return true, nil
		}
	}
	return false, nil
}

// TestChallengeAnswers fetches a node's answers over HTTP as a committee member, pages
// through them, and checks that strangers, other epochs and the window's blocked reads
// are refused.
func TestChallengeAnswers(t *testing.T) {
	ctx := context.Background()
	const n = 10
	e := nodetest.New(t, n, []uint16{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	b := e.Blob(4000, 71)
	id := b.Metadata.BlobID
	e.Register(b, nodetest.ObjectID(1), 5, false)
	c0 := serve(t, e)
	if _, err := c0.StoreSlivers(ctx, b.Metadata, pairPointers(b)); err != nil {
		t.Fatal(err)
	}
	var items []sn.ChallengeItem
	for sh := range uint16(n) {
		items = append(items, sn.ChallengeItem{Blob: id, Shard: sh, Axis: redstuff.Axis(sh % 2), Symbol: (sh * 7) % n})
	}
	if err := e.Node.SetChallenge(sn.Challenge{Epoch: 4, Items: items, Blocked: []redstuff.BlobID{id}}); err != nil {
		t.Fatal(err)
	}
	member, stranger := nodetest.Key(t, 11), nodetest.Key(t, 12)
	srv := httptest.NewServer(api.NewHandler(e.Node, api.Options{ChallengeMembers: members{member.PublicKey()}, MaxChallengeAnswers: 4}))
	t.Cleanup(srv.Close)
	c, err := nodeclient.New(srv.URL, nodeclient.Options{NShards: n})
	if err != nil {
		t.Fatal(err)
	}
	var got []sn.ChallengeAnswer
	for start := uint32(0); start < uint32(len(items)); {
		page, err := c.ChallengeAnswers(ctx, sn.SignChallengeAnswers(member, 4, start, 100), 4, redstuff.MaxSymbolSize)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 || len(page) > 4 {
			t.Fatalf("page of %d answers", len(page))
		}
		got = append(got, page...)
		start += uint32(len(page))
	}
	for i, it := range items {
		if err := sn.VerifyChallengeAnswer(e.Enc, b.Metadata, it, got[i]); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	_, err = c.ChallengeAnswers(ctx, sn.SignChallengeAnswers(stranger, 4, 0, 1), 4, redstuff.MaxSymbolSize)
	expectErr(t, "a stranger's request", err, sn.ErrUnauthorized, "REQUEST_UNAUTHORIZED")
	_, err = c.ChallengeAnswers(ctx, sn.SignChallengeAnswers(member, 5, 0, 1), 4, redstuff.MaxSymbolSize)
	expectErr(t, "another epoch", err, sn.ErrInvalidEpoch, "INVALID_EPOCH")
	forged := sn.SignChallengeAnswers(member, 4, 0, 1)
	forged.Signature = stranger.Sign(forged.Message)
	_, err = c.ChallengeAnswers(ctx, forged, 4, redstuff.MaxSymbolSize)
	expectErr(t, "a forged signature", err, sn.ErrUnauthorized, "REQUEST_UNAUTHORIZED")

	// In the window the blob's data is served to no one, over every route.
	_, err = c.Sliver(ctx, id, 0, redstuff.Primary)
	expectErr(t, "sliver in the window", err, sn.ErrChallenged, "BLOB_UNDER_CHALLENGE")
	if !nodeclient.IsRetryable(err) {
		t.Fatalf("a read in the window is not retryable: %v", err)
	}
	_, err = c.RecoverySymbolsFor(ctx, id, redstuff.Primary, 1)
	expectErr(t, "recovery symbols in the window", err, sn.ErrChallenged, "BLOB_UNDER_CHALLENGE")
	_, err = c.DecodingSymbols(ctx, id, redstuff.Primary, []int{0})
	expectErr(t, "decoding symbols in the window", err, sn.ErrChallenged, "BLOB_UNDER_CHALLENGE")
	if _, err := c.Metadata(ctx, id); err != nil {
		t.Fatalf("metadata in the window: %v", err)
	}

	// Attestations: none before the node signs one, then the signed message.
	subject := nodetest.ObjectID(9)
	_, err = c.Attestation(ctx, 4, subject)
	expectErr(t, "attestation before verification", err, sn.ErrNotAttested, "NOT_ATTESTED")
	msg := []byte("passed")
	if err := e.Node.SetAttestation(4, subject, sn.SignedMessage{Message: msg, Signature: e.Key.Sign(msg)}); err != nil {
		t.Fatal(err)
	}
	att, err := c.Attestation(ctx, 4, subject)
	if err != nil || att.Verify(e.Key.PublicKey()) != nil {
		t.Fatalf("attestation: %v", err)
	}
	_, err = c.Attestation(ctx, 3, subject)
	expectErr(t, "attestation of another epoch", err, sn.ErrNotAttested, "NOT_ATTESTED")

	// A node without challenge support refuses.
	_, err = c0.ChallengeAnswers(ctx, sn.SignChallengeAnswers(member, 4, 0, 1), 4, redstuff.MaxSymbolSize)
	expectErr(t, "challenges disabled", err, sn.ErrUnavailable, "UNAVAILABLE")
}

func pairPointers(b *redstuff.EncodedBlob) []*redstuff.SliverPair {
	out := make([]*redstuff.SliverPair, len(b.Pairs))
	for i := range b.Pairs {
		out[i] = &b.Pairs[i]
	}
	return out
}
