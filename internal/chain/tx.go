package chain

import (
	"crypto/ed25519"
	"fmt"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/redstuff"
	"golang.org/x/crypto/blake2b"
)

// TxDomain is the domain-separation tag at the start of every signed transaction message.
const TxDomain = "walrus-go/tx/v1"

// Tx is a signed transaction. Its BCS encoding is
//
//	sender [32]u8 (ed25519 public key) ‖ nonce u64 ‖ fee u64 ‖ payload (enum) ‖ signature [64]u8
//
// and the signature is ed25519 over [Tx.SigningMessage]: the BCS encoding of
// (TxDomain as bytes, chain ID as string, sender, nonce, fee, payload).
type Tx struct {
	Sender    [32]byte
	Nonce     uint64
	Fee       uint64
	Payload   Payload
	Signature [64]byte
}

// SenderAddress returns the address of the sender key.
func (tx *Tx) SenderAddress() Address { return AddressOf(tx.Sender[:]) }

// SigningMessage returns the bytes the sender signs.
func (tx *Tx) SigningMessage(chainID string) []byte {
	e := bcs.NewEncoder(nil)
	e.Bytes([]byte(TxDomain))
	e.Bytes([]byte(chainID))
	e.Fixed(tx.Sender[:])
	e.U64(tx.Nonce)
	e.U64(tx.Fee)
	encodePayload(e, tx.Payload)
	return e.Out()
}

// Digest returns the transaction digest, Blake2b-256 of the signing message. It excludes the
// signature, so it is unique per (chain, sender, nonce) once the transaction executes; object
// IDs are derived from it.
func (tx *Tx) Digest(chainID string) [32]byte { return blake2b.Sum256(tx.SigningMessage(chainID)) }

// Sign sets the sender to key's public key and signs the transaction for chainID.
func (tx *Tx) Sign(chainID string, key ed25519.PrivateKey) {
	copy(tx.Sender[:], key.Public().(ed25519.PublicKey))
	copy(tx.Signature[:], ed25519.Sign(key, tx.SigningMessage(chainID)))
}

// Verify checks the signature for chainID.
func (tx *Tx) Verify(chainID string) bool {
	return ed25519.Verify(tx.Sender[:], tx.SigningMessage(chainID), tx.Signature[:])
}

// Encode returns the BCS encoding of the transaction.
func (tx *Tx) Encode() []byte {
	e := bcs.NewEncoder(nil)
	e.Fixed(tx.Sender[:])
	e.U64(tx.Nonce)
	e.U64(tx.Fee)
	encodePayload(e, tx.Payload)
	e.Fixed(tx.Signature[:])
	return e.Out()
}

// DecodeTx decodes a transaction. It accepts only canonical BCS of at most MaxTxSize bytes
// with nothing left over, so a decoded transaction re-encodes to exactly its input. Errors wrap
// ErrMalformed. The result does not alias b.
func DecodeTx(b []byte) (*Tx, error) {
	if len(b) > MaxTxSize {
		return nil, errorf(ErrMalformed, "transaction of %d bytes exceeds %d", len(b), MaxTxSize)
	}
	d := bcs.NewDecoder(b)
	tx := &Tx{}
	tx.Sender = fixed32(d)
	tx.Nonce = d.U64()
	tx.Fee = d.U64()
	tx.Payload = decodePayload(d)
	copy(tx.Signature[:], d.Fixed(64))
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: transaction: %w", ErrMalformed, err)
	}
	return tx, nil
}

// Payload is the operation a transaction performs: one of the exported payload structs
// below. Its BCS encoding is an enum whose variant index is given by [PayloadName]'s table.
type Payload interface {
	variant() uint32
	encode(e *bcs.Encoder)
	decode(d *bcs.Decoder)
}

