package storagenode

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/walrus-go/walrus/internal/base58"
	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// ObjectID identifies a chain object, here a Blob object (one registration of a blob ID).
type ObjectID [32]byte

// String returns the 0x-prefixed lowercase hex form.
func (o ObjectID) String() string { return "0x" + hex.EncodeToString(o[:]) }

// ParseObjectID parses 64 hex digits, with or without a 0x prefix.
func ParseObjectID(s string) (ObjectID, error) {
	var o ObjectID
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if len(h) != 64 {
		return o, fmt.Errorf("%w: %q: want 64 hex digits", ErrInvalidObjectID, s)
	}
	if _, err := hex.Decode(o[:], []byte(h)); err != nil {
		return o, fmt.Errorf("%w: %q: %v", ErrInvalidObjectID, s, err)
	}
	return o, nil
}

// EventID identifies a chain event (transaction digest and global sequence number).
type EventID = store.EventID

// ShardStatus is a shard's state on the node; see store.ShardStatus.
type ShardStatus = store.ShardStatus

// NodeStatus is the node's state; see store.NodeStatus.
type NodeStatus = store.NodeStatus

// Persistence is the kind of registration a storage confirmation is for: permanent, or
// deletable with the Blob object's ID (Walrus's BlobPersistenceType).
type Persistence struct {
	Deletable bool
	ObjectID  ObjectID // if Deletable
}

// SignedMessage is a BCS ProtocolMessage and the node's BLS signature over its bytes.
// Its JSON form is Walrus's: {"serializedMessage": base64, "signature": base64}.
type SignedMessage struct {
	Message   []byte
	Signature bls.Signature
}

type signedMessageJSON struct {
	SerializedMessage []byte `json:"serializedMessage"` // base64 by encoding/json
	Signature         string `json:"signature"`
}

// MarshalJSON implements json.Marshaler.
func (m SignedMessage) MarshalJSON() ([]byte, error) {
	sig := m.Signature.Bytes()
	return json.Marshal(signedMessageJSON{SerializedMessage: m.Message, Signature: base64.StdEncoding.EncodeToString(sig[:])})
}

// UnmarshalJSON implements json.Unmarshaler; the signature must be a valid G2 point.
func (m *SignedMessage) UnmarshalJSON(b []byte) error {
	var j signedMessageJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	raw, err := base64.StdEncoding.DecodeString(j.Signature)
	if err != nil {
		return fmt.Errorf("storagenode: signature: %v", err)
	}
	sig, err := bls.SignatureFromBytes(raw)
	if err != nil {
		return err
	}
	m.Message, m.Signature = j.SerializedMessage, sig
	return nil
}

// Verify checks the signature under pk.
func (m SignedMessage) Verify(pk bls.PublicKey) error { return bls.Verify(pk, m.Message, m.Signature) }

// StorageConfirmation is the node API's confirmation body: {"signed": SignedMessage}.
type StorageConfirmation struct {
	Signed SignedMessage `json:"signed"`
}

// StoredStatus says whether metadata or a sliver is stored (Walrus's StoredOnNodeStatus).
type StoredStatus string

// Stored statuses.
const (
	StatusNonexistent StoredStatus = "nonexistent"
	StatusStored      StoredStatus = "stored"
)

// BlobStatusKind is the variant of a BlobStatus.
type BlobStatusKind uint8

// Blob status variants, in lifecycle order.
const (
	BlobStatusNonexistent BlobStatusKind = iota
	BlobStatusDeletable
	BlobStatusPermanent
	BlobStatusInvalid
)

// DeletableCounts counts the live deletable registrations of a blob.
type DeletableCounts struct {
	Total     uint32 `json:"count_deletable_total"`
	Certified uint32 `json:"count_deletable_certified"`
}

