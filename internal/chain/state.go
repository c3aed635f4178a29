package chain

import (
	"bytes"
	"fmt"
	"math/bits"
	"slices"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Params are the system parameters fixed at genesis.
type Params struct {
	// ChainID names the chain; every transaction signature covers it.
	ChainID string
	// NShards is the number of shards n (4 to 65535; Walrus Mainnet uses 1000).
	NShards uint16
	// EpochDuration is the length of an epoch in nanoseconds of block time.
	EpochDuration int64
	// GenesisTime is the block time (unix nanoseconds) at which epoch 0 starts.
	GenesisTime int64
	// MaxEpochsAhead bounds how far ahead storage can be bought (1 to 1000; Walrus uses 53).
	MaxEpochsAhead uint32
	// MaxCommitteeSize bounds the number of nodes in a committee (Walrus: 111).
	MaxCommitteeSize uint32
	// MinFee is the smallest transaction fee in FROST.
	MinFee uint64
	// BurnBasisPoints is the share of each epoch's reward pool that is burned (Walrus: 300).
	BurnBasisPoints uint16
	// FaucetMax is the largest amount one faucet transaction may mint; 0 disables the faucet.
	FaucetMax uint64
	// EpochSyncTimeout is how long, in nanoseconds of block time after an epoch change
	// started, the new committee has to send EpochSyncDone (0 to 2^60; 0 means the default,
	// EpochDuration/2). If no quorum of shards has synced by then, the first block at or after
	// the deadline completes the change (EpochChangeDone) with the members that did; whatever
	// happens, a member that has not sent EpochSyncDone by the deadline earns no reward for
	// the epoch. Without it, members holding more than a third of the shards could stop every
	// later epoch change, and with it every withdrawal.
	EpochSyncTimeout int64
	// SignatureFee is added to MinFee in the minimum fee of a transaction whose operation
	// verifies a BLS signature (see [Params.MinFeeFor]): a pairing costs every validator
	// milliseconds, which the fee must pay for even when the signature turns out bad.
	SignatureFee uint64
	// NodeRegistrationFee is added to the minimum fee of RegisterNode. A pool is state that
	// every epoch change reads and rewrites for ever, so registering one must cost what that
	// state costs the network; the fee goes to the epoch's reward pool and is not refunded.
	NodeRegistrationFee uint64
	// FaucetAccountMax is the most the faucet mints to one account over the chain's life,
	// and FaucetTotalMax the most it mints in all. With the faucet enabled both are
	// required: FaucetMax <= FaucetAccountMax <= FaucetTotalMax.
	FaucetAccountMax uint64
	FaucetTotalMax   uint64
	// IndexByteFee is the fee in FROST per byte of a payload that grows the bucket index
	// or a site (CreateBucket, PutEntries, CreateUpload, PutPart, CompleteUpload, CreateSite,
	// UpdateSite, SetSiteName; see [Params.MinFeeFor]). Index state is kept by every validator until it is deleted, so
	// writing it costs in proportion to its size.
	IndexByteFee uint64
	// Challenge enables storage challenges and sets their initial parameters (see
	// [ChallengeParams]; the zero value, the default, disables them). Governance changes
	// them afterwards ([Settings]); only genesis can enable them.
	Challenge ChallengeParams
}

// SyncTimeout returns the effective EpochSyncTimeout: the parameter, or EpochDuration/2 if
// it is 0.
func (p *Params) SyncTimeout() int64 {
	if p.EpochSyncTimeout == 0 {
		return p.EpochDuration / 2
	}
	return p.EpochSyncTimeout
}

// MinFeeFor returns the smallest fee a transaction with payload p must offer: MinFee, plus
// SignatureFee if its operation verifies a BLS signature (CertifyBlob, InvalidateBlobID and
// ChallengeCertificate verify a committee certificate, ChallengeReveal a member's signature,
// RegisterNode a proof of possession), plus
// NodeRegistrationFee for RegisterNode, plus IndexByteFee × the BCS size of the payload
// for a payload that writes index state (CreateBucket, PutEntries, CreateUpload, PutPart,
// CompleteUpload, CreateSite, UpdateSite, SetSiteName; deletes and aborts pay MinFee only).
// ReserveAndRegister pays MinFee twice, as the ReserveSpace and RegisterBlob it replaces.
// The sum saturates at the largest uint64 (a fee no one can pay) instead of overflowing.
func (p *Params) MinFeeFor(payload Payload) uint64 {
	fee := p.MinFee
	plus := func(x uint64) {
		if fee+x < fee {
			fee = ^uint64(0)
			return
		}
		fee += x
	}
	switch payload.(type) {
	case *CertifyBlob, *InvalidateBlobID, *ChallengeReveal, *ChallengeCertificate:
		plus(p.SignatureFee)
	case *ReserveAndRegister:
		plus(p.MinFee) // the two transactions it replaces
	case *RegisterNode:
		plus(p.SignatureFee)
		plus(p.NodeRegistrationFee)
	case *CreateBucket, *PutEntries, *CreateUpload, *PutPart, *CompleteUpload,
		*CreateSite, *UpdateSite, *SetSiteName:
		e := bcs.NewEncoder(nil)
		payload.encode(e)
		hi, lo := bits.Mul64(p.IndexByteFee, uint64(len(e.Out())))
		if hi != 0 {
			lo = ^uint64(0)
		}
		plus(lo)
	}
	return fee
}

func (p *Params) encode(e *bcs.Encoder) {
	p.encodeBase(e)
	p.encodeTrailing(e)
}

func (p *Params) decode(d *bcs.Decoder) {
	p.decodeBase(d)
	p.decodeTrailing(d)
}

// encodeTrailing writes the fields added after the first chains, at the end of a top-level
// value (Params, or Genesis after its nodes): each only when non-zero, so the parameters and
// genesis digests of chains without them stay as they were.
//
// The trailing fields are IndexByteFee (u64), then Challenge when enabled. IndexByteFee is
// written if it is non-zero or a later field follows; Challenge only when enabled.
func (p *Params) encodeTrailing(e *bcs.Encoder) {
	if p.IndexByteFee != 0 || p.Challenge.Enabled() {
		e.U64(p.IndexByteFee)
	}
	if p.Challenge.Enabled() {
		p.Challenge.encode(e)
	}
}

func (p *Params) decodeTrailing(d *bcs.Decoder) {
	if d.Err() != nil || d.Remaining() == 0 {
		return
	}
	p.IndexByteFee = d.U64()
	if d.Err() != nil || d.Remaining() == 0 {
		if p.IndexByteFee == 0 {
			d.Fail(fmt.Errorf("%w: a zero index byte fee is encoded by omission", bcs.ErrInvalidVariant))
		}
		return
	}
	p.Challenge.decode(d)
	if d.Err() == nil && !p.Challenge.Enabled() {
		d.Fail(fmt.Errorf("%w: disabled challenge parameters are encoded by omission", bcs.ErrInvalidVariant))
	}
}

func (p *Params) encodeBase(e *bcs.Encoder) {
	e.Bytes([]byte(p.ChainID))
	e.U16(p.NShards)
	e.U64(uint64(p.EpochDuration))
	e.U64(uint64(p.GenesisTime))
	e.U32(p.MaxEpochsAhead)
	e.U32(p.MaxCommitteeSize)
	e.U64(p.MinFee)
	e.U16(p.BurnBasisPoints)
	e.U64(p.FaucetMax)
	e.U64(uint64(p.EpochSyncTimeout))
	e.U64(p.SignatureFee)
	e.U64(p.NodeRegistrationFee)
	e.U64(p.FaucetAccountMax)
	e.U64(p.FaucetTotalMax)
}

func (p *Params) decodeBase(d *bcs.Decoder) {
	p.ChainID = str(d, MaxChainIDLen)
	p.NShards = d.U16()
	p.EpochDuration = int64(d.U64())
	p.GenesisTime = int64(d.U64())
	p.MaxEpochsAhead = d.U32()
	p.MaxCommitteeSize = d.U32()
	p.MinFee = d.U64()
	p.BurnBasisPoints = d.U16()
	p.FaucetMax = d.U64()
	p.EpochSyncTimeout = int64(d.U64())
	p.SignatureFee = d.U64()
	p.NodeRegistrationFee = d.U64()
	p.FaucetAccountMax = d.U64()
	p.FaucetTotalMax = d.U64()
}

// Encode returns the BCS encoding of p.
func (p Params) Encode() []byte { return encodeBCS(&p) }

// DecodeParams decodes the BCS encoding of Params.
func DecodeParams(b []byte) (Params, error) { return decodeBCS[Params](b) }

// EpochState is the phase of the epoch state machine (Walrus staking_inner.move):
// EpochChangeSync -> EpochChangeDone -> NextParamsSelected -> (next epoch) EpochChangeSync.
type EpochState uint8

// Epoch states.
const (
	// StateEpochChangeSync: the epoch started; the new committee is taking over its shards and
	// signalling EpochSyncDone.
	StateEpochChangeSync EpochState = 0
	// StateEpochChangeDone: a quorum of the committee finished syncing, or the sync deadline
	// passed; mid-epoch the next committee is selected.
	StateEpochChangeDone EpochState = 1
	// StateNextParamsSelected: the next committee and capacity are fixed; at the end of the
	// epoch the change starts.
	StateNextParamsSelected EpochState = 2
)

// String returns the state's name.
func (s EpochState) String() string {
	switch s {
	case StateEpochChangeSync:
		return "EpochChangeSync"
	case StateEpochChangeDone:
		return "EpochChangeDone"
	case StateNextParamsSelected:
		return "NextParamsSelected"
	}
	return fmt.Sprintf("EpochState(%d)", uint8(s))
}

// SystemState is the mutable system record (Walrus's System and Staking inner state, less the
// tables kept under their own keys).
type SystemState struct {
	Epoch      uint32
	EpochState EpochState
	// SyncWeight is the number of shards of the current committee whose nodes signalled
	// EpochSyncDone for this epoch.
	SyncWeight uint32
	// EpochStart is the block time at which the current epoch's change completed (at genesis,
	// GenesisTime). Mid-epoch selection happens at EpochStart + EpochDuration/2 and the next
	// change at EpochStart + EpochDuration, as in Walrus.
	EpochStart int64
	// TotalCapacity is the encoded bytes that can be stored in each epoch.
	TotalCapacity uint64
	// NextCapacity is the capacity voted for the next epoch (valid from StateNextParamsSelected).
	NextCapacity uint64
	// StoragePrice is FROST per 1 MiB unit of encoded size per epoch; WritePrice is FROST per
	// unit, once.
	StoragePrice uint64
	WritePrice   uint64
	// Supply is all WAL ever created (genesis and faucet); Burned is all WAL destroyed.
	// Supply - Burned is held by accounts, pools, reward slots and shared blobs.
	Supply uint64
	Burned uint64
	// NextEventSeq is the sequence number of the next event.
	NextEventSeq uint64
	// Height and Time are those of the last block begun.
	Height uint64
	Time   int64
	// SyncDeadline is the block time by which the current committee must send EpochSyncDone:
	// the time the epoch change started plus Params.SyncTimeout (at genesis, GenesisTime;
	// the genesis committee needs no sync). A member that syncs later still counts as synced
	// for shard hand-over (Pool.LastSyncDone) but earns no reward for the epoch.
	SyncDeadline int64
}

func (s *SystemState) encode(e *bcs.Encoder) {
	e.U32(s.Epoch)
	e.U8(uint8(s.EpochState))
	e.U32(s.SyncWeight)
	e.U64(uint64(s.EpochStart))
	e.U64(s.TotalCapacity)
	e.U64(s.NextCapacity)
	e.U64(s.StoragePrice)
	e.U64(s.WritePrice)
	e.U64(s.Supply)
	e.U64(s.Burned)
	e.U64(s.NextEventSeq)
	e.U64(s.Height)
	e.U64(uint64(s.Time))
	e.U64(uint64(s.SyncDeadline))
}

func (s *SystemState) decode(d *bcs.Decoder) {
	s.Epoch = d.U32()
	s.EpochState = EpochState(d.U8())
	if s.EpochState > StateNextParamsSelected {
		d.Fail(fmt.Errorf("%w: epoch state %d", bcs.ErrInvalidVariant, s.EpochState))
	}
	s.SyncWeight = d.U32()
	s.EpochStart = int64(d.U64())
	s.TotalCapacity = d.U64()
	s.NextCapacity = d.U64()
	s.StoragePrice = d.U64()
	s.WritePrice = d.U64()
	s.Supply = d.U64()
	s.Burned = d.U64()
	s.NextEventSeq = d.U64()
	s.Height = d.U64()
	s.Time = int64(d.U64())
	s.SyncDeadline = int64(d.U64())
}

// Encode returns the BCS encoding of s.
func (s SystemState) Encode() []byte { return encodeBCS(&s) }

// DecodeSystemState decodes the BCS encoding of a SystemState.
func DecodeSystemState(b []byte) (SystemState, error) { return decodeBCS[SystemState](b) }

// Account is the balance and next nonce of an address. Absent accounts read as zero.
type Account struct {
	Balance uint64
	Nonce   uint64
}

func (a *Account) encode(e *bcs.Encoder) { e.U64(a.Balance); e.U64(a.Nonce) }
func (a *Account) decode(d *bcs.Decoder) { a.Balance = d.U64(); a.Nonce = d.U64() }

// Encode returns the BCS encoding of a.
func (a Account) Encode() []byte { return encodeBCS(&a) }

// DecodeAccount decodes the BCS encoding of an Account.
func DecodeAccount(b []byte) (Account, error) { return decodeBCS[Account](b) }

// ObjectKind is the kind of an owned object, the variant index of its BCS enum.
type ObjectKind uint8

// Object kinds.
const (
	KindStorage   ObjectKind = 0
	KindBlob      ObjectKind = 1
	KindStakedWal ObjectKind = 2
	KindBucket    ObjectKind = 3
	KindSite      ObjectKind = 4
	numKinds                 = 5
)

// String returns the kind's name: storage, blob, staked-wal, bucket or site.
func (k ObjectKind) String() string {
	switch k {
	case KindStorage:
		return "storage"
	case KindBlob:
		return "blob"
	case KindStakedWal:
		return "staked-wal"
	case KindBucket:
		return "bucket"
	case KindSite:
		return "site"
	}
	return fmt.Sprintf("ObjectKind(%d)", uint8(k))
}

// Object is an owned object: *Storage, *Blob, *StakedWal, *Bucket or *Site. Its BCS encoding is an enum
// whose variant index is its ObjectKind.
type Object interface {
	Kind() ObjectKind
	// ObjectID returns the object's ID.
	ObjectID() ObjectID
	// OwnerAddress returns the owner, or the zero address for a shared blob.
	OwnerAddress() Address
	bcsValue
	decode(d *bcs.Decoder)
}

// EncodeObject returns the BCS encoding of an object (enum variant = kind, then the object).
func EncodeObject(o Object) []byte {
	e := bcs.NewEncoder(nil)
	e.Variant(uint32(o.Kind()))
	o.encode(e)
	return e.Out()
}

// DecodeObject decodes the BCS encoding of an object.
func DecodeObject(b []byte) (Object, error) {
	d := bcs.NewDecoder(b)
	o := decodeObject(d)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: object: %w", ErrMalformed, err)
	}
	return o, nil
}

