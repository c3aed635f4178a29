package storagenode

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// Upload stores the metadata and slivers of one blob, all in one synced batch: after a
// crash either everything an upload added is visible or nothing is. Slivers are verified
// against the metadata as they are added, concurrently (bounded by Config.VerifyWorkers
// across the node), so that a caller streaming a request body overlaps reading with
// verification.
//
// The blob must be registered, unexpired and not invalid, and every sliver must be for a
// shard the node owns and that is not locked; this is checked when the upload starts, as
// slivers are added, and again, authoritatively, when it commits.
//
// An Upload is used by one goroutine: NewUpload, any number of Add calls, then Commit or
// Abort (Abort is idempotent and may follow Commit).
type Upload struct {
	n    *Node
	id   redstuff.BlobID
	meta *redstuff.Metadata
	// metaBytes is the BCS metadata to store, nil if it was stored already.
	metaBytes []byte
	// metaGiven says meta is full metadata sent with the upload (and verified).
	metaGiven bool
	// pending marks a pending upload (NewPendingUpload) of a blob not registered when
	// it started; metaBuffered says its metadata came from the pending buffer.
	isPending    bool
	metaBuffered bool
	sym          int
	added        map[sliverKey]bool
	present      int

	wg    sync.WaitGroup
	mu    sync.Mutex      // guards the fields below, written by verification goroutines
	batch *store.Batch    // verified slivers
	err   error           // first verification failure
	slivs []sliverKey     // slivers in batch
	pend  []pendingSliver // of a pending upload: the slivers in batch
	done  bool

	pending [2]verifyGroup // slivers not yet being verified, by axis

	// slot is the part of the batch's buffer that SliverBuffer last handed out and no
	// Add has taken yet (nil if none), at offset slotOff.
	slot    []byte
	slotOff int
}

type sliverKey struct {
	shard uint16
	axis  redstuff.Axis
}

// CheckWritable returns nil if blob id may be stored now: it is registered, its
// registration has not ended and it is not invalid. Uploads check this again; the API
// calls it to refuse a request before reading its body.
func (n *Node) CheckWritable(id redstuff.BlobID) error {
	info, found, err := n.blobInfo(id)
	if err != nil {
		return err
	}
	return n.checkRegistered(n.st.Load(), id, info, found)
}

// NewUpload starts an upload of blob id. With m nil the metadata must be stored already
// (ErrMissingMetadata otherwise); otherwise m is verified against id and the shard count
// and stored with the upload if it is new. It fails fast if the blob may not be stored.
func (n *Node) NewUpload(id redstuff.BlobID, m *redstuff.Metadata) (*Upload, error) {
	st := n.st.Load()
	info, found, err := n.blobInfo(id)
	if err != nil {
		return nil, err
	}
	if err := n.checkRegistered(st, id, info, found); err != nil {
		return nil, err
	}
	u := &Upload{n: n, id: id, added: map[sliverKey]bool{}}
	stored, err := n.store.HasMetadata(id)
	if err != nil {
		return nil, n.internal("read metadata", err)
	}
	switch {
	case m == nil && !stored:
		return nil, fmt.Errorf("%w: %s", ErrMissingMetadata, id)
	case m == nil:
		if u.meta, err = n.metadata(id); err != nil {
			return nil, err
		}
	default:
		if err := n.verifyMetadata(id, m); err != nil {
			return nil, err
		}
		u.meta, u.metaGiven = m, true
		if !stored {
			u.metaBytes = m.Bytes()
		}
	}
	if u.sym, err = n.enc.SymbolSize(u.meta.UnencodedLength); err != nil || u.sym > n.maxSym {
		return nil, fmt.Errorf("%w: blob of %d bytes is larger than this node accepts", ErrInvalidMetadata, u.meta.UnencodedLength)
	}
	u.batch = n.store.NewBatch()
	n.ingest.begin(id, n.now())
	return u, nil
}

