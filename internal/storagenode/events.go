package storagenode

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// Event is a chain event the node acts on, described independently of the chain's own
// types: the chain follower translates chain events into these. It is one of
// BlobRegistered, BlobCertified, BlobDeleted, BlobInvalid, EpochChangeStart and
// EpochChangeDone.
type Event interface{ event() }

// BlobRegistered: a Blob object was created for a blob ID (Walrus's BlobRegistered).
type BlobRegistered struct {
	Epoch        uint32 // epoch of the registration
	BlobID       redstuff.BlobID
	ObjectID     ObjectID
	Size         uint64 // unencoded length
	EncodingType uint8
	EndEpoch     uint32 // exclusive
	Deletable    bool
}

// BlobCertified: a Blob object was certified, or its certified lifetime extended when
// IsExtension is set (Walrus's BlobCertified).
type BlobCertified struct {
	Epoch       uint32 // epoch of the (original) certification
	BlobID      redstuff.BlobID
	ObjectID    ObjectID
	EndEpoch    uint32 // exclusive; the new end for an extension
	Deletable   bool
	IsExtension bool
}

// BlobDeleted: a deletable Blob object was deleted (Walrus's BlobDeleted).
type BlobDeleted struct {
	Epoch        uint32
	BlobID       redstuff.BlobID
	ObjectID     ObjectID
	EndEpoch     uint32
	WasCertified bool
}

// BlobInvalid: the blob ID was declared invalid by an invalid-blob certificate (Walrus's
// InvalidBlobID).
type BlobInvalid struct {
	Epoch  uint32
	BlobID redstuff.BlobID
}

// EpochChangeStart: epoch Epoch has started and the node owns exactly Shards in it. Shards
// the node held and no longer owns become LockedToMove; shards it gains become ActiveSync
// (to be fetched from their previous owner), or Active when Initial is set (the first
// committee of the system: there is nothing to fetch).
type EpochChangeStart struct {
	Epoch   uint32
	Shards  []uint16
	Initial bool
}

// EpochChangeDone: the new committee of Epoch has taken over its shards.
type EpochChangeDone struct {
	Epoch uint32
}

func (BlobRegistered) event()   {}
func (BlobCertified) event()    {}
func (BlobDeleted) event()      {}
func (BlobInvalid) event()      {}
func (EpochChangeStart) event() {}
func (EpochChangeDone) event()  {}

// SequencedEvent is an event with its ID, whose Seq orders it in the chain's event log.
type SequencedEvent struct {
	ID    EventID
	Event Event
}

// ApplyEvent applies one event; see ApplyEvents.
func (n *Node) ApplyEvent(id EventID, ev Event) error {
	return n.ApplyEvents([]SequencedEvent{{ID: id, Event: ev}})
}

// ApplyEvents applies events in order and stores their effects together with the cursor
// past the last one in one synced batch, so that after a crash either all of them have
// been applied or none. Events whose Seq is below the cursor were applied before and are
// skipped, which makes redelivery after a restart harmless; sequence numbers may have gaps
// (events the follower filtered out) but must increase. A nil Event only moves the cursor.
// Events that contradict what the node knows (a certification of another blob's object,
// say) are logged and ignored rather than stopping the follower.
//
// It returns an error only if the events are out of order or the store fails; then
// nothing was applied.
//
// Once the events are committed, the pending uploads (NewPendingUpload) of the blobs
// they registered are stored, and waiting confirmation requests are woken.
func (n *Node) ApplyEvents(events []SequencedEvent) error {
	registered, err := n.applyEvents(events)
	if err != nil || len(registered) == 0 {
		return err
	}
	for _, id := range registered {
		n.flushPending(id)
	}
	n.signalRegistration()
	return nil
}

// applyEvents is ApplyEvents without the pending uploads; it returns the blobs the
// events registered.
func (n *Node) applyEvents(events []SequencedEvent) ([]redstuff.BlobID, error) {
	n.commit.Lock()
	defer n.commit.Unlock()
	old := n.st.Load()
	next := *old
	next.shards = maps.Clone(old.shards)
	a := applier{n: n, b: n.store.NewBatch(), st: &next}
	defer a.b.Close()
	applied := 0
	for i, e := range events {
		if i > 0 && e.ID.Seq <= events[i-1].ID.Seq {
			return nil, fmt.Errorf("storagenode: events out of order: %d after %d", e.ID.Seq, events[i-1].ID.Seq)
		}
		if e.ID.Seq < next.cursor {
			continue
		}
		if err := a.apply(e.ID, e.Event); err != nil {
			return nil, err
		}
		next.cursor = e.ID.Seq + 1
		applied++
	}
	if applied == 0 {
		return nil, nil
	}
	a.b.SetCursor(next.cursor)
	if a.stateChanged {
		a.b.SetNodeState(next.nodeState())
	}
	if err := a.b.Commit(); err != nil {
		return nil, n.internal("commit events", err)
	}
	n.st.Store(newState(next.cursor, next.nodeState(), next.shards))
	for _, id := range a.dropped {
		n.cache.removeBlob(id)
	}
	return a.newlyRegistered, nil
}