func decodeObject(d *bcs.Decoder) Object {
	var o Object
	switch ObjectKind(d.Variant(numKinds)) {
	case KindStorage:
		o = new(Storage)
	case KindBlob:
		o = new(Blob)
	case KindBucket:
		o = new(Bucket)
	case KindSite:
		o = new(Site)
	default:
		o = new(StakedWal)
	}
	o.decode(d)
	return o
}

// Storage is a storage resource: the right to store Size encoded bytes in epochs
// [StartEpoch, EndEpoch). A Storage embedded in a Blob has a zero Owner.
type Storage struct {
	ID         ObjectID
	Owner      Address
	StartEpoch uint32
	EndEpoch   uint32 // exclusive
	Size       uint64 // encoded bytes
}

// Kind implements Object.
func (*Storage) Kind() ObjectKind { return KindStorage }

// ObjectID implements Object.
func (s *Storage) ObjectID() ObjectID { return s.ID }

// OwnerAddress implements Object.
func (s *Storage) OwnerAddress() Address { return s.Owner }

func (s *Storage) encode(e *bcs.Encoder) {
	e.Fixed(s.ID[:])
	e.Fixed(s.Owner[:])
	e.U32(s.StartEpoch)
	e.U32(s.EndEpoch)
	e.U64(s.Size)
}