// verifyMetadata checks received metadata for blob id.
func (n *Node) verifyMetadata(id redstuff.BlobID, m *redstuff.Metadata) error {
	if m.BlobID != id {
		return fmt.Errorf("%w: metadata is for blob %s, not %s", ErrInvalidMetadata, m.BlobID, id)
	}
	err := n.enc.VerifyMetadata(m)
	switch {
	case err == nil:
		if sym, _ := n.enc.SymbolSize(m.UnencodedLength); sym > n.maxSym {
			return fmt.Errorf("%w: blob of %d bytes is larger than this node accepts", ErrInvalidMetadata, m.UnencodedLength)
		}
		return nil
	case errors.Is(err, redstuff.ErrEncodingType):
		return fmt.Errorf("%w: %v", ErrUnsupportedEncoding, err)
	}
	return fmt.Errorf("%w: %v", ErrInvalidMetadata, err)
}

// CheckPairCount returns an error if an upload of pairs more sliver pairs cannot be
// accepted whole whatever their content, so that the caller refuses it before reading
// them: for a pending upload of a blob not registered yet, more bytes than the pending
// buffer holds for one blob (ErrPendingFull). The count comes from a request the caller
// has bounded by the shards the node owns.
func (u *Upload) CheckPairCount(pairs int) error {
	if !u.isPending {
		return nil
	}
	pair := int64(u.n.SliverSize(redstuff.Primary, u.sym)+u.n.SliverSize(redstuff.Secondary, u.sym)) + 2*pendingOverhead
	if need := int64(pairs) * pair; need > u.n.pending.cfg.MaxBlobBytes {
		return fmt.Errorf("%w: %d sliver pairs of blob %s need %d bytes, at most %d", ErrPendingFull, pairs, u.id, need, u.n.pending.cfg.MaxBlobBytes)
	}
	return nil
}

// SliverBuffer returns n bytes of the upload's write buffer (a chunk of its store batch,
// written to the segment file once full and verified) for the caller to read the BCS
// form (SliverData) of its next sliver into, so that the sliver is verified and stored
// where it arrived: no copy, and no fresh memory to fault in per request. The caller
// fills all of it and passes it as the encoded form to its next Add, which takes it over;
// a buffer that Add does not get is given back by the next SliverBuffer or Add call. It
// returns nil when the caller must use memory of its own: for a pending upload (whose
// slivers outlive the upload in the pending buffer) or a finished one.
func (u *Upload) SliverBuffer(n int) []byte {
	if u.isPending {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return nil
	}
	u.dropSlotLocked()
	u.slot, u.slotOff = u.batch.AppendBuffer(n)
	return u.slot
}

// takeSlot returns the buffer offset of encoded if it is the buffer SliverBuffer handed
// out last (ok), and gives that buffer back otherwise.
func (u *Upload) takeSlot(encoded []byte) (off int, ok bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.slot == nil {
		return 0, false
	}
	if len(encoded) == len(u.slot) && len(encoded) > 0 && &encoded[0] == &u.slot[0] {
		off = u.slotOff
		u.slot = nil
		return off, true
	}
	u.dropSlotLocked()
	return 0, false
}

// dropSlotLocked gives back the buffer SliverBuffer handed out last, if no Add took it.
func (u *Upload) dropSlotLocked() {
	if u.slot != nil && !u.done {
		u.batch.TrimBuffer(u.slotOff)
	}
	u.slot = nil
}

// releaseSlot gives back the buffer at off that Add took but does not store (a sliver
// the node holds already, or one refused). It is the buffer's last bytes: Add runs on the
// goroutine that calls SliverBuffer, before the next call.
func (u *Upload) releaseSlot(off int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.done {
		u.batch.TrimBuffer(off)
	}
}

// Metadata returns the upload's metadata.
func (u *Upload) Metadata() *redstuff.Metadata { return u.meta }

// SymbolSize returns the blob's symbol size.
func (u *Upload) SymbolSize() int { return u.sym }

// CheckPair returns an error unless the node may store sliver pair pair of this blob now:
// the index is in range and its shard is owned and not locked.
func (u *Upload) CheckPair(pair int) error {
	_, err := u.n.checkPair(u.n.st.Load(), u.id, pair, true)
	return err
}