// AdvanceCursor moves the cursor to next without applying anything, for a follower that
// has seen only events the node ignores. A next at or below the cursor is a no-op.
func (n *Node) AdvanceCursor(next uint64) error {
	if next == 0 {
		return nil
	}
	return n.ApplyEvent(EventID{Seq: next - 1}, nil)
}

// applier applies events to one batch and to the next state.
type applier struct {
	n               *Node
	b               *store.Batch
	st              *state
	stateChanged    bool
	dropped         []redstuff.BlobID // blobs whose data was deleted
	newlyRegistered []redstuff.BlobID // blobs registered
}

func (a *applier) apply(id EventID, ev Event) error {
	switch ev := ev.(type) {
	case nil:
		return nil
	case BlobRegistered:
		return a.registered(id, ev)
	case BlobCertified:
		return a.certified(id, ev)
	case BlobDeleted:
		return a.deleted(id, ev)
	case BlobInvalid:
		return a.invalid(id, ev)
	case EpochChangeStart:
		return a.epochStart(ev)
	case EpochChangeDone:
		if ev.Epoch > a.st.changeDone {
			a.st.changeDone = ev.Epoch
			a.stateChanged = true
		}
		return nil
	}
	return fmt.Errorf("storagenode: unknown event type %T", ev)
}

func (a *applier) blobInfo(id redstuff.BlobID) (store.BlobInfo, bool, error) {
	info, err := a.b.BlobInfo(id)
	if errors.Is(err, store.ErrNotFound) {
		return info, false, nil
	}
	if err != nil {
		return info, false, a.n.internal("read blob info", err)
	}
	return info, true, nil
}

func (a *applier) objectInfo(id ObjectID) (store.ObjectInfo, bool, error) {
	info, err := a.b.ObjectInfo(id)
	if errors.Is(err, store.ErrNotFound) {
		return info, false, nil
	}
	if err != nil {
		return info, false, a.n.internal("read object info", err)
	}
	return info, true, nil
}

func (a *applier) ignore(id EventID, ev Event, why string) error {
	a.n.logger.Warn("ignoring chain event", "seq", id.Seq, "event", fmt.Sprintf("%T", ev), "reason", why)
	return nil
}

func (a *applier) registered(id EventID, ev BlobRegistered) error {
	if _, found, err := a.objectInfo(ev.ObjectID); err != nil || found {
		if found {
			return a.ignore(id, ev, "object already registered")
		}
		return err
	}
	info, found, err := a.blobInfo(ev.BlobID)
	if err != nil {
		return err
	}
	if !found {
		info.EncodingType, info.Size = ev.EncodingType, ev.Size
	}
	register(&info, id, ev.EndEpoch, ev.Deletable)
	a.b.PutBlobInfo(ev.BlobID, info)
	a.newlyRegistered = append(a.newlyRegistered, ev.BlobID)
	a.b.PutObjectInfo(ev.ObjectID, store.ObjectInfo{
		BlobID: ev.BlobID, Deletable: ev.Deletable, RegisteredEpoch: ev.Epoch, EndEpoch: ev.EndEpoch, Event: id,
	})
	return nil
}

// register counts one more live registration.
func register(info *store.BlobInfo, id EventID, end uint32, deletable bool) {
	if deletable {
		info.DeletableTotal++
		info.DeletableEndEpoch = max(info.DeletableEndEpoch, end)
		return
	}
	info.PermanentTotal++
	if end > info.PermanentEndEpoch || info.PermanentTotal == 1 {
		info.PermanentEndEpoch, info.PermanentEvent = end, id
	}
}

func (a *applier) certified(id EventID, ev BlobCertified) error {
	obj, found, err := a.objectInfo(ev.ObjectID)
	if err != nil {
		return err
	}
	info, infoFound, err := a.blobInfo(ev.BlobID)
	if err != nil {
		return err
	}
	if !found {
		// The registration was missed (it cannot be from a complete event log): count it.
		if !infoFound {
			info.EncodingType = redstuff.EncodingRS2
		}
		register(&info, id, ev.EndEpoch, ev.Deletable)
		obj = store.ObjectInfo{BlobID: ev.BlobID, Deletable: ev.Deletable, RegisteredEpoch: ev.Epoch, EndEpoch: ev.EndEpoch}
	} else if obj.BlobID != ev.BlobID || obj.Deletable != ev.Deletable {
		return a.ignore(id, ev, "object registered for another blob or persistence")
	}

	if ev.EndEpoch > obj.EndEpoch {
		obj.EndEpoch = ev.EndEpoch
		if obj.Deletable {
			info.DeletableEndEpoch = max(info.DeletableEndEpoch, ev.EndEpoch)
		} else if ev.EndEpoch > info.PermanentEndEpoch {
			info.PermanentEndEpoch, info.PermanentEvent = ev.EndEpoch, id
		}
	}
	if !obj.Certified {
		obj.Certified, obj.CertifiedEpoch = true, ev.Epoch
		if obj.Deletable {
			info.DeletableCertified++
		} else {
			info.PermanentCertified++
		}
		if !info.Certified || ev.Epoch < info.InitialCertifiedEpoch {
			info.Certified, info.InitialCertifiedEpoch = true, ev.Epoch
		}
	}
	// The certified end epoch is reset when the last certified registration goes away, so
	// the first certification always sets it.
	if !obj.Deletable && obj.EndEpoch > info.PermanentCertifiedEndEpoch {
		info.PermanentCertifiedEndEpoch, info.PermanentCertifiedEvent = obj.EndEpoch, id
	}
	obj.Event = id
	a.b.PutObjectInfo(ev.ObjectID, obj)
	a.b.PutBlobInfo(ev.BlobID, info)
	return nil
}

