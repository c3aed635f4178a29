package storagenode_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// pendingUpload sends blob b's metadata and owned slivers as one pending upload.
func pendingUpload(e *nodetest.Env, b *redstuff.EncodedBlob) (sn.UploadResult, error) {
	u, err := e.Node.NewPendingUpload(b.Metadata.BlobID, b.Metadata)
	if err != nil {
		return sn.UploadResult{}, err
	}
	defer u.Abort()
	for _, p := range e.OwnedPairs(b) {
		for _, s := range []*redstuff.Sliver{&p.Primary, &p.Secondary} {
			if err := u.Add(context.Background(), p.Index, s, s.Bytes()); err != nil {
				return sn.UploadResult{}, err
			}
		}
	}
	return u.Commit()
}

// TestPendingUploadStoredAtRegistration buffers an upload of an unregistered blob, which
// is stored when the registration is applied; the blob is then confirmed.
func TestPendingUploadStoredAtRegistration(t *testing.T) {
	e := nodetest.New(t, 10, []uint16{0, 3, 5, 9})
	b := e.Blob(5000, 1)
	id := b.Metadata.BlobID
	before := e.Fingerprint(t)
	res, err := pendingUpload(e, b)
	if err != nil || !res.Pending || !res.MetadataCreated || res.SliversCreated != 8 {
		t.Fatalf("pending upload = %+v, %v", res, err)
	}
	if e.Fingerprint(t) != before {
		t.Fatal("a pending upload of an unregistered blob changed the store")
	}
	if st := e.Node.PendingStats(); st.Blobs != 1 {
		t.Fatalf("PendingStats = %+v", st)
	}
	// Sent again: nothing new.
	if res, err := pendingUpload(e, b); err != nil || res.Created() || res.SliversPresent != 8 {
		t.Fatalf("second pending upload = %+v, %v", res, err)
	}
	if _, err := e.Node.Confirm(id, sn.Persistence{}); !errors.Is(err, sn.ErrNotRegistered) {
		t.Fatalf("Confirm before registration: %v", err)
	}
	e.Register(b, nodetest.ObjectID(1), 5, false)
	if st := e.Node.PendingStats(); st.Blobs != 0 || st.Bytes != 0 {
		t.Fatalf("PendingStats after registration = %+v", st)
	}
	msg, err := e.Node.Confirm(id, sn.Persistence{})
	if err != nil {
		t.Fatalf("Confirm after registration: %v", err)
	}
	if err := msg.Verify(e.Node.PublicKey()); err != nil {
		t.Fatal(err)
	}
}