// payloadNames lists the payload variants in variant order. New variants are appended.
var payloadNames = []string{
	"transfer", "faucet", "reserve-space", "split-storage-by-size", "split-storage-by-epoch",
	"fuse-storage", "transfer-object", "destroy-storage", "register-blob", "certify-blob",
	"extend-blob", "extend-blob-with-storage", "delete-blob", "burn-blob", "set-blob-attribute",
	"remove-blob-attribute", "invalidate-blob-id", "share-blob", "fund-shared-blob",
	"extend-shared-blob", "register-node", "set-node-info", "set-node-votes",
	"set-commission-rate", "stake", "request-withdraw-stake", "withdraw-stake",
	"collect-commission", "epoch-sync-done", "vote-to-slash", "transfer-with-memo", "create-bucket",
	"delete-bucket", "put-entries", "delete-entries", "create-upload", "put-part", "complete-upload",
	"abort-upload", "create-site", "update-site", "destroy-site", "set-site-name",
	// 43 and 44 are reserved (an unknown variant does not decode).
	"reserved-43", "reserved-44",
	"challenge-reveal", "challenge-certificate", "governance-propose", "governance-vote",
	"reserve-and-register",
}

func newPayload(v uint32) Payload {
	switch v {
	case 0:
		return new(Transfer)
	case 1:
		return new(Faucet)
	case 2:
		return new(ReserveSpace)
	case 3:
		return new(SplitStorageBySize)
	case 4:
		return new(SplitStorageByEpoch)
	case 5:
		return new(FuseStorage)
	case 6:
		return new(TransferObject)
	case 7:
		return new(DestroyStorage)
	case 8:
		return new(RegisterBlob)
	case 9:
		return new(CertifyBlob)
	case 10:
		return new(ExtendBlob)
	case 11:
		return new(ExtendBlobWithStorage)
	case 12:
		return new(DeleteBlob)
	case 13:
		return new(BurnBlob)
	case 14:
		return new(SetBlobAttribute)
	case 15:
		return new(RemoveBlobAttribute)
	case 16:
		return new(InvalidateBlobID)
	case 17:
		return new(ShareBlob)
	case 18:
		return new(FundSharedBlob)
	case 19:
		return new(ExtendSharedBlob)
	case 20:
		return new(RegisterNode)
	case 21:
		return new(SetNodeInfo)
	case 22:
		return new(SetNodeVotes)
	case 23:
		return new(SetCommissionRate)
	case 24:
		return new(Stake)
	case 25:
		return new(RequestWithdrawStake)
	case 26:
		return new(WithdrawStake)
	case 27:
		return new(CollectCommission)
	case 28:
		return new(EpochSyncDone)
	case 29:
		return new(VoteToSlash)
	case 30:
		return new(TransferWithMemo)
	case 31:
		return new(CreateBucket)
	case 32:
		return new(DeleteBucket)
	case 33:
		return new(PutEntries)
	case 34:
		return new(DeleteEntries)
	case 35:
		return new(CreateUpload)
	case 36:
		return new(PutPart)
	case 37:
		return new(CompleteUpload)
	case 38:
		return new(AbortUpload)
	case 39:
		return new(CreateSite)
	case 40:
		return new(UpdateSite)
	case 41:
		return new(DestroySite)
	case 42:
		return new(SetSiteName)
	case 45:
		return new(ChallengeReveal)
	case 46:
		return new(ChallengeCertificate)
	case 47:
		return new(GovernancePropose)
	case 48:
		return new(GovernanceVote)
	case 49:
		return new(ReserveAndRegister)
	}
	return nil
}

// PayloadName returns the name of a payload's variant ("register-blob", ...).
func PayloadName(p Payload) string {
	if p == nil {
		return "none"
	}
	return payloadNames[p.variant()]
}

func encodePayload(e *bcs.Encoder, p Payload) {
	e.Variant(p.variant())
	p.encode(e)
}

func decodePayload(d *bcs.Decoder) Payload {
	v := d.Variant(uint32(len(payloadNames)))
	if d.Err() != nil {
		return nil
	}
	p := newPayload(v)
	if p == nil {
		d.Fail(reservedPayload(v))
		return nil
	}
	p.decode(d)
	return p
}

// Certificate is an aggregate BLS certificate by committee members: the signer bitmap over the
// members sorted by node ID (bit i of byte k is member 8k+i), the signed message (a Walrus
// ProtocolMessage) and the aggregate signature.
type Certificate struct {
	Signers   []byte
	Message   []byte
	Signature [96]byte
}