// Add adds sliver s of pair pair (primary sliver pair or secondary sliver n-1-pair) to the
// upload, to be verified. encoded is the sliver's BCS form (SliverData), which is stored
// as is; s may alias it. Neither may be modified afterwards. A sliver already stored is
// skipped without verification. Slivers are verified in groups by workers in the
// background; Add waits for a free worker (or ctx) when it starts a group, and a failed
// verification is returned by a later Add or by Commit.
func (u *Upload) Add(ctx context.Context, pair int, s *redstuff.Sliver, encoded []byte) error {
	off, inBuf := u.takeSlot(encoded)
	k, stored, err := u.admit(pair, s)
	if err != nil || stored {
		if inBuf {
			u.releaseSlot(off)
		}
		return err
	}
	p := pendingSliver{s: s, enc: encoded, key: k, pair: pair, inBuf: inBuf, off: off}
	if len(s.Data) >= verifyAloneBytes {
		return u.verify(ctx, verifyGroup{slivers: []pendingSliver{p}})
	}
	g := &u.pending[s.Axis]
	g.slivers = append(g.slivers, p)
	g.bytes += len(s.Data)
	if len(g.slivers) >= verifyGroupSlivers || g.bytes >= verifyGroupBytes {
		return u.flush(ctx, s.Axis)
	}
	return nil
}

// Small slivers are verified in groups of one axis, which redstuff expands together
// (about 20% less work per sliver for the small symbols of small blobs in large systems);
// a group holds at most verifyGroupSlivers slivers or about verifyGroupBytes bytes of
// sliver data. Slivers of verifyAloneBytes or more are verified one by one, which is
// cheaper for them.
const (
	verifyGroupSlivers = 32
	verifyGroupBytes   = 256 << 10
	verifyAloneBytes   = 32 << 10
)

type pendingSliver struct {
	s    *redstuff.Sliver
	enc  []byte
	key  sliverKey
	pair int
	// inBuf says enc is the bytes at off in the batch's buffer (SliverBuffer).
	inBuf bool
	off   int
}

type verifyGroup struct {
	slivers []pendingSliver
	bytes   int
}

// flush starts the verification of the pending group of axis a.
func (u *Upload) flush(ctx context.Context, a redstuff.Axis) error {
	g := u.pending[a]
	u.pending[a] = verifyGroup{}
	if len(g.slivers) == 0 {
		return nil
	}
	return u.verify(ctx, g)
}

// verify starts the verification of a group, waiting for a worker.
func (u *Upload) verify(ctx context.Context, g verifyGroup) error {
	select {
	case u.n.verifies <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		var errs []error
		if len(g.slivers) == 1 {
			errs = []error{u.n.enc.VerifySliver(u.meta, g.slivers[0].s)}
		} else {
			slivers := make([]*redstuff.Sliver, len(g.slivers))
			for i, p := range g.slivers {
				slivers[i] = p.s
			}
			errs = u.n.enc.VerifySlivers(u.meta, slivers)
		}
		<-u.n.verifies
		u.mu.Lock()
		defer u.mu.Unlock()
		if u.done {
			return
		}
		for i, p := range g.slivers {
			if errs[i] != nil {
				if u.err == nil {
					u.err = fmt.Errorf("%w: %v", ErrInvalidSliver, errs[i])
				}
				return
			}
			if p.inBuf {
				u.batch.PutSliverAt(p.key.shard, p.s.Axis, u.id, p.off, len(p.enc))
			} else {
				u.batch.PutSliver(p.key.shard, p.s.Axis, u.id, p.enc)
			}
			u.slivs = append(u.slivs, p.key)
			if u.isPending {
				u.pend = append(u.pend, p)
			}
		}
	}()
	return nil
}

func (u *Upload) failed() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return fmt.Errorf("%w: upload already finished", ErrInternal)
	}
	return u.err
}

