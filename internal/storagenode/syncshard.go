package storagenode

import (
	"fmt"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// SyncShardRequest asks the previous owner of a shard for the slivers of one axis it
// stores in that shard, in blob ID order from From on (inclusive), at most Count of them.
// Epoch is the epoch in which the requesting node owns the shard; the request is signed
// with that node's BLS key and the server checks the signature against the owner of the
// shard in the committee of Epoch (Walrus's SyncShardRequestV1).
type SyncShardRequest struct {
	Shard uint16
	Axis  redstuff.Axis
	From  redstuff.BlobID
	Count uint64
	Epoch uint32
}

// syncShardMessageSize is the length of a sync-shard ProtocolMessage.
const syncShardMessageSize = 7 + 1 + 2 + 1 + 32 + 8 + 4

// SyncShardMessage returns the BCS ProtocolMessage the requesting node signs: intent
// (3, 0, 3) ‖ epoch u32 ‖ SyncShardRequest variant 0 (V1) ‖ shard u16 ‖ sliver type
// (variant 0 primary, 1 secondary) ‖ starting blob ID ‖ count u64 ‖ epoch u32.
func SyncShardMessage(r SyncShardRequest) []byte {
	e := bcs.NewEncoder(make([]byte, 0, syncShardMessageSize))
	protocolHeader(e, IntentSyncShard, r.Epoch)
	e.Variant(0)
	e.U16(r.Shard)
	e.Variant(uint32(r.Axis))
	e.Fixed(r.From[:])
	e.U64(r.Count)
	e.U32(r.Epoch)
	return e.Out()
}

// ParseSyncShardMessage parses a message built by SyncShardMessage strictly: the intent
// header, the version, both epochs (which must agree) and no trailing bytes. Errors wrap
// ErrMalformed.
func ParseSyncShardMessage(msg []byte) (SyncShardRequest, error) {
	var r SyncShardRequest
	d := bcs.NewDecoder(msg)
	intent, version, app := d.U8(), d.U8(), d.U8()
	headerEpoch := d.U32()
	d.Variant(1)
	r.Shard = d.U16()
	r.Axis = redstuff.Axis(d.Variant(2))
	copy(r.From[:], d.Fixed(32))
	r.Count = d.U64()
	r.Epoch = d.U32()
	if err := d.Finish(); err != nil {
		return SyncShardRequest{}, fmt.Errorf("%w: sync shard message: %v", ErrMalformed, err)
	}
	switch {
	case intent != IntentSyncShard || version != intentVersion || app != appIDStorage:
		return SyncShardRequest{}, fmt.Errorf("%w: sync shard message with intent (%d, %d, %d)", ErrMalformed, intent, version, app)
	case headerEpoch != r.Epoch:
		return SyncShardRequest{}, fmt.Errorf("%w: sync shard message for epoch %d in a message of epoch %d", ErrMalformed, r.Epoch, headerEpoch)
	}
	return r, nil
}

// SignSyncShard returns the signed request of a node with key k.
func SignSyncShard(k *bls.SecretKey, r SyncShardRequest) SignedMessage {
	msg := SyncShardMessage(r)
	return SignedMessage{Message: msg, Signature: k.Sign(msg)}
}

// maxSignedMessage bounds the message of a signed request a node decodes.
const maxSignedMessage = 1024

// MaxSignedMessageSize is the largest BCS SignedMessage DecodeSignedMessage accepts.
const MaxSignedMessageSize = 2 + maxSignedMessage + 1 + bls.SignatureSize

// EncodeSignedMessage returns the BCS form of a SignedMessage, the body of a sync-shard
// request: the serialized message as a byte vector ‖ the signature as a byte vector
// (96 bytes, compressed G2).
func EncodeSignedMessage(m SignedMessage) []byte {
	sig := m.Signature.Bytes()
	e := bcs.NewEncoder(make([]byte, 0, len(m.Message)+2+1+len(sig)))
	e.Bytes(m.Message)
	e.Bytes(sig[:])
	return e.Out()
}

// DecodeSignedMessage parses the BCS form of a SignedMessage strictly; the signature must
// be a valid G2 point. The message aliases b. Errors wrap ErrMalformed.
func DecodeSignedMessage(b []byte) (SignedMessage, error) {
	d := bcs.NewDecoder(b)
	msg := d.Bytes(maxSignedMessage)
	raw := d.Bytes(bls.SignatureSize)
	if err := d.Finish(); err != nil {
		return SignedMessage{}, fmt.Errorf("%w: signed message: %v", ErrMalformed, err)
	}
	sig, err := bls.SignatureFromBytes(raw)
	if err != nil {
		return SignedMessage{}, fmt.Errorf("%w: signed message: %v", ErrMalformed, err)
	}
	return SignedMessage{Message: msg, Signature: sig}, nil
}

// ShardSliver is one sliver of a shard as a sync-shard answer carries it: the blob ID and
// the BCS SliverData.
type ShardSliver struct {
	BlobID redstuff.BlobID
	Sliver []byte
}

// EncodeShardSlivers returns the body of a sync-shard answer (Walrus's SyncShardResponse):
// variant 0 (V1) ‖ vector of (blob ID ‖ Sliver enum: variant 0 primary or 1 secondary,
// then the SliverData).
func EncodeShardSlivers(a redstuff.Axis, items []ShardSliver) []byte {
	size := 1 + 5
	for _, it := range items {
		size += 32 + 1 + len(it.Sliver)
	}
	e := bcs.NewEncoder(make([]byte, 0, size))
	e.Variant(0)
	e.Len(len(items))
	for _, it := range items {
		e.Fixed(it.BlobID[:])
		e.Variant(uint32(a))
		e.Fixed(it.Sliver)
	}
	return e.Out()
}

// DecodeShardSlivers parses a sync-shard answer of slivers of axis a: at most maxCount
// slivers of at most maxData bytes of symbols each, in strictly increasing blob ID order.
// The slivers alias b.
func DecodeShardSlivers(b []byte, a redstuff.Axis, maxCount, maxData int) ([]ShardSliver, []*redstuff.Sliver, error) {
	d := bcs.NewDecoder(b)
	d.Variant(1)
	count := d.Len(maxCount)
	if err := d.Err(); err != nil {
		return nil, nil, fmt.Errorf("%w: sync shard answer: %v", ErrMalformed, err)
	}
	items := make([]ShardSliver, 0, count)
	slivers := make([]*redstuff.Sliver, 0, count)
	for i := 0; i < count; i++ {
		var it ShardSliver
		copy(it.BlobID[:], d.Fixed(32))
		axis := redstuff.Axis(d.Variant(2))
		start := d.Offset()
		d.Bytes(maxData)
		d.U16()
		d.U16()
		if err := d.Err(); err != nil {
			return nil, nil, fmt.Errorf("%w: sync shard answer: sliver %d: %v", ErrMalformed, i, err)
		}
		if axis != a {
			return nil, nil, fmt.Errorf("%w: sync shard answer: %s sliver in an answer for %s slivers", ErrMalformed, axis, a)
		}
		if i > 0 && string(it.BlobID[:]) <= string(items[i-1].BlobID[:]) {
			return nil, nil, fmt.Errorf("%w: sync shard answer: blob IDs out of order", ErrMalformed)
		}
		it.Sliver = b[start:d.Offset()]
		s, err := redstuff.DecodeSliver(it.Sliver, a, maxData)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: sync shard answer: %v", ErrMalformed, err)
		}
		items = append(items, it)
		slivers = append(slivers, s)
	}
	if err := d.Finish(); err != nil {
		return nil, nil, fmt.Errorf("%w: sync shard answer: %v", ErrMalformed, err)
	}
	return items, slivers, nil
}