func (c *Certificate) encode(e *bcs.Encoder) {
	e.Bytes(c.Signers)
	e.Bytes(c.Message)
	e.Fixed(c.Signature[:])
}

func (c *Certificate) decode(d *bcs.Decoder) {
	c.Signers = bytesCopy(d, MaxBitmapLen)
	c.Message = bytesCopy(d, MaxMessageLen)
	c.Signature = fixed96(d)
}

// Transfer moves Amount FROST from the sender to To.
type Transfer struct {
	To     Address
	Amount uint64
}

// Faucet mints Amount FROST to the sender (only if genesis enabled the faucet, and at most
// Params.FaucetMax). The fee may be paid from the minted amount.
type Faucet struct{ Amount uint64 }

// ReserveSpace buys a Storage resource of Size encoded bytes for epochs [current, current +
// EpochsAhead), paying StoragePrice × units × EpochsAhead.
type ReserveSpace struct {
	Size        uint64
	EpochsAhead uint32
}

// SplitStorageBySize splits a Storage: the original keeps Size bytes, a new Storage (created
// object 0) gets the rest, over the same period.
type SplitStorageBySize struct {
	Storage ObjectID
	Size    uint64
}

// SplitStorageByEpoch splits a Storage at Epoch: the original keeps [start, Epoch), a new
// Storage gets [Epoch, end).
type SplitStorageByEpoch struct {
	Storage ObjectID
	Epoch   uint32
}

// FuseStorage merges Second into First: same period (sizes add) or same size and adjacent
// periods (periods join). Second is destroyed.
type FuseStorage struct{ First, Second ObjectID }

// TransferObject gives an owned object (Storage, Blob, StakedWal or Bucket) to To. A bucket
// keeps its ID and entries; the recipient must not have a bucket of the same name.
type TransferObject struct {
	Object ObjectID
	To     Address
}

// DestroyStorage deletes an expired Storage resource.
type DestroyStorage struct{ Storage ObjectID }

// RegisterBlob registers a blob using a Storage resource (which the Blob object absorbs),
// checking the blob ID derivation and paying the write price.
type RegisterBlob struct {
	Storage      ObjectID
	BlobID       redstuff.BlobID
	RootHash     [32]byte
	Size         uint64
	EncodingType uint8
	Deletable    bool
}

// ReserveAndRegister reserves storage and registers a blob on it in one transaction, all or
// nothing (Walrus does the same in one programmable transaction). It does exactly what
// ReserveSpace{StorageSize, EpochsAhead} followed by a RegisterBlob naming the new Storage
// would do: the same checks, the same storage and write prices, the same BlobRegistered
// event. The Storage is created object 0 and is absorbed at once by the Blob, created
// object 1. If any step fails, nothing is reserved or registered and only the fee is paid.
// Its minimum fee is that of the two transactions it replaces.
type ReserveAndRegister struct {
	StorageSize  uint64 // encoded bytes to reserve (at least the blob's encoded length)
	EpochsAhead  uint32
	BlobID       redstuff.BlobID
	RootHash     [32]byte
	Size         uint64 // unencoded blob size
	EncodingType uint8
	Deletable    bool
}

// CertifyBlob certifies a registered blob with a quorum certificate of the current committee
// over the message intent (1, 0, 3) ‖ epoch u32 ‖ blob ID ‖ persistence.
type CertifyBlob struct {
	Blob        ObjectID
	Certificate Certificate
}

// ExtendBlob extends a certified blob by Epochs epochs, paying the storage price.
type ExtendBlob struct {
	Blob   ObjectID
	Epochs uint32
}

// ExtendBlobWithStorage extends a certified blob with a Storage of the same size whose period
// starts where the blob's ends.
type ExtendBlobWithStorage struct{ Blob, Storage ObjectID }

// DeleteBlob deletes a deletable blob; its Storage returns to the sender as an object with the
// same ID it had before registration.
type DeleteBlob struct{ Blob ObjectID }

// BurnBlob destroys a Blob object and its storage (the data stays until expiry; the blob can
// no longer be extended or deleted).
type BurnBlob struct{ Blob ObjectID }

