package nodeclient_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
)

func serve(t *testing.T, e *nodetest.Env) *nodeclient.Client {
	t.Helper()
	srv := httptest.NewServer(api.NewHandler(e.Node, api.Options{}))
	t.Cleanup(srv.Close)
	c, err := nodeclient.New(srv.URL, nodeclient.Options{NShards: e.N})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func expectErr(t *testing.T, what string, err, sentinel error, reason string) {
	t.Helper()
	var ce *nodeclient.Error
	if !errors.Is(err, sentinel) || !errors.As(err, &ce) || ce.Reason != reason {
		t.Fatalf("%s: %v, want %v (%s)", what, err, sentinel, reason)
	}
}

// TestRoundTrip stores a blob through the client, in pieces and batched, and reads
// everything back, over real HTTP.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	e := nodetest.New(t, 10, []uint16{0, 3, 5, 9})
	c := serve(t, e)
	b := e.Blob(40000, 1)
	id := b.Metadata.BlobID
	obj := nodetest.ObjectID(1)
	owned := e.OwnedPairs(b)

	_, err := c.PutMetadata(ctx, b.Metadata)
	expectErr(t, "metadata of an unregistered blob", err, sn.ErrNotRegistered, "NOT_REGISTERED")
	e.Register(b, obj, 5, true)
	if st, err := c.MetadataStatus(ctx, id); err != nil || st != sn.StatusNonexistent {
		t.Fatalf("MetadataStatus = %q, %v", st, err)
	}
	_, err = c.PutSliver(ctx, id, owned[0].Index, &owned[0].Primary)
	expectErr(t, "sliver before metadata", err, sn.ErrMissingMetadata, "METADATA_NOT_FOUND")
	if created, err := c.PutMetadata(ctx, b.Metadata); err != nil || !created {
		t.Fatalf("PutMetadata = %v, %v", created, err)
	}
	if created, err := c.PutMetadata(ctx, b.Metadata); err != nil || created {
		t.Fatalf("second PutMetadata = %v, %v", created, err)
	}
	m, err := c.Metadata(ctx, id)
	if err != nil || !bytes.Equal(m.Bytes(), b.Metadata.Bytes()) || e.Enc.VerifyMetadata(m) != nil {
		t.Fatalf("Metadata: %v", err)
	}
	_, err = c.Metadata(ctx, e.Blob(10, 2).Metadata.BlobID)
	expectErr(t, "unknown metadata", err, sn.ErrMetadataNotFound, "METADATA_NOT_FOUND")

	// One pair sliver by sliver, the rest batched.
	p := owned[0]
	for _, s := range []*redstuff.Sliver{&p.Primary, &p.Secondary} {
		if created, err := c.PutSliver(ctx, id, p.Index, s); err != nil || !created {
			t.Fatalf("PutSliver(%s) = %v, %v", s.Axis, created, err)
		}
	}
	_, err = c.Confirmation(ctx, id, sn.Persistence{Deletable: true, ObjectID: obj})
	expectErr(t, "confirmation before all slivers", err, sn.ErrMissingSlivers, "MISSING_SLIVERS")
	res, err := c.StoreSlivers(ctx, b.Metadata, owned)
	if err != nil || res != (sn.UploadResult{SliversCreated: 2 * (len(owned) - 1), SliversPresent: 2}) {
		t.Fatalf("StoreSlivers = %+v, %v", res, err)
	}
	for _, p := range owned {
		for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
			s, err := c.Sliver(ctx, id, p.Index, a)
			if err != nil || e.Enc.VerifySliver(m, s) != nil {
				t.Fatalf("Sliver(%d, %s): %v", p.Index, a, err)
			}
			if st, err := c.SliverStatus(ctx, id, p.Index, a); err != nil || st != sn.StatusStored {
				t.Fatalf("SliverStatus = %q, %v", st, err)
			}
		}
	}
	_, err = c.Sliver(ctx, id, e.UnownedPair(b), redstuff.Primary)
	expectErr(t, "sliver of an unowned shard", err, sn.ErrShardNotAssigned, "SHARD_NOT_ASSIGNED")

	msg, err := c.Confirmation(ctx, id, sn.Persistence{Deletable: true, ObjectID: obj})
	if err != nil || !bytes.Equal(msg.Message, sn.ConfirmationMessage(1, id, sn.Persistence{Deletable: true, ObjectID: obj})) || msg.Verify(e.Key.PublicKey()) != nil {
		t.Fatalf("Confirmation: %v", err)
	}
	_, err = c.Confirmation(ctx, id, sn.Persistence{})
	expectErr(t, "permanent confirmation of a deletable blob", err, sn.ErrNotRegistered, "NOT_REGISTERED")

	// Recovery symbols, both forms, verified and used.
	syms, err := c.RecoverySymbolsFor(ctx, id, redstuff.Secondary, 2)
	if err != nil || len(syms) != len(owned) {
		t.Fatalf("RecoverySymbolsFor: %d, %v", len(syms), err)
	}
	for i := range syms {
		if err := e.Enc.VerifyRecoverySymbol(m, &syms[i]); err != nil {
			t.Fatal(err)
		}
	}
	pa := redstuff.Primary
	syms, err = c.RecoverySymbols(ctx, id, []sn.SymbolID{{Primary: p.Index, Secondary: 4}}, &pa)
	want := sn.SymbolID{Primary: p.Index, Secondary: 4}
	if err != nil || len(syms) != 1 || syms[0].ID() != want.String() || e.Enc.VerifyRecoverySymbol(m, &syms[0]) != nil {
		t.Fatalf("RecoverySymbols: %v %+v", err, syms)
	}
	_, err = c.RecoverySymbols(ctx, id, nil, nil)
	expectErr(t, "no symbols", err, sn.ErrNoSymbols, "NO_SYMBOLS_SPECIFIED")

	st, err := c.BlobStatus(ctx, id)
	if err != nil || st.Kind != sn.BlobStatusDeletable || st.Deletable.Total != 1 {
		t.Fatalf("BlobStatus = %+v, %v", st, err)
	}
	h, err := c.Health(ctx, true)
	pk := e.Key.PublicKey().Bytes()
	if err != nil || h.Epoch != 1 || !bytes.Equal(h.PublicKey, pk[:]) || len(h.ShardDetail.Owned) != 4 {
		t.Fatalf("Health = %+v, %v", h, err)
	}
}

