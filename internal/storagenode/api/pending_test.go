package api

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
)

// TestPendingEndpoints uploads with ?pending=true before the registration (202 with
// Walrus's messages), then a confirmation that waits for the registration in a long-poll
// slot and is answered once the registration is applied.
func TestPendingEndpoints(t *testing.T) {
	a := newAPI(t, 10, []uint16{0, 3, 5, 9}, Options{ConfirmationLongPollMax: time.Hour})
	b := a.Blob(4000, 1)
	id := b.Metadata.BlobID.String()
	if msg := successData[string](t, a.do("PUT", "/v1/blobs/"+id+"/metadata?pending=true", sn.MetadataBody(b.Metadata)), http.StatusAccepted); msg != "metadata buffered pending registration" {
		t.Fatalf("pending metadata: %q", msg)
	}
	a.do("PUT", "/v1/blobs/"+id+"/metadata?pending=maybe", sn.MetadataBody(b.Metadata)).expect(t, http.StatusBadRequest, "MALFORMED_REQUEST")
	a.do("PUT", "/v1/blobs/"+id+"/metadata", sn.MetadataBody(b.Metadata)).expect(t, http.StatusBadRequest, "NOT_REGISTERED")
	for _, p := range a.OwnedPairs(b) {
		path := fmt.Sprintf("/v1/blobs/%s/slivers/%d/primary?pending=true", id, p.Index)
		if msg := successData[string](t, a.do("PUT", path, p.Primary.Bytes()), http.StatusAccepted); msg != "sliver buffered pending registration" {
			t.Fatalf("pending sliver: %q", msg)
		}
		path = fmt.Sprintf("/v1/blobs/%s/slivers/%d/secondary?pending=true", id, p.Index)
		successData[string](t, a.do("PUT", path, p.Secondary.Bytes()), http.StatusAccepted)
	}
	a.do("GET", "/v1/blobs/"+id+"/confirmation/permanent?wait_for_registration=true&wait_millis=x", nil).expect(t, http.StatusBadRequest, "MALFORMED_REQUEST")
	// Without asking to wait: at once.
	a.do("GET", "/v1/blobs/"+id+"/confirmation/permanent", nil).expect(t, http.StatusBadRequest, "NOT_REGISTERED")
	done := make(chan response, 1)
	go func() {
		done <- a.do("GET", "/v1/blobs/"+id+"/confirmation/permanent?wait_for_registration=true&wait_millis=3600000", nil)
	}()
	waitFor(t, "the confirmation request to wait", func() bool { return len(a.h.polls) == 1 })
	a.Register(b, nodetest.ObjectID(1), 5, false)
	conf := successData[sn.StorageConfirmation](t, <-done, http.StatusOK)
	if err := conf.Signed.Verify(a.Node.PublicKey()); err != nil {
		t.Fatal(err)
	}
	if len(a.h.polls) != 0 {
		t.Fatal("the long-poll slot was not released")
	}
}

// TestPendingBufferFull answers CACHE_SATURATED when the pending buffer is full, and
// waits for no registration when long polls are disabled.
func TestPendingBufferFull(t *testing.T) {
	e := nodetest.New(t, 10, []uint16{0, 3, 5, 9}, nodetest.Options{Config: func(c *sn.Config) { c.Pending.MaxBlobs = 1 }})
	a := &apiEnv{Env: e, h: NewHandler(e.Node, Options{noRecover: true, ConfirmationLongPollMax: -1})}
	b, c := a.Blob(1000, 1), a.Blob(1000, 2)
	successData[string](t, a.do("PUT", "/v1/blobs/"+b.Metadata.BlobID.String()+"/metadata?pending=true", sn.MetadataBody(b.Metadata)), http.StatusAccepted)
	a.do("PUT", "/v1/blobs/"+c.Metadata.BlobID.String()+"/metadata?pending=true", sn.MetadataBody(c.Metadata)).expect(t, http.StatusBadRequest, "CACHE_SATURATED")
	a.do("GET", "/v1/blobs/"+b.Metadata.BlobID.String()+"/confirmation/permanent?wait_for_registration=true", nil).expect(t, http.StatusBadRequest, "NOT_REGISTERED")
}