// SetBlobAttribute inserts or updates one attribute of a blob.
type SetBlobAttribute struct {
	Blob       ObjectID
	Key, Value string
}

// RemoveBlobAttribute removes one attribute of a blob.
type RemoveBlobAttribute struct {
	Blob ObjectID
	Key  string
}

// InvalidateBlobID marks a blob ID invalid with a certificate of validity weight (3w >= n+1)
// over the message intent (2, 0, 3) ‖ epoch u32 ‖ blob ID. Anyone may submit it.
type InvalidateBlobID struct{ Certificate Certificate }

// ShareBlob makes an owned blob shared, moving Funds from the sender into it.
type ShareBlob struct {
	Blob  ObjectID
	Funds uint64
}

// FundSharedBlob adds Amount to a shared blob's funds.
type FundSharedBlob struct {
	Blob   ObjectID
	Amount uint64
}

// ExtendSharedBlob extends a shared blob by Epochs, paid from its funds. Anyone may submit it.
type ExtendSharedBlob struct {
	Blob   ObjectID
	Epochs uint32
}

// RegisterNode registers a storage node candidate and its staking pool (the pool's object ID,
// created object 0, is the node ID). ProofOfPossession signs bls.PopMessage(current epoch,
// sender address, PublicKey). NetworkPublicKey is the ed25519 key of the TLS certificate
// the node serves its API with (clients pin it); it must be a valid curve point not of
// small order.
type RegisterNode struct {
	Name              string
	NetworkAddress    string
	PublicKey         [48]byte
	NetworkPublicKey  [NetworkKeySize]byte
	ProofOfPossession [96]byte
	CommissionRate    uint16 // basis points, at most 10000
	StoragePrice      uint64
	WritePrice        uint64
	Capacity          uint64 // encoded bytes the node offers
}

// SetNodeInfo changes a node's name, network address and network public key (operator
// only). An all-zero NetworkPublicKey keeps the current key.
type SetNodeInfo struct {
	Node                 ObjectID
	Name, NetworkAddress string
	NetworkPublicKey     [NetworkKeySize]byte
}

// SetNodeVotes changes a node's price and capacity votes (operator only). Prices are
// recomputed at once.
type SetNodeVotes struct {
	Node                               ObjectID
	StoragePrice, WritePrice, Capacity uint64
}

// SetCommissionRate schedules a new commission rate, effective two epochs later (operator
// only).
type SetCommissionRate struct {
	Node ObjectID
	Rate uint16
}

// Stake stakes Amount with a node, creating a StakedWal (created object 0).
type Stake struct {
	Node   ObjectID
	Amount uint64
}

// RequestWithdrawStake starts withdrawing a StakedWal; stake that is not active yet is paid
// back at once.
type RequestWithdrawStake struct{ StakedWal ObjectID }

// WithdrawStake pays out a StakedWal whose withdrawal epoch has come.
type WithdrawStake struct{ StakedWal ObjectID }

// CollectCommission pays a node's accumulated commission to its operator (after the
// mid-epoch committee selection, as Walrus).
type CollectCommission struct{ Node ObjectID }

// EpochSyncDone signals that the node holds all its shards for Epoch (operator only).
type EpochSyncDone struct {
	Node  ObjectID
	Epoch uint32
}

// VoteToSlash is a vote by committee member Voter (sent by its operator) to slash Candidate.
type VoteToSlash struct{ Voter, Candidate ObjectID }

// TransferWithMemo moves Amount FROST from the sender to To, like Transfer, and emits a
// TransferredWithMemo event carrying Memo (at most MaxMemoLen bytes), so that the payee can
// find the payment in the event log and tell what it pays for. An upload relay's tip is one:
// its memo commits to the blob it pays for (see uploadrelay.AuthPackage).
type TransferWithMemo struct {
	To     Address
	Amount uint64
	Memo   []byte
}