// unregister removes one registration from the counts.
func unregister(info *store.BlobInfo, obj store.ObjectInfo) {
	dec := func(v *uint32) {
		if *v > 0 {
			*v--
		}
	}
	if obj.Deletable {
		dec(&info.DeletableTotal)
		if obj.Certified {
			dec(&info.DeletableCertified)
		}
		if info.DeletableTotal == 0 {
			info.DeletableEndEpoch = 0
		}
	} else {
		dec(&info.PermanentTotal)
		if obj.Certified {
			dec(&info.PermanentCertified)
		}
		if info.PermanentTotal == 0 {
			info.PermanentEndEpoch, info.PermanentEvent = 0, EventID{}
		}
		if info.PermanentCertified == 0 {
			info.PermanentCertifiedEndEpoch, info.PermanentCertifiedEvent = 0, EventID{}
		}
	}
	if info.PermanentCertified == 0 && info.DeletableCertified == 0 {
		info.Certified, info.InitialCertifiedEpoch = false, 0
	}
}

func (a *applier) deleted(id EventID, ev BlobDeleted) error {
	obj, found, err := a.objectInfo(ev.ObjectID)
	if err != nil || !found {
		return err // nothing counted: already collected as expired
	}
	if obj.BlobID != ev.BlobID {
		return a.ignore(id, ev, "object registered for another blob")
	}
	info, _, err := a.blobInfo(ev.BlobID)
	if err != nil {
		return err
	}
	unregister(&info, obj)
	a.b.DeleteObjectInfo(ev.ObjectID)
	a.settle(ev.BlobID, info)
	return nil
}

// settle stores a blob's info after a registration went away; with no registration left
// the blob's data and (unless it is invalid) its info are deleted.
func (a *applier) settle(id redstuff.BlobID, info store.BlobInfo) {
	switch {
	case info.Live():
		a.b.PutBlobInfo(id, info)
	case info.Invalid:
		a.b.PutBlobInfo(id, info)
	default:
		a.b.DeleteBlobInfo(id)
		a.b.DeleteBlobData(id, a.st.readable)
		a.dropped = append(a.dropped, id)
	}
}

func (a *applier) invalid(id EventID, ev BlobInvalid) error {
	info, _, err := a.blobInfo(ev.BlobID)
	if err != nil {
		return err
	}
	if info.Invalid {
		return nil
	}
	info.Invalid, info.InvalidEvent = true, id
	a.b.PutBlobInfo(ev.BlobID, info)
	a.b.DeleteBlobData(ev.BlobID, a.st.readable)
	a.dropped = append(a.dropped, ev.BlobID)
	return nil
}

func (a *applier) epochStart(ev EpochChangeStart) error {
	st := a.st
	if ev.Epoch < st.epoch {
		a.n.logger.Warn("ignoring epoch change to an earlier epoch", "epoch", ev.Epoch, "current", st.epoch)
		return nil
	}
	owned := make(map[uint16]bool, len(ev.Shards))
	for _, sh := range ev.Shards {
		if int(sh) >= a.n.n {
			a.n.logger.Warn("ignoring shard out of range in epoch change", "shard", sh, "epoch", ev.Epoch)
			continue
		}
		owned[sh] = true
	}
	for _, sh := range slices.Sorted(maps.Keys(st.shards)) {
		if cur := st.shards[sh]; cur.Owned() && !owned[sh] {
			st.shards[sh] = store.ShardLockedToMove
			a.b.SetShardStatus(sh, store.ShardLockedToMove)
		}
	}
	for _, sh := range slices.Sorted(maps.Keys(owned)) {
		if st.shards[sh].Owned() {
			continue
		}
		status := store.ShardActiveSync
		if ev.Initial {
			status = store.ShardActive
		}
		st.shards[sh] = status
		a.b.SetShardStatus(sh, status)
	}
	st.epoch = ev.Epoch
	st.status = store.NodeStandby
	if len(owned) > 0 {
		st.status = store.NodeActive
	}
	// Recompute the derived shard lists for later events of this batch.
	*st = *newState(st.cursor, st.nodeState(), st.shards)
	a.stateChanged = true
	return nil
}
