package storagenode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// Pending uploads
//
// A client may send a blob's metadata and slivers before the node has seen the blob's
// registration (Walrus's "pending uploads", ?pending=true on the upload endpoints), so
// that uploading overlaps the registration transaction. The node verifies such data
// exactly as an ordinary upload (metadata against the blob ID, every sliver against the
// metadata, shards it owns) and, if the blob is not registered yet, keeps it in memory in
// a bounded buffer. When the registration event is applied the buffered data is stored,
// as an upload of the registered blob; a confirmation request may wait for that
// (Node.WaitConfirm).
//
// The buffer is bounded (PendingConfig): in blobs, in bytes in total and in bytes per
// blob, counting every sliver and metadata at its encoded size plus a fixed overhead.
// A blob's data is dropped when TTL has passed since data was last added to it without
// its registration being seen; expired blobs are dropped when the buffer needs room and
// whenever a blob is added. Live data is never evicted to make room: an upload that does
// not fit is refused (ErrPendingFull) as a whole, so that a flood of uploads for blobs
// nobody registers fills the buffer for at most TTL and never more than its bounds, and
// cannot push out the data of honest pending uploads already buffered.

// PendingConfig bounds the buffer of pending uploads. Zero fields have the documented
// defaults.
type PendingConfig struct {
	// MaxBlobs bounds the blobs with buffered data; 0 means 512. Negative disables
	// pending uploads: every pending upload of an unregistered blob is refused with
	// ErrPendingFull.
	MaxBlobs int
	// MaxBytes bounds the bytes buffered in total; 0 means 256 MiB.
	MaxBytes int64
	// MaxBlobBytes bounds the bytes buffered for one blob; 0 means 64 MiB.
	MaxBlobBytes int64
	// TTL is how long a blob's data stays buffered after data was last added to it if
	// its registration is not seen; 0 means 1 minute.
	TTL time.Duration
}

// Defaults of PendingConfig.
const (
	DefaultPendingMaxBlobs     = 512
	DefaultPendingMaxBytes     = 256 << 20
	DefaultPendingMaxBlobBytes = 64 << 20
	DefaultPendingTTL          = time.Minute
	// pendingOverhead is the bytes charged for every buffered item on top of its
	// encoded size (map entries, the decoded sliver's header).
	pendingOverhead = 256
)

func (c *PendingConfig) setDefaults() {
	if c.MaxBlobs == 0 {
		c.MaxBlobs = DefaultPendingMaxBlobs
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultPendingMaxBytes
	}
	if c.MaxBlobBytes <= 0 {
		c.MaxBlobBytes = DefaultPendingMaxBlobBytes
	}
	if c.TTL <= 0 {
		c.TTL = DefaultPendingTTL
	}
}

// pendingSliverData is one verified sliver waiting for its blob's registration.
type pendingSliverData struct {
	pair int
	s    *redstuff.Sliver
	enc  []byte
}

// pendingBlob is the data buffered for one blob.
type pendingBlob struct {
	meta      *redstuff.Metadata
	metaBytes []byte
	slivers   map[sliverKey]pendingSliverData
	bytes     int64
	touched   time.Time
}

// pendingBuffer is the bounded buffer of pending uploads. It is safe for concurrent use.
type pendingBuffer struct {
	cfg PendingConfig

	mu    sync.Mutex // guards the fields below
	blobs map[redstuff.BlobID]*pendingBlob
	bytes int64
}

func newPendingBuffer(cfg PendingConfig) *pendingBuffer {
	cfg.setDefaults()
	return &pendingBuffer{cfg: cfg, blobs: map[redstuff.BlobID]*pendingBlob{}}
}

// expireLocked drops the blobs not touched for TTL.
func (p *pendingBuffer) expireLocked(now time.Time) {
	for id, b := range p.blobs {
		if now.Sub(b.touched) >= p.cfg.TTL {
			p.bytes -= b.bytes
			delete(p.blobs, id)
		}
	}
}

// metadata returns the buffered metadata of blob id and its BCS form, if any.
func (p *pendingBuffer) metadata(id redstuff.BlobID, now time.Time) (*redstuff.Metadata, []byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.blobs[id]
	if b == nil || now.Sub(b.touched) >= p.cfg.TTL {
		return nil, nil, false
	}
	return b.meta, b.metaBytes, true
}

// has reports whether data of blob id is buffered (expired data included until it is
// dropped).
func (p *pendingBuffer) has(id redstuff.BlobID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.blobs[id] != nil
}

