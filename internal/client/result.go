package client

import (
	"strconv"
	"time"

	"github.com/walrus-go/walrus/internal/base58"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// StoreResult is the outcome of a store, shaped as Walrus's BlobStoreResult: exactly one of
// NewlyCreated, AlreadyCertified and DryRun is set. Its JSON form is Walrus's
// ({"newlyCreated": ...} or {"alreadyCertified": ...}).
type StoreResult struct {
	NewlyCreated     *NewlyCreated     `json:"newlyCreated,omitempty"`
	AlreadyCertified *AlreadyCertified `json:"alreadyCertified,omitempty"`
	DryRun           *DryRun           `json:"dryRun,omitempty"`
	// File is set when StoreFile stored a file as chunks: the result above is then the
	// manifest's, and File lists the chunks.
	File *FileResult `json:"file,omitempty"`
	// Stats describe the work the store did; they are not part of the JSON form.
	Stats StoreStats `json:"-"`
}

// BlobID returns the blob ID the result is about.
func (r *StoreResult) BlobID() string {
	switch {
	case r.NewlyCreated != nil:
		return r.NewlyCreated.BlobObject.BlobID
	case r.AlreadyCertified != nil:
		return r.AlreadyCertified.BlobID
	case r.DryRun != nil:
		return r.DryRun.BlobID
	}
	return ""
}

// NewlyCreated: the blob was registered (or a registration reused) and certified, or an
// owned certified Blob object of it was extended (ResourceOperation.ReuseAndExtend).
type NewlyCreated struct {
	BlobObject        BlobObject        `json:"blobObject"`
	ResourceOperation ResourceOperation `json:"resourceOperation"`
	// Cost is what the store paid for storage and writing, in FROST (without fees).
	Cost uint64 `json:"cost"`
	// SharedBlobObject is the object ID of the blob once shared (StoreOptions.Share).
	SharedBlobObject string `json:"sharedBlobObject,omitempty"`
}

// AlreadyCertified: the blob is certified until at least the requested end epoch, by the
// event of a permanent certification or by an owned Blob object.
type AlreadyCertified struct {
	BlobID   string    `json:"blobId"`
	Event    *EventRef `json:"event,omitempty"`
	Object   string    `json:"object,omitempty"`
	EndEpoch uint32    `json:"endEpoch"`
}

// EventRef names a chain event: the transaction digest (Base58, as Sui prints it) and the event's sequence
// number (a decimal string, as Walrus prints it).
type EventRef struct {
	TxDigest string `json:"txDigest"`
	EventSeq string `json:"eventSeq"`
}

func eventRef(id sn.EventID) *EventRef {
	return &EventRef{TxDigest: base58.Encode(id.TxDigest[:]), EventSeq: strconv.FormatUint(id.Seq, 10)}
}

// DryRun is what a store would cost, computed without sending anything.
type DryRun struct {
	BlobID        string `json:"blobId"`
	EncodingType  string `json:"encodingType"`
	UnencodedSize uint64 `json:"unencodedSize"`
	EncodedSize   uint64 `json:"encodedSize"`
	StorageCost   uint64 `json:"storageCost"`
	WriteCost     uint64 `json:"writeCost"`
	Epochs        uint32 `json:"epochsAhead"`
}

// ResourceOperation says how the store obtained its registration: exactly one field is
// set.
type ResourceOperation struct {
	RegisterFromScratch *RegisterFromScratch `json:"registerFromScratch,omitempty"`
	ReuseStorage        *ReuseResource       `json:"reuseStorage,omitempty"`
	ReuseRegistration   *ReuseResource       `json:"reuseRegistration,omitempty"`
	ReuseAndExtend      *ReuseAndExtend      `json:"reuseAndExtend,omitempty"`
}

// ReuseAndExtend: an owned certified Blob object of the blob was extended by
// EpochsExtended epochs instead of registering the blob again.
type ReuseAndExtend struct {
	EncodedLength  uint64 `json:"encodedLength"`
	EpochsExtended uint32 `json:"epochsExtended"`
}

// RegisterFromScratch: storage was reserved and the blob registered.
type RegisterFromScratch struct {
	EncodedLength uint64 `json:"encodedLength"`
	EpochsAhead   uint32 `json:"epochsAhead"`
}

// ReuseResource: an owned Storage resource or registration was used.
type ReuseResource struct {
	EncodedLength uint64 `json:"encodedLength"`
}

// BlobObject is a Blob object in Walrus's JSON form.
type BlobObject struct {
	ID              string          `json:"id"`
	RegisteredEpoch uint32          `json:"registeredEpoch"`
	BlobID          string          `json:"blobId"`
	Size            uint64          `json:"size"`
	EncodingType    string          `json:"encodingType"`
	CertifiedEpoch  *uint32         `json:"certifiedEpoch"`
	Storage         StorageResource `json:"storage"`
	Deletable       bool            `json:"deletable"`
}

// StorageResource is a Storage resource in Walrus's JSON form.
type StorageResource struct {
	ID          string `json:"id"`
	StartEpoch  uint32 `json:"startEpoch"`
	EndEpoch    uint32 `json:"endEpoch"`
	StorageSize uint64 `json:"storageSize"`
}

// NewBlobObject converts a chain Blob object to its JSON form.
func NewBlobObject(b *chain.Blob) BlobObject {
	o := BlobObject{
		ID: b.ID.String(), RegisteredEpoch: b.RegisteredEpoch, BlobID: b.BlobID.String(), Size: b.Size,
		EncodingType: EncodingName(b.EncodingType), Deletable: b.Deletable,
		Storage: StorageResource{ID: b.Storage.ID.String(), StartEpoch: b.Storage.StartEpoch, EndEpoch: b.Storage.EndEpoch, StorageSize: b.Storage.Size},
	}
	if b.Certified {
		e := b.CertifiedEpoch
		o.CertifiedEpoch = &e
	}
	return o
}

// EncodingName returns Walrus's name of an encoding type ("RS2").
func EncodingName(t uint8) string {
	if t == redstuff.EncodingRS2 {
		return "RS2"
	}
	return "Unknown(" + strconv.Itoa(int(t)) + ")"
}

// StoreStats describe the work of one store.
type StoreStats struct {
	// HTTPRequests counts the requests sent to storage nodes until Store returned
	// (status checks, uploads, confirmations); tail uploads after that are not counted.
	HTTPRequests int64
	// SliverUploads counts the batched upload requests sent (one per node and attempt);
	// PairsUploaded the sliver pairs they carried. UploadsBehind counts the uploads a node
	// refused because it had not caught up with the chain yet (it had not seen the
	// registration, say); they were sent again.
	SliverUploads int64
	PairsUploaded int64
	UploadsBehind int64
	// Transactions counts the chain transactions sent.
	Transactions int
	// Nodes is the committee size; ConfirmedWeight the shards whose nodes confirmed
	// before certification; TailNodes the nodes still uploading when Store returned.
	Nodes, ConfirmedWeight, TailNodes int
	// EpochChanges counts the times confirmations were collected again after the epoch
	// moved.
	EpochChanges int
	// Durations of the phases.
	Encode, Check, Register, Upload, Certify, Total time.Duration
}

// Progress reports the progress of a store or read to a callback.
type Progress struct {
	// Phase is "encoding", "checking", "registering", "uploading", "certifying" (store),
	// "metadata", "slivers", "decoding" (read) or "done".
	Phase string
	// Done and Total count shards (uploading: confirmed weight of n) or slivers (reading:
	// verified of needed); both are 0 for phases without a measure.
	Done, Total int64
}