func TestInconsistencyProof(t *testing.T) {
	ctx := context.Background()
	e := nodetest.New(t, 7, []uint16{0, 1, 2, 3, 4, 5, 6})
	c := serve(t, e)
	b, bad := nodetest.Inconsistent(t, e.Enc, 2000, 3)
	id := b.Metadata.BlobID
	e.Register(b, nodetest.ObjectID(1), 5, false)
	if _, err := c.StoreSlivers(ctx, b.Metadata, e.OwnedPairs(b)); err != nil {
		t.Fatal(err)
	}
	proof := nodetest.InconsistencyProof(t, e.Enc, b, bad)
	msg, err := c.InconsistencyProof(ctx, id, proof)
	if err != nil || !bytes.Equal(msg.Message, sn.InvalidBlobMessage(1, id)) || msg.Verify(e.Key.PublicKey()) != nil {
		t.Fatalf("InconsistencyProof: %v", err)
	}
	proof.Symbols = proof.Symbols[1:]
	_, err = c.InconsistencyProof(ctx, id, proof)
	expectErr(t, "short proof", err, sn.ErrInvalidProof, "INVALID_PROOF")
}

func TestTimeoutAndNonAPIErrors(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/health":
			select {
			case <-r.Context().Done():
			case <-block:
			}
		default:
			http.Error(w, "bad gateway", http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	defer close(block)
	c, err := nodeclient.New(srv.URL, nodeclient.Options{Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Health(context.Background(), false); !errors.Is(err, context.DeadlineExceeded) || !nodeclient.IsRetryable(err) {
		t.Fatalf("Health against a stuck node: %v", err)
	}
	_, err = c.BlobStatus(context.Background(), redstuff.BlobID{})
	var ce *nodeclient.Error
	if !errors.As(err, &ce) || ce.Code != http.StatusBadGateway || ce.Reason != "" || !nodeclient.IsRetryable(err) {
		t.Fatalf("plain-text error: %v", err)
	}
	if _, err := nodeclient.New("ftp://x", nodeclient.Options{}); err == nil {
		t.Fatal("ftp URL accepted")
	}
}