// ShardSlivers serves a sync-shard request whose signature the caller has checked: the
// slivers of axis req.Axis the node stores in shard req.Shard, in blob ID order from
// req.From on, at most min(req.Count, maxCount) slivers and, beyond the first, at most
// maxBytes bytes of slivers. The node must have reached req.Epoch (so that it has locked
// the shards it lost; ErrInvalidEpoch otherwise) and must hold the shard
// (ErrShardNotAssigned). An empty answer means there is nothing more from req.From on. A
// page ends before a blob in the challenge window; if that is its first blob the answer
// is ErrChallenged (the new owner retries after the window), unless the window leaves the
// shard open to the owner of req.Epoch (Challenge.SyncOpen).
func (n *Node) ShardSlivers(req SyncShardRequest, maxCount int, maxBytes int64) ([]ShardSliver, error) {
	st := n.st.Load()
	switch {
	case int(req.Shard) >= n.n:
		return nil, fmt.Errorf("%w: shard %d, %d shards", ErrIndexOutOfRange, req.Shard, n.n)
	case req.Axis != redstuff.Primary && req.Axis != redstuff.Secondary:
		return nil, fmt.Errorf("%w: axis %d", ErrMalformed, req.Axis)
	case st.epoch < req.Epoch:
		return nil, &EpochError{Request: req.Epoch, Server: st.epoch, Detail: "the node has not reached the request's epoch"}
	case !st.shards[req.Shard].Readable():
		return nil, fmt.Errorf("%w: shard %d in epoch %d", ErrShardNotAssigned, req.Shard, st.epoch)
	}
	limit := uint64(maxCount)
	if req.Count < limit {
		limit = req.Count
	}
	var out []ShardSliver
	var size int64
	var challenged error
	open := n.syncOpen(req.Shard, req.Epoch)
	err := n.store.ShardSlivers(req.Shard, req.Axis, req.From, func(id redstuff.BlobID, sliver []byte) (bool, error) {
		if len(out) > 0 && size+int64(len(sliver)) > maxBytes {
			return false, nil
		}
		// The page ends before a blob in the challenge window, unless the shard is open to
		// its new owner.
		if !open {
			if challenged = n.checkChallenged(id); challenged != nil {
				return false, nil
			}
		}
		out = append(out, ShardSliver{BlobID: id, Sliver: append([]byte(nil), sliver...)})
		size += int64(len(sliver))
		return uint64(len(out)) < limit, nil
	})
	if err != nil {
		return nil, n.internal("scan shard", err)
	}
	if len(out) == 0 && challenged != nil {
		return nil, challenged
	}
	return out, nil
}