// hasSliver reports whether sliver k of blob id is buffered.
func (p *pendingBuffer) hasSliver(id redstuff.BlobID, k sliverKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.blobs[id]
	if b == nil {
		return false
	}
	_, ok := b.slivers[k]
	return ok
}

// add buffers metadata (metaBytes nil if the blob's metadata is buffered or stored
// already, in which case m is ignored) and slivers of blob id, all or nothing. It
// returns whether the metadata was added and how many slivers were (slivers already
// buffered are skipped). A blob that is not buffered yet needs its metadata.
func (p *pendingBuffer) add(now time.Time, id redstuff.BlobID, m *redstuff.Metadata, metaBytes []byte, slivers map[sliverKey]pendingSliverData) (metaAdded bool, added int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfg.MaxBlobs < 0 {
		return false, 0, fmt.Errorf("%w: pending uploads are disabled on this node", ErrPendingFull)
	}
	p.expireLocked(now)
	b := p.blobs[id]
	var need int64
	if b == nil {
		if metaBytes == nil {
			return false, 0, fmt.Errorf("%w: %s (buffered metadata expired)", ErrMissingMetadata, id)
		}
		need += int64(len(metaBytes)) + pendingOverhead
	}
	for k, s := range slivers {
		if b != nil {
			if _, ok := b.slivers[k]; ok {
				continue
			}
		}
		need += int64(len(s.enc)) + pendingOverhead
		added++
	}
	if b != nil && added == 0 {
		b.touched = now
		return false, 0, nil
	}
	blobBytes := need
	if b != nil {
		blobBytes += b.bytes
	}
	switch {
	case b == nil && len(p.blobs) >= p.cfg.MaxBlobs:
		return false, 0, fmt.Errorf("%w: %d blobs buffered", ErrPendingFull, len(p.blobs))
	case blobBytes > p.cfg.MaxBlobBytes:
		return false, 0, fmt.Errorf("%w: %d bytes for blob %s, at most %d", ErrPendingFull, blobBytes, id, p.cfg.MaxBlobBytes)
	case p.bytes+need > p.cfg.MaxBytes:
		return false, 0, fmt.Errorf("%w: %d bytes buffered, at most %d", ErrPendingFull, p.bytes, p.cfg.MaxBytes)
	}
	if b == nil {
		b = &pendingBlob{meta: m, metaBytes: metaBytes, slivers: map[sliverKey]pendingSliverData{}}
		p.blobs[id] = b
		metaAdded = true
	}
	for k, s := range slivers {
		if _, ok := b.slivers[k]; !ok {
			b.slivers[k] = s
		}
	}
	b.bytes += need
	b.touched = now
	p.bytes += need
	return metaAdded, added, nil
}

// peek returns the data buffered for blob id, or nil. The caller must not modify it.
func (p *pendingBuffer) peek(id redstuff.BlobID) *pendingBlob {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.blobs[id]
}

// remove drops the data of blob id if it is still b.
func (p *pendingBuffer) remove(id redstuff.BlobID, b *pendingBlob) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.blobs[id] == b {
		p.bytes -= b.bytes
		delete(p.blobs, id)
	}
}

// PendingStats describes the buffer of pending uploads.
type PendingStats struct {
	Blobs int
	Bytes int64
}

// PendingStats returns the size of the buffer of pending uploads.
func (n *Node) PendingStats() PendingStats {
	p := n.pending
	p.mu.Lock()
	defer p.mu.Unlock()
	return PendingStats{Blobs: len(p.blobs), Bytes: p.bytes}
}