func (s *Storage) decode(d *bcs.Decoder) {
	s.ID = fixed32(d)
	s.Owner = fixed32(d)
	s.StartEpoch = d.U32()
	s.EndEpoch = d.U32()
	s.Size = d.U64()
}

// Attribute is one key/value pair of a blob's attributes.
type Attribute struct {
	Key, Value string
}

// Blob is a registered blob (Walrus blob::Blob), owned by an address or shared. A shared blob
// (Walrus shared_blob::SharedBlob) keeps its object ID; anyone can fund it and extend it from
// its Funds.
type Blob struct {
	ID              ObjectID
	Owner           Address // zero when Shared
	Shared          bool
	Funds           uint64 // WAL held by a shared blob for extensions
	RegisteredEpoch uint32
	BlobID          redstuff.BlobID
	Size            uint64 // unencoded bytes
	EncodingType    uint8
	Certified       bool
	CertifiedEpoch  uint32 // valid if Certified
	Storage         Storage
	Deletable       bool
	Attributes      []Attribute // sorted by key, keys unique
}

// Kind implements Object.
func (*Blob) Kind() ObjectKind { return KindBlob }

// ObjectID implements Object.
func (b *Blob) ObjectID() ObjectID { return b.ID }

// OwnerAddress implements Object.
func (b *Blob) OwnerAddress() Address { return b.Owner }