// Commit waits for the verifications, re-checks that the blob and the slivers' shards may
// still be stored and stores the upload in one synced batch. If anything failed, nothing
// is stored.
func (u *Upload) Commit() (UploadResult, error) {
	for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
		if err := u.flush(context.Background(), a); err != nil {
			u.Abort()
			return UploadResult{}, err
		}
	}
	u.wg.Wait()
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return UploadResult{}, fmt.Errorf("%w: upload already finished", ErrInternal)
	}
	defer u.finishLocked()
	if u.err != nil {
		return UploadResult{}, u.err
	}
	n := u.n
	n.commit.RLock()
	defer n.commit.RUnlock()
	st := n.st.Load()
	info, found, err := n.blobInfo(u.id)
	if err != nil {
		return UploadResult{}, err
	}
	regErr := n.checkRegistered(st, u.id, info, found)
	buffer := u.isPending && regErr != nil && !errors.Is(regErr, ErrInvalidBlob)
	if regErr != nil && !buffer {
		return UploadResult{}, regErr
	}
	for _, k := range u.slivs {
		if status := st.shards[k.shard]; !status.Owned() {
			if status == store.ShardLockedToMove {
				return UploadResult{}, fmt.Errorf("%w: shard %d in epoch %d", ErrShardLocked, k.shard, st.epoch)
			}
			return UploadResult{}, fmt.Errorf("%w: shard %d in epoch %d", ErrShardNotAssigned, k.shard, st.epoch)
		}
	}
	if buffer {
		return u.commitPendingLocked()
	}
	res := UploadResult{SliversCreated: len(u.slivs), SliversPresent: u.present}
	completed := false
	stored, err := n.store.HasMetadata(u.id)
	if err != nil {
		return UploadResult{}, n.internal("read metadata", err)
	}
	switch {
	case !stored && u.metaBytes != nil:
		b, err := n.metadataToStore(st, u.id, u.meta)
		if err != nil {
			return UploadResult{}, err
		}
		u.batch.PutMetadata(u.id, b)
		res.MetadataCreated = true
	case u.metaGiven:
		// A partial copy that lacks a pair the node now holds (a shard gained at an epoch
		// change) is completed from the full metadata the client sent.
		lacks, err := n.lacksPairs(st, u.id)
		if err != nil {
			return UploadResult{}, err
		}
		if lacks {
			b, err := n.metadataToStore(st, u.id, u.meta)
			if err != nil {
				return UploadResult{}, err
			}
			u.batch.PutMetadata(u.id, b)
			defer n.cache.removeBlob(u.id)
			completed = true
		}
	case !stored:
		// The blob's data was deleted since the upload started.
		return UploadResult{}, fmt.Errorf("%w: %s", ErrMissingMetadata, u.id)
	}
	if !res.Created() && !completed {
		return res, nil
	}
	if err := u.batch.Commit(); err != nil {
		return UploadResult{}, n.internal("commit upload", err)
	}
	return res, nil
}

// Abort discards the upload, waiting for its verifications. It is idempotent.
func (u *Upload) Abort() {
	u.wg.Wait()
	u.mu.Lock()
	defer u.mu.Unlock()
	u.finishLocked()
}

func (u *Upload) finishLocked() {
	if !u.done {
		u.done = true
		u.batch.Close()
		u.n.ingest.end(u.id, u.n.now())
	}
}

// admit runs the checks every added sliver passes: the upload has not failed, the pair is
// on a shard the node owns and may write, the sliver is the pair's sliver of its axis, and
// it was not sent before in this upload. stored reports a sliver the node already holds
// (counted as present; nothing more to do).
func (u *Upload) admit(pair int, s *redstuff.Sliver) (k sliverKey, stored bool, err error) {
	if err := u.failed(); err != nil {
		return k, false, err
	}
	st := u.n.st.Load()
	shard, err := u.n.checkPair(st, u.id, pair, true)
	if err != nil {
		return k, false, err
	}
	want := pair
	if s.Axis == redstuff.Secondary {
		want = u.n.n - 1 - pair
	}
	if s.Index != want {
		return k, false, fmt.Errorf("%w: %s sliver %d in sliver pair %d, want sliver %d", ErrInvalidSliver, s.Axis, s.Index, pair, want)
	}
	k = sliverKey{shard, s.Axis}
	if u.added[k] {
		return k, false, fmt.Errorf("%w: %s sliver of pair %d sent twice", ErrMalformed, s.Axis, pair)
	}
	u.added[k] = true
	has, err := u.n.store.HasSliver(shard, s.Axis, u.id)
	if err != nil {
		return k, false, u.n.internal("read sliver", err)
	}
	if has || u.isPending && u.n.pending.hasSliver(u.id, k) {
		u.present++
		return k, true, nil
	}
	return k, false, nil
}
