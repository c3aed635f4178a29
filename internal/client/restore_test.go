package client_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/internal/testvec"
)

// TestStoreAfterDeleteLaggingNodes: a deletable blob is deleted and stored again at once,
// and every node takes the new upload before it applies the deletion (which drops the
// blob's data, the upload's included: the old registration was still live in its view).
// Each node then confirms that it lacks the slivers; the client uploads them again and the
// store certifies. (Before, the client only asked again for the confirmation until its
// registration timeout, and the store failed with MISSING_SLIVERS.)
func TestStoreAfterDeleteLaggingNodes(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	uploads := &uploadWatch{base: nodetls.NewTransport(&http.Transport{}), ok: map[string]bool{}}
	cfg := net.ClientConfig()
	cfg.HTTPClient = &http.Client{Transport: uploads}
	// The nodes see the new registration only once every upload was taken, however
	// slowly under load: the client waits that long for them.
	cfg.RegistrationTimeout = 2 * time.Minute
	c, err := net.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	data := randomBlob(3000, 31)
	first := mustStore(t, c, data, client.StoreOptions{Epochs: 2})
	id, _ := redstuff.ParseBlobID(first.NewlyCreated.BlobObject.BlobID)
	if err := net.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}

	for _, n := range net.Nodes {
		n.HoldEvents.Store(true)
	}
	if _, err := c.DeleteBlobID(ctx, id); err != nil {
		t.Fatal(err)
	}
	uploads.watch(id.String())
	type result struct {
		res *client.StoreResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := c.Store(ctx, data, client.StoreOptions{Epochs: 2})
		done <- result{res, err}
	}()
	testvec.WaitFor(t, 2*time.Minute, "every node to take the new upload", func() (bool, error) {
		select {
		case r := <-done:
			done <- r
			return true, nil // the store ended early: checked below
		default:
		}
		return uploads.count() == len(net.Nodes), nil
	})
	for _, n := range net.Nodes {
		n.HoldEvents.Store(false)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("store again after the deletion: %v", r.err)
	}
	if r.res.NewlyCreated == nil {
		t.Fatalf("store again after the deletion: %+v", r.res)
	}
	mustRead(t, c, r.res.NewlyCreated.BlobObject.BlobID, data)
}

// uploadWatch is a client transport that records the nodes that took an upload (a PUT of
// slivers answered with success) of the watched blob.
type uploadWatch struct {
	base http.RoundTripper

	mu   sync.Mutex
	blob string
	ok   map[string]bool // by node address
}

func (u *uploadWatch) watch(blob string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.blob = blob
	clear(u.ok)
}

func (u *uploadWatch) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.ok)
}

func (u *uploadWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := u.base.RoundTrip(r)
	if err != nil || r.Method != http.MethodPut || res.StatusCode/100 != 2 {
		return res, err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.blob != "" && strings.Contains(r.URL.Path, "/blobs/"+u.blob+"/") {
		u.ok[r.URL.Host] = true
	}
	return res, err
}