// NewPendingUpload starts a pending upload of blob id (Walrus's ?pending=true): like
// NewUpload, except that the blob need not be registered yet. If it is not registered
// when the upload commits, the verified metadata and slivers are buffered (see
// PendingConfig) and stored when the registration is applied. With m nil the metadata
// must be stored or buffered already (ErrMissingMetadata otherwise). A blob declared
// invalid is refused (ErrInvalidBlob).
func (n *Node) NewPendingUpload(id redstuff.BlobID, m *redstuff.Metadata) (*Upload, error) {
	info, found, err := n.blobInfo(id)
	if err != nil {
		return nil, err
	}
	if found && info.Invalid {
		return nil, fmt.Errorf("%w: %s (event %d)", ErrInvalidBlob, id, info.InvalidEvent.Seq)
	}
	if n.checkRegistered(n.st.Load(), id, info, found) == nil {
		if m == nil {
			// The metadata may still be buffered if the registration's flush is running.
			if pm, _, ok := n.pending.metadata(id, n.now()); ok {
				return n.NewUpload(id, pm)
			}
		}
		return n.NewUpload(id, m)
	}
	u := &Upload{n: n, id: id, added: map[sliverKey]bool{}, isPending: true}
	stored, err := n.store.HasMetadata(id)
	if err != nil {
		return nil, n.internal("read metadata", err)
	}
	switch pm, pb, buffered := n.pending.metadata(id, n.now()); {
	case stored:
		if u.meta, err = n.metadata(id); err != nil {
			return nil, err
		}
	case buffered:
		u.meta, u.metaBytes, u.metaBuffered = pm, pb, true
	case m == nil:
		return nil, fmt.Errorf("%w: %s", ErrMissingMetadata, id)
	default:
		if err := n.verifyMetadata(id, m); err != nil {
			return nil, err
		}
		u.meta, u.metaBytes = m, m.Bytes()
	}
	if u.sym, err = n.enc.SymbolSize(u.meta.UnencodedLength); err != nil || u.sym > n.maxSym {
		return nil, fmt.Errorf("%w: blob of %d bytes is larger than this node accepts", ErrInvalidMetadata, u.meta.UnencodedLength)
	}
	u.batch = n.store.NewBatch()
	n.ingest.begin(id, n.now())
	return u, nil
}

// commitPendingLocked buffers a pending upload of a blob that is not registered. The
// caller holds n.commit shared and u.mu.
func (u *Upload) commitPendingLocked() (UploadResult, error) {
	n := u.n
	slivers := make(map[sliverKey]pendingSliverData, len(u.pend))
	for _, s := range u.pend {
		slivers[s.key] = pendingSliverData{pair: s.pair, s: s.s, enc: s.enc}
	}
	metaBytes := u.metaBytes
	if u.metaBuffered {
		metaBytes = nil
	}
	stored, err := n.store.HasMetadata(u.id)
	if err != nil {
		return UploadResult{}, n.internal("read metadata", err)
	}
	if stored {
		// The metadata is stored, which it is only for a registered blob; the blob's
		// registrations have ended since. Buffer it again with the slivers.
		metaBytes = u.meta.Bytes()
	}
	metaAdded, added, err := n.pending.add(n.now(), u.id, u.meta, metaBytes, slivers)
	if err != nil {
		return UploadResult{}, err
	}
	return UploadResult{MetadataCreated: metaAdded, SliversCreated: added, SliversPresent: u.present + len(slivers) - added, Pending: true}, nil
}

// flushPending stores the buffered data of blob id, which has been registered, as an
// upload. Flushes are serialized, and the data stays in the buffer until it is stored,
// so that a confirmation request that finds it there and flushes too waits for the
// flush in progress. Failures are logged: the client sees them as missing slivers.
func (n *Node) flushPending(id redstuff.BlobID) {
	if !n.pending.has(id) {
		return
	}
	n.flushMu.Lock()
	defer n.flushMu.Unlock()
	b := n.pending.peek(id)
	if b == nil {
		return
	}
	defer n.pending.remove(id, b)
	u, err := n.NewUpload(id, b.meta)
	if err != nil {
		n.logger.Warn("storing pending upload failed", "blob", id, "err", err)
		return
	}
	defer u.Abort()
	for _, s := range b.slivers {
		if err := u.AddVerified(s.pair, s.s, s.enc); err != nil {
			n.logger.Warn("storing pending sliver failed", "blob", id, "pair", s.pair, "err", err)
			return
		}
	}
	if _, err := u.Commit(); err != nil {
		n.logger.Warn("storing pending upload failed", "blob", id, "err", err)
	}
}

// registrationSignal returns a channel closed at the next application of events that
// registers a blob (after its pending data has been stored).
func (n *Node) registrationSignal() <-chan struct{} {
	n.regMu.Lock()
	defer n.regMu.Unlock()
	return n.regCh
}

func (n *Node) signalRegistration() {
	n.regMu.Lock()
	defer n.regMu.Unlock()
	close(n.regCh)
	n.regCh = make(chan struct{})
}

// WaitConfirm is Confirm, waiting until ctx ends for the blob's registration (Walrus's
// wait_for_registration) while Confirm fails with ErrNotRegistered. It waits only while
// data of the blob is buffered as a pending upload, so that requests for blobs the node
// has never seen do not hold a connection; otherwise it returns Confirm's answer at once.
func (n *Node) WaitConfirm(ctx context.Context, id redstuff.BlobID, p Persistence) (SignedMessage, error) {
	for {
		ch := n.registrationSignal()
		msg, err := n.Confirm(id, p)
		if !errors.Is(err, ErrNotRegistered) || !n.pending.has(id) {
			return msg, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return msg, err
		}
	}
}