// VerifySyncShard checks a signed sync-shard request against owner, the public key of the
// node that owns the shard in the request's epoch, and returns the request. Errors wrap
// ErrMalformed (the message does not parse) or ErrUnauthorized (the signature is not the
// owner's).
func VerifySyncShard(m SignedMessage, owner bls.PublicKey) (SyncShardRequest, error) {
	req, err := ParseSyncShardMessage(m.Message)
	if err != nil {
		return req, err
	}
	if err := m.Verify(owner); err != nil {
		return req, fmt.Errorf("%w: sync of shard %d is not signed by its owner in epoch %d: %v", ErrUnauthorized, req.Shard, req.Epoch, err)
	}
	return req, nil
}

// SyncedSliver is a sliver received from a shard's previous owner or recovered from
// peers, to be stored with StoreShardSlivers. Metadata is the blob's metadata if the
// node may not have it stored yet (it is verified and stored with the sliver), or nil.
type SyncedSliver struct {
	BlobID   redstuff.BlobID
	Metadata *redstuff.Metadata
	Sliver   *redstuff.Sliver
	Encoded  []byte // the BCS SliverData; Sliver may alias it
}

// StoreShardSlivers verifies slivers of one shard the node owns against their blobs'
// metadata and stores those that verify, with any new metadata, in one synced batch. It
// returns one error per item (nil for a sliver stored or already present): slivers of
// blobs that are not registered, expired or invalid are refused as an upload would be,
// and a sliver that does not verify gets ErrInvalidSliver. The returned error is for the
// whole call: the shard is not owned (ErrShardNotAssigned, ErrShardLocked) or the store
// failed; then nothing was stored.
func (n *Node) StoreShardSlivers(shard uint16, items []SyncedSliver) ([]error, error) {
	if int(shard) >= n.n {
		return nil, fmt.Errorf("%w: shard %d, %d shards", ErrIndexOutOfRange, shard, n.n)
	}
	if err := n.checkShardOwned(n.st.Load(), shard); err != nil {
		return nil, err
	}
	errs := make([]error, len(items))
	metas := make([]*redstuff.Metadata, len(items))
	newMeta := make([]bool, len(items))
	todo := make([]bool, len(items))
	for i, it := range items {
		errs[i] = n.checkSynced(shard, it, &metas[i], &newMeta[i], &todo[i])
	}
	// Verify in parallel, bounded by the node's verification workers.
	done := make(chan struct{})
	pending := 0
	for i := range items {
		if errs[i] != nil || !todo[i] {
			continue
		}
		n.verifies <- struct{}{}
		pending++
		go func(i int) {
			defer func() { <-n.verifies; done <- struct{}{} }()
			if err := n.enc.VerifySliver(metas[i], items[i].Sliver); err != nil {
				errs[i] = fmt.Errorf("%w: %v", ErrInvalidSliver, err)
			}
		}(i)
	}
	for ; pending > 0; pending-- {
		<-done
	}

	n.commit.RLock()
	defer n.commit.RUnlock()
	st := n.st.Load()
	if err := n.checkShardOwned(st, shard); err != nil {
		return nil, err
	}
	b := n.store.NewBatch()
	defer b.Close()
	wrote := false
	metaWritten := map[redstuff.BlobID]bool{}
	for i, it := range items {
		if errs[i] != nil || !todo[i] {
			continue
		}
		info, found, err := n.blobInfo(it.BlobID)
		if err != nil {
			return nil, err
		}
		if err := n.checkRegistered(st, it.BlobID, info, found); err != nil {
			errs[i] = err
			continue
		}
		stored, err := n.store.HasMetadata(it.BlobID)
		if err != nil {
			return nil, n.internal("read metadata", err)
		}
		if !metaWritten[it.BlobID] {
			// New metadata, or a partial copy without this shard's pair: store what the
			// node keeps of the full metadata given, including this shard's pair.
			lacks := !stored
			if stored && newMeta[i] {
				if lacks, err = n.lacksPairs(st, it.BlobID, shard); err != nil {
					return nil, err
				}
			}
			if lacks && !newMeta[i] {
				errs[i] = fmt.Errorf("%w: %s", ErrMissingMetadata, it.BlobID)
				continue
			}
			if lacks {
				v, err := n.metadataToStore(st, it.BlobID, metas[i], shard)
				if err != nil {
					return nil, err
				}
				b.PutMetadata(it.BlobID, v)
				metaWritten[it.BlobID] = true
				defer n.cache.removeBlob(it.BlobID)
			}
		}
		b.PutSliver(shard, it.Sliver.Axis, it.BlobID, it.Encoded)
		wrote = true
	}
	if !wrote {
		return errs, nil
	}
	if err := b.Commit(); err != nil {
		return nil, n.internal("commit synced slivers", err)
	}
	return errs, nil
}