// EndEpoch returns the exclusive end epoch of the blob's storage.
func (b *Blob) EndEpoch() uint32 { return b.Storage.EndEpoch }

func (b *Blob) encode(e *bcs.Encoder) {
	e.Fixed(b.ID[:])
	e.Fixed(b.Owner[:])
	e.Bool(b.Shared)
	e.U64(b.Funds)
	e.U32(b.RegisteredEpoch)
	e.Fixed(b.BlobID[:])
	e.U64(b.Size)
	e.U8(b.EncodingType)
	encOptU32(e, b.Certified, b.CertifiedEpoch)
	b.Storage.encode(e)
	e.Bool(b.Deletable)
	e.Len(len(b.Attributes))
	for _, a := range b.Attributes {
		e.Bytes([]byte(a.Key))
		e.Bytes([]byte(a.Value))
	}
}

func (b *Blob) decode(d *bcs.Decoder) {
	b.ID = fixed32(d)
	b.Owner = fixed32(d)
	b.Shared = d.Bool()
	b.Funds = d.U64()
	b.RegisteredEpoch = d.U32()
	b.BlobID = fixed32(d)
	b.Size = d.U64()
	b.EncodingType = d.U8()
	b.Certified, b.CertifiedEpoch = decOptU32(d)
	b.Storage.decode(d)
	b.Deletable = d.Bool()
	n := d.Len(MaxAttributes)
	b.Attributes = nil
	for i := 0; i < n && d.Err() == nil; i++ {
		a := Attribute{Key: str(d, MaxAttributeKeyLen), Value: str(d, MaxAttributeValueLen)}
		if i > 0 && a.Key <= b.Attributes[i-1].Key {
			d.Fail(fmt.Errorf("%w: attributes not sorted", bcs.ErrInvalidVariant))
		}
		b.Attributes = append(b.Attributes, a)
	}
}