func (*Transfer) variant() uint32              { return 0 }
func (*Faucet) variant() uint32                { return 1 }
func (*ReserveSpace) variant() uint32          { return 2 }
func (*SplitStorageBySize) variant() uint32    { return 3 }
func (*SplitStorageByEpoch) variant() uint32   { return 4 }
func (*FuseStorage) variant() uint32           { return 5 }
func (*TransferObject) variant() uint32        { return 6 }
func (*DestroyStorage) variant() uint32        { return 7 }
func (*RegisterBlob) variant() uint32          { return 8 }
func (*CertifyBlob) variant() uint32           { return 9 }
func (*ExtendBlob) variant() uint32            { return 10 }
func (*ExtendBlobWithStorage) variant() uint32 { return 11 }
func (*DeleteBlob) variant() uint32            { return 12 }
func (*BurnBlob) variant() uint32              { return 13 }
func (*SetBlobAttribute) variant() uint32      { return 14 }
func (*RemoveBlobAttribute) variant() uint32   { return 15 }
func (*InvalidateBlobID) variant() uint32      { return 16 }
func (*ShareBlob) variant() uint32             { return 17 }
func (*FundSharedBlob) variant() uint32        { return 18 }
func (*ExtendSharedBlob) variant() uint32      { return 19 }
func (*RegisterNode) variant() uint32          { return 20 }
func (*SetNodeInfo) variant() uint32           { return 21 }
func (*SetNodeVotes) variant() uint32          { return 22 }
func (*SetCommissionRate) variant() uint32     { return 23 }
func (*Stake) variant() uint32                 { return 24 }
func (*RequestWithdrawStake) variant() uint32  { return 25 }
func (*WithdrawStake) variant() uint32         { return 26 }
func (*CollectCommission) variant() uint32     { return 27 }
func (*EpochSyncDone) variant() uint32         { return 28 }
func (*VoteToSlash) variant() uint32           { return 29 }
func (*TransferWithMemo) variant() uint32      { return 30 }

func (p *Transfer) encode(e *bcs.Encoder) { e.Fixed(p.To[:]); e.U64(p.Amount) }
func (p *Transfer) decode(d *bcs.Decoder) { p.To = fixed32(d); p.Amount = d.U64() }

func (p *TransferWithMemo) encode(e *bcs.Encoder) { e.Fixed(p.To[:]); e.U64(p.Amount); e.Bytes(p.Memo) }
func (p *TransferWithMemo) decode(d *bcs.Decoder) {
	p.To = fixed32(d)
	p.Amount = d.U64()
	p.Memo = bytesCopy(d, MaxMemoLen)
}

func (p *Faucet) encode(e *bcs.Encoder) { e.U64(p.Amount) }
func (p *Faucet) decode(d *bcs.Decoder) { p.Amount = d.U64() }

func (p *ReserveSpace) encode(e *bcs.Encoder) { e.U64(p.Size); e.U32(p.EpochsAhead) }
func (p *ReserveSpace) decode(d *bcs.Decoder) { p.Size = d.U64(); p.EpochsAhead = d.U32() }

func (p *SplitStorageBySize) encode(e *bcs.Encoder) { e.Fixed(p.Storage[:]); e.U64(p.Size) }
func (p *SplitStorageBySize) decode(d *bcs.Decoder) { p.Storage = fixed32(d); p.Size = d.U64() }

func (p *SplitStorageByEpoch) encode(e *bcs.Encoder) { e.Fixed(p.Storage[:]); e.U32(p.Epoch) }
func (p *SplitStorageByEpoch) decode(d *bcs.Decoder) { p.Storage = fixed32(d); p.Epoch = d.U32() }

func (p *FuseStorage) encode(e *bcs.Encoder) { e.Fixed(p.First[:]); e.Fixed(p.Second[:]) }
func (p *FuseStorage) decode(d *bcs.Decoder) { p.First = fixed32(d); p.Second = fixed32(d) }

func (p *TransferObject) encode(e *bcs.Encoder) { e.Fixed(p.Object[:]); e.Fixed(p.To[:]) }
func (p *TransferObject) decode(d *bcs.Decoder) { p.Object = fixed32(d); p.To = fixed32(d) }

func (p *DestroyStorage) encode(e *bcs.Encoder) { e.Fixed(p.Storage[:]) }
func (p *DestroyStorage) decode(d *bcs.Decoder) { p.Storage = fixed32(d) }