// BlobStatus is the node's view of a blob ID (Walrus's BlobStatus). Its JSON form is
// Walrus's: "nonexistent", {"invalid": {"event"}}, {"permanent": {"endEpoch", "isCertified",
// "statusEvent", "deletableCounts", "initialCertifiedEpoch"}} or {"deletable":
// {"initialCertifiedEpoch", "deletableCounts"}}, with events as {"txDigest": Base58,
// "eventSeq": decimal string}, as Sui writes event IDs (a digest in hex, as nodes of
// earlier versions wrote it, is accepted too).
type BlobStatus struct {
	Kind BlobStatusKind
	// Event is the InvalidBlobID event (invalid) or the event behind EndEpoch (permanent).
	Event       EventID
	EndEpoch    uint32 // permanent only
	IsCertified bool   // permanent only
	Deletable   DeletableCounts
	// InitialCertifiedEpoch is the first certification epoch, if any (permanent and
	// deletable).
	InitialCertifiedEpoch *uint32
}

type eventIDJSON struct {
	TxDigest string `json:"txDigest"`
	EventSeq string `json:"eventSeq"`
}

func toEventJSON(e EventID) eventIDJSON {
	return eventIDJSON{TxDigest: base58.Encode(e.TxDigest[:]), EventSeq: strconv.FormatUint(e.Seq, 10)}
}

func fromEventJSON(j eventIDJSON) (EventID, error) {
	var e EventID
	var err error
	if e.TxDigest, err = base58.Decode32(j.TxDigest); err != nil {
		d, herr := hex.DecodeString(j.TxDigest)
		if herr != nil || len(d) != 32 {
			return e, fmt.Errorf("storagenode: event txDigest %q: neither Base58 nor hex of 32 bytes", j.TxDigest)
		}
		copy(e.TxDigest[:], d)
	}
	if e.Seq, err = strconv.ParseUint(j.EventSeq, 10, 64); err != nil {
		return e, fmt.Errorf("storagenode: event eventSeq %q", j.EventSeq)
	}
	return e, nil
}

type permanentJSON struct {
	EndEpoch              uint32          `json:"endEpoch"`
	IsCertified           bool            `json:"isCertified"`
	StatusEvent           eventIDJSON     `json:"statusEvent"`
	DeletableCounts       DeletableCounts `json:"deletableCounts"`
	InitialCertifiedEpoch *uint32         `json:"initialCertifiedEpoch"`
}

type deletableJSON struct {
	InitialCertifiedEpoch *uint32         `json:"initialCertifiedEpoch"`
	DeletableCounts       DeletableCounts `json:"deletableCounts"`
}

type invalidJSON struct {
	Event eventIDJSON `json:"event"`
}

