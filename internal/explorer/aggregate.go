package explorer

import (
	"slices"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// blobRec is what the aggregate remembers of one live Blob object.
type blobRec struct {
	blobID    redstuff.BlobID
	size      uint64 // unencoded
	encoded   uint64
	endEpoch  uint32
	certified bool
	owned     bool          // owner resolved and counted in the holders' totals
	owner     chain.Address // valid if owned
}

// holder is one account's share of the stored data: the live blobs it owns and their
// unencoded bytes.
type holder struct {
	Address chain.Address
	Blobs   uint64
	Bytes   uint64
}

// TopHolders bounds the largest holders the explorer shows and exports.
const TopHolders = 10

// EpochStats is one epoch's row of the history.
type EpochStats struct {
	Epoch uint32 `json:"epoch"`
	// BlobsRegistered and BytesRegistered count the blobs registered during the epoch and
	// their unencoded bytes.
	BlobsRegistered uint64 `json:"blobsRegistered"`
	BytesRegistered uint64 `json:"bytesRegistered"`
	BlobsCertified  uint64 `json:"blobsCertified"`
	// StoredBytes is the unencoded bytes of live blobs when the epoch ended (or now, for the
	// current epoch).
	StoredBytes uint64 `json:"storedBytes"`
	// CommitteeSize, ShardsMoved and NakamotoShards describe the epoch's committee
	// (ShardsMoved against the previous epoch's); HasCommittee is false if the chain no
	// longer had it when the explorer looked.
	HasCommittee   bool `json:"hasCommittee"`
	CommitteeSize  int  `json:"committeeSize"`
	ShardsMoved    int  `json:"shardsMoved"`
	NakamotoShards int  `json:"nakamotoShards"`
}

// Stored is the data the network stores now.
type Stored struct {
	Blobs          uint64 `json:"blobs"`          // live Blob objects (registered, not deleted or expired)
	CertifiedBlobs uint64 `json:"certifiedBlobs"` // of which certified
	Bytes          uint64 `json:"bytes"`          // their unencoded bytes
	EncodedBytes   uint64 `json:"encodedBytes"`   // their encoded bytes
	MetadataBytes  uint64 `json:"metadataBytes"`  // of EncodedBytes, metadata (redstuff.Config.BilledMetadataSize a blob)
}

// aggregate folds chain events into running totals, so that no request needs to read all
// blobs. It is pure (apply is a function of the events) and not safe for concurrent use;
// its memory grows with the number of live blobs (one small record each).
type aggregate struct {
	enc     *redstuff.Config
	nShards int
	cursor  uint64 // next event to apply
	epoch   uint32

	blobs    map[chain.ObjectID]blobRec
	byBlobID map[redstuff.BlobID][]chain.ObjectID
	byEnd    map[uint32][]chain.ObjectID // live blobs by end epoch (may hold stale entries)
	stored   Stored
	history  []EpochStats // index = epoch

	// holders are the running totals per owner of the live blobs whose owner is resolved;
	// pending are live blobs registered since the last resolution (may hold stale entries).
	holders map[chain.Address]*holder
	pending []chain.ObjectID
	top     []holder // the TopHolders largest, recomputed by rankHolders
	dirty   bool     // holders changed since top was computed
}

func newAggregate(nShards int) (*aggregate, error) {
	enc, err := redstuff.NewConfig(nShards)
	if err != nil {
		return nil, err
	}
	return &aggregate{enc: enc, nShards: nShards, blobs: map[chain.ObjectID]blobRec{},
		byBlobID: map[redstuff.BlobID][]chain.ObjectID{}, byEnd: map[uint32][]chain.ObjectID{},
		holders: map[chain.Address]*holder{}, history: []EpochStats{{Epoch: 0}}}, nil
}

func (a *aggregate) row(epoch uint32) *EpochStats {
	for uint32(len(a.history)) <= epoch {
		a.history = append(a.history, EpochStats{Epoch: uint32(len(a.history))})
	}
	return &a.history[epoch]
}

func (a *aggregate) add(id chain.ObjectID, r blobRec) {
	a.blobs[id] = r
	a.byEnd[r.endEpoch] = append(a.byEnd[r.endEpoch], id)
	a.pending = append(a.pending, id)
	a.stored.Blobs++
	a.stored.Bytes += r.size
	a.stored.EncodedBytes += r.encoded
	a.stored.MetadataBytes += a.enc.BilledMetadataSize()
	if r.certified {
		a.stored.CertifiedBlobs++
	}
}

func (a *aggregate) remove(id chain.ObjectID) {
	r, ok := a.blobs[id]
	if !ok {
		return
	}
	delete(a.blobs, id)
	ids := slices.DeleteFunc(a.byBlobID[r.blobID], func(x chain.ObjectID) bool { return x == id })
	if len(ids) == 0 {
		delete(a.byBlobID, r.blobID)
	} else {
		a.byBlobID[r.blobID] = ids
	}
	a.stored.Blobs--
	a.stored.Bytes -= r.size
	a.stored.EncodedBytes -= r.encoded
	a.stored.MetadataBytes -= a.enc.BilledMetadataSize()
	if r.certified {
		a.stored.CertifiedBlobs--
	}
	if r.owned {
		h := a.holders[r.owner]
		h.Blobs--
		h.Bytes -= r.size
		if h.Blobs == 0 {
			delete(a.holders, r.owner)
		}
		a.dirty = true
	}
}

// takePending returns the live blobs whose owner is still to be resolved and forgets them.
func (a *aggregate) takePending() []chain.ObjectID {
	ids := slices.DeleteFunc(a.pending, func(id chain.ObjectID) bool { r, ok := a.blobs[id]; return !ok || r.owned })
	a.pending = nil
	return ids
}

// setOwner counts a live blob, not yet counted, for its owner. Blobs no longer live (deleted
// or expired while the owner was looked up) are ignored; so are shared blobs (zero owner),
// which no account holds.
func (a *aggregate) setOwner(id chain.ObjectID, owner chain.Address) {
	r, ok := a.blobs[id]
	if !ok || r.owned || owner == (chain.Address{}) {
		return
	}
	r.owned, r.owner = true, owner
	a.blobs[id] = r
	h := a.holders[owner]
	if h == nil {
		h = &holder{Address: owner}
		a.holders[owner] = h
	}
	h.Blobs++
	h.Bytes += r.size
	a.dirty = true
}

// rankHolders recomputes the TopHolders largest holders if they changed: most bytes first,
// then most blobs, then by address, so the order is total.
func (a *aggregate) rankHolders() []holder {
	if !a.dirty {
		return a.top
	}
	a.dirty = false
	top := make([]holder, 0, TopHolders+1)
	for _, h := range a.holders {
		i, _ := slices.BinarySearchFunc(top, *h, cmpHolder)
		if i < TopHolders {
			top = slices.Insert(top, i, *h)
			if len(top) > TopHolders {
				top = top[:TopHolders]
			}
		}
	}
	a.top = top
	return top
}

func cmpHolder(x, y holder) int {
	switch {
	case x.Bytes != y.Bytes:
		if x.Bytes > y.Bytes {
			return -1
		}
		return 1
	case x.Blobs != y.Blobs:
		if x.Blobs > y.Blobs {
			return -1
		}
		return 1
	}
	return slices.Compare(x.Address[:], y.Address[:])
}

// advance moves to epoch e: blobs whose storage ended by e expire.
func (a *aggregate) advance(e uint32) {
	for a.epoch < e {
		a.row(a.epoch).StoredBytes = a.stored.Bytes
		a.epoch++
		for _, id := range a.byEnd[a.epoch] {
			if r, ok := a.blobs[id]; ok && r.endEpoch <= a.epoch {
				a.remove(id)
			}
		}
		delete(a.byEnd, a.epoch)
	}
	a.row(a.epoch).StoredBytes = a.stored.Bytes
}

// apply folds one event in. Events must come in sequence order.
func (a *aggregate) apply(ev chain.Event) {
	a.cursor = ev.Seq + 1
	switch b := ev.Body.(type) {
	case *chain.EpochChangeStart:
		a.advance(b.Epoch)
	case *chain.BlobRegistered:
		a.advance(max(a.epoch, b.Epoch))
		enc, err := a.enc.EncodedLength(b.Size)
		if err != nil {
			enc = 0 // the chain accepted it, so this cannot happen; count no encoded bytes
		}
		row := a.row(b.Epoch)
		row.BlobsRegistered++
		row.BytesRegistered += b.Size
		if b.EndEpoch > a.epoch {
			a.add(b.ObjectID, blobRec{blobID: b.BlobID, size: b.Size, encoded: enc, endEpoch: b.EndEpoch})
			a.byBlobID[b.BlobID] = append(a.byBlobID[b.BlobID], b.ObjectID)
		}
		a.row(a.epoch).StoredBytes = a.stored.Bytes
	case *chain.BlobCertified:
		r, ok := a.blobs[b.ObjectID]
		if !ok {
			return
		}
		if !b.IsExtension {
			a.row(b.Epoch).BlobsCertified++
		}
		if !r.certified {
			r.certified = true
			a.stored.CertifiedBlobs++
		}
		if b.EndEpoch != r.endEpoch {
			r.endEpoch = b.EndEpoch
			a.byEnd[r.endEpoch] = append(a.byEnd[r.endEpoch], b.ObjectID)
		}
		a.blobs[b.ObjectID] = r
	case *chain.BlobDeleted:
		a.remove(b.ObjectID)
		a.row(a.epoch).StoredBytes = a.stored.Bytes
	}
}

// objectsOf returns the live Blob objects of a blob ID (at most limit).
func (a *aggregate) objectsOf(id redstuff.BlobID, limit int) []chain.ObjectID {
	ids := a.byBlobID[id]
	return slices.Clone(ids[:min(len(ids), limit)])
}