// checkSynced checks one item of StoreShardSlivers before verification: its index, and
// its metadata (given and verified, or stored). It sets *todo if the sliver is not stored
// yet.
func (n *Node) checkSynced(shard uint16, it SyncedSliver, meta **redstuff.Metadata, isNew, todo *bool) error {
	pair := it.BlobID.ShardPair(int(shard), n.n)
	want := pair
	if it.Sliver.Axis == redstuff.Secondary {
		want = n.n - 1 - pair
	}
	if it.Sliver.Index != want {
		return fmt.Errorf("%w: %s sliver %d of %s in shard %d, want sliver %d", ErrInvalidSliver, it.Sliver.Axis, it.Sliver.Index, it.BlobID, shard, want)
	}
	has, err := n.store.HasSliver(shard, it.Sliver.Axis, it.BlobID)
	if err != nil {
		return n.internal("read sliver", err)
	}
	if has {
		return nil
	}
	stored, err := n.store.HasMetadata(it.BlobID)
	if err != nil {
		return n.internal("read metadata", err)
	}
	var view *redstuff.Metadata
	if stored {
		bm, err := n.storedMeta(it.BlobID)
		if err != nil {
			return err
		}
		if bm.holds(pair) {
			view = bm.view
		}
	}
	switch {
	case view != nil:
		*meta = view
	case it.Metadata == nil:
		return fmt.Errorf("%w: %s", ErrMissingMetadata, it.BlobID)
	default:
		if err := n.verifyMetadata(it.BlobID, it.Metadata); err != nil {
			return err
		}
		*meta, *isNew = it.Metadata, true
	}
	*todo = true
	return nil
}

func (n *Node) checkShardOwned(st *state, shard uint16) error {
	switch status := st.shards[shard]; {
	case status == store.ShardLockedToMove:
		return fmt.Errorf("%w: shard %d in epoch %d", ErrShardLocked, shard, st.epoch)
	case !status.Owned():
		return fmt.Errorf("%w: shard %d in epoch %d", ErrShardNotAssigned, shard, st.epoch)
	}
	return nil
}
