package chain

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Event is one entry of the append-only event log. Seq numbers start at 0 and grow by one per
// committed event, never reused; clients follow the chain by paging through events after a
// cursor. Its BCS encoding is seq u64 ‖ height u64 ‖ tx digest [32]u8 ‖ body (enum, variant
// index from [EventType]'s table). The digest is that of the emitting transaction, zero for
// events of block processing (epoch changes) and the genesis digest for genesis events.
type Event struct {
	Seq      uint64
	Height   uint64
	TxDigest [32]byte
	Body     EventBody
}

// EventBody is the content of an event: one of the exported event structs below.
type EventBody interface {
	eventVariant() uint32
	encode(e *bcs.Encoder)
	decode(d *bcs.Decoder)
	fields() []field
}

// eventTypes lists the event variants in variant order. New variants are appended.
var eventTypes = []string{
	"BlobRegistered", "BlobCertified", "BlobDeleted", "InvalidBlobID", "EpochChangeStart",
	"EpochChangeDone", "EpochParametersSelected", "ShardsReceived", "PricesUpdated",
	"NodeRegistered", "StakeDeposited", "StakeWithdrawRequested", "StakeWithdrawn",
	"RewardsDistributed", "CommissionCollected", "NodeSlashed", "TransferredWithMemo", "BucketCreated",
	"BucketDeleted", "EntryRemoved", "PartRemoved", "UploadEnded",
	// 22 to 25 are reserved for other events (an unknown variant does not decode).
	"reserved-22", "reserved-23", "reserved-24", "reserved-25",
	"ChallengeSeedFixed", "ChallengePassed", "ChallengeFailed", "StakeSlashed", "StakeShiftPenalized",
	"ProposalCreated", "ProposalAccepted", "ProposalRejected", "ParametersChanged",
}

func newEventBody(v uint32) EventBody {
	switch v {
	case 0:
		return new(BlobRegistered)
	case 1:
		return new(BlobCertified)
	case 2:
		return new(BlobDeleted)
	case 3:
		return new(InvalidBlobID)
	case 4:
		return new(EpochChangeStart)
	case 5:
		return new(EpochChangeDone)
	case 6:
		return new(EpochParametersSelected)
	case 7:
		return new(ShardsReceived)
	case 8:
		return new(PricesUpdated)
	case 9:
		return new(NodeRegistered)
	case 10:
		return new(StakeDeposited)
	case 11:
		return new(StakeWithdrawRequested)
	case 12:
		return new(StakeWithdrawn)
	case 13:
		return new(RewardsDistributed)
	case 14:
		return new(CommissionCollected)
	case 15:
		return new(NodeSlashed)
	case 16:
		return new(TransferredWithMemo)
	case 17:
		return new(BucketCreated)
	case 18:
		return new(BucketDeleted)
	case 19:
		return new(EntryRemoved)
	case 20:
		return new(PartRemoved)
	case 21:
		return new(UploadEnded)
	case 26:
		return new(ChallengeSeedFixed)
	case 27:
		return new(ChallengePassed)
	case 28:
		return new(ChallengeFailed)
	case 29:
		return new(StakeSlashed)
	case 30:
		return new(StakeShiftPenalized)
	case 31:
		return new(ProposalCreated)
	case 32:
		return new(ProposalAccepted)
	case 33:
		return new(ProposalRejected)
	case 34:
		return new(ParametersChanged)
	}
	return nil
}

// EventType returns the type name of an event body ("BlobCertified", ...).
func EventType(b EventBody) string { return eventTypes[b.eventVariant()] }

// Type returns the type name of the event's body.
func (ev *Event) Type() string { return EventType(ev.Body) }

func (ev *Event) encode(e *bcs.Encoder) {
	e.U64(ev.Seq)
	e.U64(ev.Height)
	e.Fixed(ev.TxDigest[:])
	e.Variant(ev.Body.eventVariant())
	ev.Body.encode(e)
}

func (ev *Event) decode(d *bcs.Decoder) {
	ev.Seq = d.U64()
	ev.Height = d.U64()
	ev.TxDigest = fixed32(d)
	v := d.Variant(uint32(len(eventTypes)))
	if d.Err() != nil {
		return
	}
	ev.Body = newEventBody(v)
	if ev.Body == nil {
		d.Fail(fmt.Errorf("%w: event variant %d is reserved", bcs.ErrInvalidVariant, v))
		return
	}
	ev.Body.decode(d)
}