// TestPendingSliversAfterMetadata buffers metadata and slivers sent separately; a
// sliver needs the metadata first, and a bad sliver is refused, never buffered.
func TestPendingSliversAfterMetadata(t *testing.T) {
	e := nodetest.New(t, 10, []uint16{0, 3, 5, 9})
	b := e.Blob(3000, 2)
	id := b.Metadata.BlobID
	if _, err := e.Node.NewPendingUpload(id, nil); !errors.Is(err, sn.ErrMissingMetadata) {
		t.Fatalf("pending sliver before metadata: %v", err)
	}
	u, err := e.Node.NewPendingUpload(id, b.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := u.Commit(); err != nil || !res.MetadataCreated || !res.Pending {
		t.Fatalf("pending metadata = %+v, %v", res, err)
	}
	p := e.OwnedPairs(b)[0]
	bad := p.Primary
	bad.Data = append([]byte(nil), p.Primary.Data...)
	bad.Data[0] ^= 1
	u, err = e.Node.NewPendingUpload(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Add(context.Background(), p.Index, &bad, bad.Bytes()); err == nil {
		if _, err = u.Commit(); !errors.Is(err, sn.ErrInvalidSliver) {
			t.Fatalf("bad pending sliver: %v", err)
		}
	}
	for _, p := range e.OwnedPairs(b) {
		for _, s := range []*redstuff.Sliver{&p.Primary, &p.Secondary} {
			u, err := e.Node.NewPendingUpload(id, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := u.Add(context.Background(), p.Index, s, s.Bytes()); err != nil {
				t.Fatal(err)
			}
			if res, err := u.Commit(); err != nil || res.SliversCreated != 1 {
				t.Fatalf("pending sliver = %+v, %v", res, err)
			}
		}
	}
	e.Register(b, nodetest.ObjectID(1), 5, false)
	if _, err := e.Node.Confirm(id, sn.Persistence{}); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
}

// TestPendingWaitConfirm waits for a registration in WaitConfirm, which returns the
// confirmation once the registration is applied.
func TestPendingWaitConfirm(t *testing.T) {
	e := nodetest.New(t, 10, []uint16{0, 3, 5, 9})
	b := e.Blob(2000, 3)
	id := b.Metadata.BlobID
	// Nothing buffered: no waiting, even with a context that never ends.
	if _, err := e.Node.WaitConfirm(context.Background(), id, sn.Persistence{}); !errors.Is(err, sn.ErrNotRegistered) {
		t.Fatalf("WaitConfirm of an unknown blob: %v", err)
	}
	if _, err := pendingUpload(e, b); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.Node.WaitConfirm(context.Background(), id, sn.Persistence{})
		done <- err
	}()
	e.Register(b, nodetest.ObjectID(1), 5, false)
	if err := <-done; err != nil {
		t.Fatalf("WaitConfirm: %v", err)
	}
	// A deadline ends the wait with the node's answer.
	c := e.Blob(2000, 4)
	if _, err := pendingUpload(e, c); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Node.WaitConfirm(ctx, c.Metadata.BlobID, sn.Persistence{}); !errors.Is(err, sn.ErrNotRegistered) {
		t.Fatalf("WaitConfirm after its deadline: %v", err)
	}
}

// TestPendingFlood is the attack: uploads for blobs nobody registers fill the buffer up
// to its bounds and no further; honest data already buffered is not pushed out; after
// the TTL the flood's data is dropped and the buffer takes new uploads again.
func TestPendingFlood(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_000_000, 0)}
	cfg := sn.PendingConfig{MaxBlobs: 8, MaxBytes: 64 << 10, MaxBlobBytes: 24 << 10, TTL: time.Minute}
	e := nodetest.New(t, 10, []uint16{0, 3, 5, 9}, nodetest.Options{Config: func(c *sn.Config) {
		c.Pending = cfg
		c.Now = clock.Now
	}})
	honest := e.Blob(1000, 100)
	if _, err := pendingUpload(e, honest); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for i := range 200 {
		_, err := pendingUpload(e, e.Blob(1000+i, uint64(i)))
		switch {
		case errors.Is(err, sn.ErrPendingFull):
			refused++
		case err != nil:
			t.Fatal(err)
		}
		if st := e.Node.PendingStats(); st.Blobs > cfg.MaxBlobs || st.Bytes > cfg.MaxBytes {
			t.Fatalf("after %d flood uploads: %+v, bounds %+v", i+1, st, cfg)
		}
	}
	if refused == 0 {
		t.Fatal("the flood was never refused")
	}
	// One blob larger than the per-blob bound is refused as a whole.
	big := e.Blob(200<<10, 7)
	if _, err := pendingUpload(e, big); !errors.Is(err, sn.ErrPendingFull) {
		t.Fatalf("pending upload over the per-blob bound: %v", err)
	}
	// The honest blob is still buffered and is stored at its registration.
	e.Register(honest, nodetest.ObjectID(1), 5, false)
	if _, err := e.Node.Confirm(honest.Metadata.BlobID, sn.Persistence{}); err != nil {
		t.Fatalf("Confirm of the honest blob: %v", err)
	}
	// After the TTL the flood is dropped and new uploads fit.
	clock.Add(cfg.TTL)
	if _, err := pendingUpload(e, e.Blob(1500, 999)); err != nil {
		t.Fatalf("pending upload after the TTL: %v", err)
	}
	if st := e.Node.PendingStats(); st.Blobs != 1 {
		t.Fatalf("PendingStats after the TTL = %+v", st)
	}
}

// TestPendingDisabled refuses pending uploads of unregistered blobs when the buffer is
// disabled, and still accepts them for registered blobs.
func TestPendingDisabled(t *testing.T) {
	e := nodetest.New(t, 10, []uint16{0, 3, 5, 9}, nodetest.Options{Config: func(c *sn.Config) {
		c.Pending.MaxBlobs = -1
	}})
	b := e.Blob(1000, 1)
	if _, err := pendingUpload(e, b); !errors.Is(err, sn.ErrPendingFull) {
		t.Fatalf("pending upload with the buffer disabled: %v", err)
	}
	e.Register(b, nodetest.ObjectID(1), 5, false)
	if res, err := pendingUpload(e, b); err != nil || res.Pending || !res.MetadataCreated {
		t.Fatalf("pending upload of a registered blob = %+v, %v", res, err)
	}
}
