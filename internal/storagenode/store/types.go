package store

import (
	"fmt"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// EventID identifies a chain event: the digest of the transaction that emitted it and the
// event's global sequence number, which is also the position of the node's event cursor.
type EventID struct {
	TxDigest [32]byte
	Seq      uint64
}

func (e EventID) marshal(enc *bcs.Encoder) {
	enc.Fixed(e.TxDigest[:])
	enc.U64(e.Seq)
}

func decodeEventID(d *bcs.Decoder) EventID {
	var e EventID
	copy(e.TxDigest[:], d.Fixed(32))
	e.Seq = d.U64()
	return e
}

// BlobInfo is the aggregate state of one blob ID over all its registrations (Blob objects),
// as the node learned it from chain events. End epochs are exclusive.
//
// Permanent registrations never end before their end epoch, so PermanentEndEpoch, the
// largest end epoch among them, tells when they have all expired. Deletable ones can be
// deleted early, so DeletableEndEpoch is only an upper bound: the largest end epoch seen.
type BlobInfo struct {
	EncodingType uint8  // from the first registration
	Size         uint64 // unencoded length, from the first registration

	PermanentTotal     uint32  // live permanent registrations, certified or not
	PermanentEndEpoch  uint32  // largest end epoch among them
	PermanentEvent     EventID // the event that set PermanentEndEpoch
	PermanentCertified uint32  // live certified permanent registrations
	// PermanentCertifiedEndEpoch is the largest end epoch among the certified permanent
	// registrations, and PermanentCertifiedEvent the event that set it.
	PermanentCertifiedEndEpoch uint32
	PermanentCertifiedEvent    EventID

	DeletableTotal     uint32 // live deletable registrations, certified or not
	DeletableCertified uint32 // live certified deletable registrations
	DeletableEndEpoch  uint32 // largest end epoch seen among deletable registrations

	Certified             bool   // some registration was certified
	InitialCertifiedEpoch uint32 // earliest certification epoch, if Certified

	Invalid      bool    // the blob ID was declared invalid
	InvalidEvent EventID // the InvalidBlobID event, if Invalid
}

// Live reports whether any registration is counted (expired ones are counted until they
// are collected).
func (b *BlobInfo) Live() bool { return b.PermanentTotal > 0 || b.DeletableTotal > 0 }

const infoVersion = 0

// MarshalBCS appends the stored form of b.
func (b *BlobInfo) MarshalBCS(e *bcs.Encoder) {
	e.U8(infoVersion)
	e.U8(b.EncodingType)
	e.U64(b.Size)
	e.U32(b.PermanentTotal)
	e.U32(b.PermanentEndEpoch)
	b.PermanentEvent.marshal(e)
	e.U32(b.PermanentCertified)
	e.U32(b.PermanentCertifiedEndEpoch)
	b.PermanentCertifiedEvent.marshal(e)
	e.U32(b.DeletableTotal)
	e.U32(b.DeletableCertified)
	e.U32(b.DeletableEndEpoch)
	e.Option(b.Certified)
	if b.Certified {
		e.U32(b.InitialCertifiedEpoch)
	}
	e.Bool(b.Invalid)
	b.InvalidEvent.marshal(e)
}

func decodeBlobInfo(v []byte) (BlobInfo, error) {
	d := bcs.NewDecoder(v)
	var b BlobInfo
	if ver := d.U8(); d.Err() == nil && ver != infoVersion {
		return b, fmt.Errorf("%w: blob info version %d", ErrCorrupt, ver)
	}
	b.EncodingType = d.U8()
	b.Size = d.U64()
	b.PermanentTotal = d.U32()
	b.PermanentEndEpoch = d.U32()
	b.PermanentEvent = decodeEventID(d)
	b.PermanentCertified = d.U32()
	b.PermanentCertifiedEndEpoch = d.U32()
	b.PermanentCertifiedEvent = decodeEventID(d)
	b.DeletableTotal = d.U32()
	b.DeletableCertified = d.U32()
	b.DeletableEndEpoch = d.U32()
	if b.Certified = d.Option(); b.Certified {
		b.InitialCertifiedEpoch = d.U32()
	}
	b.Invalid = d.Bool()
	b.InvalidEvent = decodeEventID(d)
	if err := d.Finish(); err != nil {
		return BlobInfo{}, fmt.Errorf("%w: blob info: %v", ErrCorrupt, err)
	}
	return b, nil
}

// ObjectInfo is the state of one registration: a Blob object on chain.
type ObjectInfo struct {
	BlobID          redstuff.BlobID
	Deletable       bool
	RegisteredEpoch uint32
	EndEpoch        uint32 // exclusive
	Certified       bool
	CertifiedEpoch  uint32  // if Certified
	Event           EventID // the latest event that changed the object
}

// MarshalBCS appends the stored form of o.
func (o *ObjectInfo) MarshalBCS(e *bcs.Encoder) {
	e.U8(infoVersion)
	e.Fixed(o.BlobID[:])
	e.Bool(o.Deletable)
	e.U32(o.RegisteredEpoch)
	e.U32(o.EndEpoch)
	e.Option(o.Certified)
	if o.Certified {
		e.U32(o.CertifiedEpoch)
	}
	o.Event.marshal(e)
}

func decodeObjectInfo(v []byte) (ObjectInfo, error) {
	d := bcs.NewDecoder(v)
	var o ObjectInfo
	if ver := d.U8(); d.Err() == nil && ver != infoVersion {
		return o, fmt.Errorf("%w: object info version %d", ErrCorrupt, ver)
	}
	copy(o.BlobID[:], d.Fixed(32))
	o.Deletable = d.Bool()
	o.RegisteredEpoch = d.U32()
	o.EndEpoch = d.U32()
	if o.Certified = d.Option(); o.Certified {
		o.CertifiedEpoch = d.U32()
	}
	o.Event = decodeEventID(d)
	if err := d.Finish(); err != nil {
		return ObjectInfo{}, fmt.Errorf("%w: object info: %v", ErrCorrupt, err)
	}
	return o, nil
}

// ShardStatus is the state of a shard on this node (Walrus's shard status).
type ShardStatus uint8

// Shard statuses. A shard without a record has status None.
const (
	// ShardNone: the node does not hold the shard.
	ShardNone ShardStatus = iota
	// ShardActive: the node owns the shard and it is up to date.
	ShardActive
	// ShardActiveSync: the node owns the shard and is receiving it from its previous owner.
	ShardActiveSync
	// ShardActiveRecover: the node owns the shard and is recovering it with RedStuff.
	ShardActiveRecover
	// ShardLockedToMove: the node no longer owns the shard; it keeps serving reads from it
	// until the new owner has taken it over, and accepts no writes.
	ShardLockedToMove
	numShardStatuses
)

var shardStatusNames = [...]string{"None", "Active", "ActiveSync", "ActiveRecover", "LockedToMove"}

func (s ShardStatus) String() string {
	if s < numShardStatuses {
		return shardStatusNames[s]
	}
	return fmt.Sprintf("ShardStatus(%d)", uint8(s))
}

// Owned reports whether the status is one of a shard the node owns in the current epoch:
// the shards whose slivers it must store and may accept.
func (s ShardStatus) Owned() bool {
	return s == ShardActive || s == ShardActiveSync || s == ShardActiveRecover
}

// Readable reports whether the node holds the shard's data and serves reads from it.
func (s ShardStatus) Readable() bool { return s != ShardNone && s < numShardStatuses }

// ShardState is one shard's index and status.
type ShardState struct {
	Shard  uint16
	Status ShardStatus
}

// NodeStatus is the state of the node as a whole (Walrus's node status).
type NodeStatus uint8

// Node statuses.
const (
	// NodeStandby: the node is not in the current committee.
	NodeStandby NodeStatus = iota
	// NodeActive: the node is in the committee and up to date.
	NodeActive
	// NodeRecoverMetadata: the node is fetching metadata it lacks.
	NodeRecoverMetadata
	// NodeRecoveryCatchUp: the node is catching up with chain events.
	NodeRecoveryCatchUp
	// NodeRecoveryInProgress: the node is recovering the slivers of certified blobs.
	NodeRecoveryInProgress
	numNodeStatuses
)

var nodeStatusNames = [...]string{"Standby", "Active", "RecoverMetadata", "RecoveryCatchUp", "RecoveryInProgress"}

func (s NodeStatus) String() string {
	if s < numNodeStatuses {
		return nodeStatusNames[s]
	}
	return fmt.Sprintf("NodeStatus(%d)", uint8(s))
}

// NodeState is the node-wide state that survives restarts.
type NodeState struct {
	Status NodeStatus
	// Epoch is the current epoch as the node knows it: that of the latest EpochChangeStart.
	Epoch uint32
	// ChangeDoneEpoch is the latest epoch whose EpochChangeDone the node has seen.
	ChangeDoneEpoch uint32
}

// MarshalBCS appends the stored form of s.
func (s *NodeState) MarshalBCS(e *bcs.Encoder) {
	e.U8(infoVersion)
	e.U8(uint8(s.Status))
	e.U32(s.Epoch)
	e.U32(s.ChangeDoneEpoch)
}

func decodeNodeState(v []byte) (NodeState, error) {
	d := bcs.NewDecoder(v)
	var s NodeState
	if ver := d.U8(); d.Err() == nil && ver != infoVersion {
		return s, fmt.Errorf("%w: node state version %d", ErrCorrupt, ver)
	}
	s.Status = NodeStatus(d.U8())
	s.Epoch = d.U32()
	s.ChangeDoneEpoch = d.U32()
	if err := d.Finish(); err != nil {
		return NodeState{}, fmt.Errorf("%w: node state: %v", ErrCorrupt, err)
	}
	if s.Status >= numNodeStatuses {
		return NodeState{}, fmt.Errorf("%w: node status %d", ErrCorrupt, s.Status)
	}
	return s, nil
}