// Encode returns the BCS encoding of the event.
func (ev Event) Encode() []byte { return encodeBCS(&ev) }

// DecodeEvent decodes the BCS encoding of an Event.
func DecodeEvent(b []byte) (Event, error) { return decodeBCS[Event](b) }

// String formats the event as "#seq Type field=value ...", IDs in 0x-hex.
func (ev Event) String() string { return ev.text(nil) }

// text formats the event, naming 32-byte IDs with name when it returns a non-empty string.
func (ev *Event) text(name func([32]byte) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s", ev.Seq, ev.Type())
	for _, f := range ev.Body.fields() {
		b.WriteString(" ")
		b.WriteString(f.name)
		b.WriteString("=")
		b.WriteString(formatValue(f.value, name))
	}
	return b.String()
}

type field struct {
	name  string
	value any
}

func formatValue(v any, name func([32]byte) string) string {
	id := func(x [32]byte) string {
		if name != nil {
			if s := name(x); s != "" {
				return s
			}
		}
		return "0x" + hex.EncodeToString(x[:])
	}
	switch x := v.(type) {
	case ObjectID:
		return id(x)
	case Address:
		return id(x)
	case redstuff.BlobID:
		return id(x)
	case [32]byte:
		return id(x)
	case []uint16:
		s := make([]string, len(x))
		for i, v := range x {
			s[i] = strconv.Itoa(int(v))
		}
		return "[" + strings.Join(s, ",") + "]"
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprint(v)
}

// BlobRegistered is emitted when a blob is registered (Walrus events::BlobRegistered).
type BlobRegistered struct {
	Epoch        uint32
	BlobID       redstuff.BlobID
	Size         uint64
	EncodingType uint8
	EndEpoch     uint32
	Deletable    bool
	ObjectID     ObjectID
}

// BlobCertified is emitted when a blob is certified, and again with IsExtension when its
// lifetime is extended; Epoch is the epoch of the original certification.
type BlobCertified struct {
	Epoch       uint32
	BlobID      redstuff.BlobID
	EndEpoch    uint32
	Deletable   bool
	ObjectID    ObjectID
	IsExtension bool
}

// BlobDeleted is emitted when a deletable blob is deleted.
type BlobDeleted struct {
	Epoch        uint32
	BlobID       redstuff.BlobID
	EndEpoch     uint32
	ObjectID     ObjectID
	WasCertified bool
}

// InvalidBlobID is emitted when a blob ID is proven invalid.
type InvalidBlobID struct {
	Epoch  uint32
	BlobID redstuff.BlobID
}

// EpochChangeStart is emitted when Epoch starts and its committee takes over.
type EpochChangeStart struct{ Epoch uint32 }

// EpochChangeDone is emitted when a quorum of Epoch's committee signalled EpochSyncDone.
type EpochChangeDone struct{ Epoch uint32 }

// EpochParametersSelected is emitted mid-epoch when the committee of NextEpoch is selected.
type EpochParametersSelected struct{ NextEpoch uint32 }

// ShardsReceived is emitted at the start of Epoch for each node that gains shards: the
// shards it holds in Epoch but did not hold in Epoch-1 (their previous owners are in the
// committee of Epoch-1).
type ShardsReceived struct {
	Epoch  uint32
	NodeID ObjectID
	Shards []uint16
}

// PricesUpdated is emitted when the storage or write price changes.
type PricesUpdated struct {
	Epoch        uint32
	StoragePrice uint64
	WritePrice   uint64
}

// NodeRegistered is emitted when a storage node candidate registers.
type NodeRegistered struct {
	NodeID   ObjectID
	Operator Address
	Name     string
}

// StakeDeposited is emitted when WAL is staked with a node.
type StakeDeposited struct {
	NodeID          ObjectID
	StakedWal       ObjectID
	Owner           Address
	Amount          uint64
	ActivationEpoch uint32
}

// StakeWithdrawRequested is emitted when withdrawal of a StakedWal is requested.
type StakeWithdrawRequested struct {
	NodeID        ObjectID
	StakedWal     ObjectID
	WithdrawEpoch uint32
}

// StakeWithdrawn is emitted when a StakedWal is paid out.
type StakeWithdrawn struct {
	NodeID    ObjectID
	StakedWal ObjectID
	Amount    uint64
}

// RewardsDistributed is emitted at the end of Epoch: Total was in the epoch's reward slot,
// Burned was destroyed, Distributed went to the committee's pools and the rest (rounding)
// rolled into the next epoch.
type RewardsDistributed struct {
	Epoch       uint32
	Total       uint64
	Burned      uint64
	Distributed uint64
}

// CommissionCollected is emitted when a node operator collects commission.
type CommissionCollected struct {
	NodeID ObjectID
	Amount uint64
}

// NodeSlashed is emitted when governance slashing reaches a quorum: the node's accumulated
// commission is burned.
type NodeSlashed struct {
	Epoch  uint32
	NodeID ObjectID
	Burned uint64
}

func (*BlobRegistered) eventVariant() uint32          { return 0 }
func (*BlobCertified) eventVariant() uint32           { return 1 }
func (*BlobDeleted) eventVariant() uint32             { return 2 }
func (*InvalidBlobID) eventVariant() uint32           { return 3 }
func (*EpochChangeStart) eventVariant() uint32        { return 4 }
func (*EpochChangeDone) eventVariant() uint32         { return 5 }
func (*EpochParametersSelected) eventVariant() uint32 { return 6 }
func (*ShardsReceived) eventVariant() uint32          { return 7 }
func (*PricesUpdated) eventVariant() uint32           { return 8 }
func (*NodeRegistered) eventVariant() uint32          { return 9 }
func (*StakeDeposited) eventVariant() uint32          { return 10 }
func (*StakeWithdrawRequested) eventVariant() uint32  { return 11 }
func (*StakeWithdrawn) eventVariant() uint32          { return 12 }
func (*RewardsDistributed) eventVariant() uint32      { return 13 }
func (*CommissionCollected) eventVariant() uint32     { return 14 }
func (*NodeSlashed) eventVariant() uint32             { return 15 }
func (*TransferredWithMemo) eventVariant() uint32     { return 16 }

// TransferredWithMemo is emitted by a TransferWithMemo transaction.
type TransferredWithMemo struct {
	From, To Address
	Amount   uint64
	Memo     []byte
}

func (v *TransferredWithMemo) encode(e *bcs.Encoder) {
	e.Fixed(v.From[:])
	e.Fixed(v.To[:])
	e.U64(v.Amount)
	e.Bytes(v.Memo)
}

func (v *TransferredWithMemo) decode(d *bcs.Decoder) {
	v.From = fixed32(d)
	v.To = fixed32(d)
	v.Amount = d.U64()
	v.Memo = bytesCopy(d, MaxMemoLen)
}

func (v *TransferredWithMemo) fields() []field {
	return []field{{"from", v.From}, {"to", v.To}, {"amount", v.Amount}, {"memo", hex.EncodeToString(v.Memo)}}
}

func (v *BlobRegistered) encode(e *bcs.Encoder) {
	e.U32(v.Epoch)
	e.Fixed(v.BlobID[:])
	e.U64(v.Size)
	e.U8(v.EncodingType)
	e.U32(v.EndEpoch)
	e.Bool(v.Deletable)
	e.Fixed(v.ObjectID[:])
}

func (v *BlobRegistered) decode(d *bcs.Decoder) {
	v.Epoch = d.U32()
	v.BlobID = fixed32(d)
	v.Size = d.U64()
	v.EncodingType = d.U8()
	v.EndEpoch = d.U32()
	v.Deletable = d.Bool()
	v.ObjectID = fixed32(d)
}

func (v *BlobRegistered) fields() []field {
	return []field{{"epoch", v.Epoch}, {"blob", v.BlobID}, {"size", v.Size}, {"encoding", v.EncodingType},
		{"end", v.EndEpoch}, {"deletable", v.Deletable}, {"object", v.ObjectID}}
}

func (v *BlobCertified) encode(e *bcs.Encoder) {
	e.U32(v.Epoch)
	e.Fixed(v.BlobID[:])
	e.U32(v.EndEpoch)
	e.Bool(v.Deletable)
	e.Fixed(v.ObjectID[:])
	e.Bool(v.IsExtension)
}

func (v *BlobCertified) decode(d *bcs.Decoder) {
	v.Epoch = d.U32()
	v.BlobID = fixed32(d)
	v.EndEpoch = d.U32()
	v.Deletable = d.Bool()
	v.ObjectID = fixed32(d)
	v.IsExtension = d.Bool()
}

func (v *BlobCertified) fields() []field {
	return []field{{"epoch", v.Epoch}, {"blob", v.BlobID}, {"end", v.EndEpoch}, {"deletable", v.Deletable},
		{"object", v.ObjectID}, {"extension", v.IsExtension}}
}

func (v *BlobDeleted) encode(e *bcs.Encoder) {
	e.U32(v.Epoch)
	e.Fixed(v.BlobID[:])
	e.U32(v.EndEpoch)
	e.Fixed(v.ObjectID[:])
	e.Bool(v.WasCertified)
}

func (v *BlobDeleted) decode(d *bcs.Decoder) {
	v.Epoch = d.U32()
	v.BlobID = fixed32(d)
	v.EndEpoch = d.U32()
	v.ObjectID = fixed32(d)
	v.WasCertified = d.Bool()
}

func (v *BlobDeleted) fields() []field {
	return []field{{"epoch", v.Epoch}, {"blob", v.BlobID}, {"end", v.EndEpoch}, {"object", v.ObjectID},
		{"was-certified", v.WasCertified}}
}

func (v *InvalidBlobID) encode(e *bcs.Encoder) { e.U32(v.Epoch); e.Fixed(v.BlobID[:]) }
func (v *InvalidBlobID) decode(d *bcs.Decoder) { v.Epoch = d.U32(); v.BlobID = fixed32(d) }
func (v *InvalidBlobID) fields() []field {
	return []field{{"epoch", v.Epoch}, {"blob", v.BlobID}}
}

func (v *EpochChangeStart) encode(e *bcs.Encoder) { e.U32(v.Epoch) }
func (v *EpochChangeStart) decode(d *bcs.Decoder) { v.Epoch = d.U32() }
func (v *EpochChangeStart) fields() []field       { return []field{{"epoch", v.Epoch}} }

func (v *EpochChangeDone) encode(e *bcs.Encoder) { e.U32(v.Epoch) }
func (v *EpochChangeDone) decode(d *bcs.Decoder) { v.Epoch = d.U32() }
func (v *EpochChangeDone) fields() []field       { return []field{{"epoch", v.Epoch}} }

func (v *EpochParametersSelected) encode(e *bcs.Encoder) { e.U32(v.NextEpoch) }
func (v *EpochParametersSelected) decode(d *bcs.Decoder) { v.NextEpoch = d.U32() }
func (v *EpochParametersSelected) fields() []field       { return []field{{"next-epoch", v.NextEpoch}} }

func (v *ShardsReceived) encode(e *bcs.Encoder) {
	e.U32(v.Epoch)
	e.Fixed(v.NodeID[:])
	e.Len(len(v.Shards))
	for _, s := range v.Shards {
		e.U16(s)
	}
}

func (v *ShardsReceived) decode(d *bcs.Decoder) {
	v.Epoch = d.U32()
	v.NodeID = fixed32(d)
	n := d.Len(maxListLen)
	v.Shards = nil
	for i := 0; i < n && d.Err() == nil; i++ {
		v.Shards = append(v.Shards, d.U16())
	}
}

func (v *ShardsReceived) fields() []field {
	return []field{{"epoch", v.Epoch}, {"node", v.NodeID}, {"shards", v.Shards}}
}

func (v *PricesUpdated) encode(e *bcs.Encoder) {
	e.U32(v.Epoch)
	e.U64(v.StoragePrice)
	e.U64(v.WritePrice)
}
func (v *PricesUpdated) decode(d *bcs.Decoder) {
	v.Epoch = d.U32()
	v.StoragePrice = d.U64()
	v.WritePrice = d.U64()
}
func (v *PricesUpdated) fields() []field {
	return []field{{"epoch", v.Epoch}, {"storage-price", v.StoragePrice}, {"write-price", v.WritePrice}}
}

func (v *NodeRegistered) encode(e *bcs.Encoder) {
	e.Fixed(v.NodeID[:])
	e.Fixed(v.Operator[:])
	e.Bytes([]byte(v.Name))
}

func (v *NodeRegistered) decode(d *bcs.Decoder) {
	v.NodeID = fixed32(d)
	v.Operator = fixed32(d)
	v.Name = str(d, MaxNameLen)
}

func (v *NodeRegistered) fields() []field {
	return []field{{"node", v.NodeID}, {"operator", v.Operator}, {"name", v.Name}}
}

func (v *StakeDeposited) encode(e *bcs.Encoder) {
	e.Fixed(v.NodeID[:])
	e.Fixed(v.StakedWal[:])
	e.Fixed(v.Owner[:])
	e.U64(v.Amount)
	e.U32(v.ActivationEpoch)
}

func (v *StakeDeposited) decode(d *bcs.Decoder) {
	v.NodeID = fixed32(d)
	v.StakedWal = fixed32(d)
	v.Owner = fixed32(d)
	v.Amount = d.U64()
	v.ActivationEpoch = d.U32()
}

func (v *StakeDeposited) fields() []field {
	return []field{{"node", v.NodeID}, {"staked", v.StakedWal}, {"owner", v.Owner}, {"amount", v.Amount},
		{"activation", v.ActivationEpoch}}
}

func (v *StakeWithdrawRequested) encode(e *bcs.Encoder) {
	e.Fixed(v.NodeID[:])
	e.Fixed(v.StakedWal[:])
	e.U32(v.WithdrawEpoch)
}

func (v *StakeWithdrawRequested) decode(d *bcs.Decoder) {
	v.NodeID = fixed32(d)
	v.StakedWal = fixed32(d)
	v.WithdrawEpoch = d.U32()
}

func (v *StakeWithdrawRequested) fields() []field {
	return []field{{"node", v.NodeID}, {"staked", v.StakedWal}, {"withdraw-epoch", v.WithdrawEpoch}}
}

func (v *StakeWithdrawn) encode(e *bcs.Encoder) {
	e.Fixed(v.NodeID[:])
	e.Fixed(v.StakedWal[:])
	e.U64(v.Amount)
}

func (v *StakeWithdrawn) decode(d *bcs.Decoder) {
	v.NodeID = fixed32(d)
	v.StakedWal = fixed32(d)
	v.Amount = d.U64()
}

func (v *StakeWithdrawn) fields() []field {
	return []field{{"node", v.NodeID}, {"staked", v.StakedWal}, {"amount", v.Amount}}
}

func (v *RewardsDistributed) encode(e *bcs.Encoder) {
	e.U32(v.Epoch)
	e.U64(v.Total)
	e.U64(v.Burned)
	e.U64(v.Distributed)
}

func (v *RewardsDistributed) decode(d *bcs.Decoder) {
	v.Epoch = d.U32()
	v.Total = d.U64()
	v.Burned = d.U64()
	v.Distributed = d.U64()
}

func (v *RewardsDistributed) fields() []field {
	return []field{{"epoch", v.Epoch}, {"total", v.Total}, {"burned", v.Burned}, {"distributed", v.Distributed}}
}

func (v *CommissionCollected) encode(e *bcs.Encoder) { e.Fixed(v.NodeID[:]); e.U64(v.Amount) }
func (v *CommissionCollected) decode(d *bcs.Decoder) { v.NodeID = fixed32(d); v.Amount = d.U64() }
func (v *CommissionCollected) fields() []field {
	return []field{{"node", v.NodeID}, {"amount", v.Amount}}
}

func (v *NodeSlashed) encode(e *bcs.Encoder) { e.U32(v.Epoch); e.Fixed(v.NodeID[:]); e.U64(v.Burned) }
func (v *NodeSlashed) decode(d *bcs.Decoder) {
	v.Epoch = d.U32()
	v.NodeID = fixed32(d)
	v.Burned = d.U64()
}
func (v *NodeSlashed) fields() []field {
	return []field{{"epoch", v.Epoch}, {"node", v.NodeID}, {"burned", v.Burned}}
}