func (p *RegisterBlob) encode(e *bcs.Encoder) {
	e.Fixed(p.Storage[:])
	e.Fixed(p.BlobID[:])
	e.Fixed(p.RootHash[:])
	e.U64(p.Size)
	e.U8(p.EncodingType)
	e.Bool(p.Deletable)
}

func (p *RegisterBlob) decode(d *bcs.Decoder) {
	p.Storage = fixed32(d)
	p.BlobID = fixed32(d)
	p.RootHash = fixed32(d)
	p.Size = d.U64()
	p.EncodingType = d.U8()
	p.Deletable = d.Bool()
}

func (*ReserveAndRegister) variant() uint32 { return 49 }

func (p *ReserveAndRegister) encode(e *bcs.Encoder) {
	e.U64(p.StorageSize)
	e.U32(p.EpochsAhead)
	e.Fixed(p.BlobID[:])
	e.Fixed(p.RootHash[:])
	e.U64(p.Size)
	e.U8(p.EncodingType)
	e.Bool(p.Deletable)
}

func (p *ReserveAndRegister) decode(d *bcs.Decoder) {
	p.StorageSize = d.U64()
	p.EpochsAhead = d.U32()
	p.BlobID = fixed32(d)
	p.RootHash = fixed32(d)
	p.Size = d.U64()
	p.EncodingType = d.U8()
	p.Deletable = d.Bool()
}

func (p *CertifyBlob) encode(e *bcs.Encoder) { e.Fixed(p.Blob[:]); p.Certificate.encode(e) }
func (p *CertifyBlob) decode(d *bcs.Decoder) { p.Blob = fixed32(d); p.Certificate.decode(d) }

func (p *ExtendBlob) encode(e *bcs.Encoder) { e.Fixed(p.Blob[:]); e.U32(p.Epochs) }
func (p *ExtendBlob) decode(d *bcs.Decoder) { p.Blob = fixed32(d); p.Epochs = d.U32() }

func (p *ExtendBlobWithStorage) encode(e *bcs.Encoder) { e.Fixed(p.Blob[:]); e.Fixed(p.Storage[:]) }
func (p *ExtendBlobWithStorage) decode(d *bcs.Decoder) { p.Blob = fixed32(d); p.Storage = fixed32(d) }

func (p *DeleteBlob) encode(e *bcs.Encoder) { e.Fixed(p.Blob[:]) }
func (p *DeleteBlob) decode(d *bcs.Decoder) { p.Blob = fixed32(d) }

func (p *BurnBlob) encode(e *bcs.Encoder) { e.Fixed(p.Blob[:]) }
func (p *BurnBlob) decode(d *bcs.Decoder) { p.Blob = fixed32(d) }

func (p *SetBlobAttribute) encode(e *bcs.Encoder) {
	e.Fixed(p.Blob[:])
	e.Bytes([]byte(p.Key))
	e.Bytes([]byte(p.Value))
}

func (p *SetBlobAttribute) decode(d *bcs.Decoder) {
	p.Blob = fixed32(d)
	p.Key = str(d, MaxAttributeKeyLen)
	p.Value = str(d, MaxAttributeValueLen)
}

func (p *RemoveBlobAttribute) encode(e *bcs.Encoder) { e.Fixed(p.Blob[:]); e.Bytes([]byte(p.Key)) }
func (p *RemoveBlobAttribute) decode(d *bcs.Decoder) {
	p.Blob = fixed32(d)
	p.Key = str(d, MaxAttributeKeyLen)
}

func (p *InvalidateBlobID) encode(e *bcs.Encoder) { p.Certificate.encode(e) }
func (p *InvalidateBlobID) decode(d *bcs.Decoder) { p.Certificate.decode(d) }

func (p *ShareBlob) encode(e *bcs.Encoder) { e.Fixed(p.Blob[:]); e.U64(p.Funds) }
func (p *ShareBlob) decode(d *bcs.Decoder) { p.Blob = fixed32(d); p.Funds = d.U64() }

func (p *FundSharedBlob) encode(e *bcs.Encoder) { e.Fixed(p.Blob[:]); e.U64(p.Amount) }
func (p *FundSharedBlob) decode(d *bcs.Decoder) { p.Blob = fixed32(d); p.Amount = d.U64() }