// Attribute returns the value of the attribute key.
func (b *Blob) Attribute(key string) (string, bool) {
	i, ok := slices.BinarySearchFunc(b.Attributes, key, func(a Attribute, k string) int {
		return compareStrings(a.Key, k)
	})
	if !ok {
		return "", false
	}
	return b.Attributes[i].Value, true
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// StakedWal is a stake of Principal FROST with a node (Walrus staked_wal::StakedWal). It earns
// rewards from ActivationEpoch on through the pool's exchange rate: it is worth
// Principal × rate(ActivationEpoch) in pool shares. After a withdrawal request it is
// Withdrawing: from WithdrawEpoch on, its shares are redeemed at the rate of WithdrawEpoch.
// Shares is 0 while the shares are not known yet (a withdrawal requested before the
// activation epoch; they are those of Principal at the activation epoch's rate).
type StakedWal struct {
	ID              ObjectID
	Owner           Address
	NodeID          ObjectID
	Principal       uint64
	ActivationEpoch uint32
	Withdrawing     bool
	WithdrawEpoch   uint32 // valid if Withdrawing
	Shares          uint64 // pool shares being withdrawn, valid if Withdrawing
}

// Kind implements Object.
func (*StakedWal) Kind() ObjectKind { return KindStakedWal }

// ObjectID implements Object.
func (s *StakedWal) ObjectID() ObjectID { return s.ID }

// OwnerAddress implements Object.
func (s *StakedWal) OwnerAddress() Address { return s.Owner }

func (s *StakedWal) encode(e *bcs.Encoder) {
	e.Fixed(s.ID[:])
	e.Fixed(s.Owner[:])
	e.Fixed(s.NodeID[:])
	e.U64(s.Principal)
	e.U32(s.ActivationEpoch)
	e.Bool(s.Withdrawing)
	e.U32(s.WithdrawEpoch)
	e.U64(s.Shares)
}

func (s *StakedWal) decode(d *bcs.Decoder) {
	s.ID = fixed32(d)
	s.Owner = fixed32(d)
	s.NodeID = fixed32(d)
	s.Principal = d.U64()
	s.ActivationEpoch = d.U32()
	s.Withdrawing = d.Bool()
	s.WithdrawEpoch = d.U32()
	s.Shares = d.U64()
}

// EpochAmount is an amount scheduled for an epoch.
type EpochAmount struct {
	Epoch  uint32
	Amount uint64
}

func encEpochAmounts(e *bcs.Encoder, l []EpochAmount) {
	e.Len(len(l))
	for _, x := range l {
		e.U32(x.Epoch)
		e.U64(x.Amount)
	}
}

func decEpochAmounts(d *bcs.Decoder) []EpochAmount {
	n := d.Len(maxListLen)
	var l []EpochAmount
	for i := 0; i < n && d.Err() == nil; i++ {
		l = append(l, EpochAmount{Epoch: d.U32(), Amount: d.U64()})
	}
	return l
}

// addScheduled adds amount to the entry of epoch in a list sorted by epoch.
func addScheduled(l []EpochAmount, epoch uint32, amount uint64) []EpochAmount {
	i, ok := slices.BinarySearchFunc(l, epoch, func(x EpochAmount, e uint32) int { return cmpU32(x.Epoch, e) })
	if ok {
		l[i].Amount += amount
		return l
	}
	return slices.Insert(l, i, EpochAmount{Epoch: epoch, Amount: amount})
}

// subScheduled subtracts amount (at most the entry) from the entry of epoch and drops the
// entry if it reaches zero.
func subScheduled(l []EpochAmount, epoch uint32, amount uint64) []EpochAmount {
	i, ok := slices.BinarySearchFunc(l, epoch, func(x EpochAmount, e uint32) int { return cmpU32(x.Epoch, e) })
	if !ok {
		return l
	}
	l[i].Amount -= min(amount, l[i].Amount)
	if l[i].Amount == 0 {
		l = slices.Delete(l, i, i+1)
	}
	if len(l) == 0 {
		return nil
	}
	return l
}

// takeScheduled removes and returns the total of the entries with epoch <= upTo.
func takeScheduled(l []EpochAmount, upTo uint32) ([]EpochAmount, uint64) {
	var total uint64
	i := 0
	for i < len(l) && l[i].Epoch <= upTo {
		total += l[i].Amount
		i++
	}
	return slices.Delete(l, 0, i), total
}

// sumScheduled returns the total of the entries with epoch <= upTo.
func sumScheduled(l []EpochAmount, upTo uint32) uint64 {
	var total uint64
	for _, x := range l {
		if x.Epoch <= upTo {
			total += x.Amount
		}
	}
	return total
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Pool is a storage node and its staking pool (Walrus StakingPool with its node info and
// StorageNodeCap). Its ID is the node ID.
//
// Stake accounting: Wal is the WAL of active stake including credited rewards, Shares the
// pool shares issued for it; a staker's value is shares × Wal / Shares. PendingStake holds
// stake by activation epoch, PendingWithdraw shares by withdrawal epoch; PreActiveWithdraw
// holds, by activation epoch, the WAL of stake whose withdrawal was requested before it became
// active (it still activates, serves its first epoch and is converted to shares due in
// PendingWithdraw the epoch after); WithdrawReserve holds WAL already taken out of the pool for
// requested withdrawals. Commission is the operator's collectable commission.
type Pool struct {
	NodeID         ObjectID
	Operator       Address
	Name           string
	NetworkAddress string
	PublicKey      [48]byte
	// NetworkPublicKey is the ed25519 key of the node's TLS certificate (pinned by clients).
	NetworkPublicKey [NetworkKeySize]byte
	CommissionRate   uint16 // basis points
	// HasNextCommission, NextCommissionRate and NextCommissionEpoch schedule a commission
	// change (it takes effect two epochs after it was requested).
	HasNextCommission   bool
	NextCommissionRate  uint16
	NextCommissionEpoch uint32
	StoragePriceVote    uint64
	WritePriceVote      uint64
	CapacityVote        uint64
	Wal                 uint64
	Shares              uint64
	PendingStake        []EpochAmount
	PendingWithdraw     []EpochAmount
	PreActiveWithdraw   []EpochAmount
	WithdrawReserve     uint64
	Commission          uint64
	// LastSyncDone is the last epoch for which the node signalled EpochSyncDone (0: none).
	LastSyncDone uint32
	// LastSyncOnTime is the last epoch for which the node signalled EpochSyncDone before the
	// epoch's SyncDeadline (0: none); only those members earn the epoch's rewards.
	LastSyncOnTime uint32
	// RegisteredEpoch is the epoch the node registered in.
	RegisteredEpoch uint32
}

func (p *Pool) encode(e *bcs.Encoder) {
	e.Fixed(p.NodeID[:])
	e.Fixed(p.Operator[:])
	e.Bytes([]byte(p.Name))
	e.Bytes([]byte(p.NetworkAddress))
	e.Fixed(p.PublicKey[:])
	e.Fixed(p.NetworkPublicKey[:])
	e.U16(p.CommissionRate)
	e.Bool(p.HasNextCommission)
	e.U16(p.NextCommissionRate)
	e.U32(p.NextCommissionEpoch)
	e.U64(p.StoragePriceVote)
	e.U64(p.WritePriceVote)
	e.U64(p.CapacityVote)
	e.U64(p.Wal)
	e.U64(p.Shares)
	encEpochAmounts(e, p.PendingStake)
	encEpochAmounts(e, p.PendingWithdraw)
	encEpochAmounts(e, p.PreActiveWithdraw)
	e.U64(p.WithdrawReserve)
	e.U64(p.Commission)
	e.U32(p.LastSyncDone)
	e.U32(p.LastSyncOnTime)
	e.U32(p.RegisteredEpoch)
}

func (p *Pool) decode(d *bcs.Decoder) {
	p.NodeID = fixed32(d)
	p.Operator = fixed32(d)
	p.Name = str(d, MaxNameLen)
	p.NetworkAddress = str(d, MaxNetworkAddressLen)
	p.PublicKey = fixed48(d)
	p.NetworkPublicKey = fixed32(d)
	p.CommissionRate = d.U16()
	p.HasNextCommission = d.Bool()
	p.NextCommissionRate = d.U16()
	p.NextCommissionEpoch = d.U32()
	p.StoragePriceVote = d.U64()
	p.WritePriceVote = d.U64()
	p.CapacityVote = d.U64()
	p.Wal = d.U64()
	p.Shares = d.U64()
	p.PendingStake = decEpochAmounts(d)
	p.PendingWithdraw = decEpochAmounts(d)
	p.PreActiveWithdraw = decEpochAmounts(d)
	p.WithdrawReserve = d.U64()
	p.Commission = d.U64()
	p.LastSyncDone = d.U32()
	p.LastSyncOnTime = d.U32()
	p.RegisteredEpoch = d.U32()
}

// Encode returns the BCS encoding of p.
func (p Pool) Encode() []byte { return encodeBCS(&p) }

// DecodePool decodes the BCS encoding of a Pool.
func DecodePool(b []byte) (Pool, error) { return decodeBCS[Pool](b) }

// ExchangeRate is a pool's (Wal, Shares) at the start of an epoch, after that epoch's rewards
// were credited and before its withdrawals and activations.
type ExchangeRate struct {
	Wal, Shares uint64
}

func (r *ExchangeRate) encode(e *bcs.Encoder) { e.U64(r.Wal); e.U64(r.Shares) }
func (r *ExchangeRate) decode(d *bcs.Decoder) { r.Wal = d.U64(); r.Shares = d.U64() }

// CommitteeMember is one node of a stored committee.
type CommitteeMember struct {
	NodeID    ObjectID
	PublicKey [48]byte
	Shards    []uint16 // ascending
}

// CommitteeRecord is the committee of one epoch as stored: members sorted by node ID (the
// order of certificate signer bitmaps) and the aggregate of their BLS keys.
type CommitteeRecord struct {
	Epoch        uint32
	NShards      uint16
	Members      []CommitteeMember
	AggregateKey [48]byte
}

func (c *CommitteeRecord) encode(e *bcs.Encoder) {
	e.U32(c.Epoch)
	e.U16(c.NShards)
	e.Len(len(c.Members))
	for _, m := range c.Members {
		e.Fixed(m.NodeID[:])
		e.Fixed(m.PublicKey[:])
		e.Len(len(m.Shards))
		for _, s := range m.Shards {
			e.U16(s)
		}
	}
	e.Fixed(c.AggregateKey[:])
}

func (c *CommitteeRecord) decode(d *bcs.Decoder) {
	c.Epoch = d.U32()
	c.NShards = d.U16()
	n := d.Len(maxListLen)
	c.Members = nil
	for i := 0; i < n && d.Err() == nil; i++ {
		m := CommitteeMember{NodeID: fixed32(d), PublicKey: fixed48(d)}
		k := d.Len(maxListLen)
		for j := 0; j < k && d.Err() == nil; j++ {
			m.Shards = append(m.Shards, d.U16())
		}
		c.Members = append(c.Members, m)
	}
	c.AggregateKey = fixed48(d)
}

// Weight returns the number of shards of the member with the given node ID (0 if absent).
func (c *CommitteeRecord) Weight(node ObjectID) int {
	if i := c.index(node); i >= 0 {
		return len(c.Members[i].Shards)
	}
	return 0
}

func (c *CommitteeRecord) index(node ObjectID) int {
	i, ok := slices.BinarySearchFunc(c.Members, node, func(m CommitteeMember, id ObjectID) int {
		return bytes.Compare(m.NodeID[:], id[:])
	})
	if !ok {
		return -1
	}
	return i
}

// FutureEpoch is one slot of the future-accounting ring (Walrus
// storage_accounting::FutureAccounting): the encoded bytes reserved for the epoch and the
// rewards prepaid for it. Walrus keeps a ring buffer of max_epochs_ahead slots; here each slot
// lives under its epoch's key and is deleted when the epoch's rewards are paid, which is the
// same thing.
type FutureEpoch struct {
	Epoch        uint32
	UsedCapacity uint64
	Rewards      uint64
}

func (f *FutureEpoch) encode(e *bcs.Encoder) { e.U32(f.Epoch); e.U64(f.UsedCapacity); e.U64(f.Rewards) }
func (f *FutureEpoch) decode(d *bcs.Decoder) {
	f.Epoch = d.U32()
	f.UsedCapacity = d.U64()
	f.Rewards = d.U64()
}

// BlobStatus aggregates every registration of one blob ID, as storage nodes track it (Walrus
// BlobInfoV1): counts of live (not deleted) registrations and certifications of permanent and
// deletable Blob objects, the latest end epochs, the first certification epoch and whether
// the blob ID was invalidated. Counts are not decreased when registrations expire or are
// burned; compare the end epochs with the current epoch.
type BlobStatus struct {
	BlobID                   redstuff.BlobID
	PermanentRegistered      uint32
	PermanentRegisteredEnd   uint32
	PermanentCertified       uint32
	PermanentCertifiedEnd    uint32
	DeletableRegistered      uint32
	DeletableRegisteredEnd   uint32
	DeletableCertified       uint32
	DeletableCertifiedEnd    uint32
	HasInitialCertifiedEpoch bool
	InitialCertifiedEpoch    uint32
	Invalid                  bool
	InvalidatedEpoch         uint32
}

func (s *BlobStatus) encode(e *bcs.Encoder) {
	e.Fixed(s.BlobID[:])
	e.U32(s.PermanentRegistered)
	e.U32(s.PermanentRegisteredEnd)
	e.U32(s.PermanentCertified)
	e.U32(s.PermanentCertifiedEnd)
	e.U32(s.DeletableRegistered)
	e.U32(s.DeletableRegisteredEnd)
	e.U32(s.DeletableCertified)
	e.U32(s.DeletableCertifiedEnd)
	encOptU32(e, s.HasInitialCertifiedEpoch, s.InitialCertifiedEpoch)
	encOptU32(e, s.Invalid, s.InvalidatedEpoch)
}

func (s *BlobStatus) decode(d *bcs.Decoder) {
	s.BlobID = fixed32(d)
	s.PermanentRegistered = d.U32()
	s.PermanentRegisteredEnd = d.U32()
	s.PermanentCertified = d.U32()
	s.PermanentCertifiedEnd = d.U32()
	s.DeletableRegistered = d.U32()
	s.DeletableRegisteredEnd = d.U32()
	s.DeletableCertified = d.U32()
	s.DeletableCertifiedEnd = d.U32()
	s.HasInitialCertifiedEpoch, s.InitialCertifiedEpoch = decOptU32(d)
	s.Invalid, s.InvalidatedEpoch = decOptU32(d)
}

// Encode returns the BCS encoding of s.
func (s BlobStatus) Encode() []byte { return encodeBCS(&s) }

// DecodeBlobStatus decodes the BCS encoding of a BlobStatus.
func DecodeBlobStatus(b []byte) (BlobStatus, error) { return decodeBCS[BlobStatus](b) }

// Summary classifies the status at epoch now the way Walrus's blob status endpoint does:
// "invalid", "permanent" (a live permanent registration; certified or not), "deletable",
// or "nonexistent" (nothing live). End is the latest end epoch of that kind and Certified
// whether a live certified registration of that kind exists.
func (s *BlobStatus) Summary(now uint32) (kind string, end uint32, certified bool) {
	switch {
	case s.Invalid:
		return "invalid", 0, false
	case s.PermanentRegistered > 0 && s.PermanentRegisteredEnd > now:
		return "permanent", s.PermanentRegisteredEnd, s.PermanentCertified > 0 && s.PermanentCertifiedEnd > now
	case s.DeletableRegistered > 0 && s.DeletableRegisteredEnd > now:
		return "deletable", s.DeletableRegisteredEnd, s.DeletableCertified > 0 && s.DeletableCertifiedEnd > now
	}
	return "nonexistent", 0, false
}