// MarshalJSON implements json.Marshaler with Walrus's enum encoding.
func (s BlobStatus) MarshalJSON() ([]byte, error) {
	switch s.Kind {
	case BlobStatusInvalid:
		return json.Marshal(map[string]invalidJSON{"invalid": {Event: toEventJSON(s.Event)}})
	case BlobStatusPermanent:
		return json.Marshal(map[string]permanentJSON{"permanent": {
			EndEpoch: s.EndEpoch, IsCertified: s.IsCertified, StatusEvent: toEventJSON(s.Event),
			DeletableCounts: s.Deletable, InitialCertifiedEpoch: s.InitialCertifiedEpoch,
		}})
	case BlobStatusDeletable:
		return json.Marshal(map[string]deletableJSON{"deletable": {
			InitialCertifiedEpoch: s.InitialCertifiedEpoch, DeletableCounts: s.Deletable,
		}})
	}
	return []byte(`"nonexistent"`), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *BlobStatus) UnmarshalJSON(b []byte) error {
	*s = BlobStatus{}
	var unit string
	if json.Unmarshal(b, &unit) == nil {
		if unit != "nonexistent" {
			return fmt.Errorf("storagenode: unknown blob status %q", unit)
		}
		return nil
	}
	var v struct {
		Invalid   *invalidJSON   `json:"invalid"`
		Permanent *permanentJSON `json:"permanent"`
		Deletable *deletableJSON `json:"deletable"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	var err error
	switch {
	case v.Invalid != nil:
		s.Kind = BlobStatusInvalid
		s.Event, err = fromEventJSON(v.Invalid.Event)
	case v.Permanent != nil:
		p := v.Permanent
		s.Kind, s.EndEpoch, s.IsCertified = BlobStatusPermanent, p.EndEpoch, p.IsCertified
		s.Deletable, s.InitialCertifiedEpoch = p.DeletableCounts, p.InitialCertifiedEpoch
		s.Event, err = fromEventJSON(p.StatusEvent)
	case v.Deletable != nil:
		s.Kind, s.Deletable, s.InitialCertifiedEpoch = BlobStatusDeletable, v.Deletable.DeletableCounts, v.Deletable.InitialCertifiedEpoch
	default:
		return fmt.Errorf("storagenode: unknown blob status %s", b)
	}
	return err
}

// HealthInfo is the node's health report (Walrus's ServiceHealthInfo).
type HealthInfo struct {
	Uptime        Duration      `json:"uptime"`
	Epoch         uint32        `json:"epoch"`
	PublicKey     []byte        `json:"publicKey"` // compressed BLS key, base64 in JSON
	NodeStatus    string        `json:"nodeStatus"`
	EventProgress EventProgress `json:"eventProgress"`
	ShardSummary  ShardSummary  `json:"shardSummary"`
	ShardDetail   *ShardDetail  `json:"shardDetail,omitempty"`
	// Challenges are the node's storage challenge results by epoch, oldest first (this
	// implementation's addition; absent on a chain without challenges).
	Challenges []ChallengeResult `json:"challenges,omitempty"`
}

// Duration is a time.Duration in Rust's serde form {"secs", "nanos"}.
type Duration time.Duration

type durationJSON struct {
	Secs  uint64 `json:"secs"`
	Nanos uint32 `json:"nanos"`
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	v := max(time.Duration(d), 0)
	return json.Marshal(durationJSON{Secs: uint64(v / time.Second), Nanos: uint32(v % time.Second)})
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var j durationJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*d = Duration(time.Duration(j.Secs)*time.Second + time.Duration(j.Nanos))
	return nil
}

// EventProgress reports how far the node has applied chain events.
type EventProgress struct {
	Persisted                 uint64  `json:"persisted"` // events applied (the cursor)
	Pending                   uint64  `json:"pending"`
	HighestFinishedEventIndex *uint64 `json:"highestFinishedEventIndex"`
}

// ShardSummary counts the node's shards by status.
type ShardSummary struct {
	Owned            int              `json:"owned"`
	OwnedShardStatus OwnedShardStatus `json:"ownedShardStatus"`
	ReadOnly         int              `json:"readOnly"`
}

// OwnedShardStatus counts the owned shards by progress.
type OwnedShardStatus struct {
	Unknown    int `json:"unknown"`
	Ready      int `json:"ready"`
	InTransfer int `json:"inTransfer"`
	InRecovery int `json:"inRecovery"`
}

// ShardDetail lists every shard the node holds with its status ("ready", "inTransfer",
// "inRecovery", "readOnly").
type ShardDetail struct {
	Owned []ShardHealth `json:"owned"`
	Other []ShardHealth `json:"other"`
}

// ShardHealth is one shard's status in a ShardDetail.
type ShardHealth struct {
	Shard  uint16 `json:"shard"`
	Status string `json:"status"`
}

// UploadResult says what an upload stored.
type UploadResult struct {
	// MetadataCreated is true if the metadata was not stored before.
	MetadataCreated bool `json:"metadataCreated"`
	// SliversCreated counts the slivers written; SliversPresent those already stored.
	SliversCreated int `json:"sliversCreated"`
	SliversPresent int `json:"sliversPresent"`
	// Pending is true if the upload was buffered until the blob's registration is seen
	// (a pending upload of a blob not registered yet); nothing was stored.
	Pending bool `json:"pending,omitempty"`
}

// Created reports whether the upload wrote anything.
func (r UploadResult) Created() bool { return r.MetadataCreated || r.SliversCreated > 0 }