func (p *ExtendSharedBlob) encode(e *bcs.Encoder) { e.Fixed(p.Blob[:]); e.U32(p.Epochs) }
func (p *ExtendSharedBlob) decode(d *bcs.Decoder) { p.Blob = fixed32(d); p.Epochs = d.U32() }

func (p *RegisterNode) encode(e *bcs.Encoder) {
	e.Bytes([]byte(p.Name))
	e.Bytes([]byte(p.NetworkAddress))
	e.Fixed(p.PublicKey[:])
	e.Fixed(p.NetworkPublicKey[:])
	e.Fixed(p.ProofOfPossession[:])
	e.U16(p.CommissionRate)
	e.U64(p.StoragePrice)
	e.U64(p.WritePrice)
	e.U64(p.Capacity)
}

func (p *RegisterNode) decode(d *bcs.Decoder) {
	p.Name = str(d, MaxNameLen)
	p.NetworkAddress = str(d, MaxNetworkAddressLen)
	p.PublicKey = fixed48(d)
	p.NetworkPublicKey = fixed32(d)
	p.ProofOfPossession = fixed96(d)
	p.CommissionRate = d.U16()
	p.StoragePrice = d.U64()
	p.WritePrice = d.U64()
	p.Capacity = d.U64()
}

func (p *SetNodeInfo) encode(e *bcs.Encoder) {
	e.Fixed(p.Node[:])
	e.Bytes([]byte(p.Name))
	e.Bytes([]byte(p.NetworkAddress))
	e.Fixed(p.NetworkPublicKey[:])
}

func (p *SetNodeInfo) decode(d *bcs.Decoder) {
	p.Node = fixed32(d)
	p.Name = str(d, MaxNameLen)
	p.NetworkAddress = str(d, MaxNetworkAddressLen)
	p.NetworkPublicKey = fixed32(d)
}

func (p *SetNodeVotes) encode(e *bcs.Encoder) {
	e.Fixed(p.Node[:])
	e.U64(p.StoragePrice)
	e.U64(p.WritePrice)
	e.U64(p.Capacity)
}

func (p *SetNodeVotes) decode(d *bcs.Decoder) {
	p.Node = fixed32(d)
	p.StoragePrice = d.U64()
	p.WritePrice = d.U64()
	p.Capacity = d.U64()
}

func (p *SetCommissionRate) encode(e *bcs.Encoder) { e.Fixed(p.Node[:]); e.U16(p.Rate) }
func (p *SetCommissionRate) decode(d *bcs.Decoder) { p.Node = fixed32(d); p.Rate = d.U16() }

func (p *Stake) encode(e *bcs.Encoder) { e.Fixed(p.Node[:]); e.U64(p.Amount) }
func (p *Stake) decode(d *bcs.Decoder) { p.Node = fixed32(d); p.Amount = d.U64() }

func (p *RequestWithdrawStake) encode(e *bcs.Encoder) { e.Fixed(p.StakedWal[:]) }
func (p *RequestWithdrawStake) decode(d *bcs.Decoder) { p.StakedWal = fixed32(d) }

func (p *WithdrawStake) encode(e *bcs.Encoder) { e.Fixed(p.StakedWal[:]) }
func (p *WithdrawStake) decode(d *bcs.Decoder) { p.StakedWal = fixed32(d) }

func (p *CollectCommission) encode(e *bcs.Encoder) { e.Fixed(p.Node[:]) }
func (p *CollectCommission) decode(d *bcs.Decoder) { p.Node = fixed32(d) }

func (p *EpochSyncDone) encode(e *bcs.Encoder) { e.Fixed(p.Node[:]); e.U32(p.Epoch) }
func (p *EpochSyncDone) decode(d *bcs.Decoder) { p.Node = fixed32(d); p.Epoch = d.U32() }

func (p *VoteToSlash) encode(e *bcs.Encoder) { e.Fixed(p.Voter[:]); e.Fixed(p.Candidate[:]) }
func (p *VoteToSlash) decode(d *bcs.Decoder) { p.Voter = fixed32(d); p.Candidate = fixed32(d) }
