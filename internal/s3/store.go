package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Store holds the bytes of objects and parts. Implementations are safe for concurrent
// use.
type Store interface {
	// Put stores everything r yields (at least one byte) as a new blob with an object
	// of its own, so that releasing it never affects another entry's bytes. If r fails,
	// Put fails with an error wrapping r's.
	Put(ctx context.Context, r io.Reader) (Blob, error)
	// Open opens a blob for reading; the reader's Seek supports io.SeekStart. The
	// reader is valid while ctx is.
	Open(ctx context.Context, b Blob) (io.ReadSeekCloser, error)
	// Release deletes the blob's object (with its chunks' objects for a manifest), so
	// that the storage is reclaimed. The zero Blob is a no-op.
	Release(ctx context.Context, b Blob) error
}

// WalrusStore is the Store of the gateway: blobs stored through the client SDK as
// deletable blobs of the client's wallet (StoreFile: chunk manifests for objects larger
// than a chunk), for Epochs epochs.
type WalrusStore struct {
	C *client.Client
	// Epochs is how many epochs a new blob is stored for, counting the current one.
	Epochs uint32
}

// Put implements Store.
func (s *WalrusStore) Put(ctx context.Context, r io.Reader) (Blob, error) {
	res, err := s.C.StoreFile(ctx, r, client.StoreOptions{Epochs: s.Epochs, Force: true})
	if err != nil {
		return Blob{}, err
	}
	b := Blob{Manifest: res.File != nil}
	switch {
	case res.NewlyCreated != nil:
		if b.ID, err = redstuff.ParseBlobID(res.NewlyCreated.BlobObject.BlobID); err != nil {
			return Blob{}, fmt.Errorf("s3: %w", err)
		}
		if b.Object, err = chain.ParseObjectID(res.NewlyCreated.BlobObject.ID); err != nil {
			return Blob{}, fmt.Errorf("s3: %w", err)
		}
	default:
		return Blob{}, fmt.Errorf("s3: the store did not create a blob object for %s", res.BlobID())
	}
	return b, nil
}

// Open implements Store.
func (s *WalrusStore) Open(ctx context.Context, b Blob) (io.ReadSeekCloser, error) {
	return s.C.OpenFile(ctx, b.ID, client.ReadOptions{Raw: !b.Manifest, MaxWholeRead: 64 << 20})
}

// Release implements Store.
func (s *WalrusStore) Release(ctx context.Context, b Blob) error {
	if b.Object == (chain.ObjectID{}) {
		return nil
	}
	_, err := s.C.DeleteFile(ctx, b.Object)
	return err
}

// Renewal is the lifetime policy: the gateway stores each blob for Epochs epochs and,
// every Interval, extends each of its wallet's deletable blobs that would expire within
// Within epochs, back to Epochs epochs ahead.
type Renewal struct {
	Epochs   uint32
	Within   uint32
	Interval time.Duration
}

// Renew runs one pass of the lifetime policy over c's wallet and returns how many blob
// objects it extended.
func Renew(ctx context.Context, c *client.Client, p Renewal) (int, error) {
	sys, err := c.Chain().System(ctx)
	if err != nil {
		return 0, err
	}
	now := sys.Epoch
	blobs, err := c.ListBlobs(ctx, false)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, b := range blobs {
		end := b.EndEpoch()
		if !b.Deletable || !b.Certified || end > now+p.Within || end >= now+p.Epochs {
			continue
		}
		if _, err := c.Extend(ctx, b.ID, now+p.Epochs-end); err != nil {
			errs = append(errs, fmt.Errorf("s3: extending %s: %w", b.ID, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// RunRenewal runs Renew every p.Interval until ctx ends, logging failures.
func RunRenewal(ctx context.Context, c *client.Client, p Renewal, log *slog.Logger) {
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		if n, err := Renew(ctx, c, p); err != nil {
			log.Warn("s3: renewal", "err", err, "extended", n)
		} else if n > 0 {
			log.Info("s3: renewal", "extended", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
