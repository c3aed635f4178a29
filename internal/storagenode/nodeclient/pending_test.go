package nodeclient_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
)

// TestPendingUploads stores blobs before their registration over real HTTP: batched and
// in pieces with ?pending=true, then a confirmation that waits for the registration.
func TestPendingUploads(t *testing.T) {
	ctx := context.Background()
	e := nodetest.New(t, 10, []uint16{0, 3, 5, 9})
	srv := httptest.NewServer(api.NewHandler(e.Node, api.Options{ConfirmationLongPollMax: 10 * time.Minute}))
	t.Cleanup(srv.Close)
	c, err := nodeclient.New(srv.URL, nodeclient.Options{NShards: e.N, Timeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}

	// Batched.
	b := e.Blob(30000, 1)
	id := b.Metadata.BlobID
	if _, err := c.StoreSlivers(ctx, b.Metadata, e.OwnedPairs(b)); err == nil {
		t.Fatal("a batched upload of an unregistered blob without pending was accepted")
	}
	res, err := c.StoreSliversPending(ctx, b.Metadata, e.OwnedPairs(b))
	if err != nil || !res.Pending || !res.MetadataCreated || res.SliversCreated != 8 {
		t.Fatalf("StoreSliversPending = %+v, %v", res, err)
	}
	if st, err := c.MetadataStatus(ctx, id); err != nil || st != sn.StatusNonexistent {
		t.Fatalf("MetadataStatus of a buffered blob = %q, %v", st, err)
	}
	// Nothing buffered for this one: the node answers at once despite the long wait.
	other := e.Blob(1000, 9)
	_, err = c.ConfirmationWait(ctx, other.Metadata.BlobID, sn.Persistence{}, time.Hour)
	expectErr(t, "waiting confirmation of a blob with no pending data", err, sn.ErrNotRegistered, "NOT_REGISTERED")

	done := make(chan error, 1)
	go func() {
		msg, err := c.ConfirmationWait(ctx, id, sn.Persistence{}, time.Hour)
		if err == nil {
			err = msg.Verify(e.Node.PublicKey())
		}
		done <- err
	}()
	e.Register(b, nodetest.ObjectID(1), 5, false)
	if err := <-done; err != nil {
		t.Fatalf("ConfirmationWait: %v", err)
	}

	// In pieces, deletable.
	d := e.Blob(20000, 2)
	obj := nodetest.ObjectID(2)
	if _, err := c.PutSliverPending(ctx, d.Metadata.BlobID, e.OwnedPairs(d)[0].Index, &e.OwnedPairs(d)[0].Primary); err == nil {
		t.Fatal("a pending sliver before its metadata was accepted")
	}
	if created, err := c.PutMetadataPending(ctx, d.Metadata); err != nil || !created {
		t.Fatalf("PutMetadataPending = %v, %v", created, err)
	}
	if created, err := c.PutMetadataPending(ctx, d.Metadata); err != nil || created {
		t.Fatalf("PutMetadataPending again = %v, %v", created, err)
	}
	for _, p := range e.OwnedPairs(d) {
		for _, s := range []*redstuff.Sliver{&p.Primary, &p.Secondary} {
			if created, err := c.PutSliverPending(ctx, d.Metadata.BlobID, p.Index, s); err != nil || !created {
				t.Fatalf("PutSliverPending = %v, %v", created, err)
			}
		}
	}
	go func() {
		_, err := c.ConfirmationWait(ctx, d.Metadata.BlobID, sn.Persistence{Deletable: true, ObjectID: obj}, time.Hour)
		done <- err
	}()
	e.Register(d, obj, 5, true)
	if err := <-done; err != nil {
		t.Fatalf("ConfirmationWait (deletable): %v", err)
	}
}
