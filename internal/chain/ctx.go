package chain

import (
	"fmt"
	"math/bits"

	"github.com/walrus-go/walrus/internal/bcs"
)

// ctx is the context of one transaction or of block processing: the store it writes, the
// system record (loaded once, saved at the end), and what it produced.
type ctx struct {
	app    *App
	kv     Store
	params *Params // the genesis parameters with the governed ones (settings) applied
	// settings are the governed parameters now; saveSettings stores them.
	settings Settings
	sys      SystemState
	header   BlockHeader
	digest   [32]byte // transaction digest; zero for block processing
	sender   Address
	created  []ObjectID
	events   []Event
}

func (a *App) newCtx(kv Store, h BlockHeader, digest [32]byte) (*ctx, error) {
	sys, err := loadSystem(kv)
	if err != nil {
		return nil, err
	}
	settings := loadSettings(kv, a.params)
	return &ctx{app: a, kv: kv, params: effectiveParams(a.params, &settings), settings: settings, sys: sys, header: h, digest: digest}, nil
}

// newObjectID returns the ID of the next object this context creates.
func (c *ctx) newObjectID() ObjectID {
	id := DeriveObjectID(c.digest, uint64(len(c.created)))
	c.created = append(c.created, id)
	return id
}

// emit appends an event to the log with the next sequence number.
func (c *ctx) emit(body EventBody) {
	ev := Event{Seq: c.sys.NextEventSeq, Height: c.header.Height, TxDigest: c.digest, Body: body}
	c.sys.NextEventSeq++
	c.kv.Set(keyEvent(ev.Seq), encodeBCS(&ev))
	c.events = append(c.events, ev)
}

func (c *ctx) saveSystem() { c.kv.Set(keySystem(), encodeBCS(&c.sys)) }

// --- typed records -------------------------------------------------------------------------

// get decodes the record under k. A record that does not decode is a broken invariant (the
// state machine wrote it), so it panics.
func get[T any, PT interface {
	*T
	decode(d *bcs.Decoder)
}](kv Store, k []byte) (T, bool) {
	b, ok := kv.Get(k)
	if !ok {
		var zero T
		return zero, false
	}
	v, err := decodeBCS[T, PT](b)
	if err != nil {
		panic(fmt.Sprintf("chain: corrupt record %q: %v", k, err))
	}
	return v, true
}

func loadSystem(kv Store) (SystemState, error) {
	s, ok := get[SystemState](kv, keySystem())
	if !ok {
		return SystemState{}, ErrNotInitialized
	}
	return s, nil
}

func mustSystem(kv Store) SystemState {
	s, err := loadSystem(kv)
	if err != nil {
		panic(err)
	}
	return s
}

func getAccount(kv Store, a Address) Account {
	acct, _ := get[Account](kv, keyAccount(a))
	return acct
}

func putAccount(kv Store, a Address, acct Account) { kv.Set(keyAccount(a), encodeBCS(&acct)) }

func getFuture(kv Store, epoch uint32) FutureEpoch {
	f, ok := get[FutureEpoch](kv, keyFuture(epoch))
	if !ok {
		f.Epoch = epoch
	}
	return f
}

func putFuture(kv Store, f FutureEpoch) { kv.Set(keyFuture(f.Epoch), encodeBCS(&f)) }

func getCommittee(kv Store, epoch uint32) (CommitteeRecord, bool) {
	return get[CommitteeRecord](kv, keyCommittee(epoch))
}

func getPool(kv Store, id ObjectID) (Pool, bool) { return get[Pool](kv, keyPool(id)) }
func putPool(kv Store, p *Pool)                  { kv.Set(keyPool(p.NodeID), encodeBCS(p)) }

func getBlobStatus(kv Store, id [32]byte) BlobStatus {
	s, ok := get[BlobStatus](kv, keyBlobStatus(id))
	if !ok {
		s.BlobID = id
	}
	return s
}

func putBlobStatus(kv Store, s *BlobStatus) { kv.Set(keyBlobStatus(s.BlobID), encodeBCS(s)) }

func getObject(kv Store, id ObjectID) (Object, bool) {
	b, ok := kv.Get(keyObject(id))
	if !ok {
		return nil, false
	}
	o, err := DecodeObject(b)
	if err != nil {
		panic(fmt.Sprintf("chain: corrupt object %s: %v", id, err))
	}
	return o, true
}

// putObject stores an object whose owner did not change since it was last stored.
func putObject(kv Store, o Object) { kv.Set(keyObject(o.ObjectID()), EncodeObject(o)) }

// createObject stores a new object and indexes it under its owner.
func createObject(kv Store, o Object) {
	putObject(kv, o)
	if o.OwnerAddress() != (Address{}) {
		kv.Set(keyOwned(o.OwnerAddress(), o.Kind(), o.ObjectID()), nil)
	}
}

// deleteObject removes an object and its owner index entry.
func deleteObject(kv Store, o Object) {
	kv.Delete(keyObject(o.ObjectID()))
	if o.OwnerAddress() != (Address{}) {
		kv.Delete(keyOwned(o.OwnerAddress(), o.Kind(), o.ObjectID()))
	}
}

// --- ownership checks ----------------------------------------------------------------------

func (c *ctx) object(id ObjectID, kind ObjectKind) (Object, error) {
	o, ok := getObject(c.kv, id)
	if !ok {
		return nil, errorf(ErrUnknownObject, "%s", id)
	}
	if o.Kind() != kind {
		return nil, errorf(ErrWrongObjectKind, "%s is a %s, not a %s", id, o.Kind(), kind)
	}
	return o, nil
}

func (c *ctx) ownedStorage(id ObjectID) (*Storage, error) {
	o, err := c.object(id, KindStorage)
	if err != nil {
		return nil, err
	}
	if o.OwnerAddress() != c.sender {
		return nil, errorf(ErrNotOwner, "storage %s", id)
	}
	return o.(*Storage), nil
}

// ownedBlob returns a blob owned by the sender (not shared).
func (c *ctx) ownedBlob(id ObjectID) (*Blob, error) {
	o, err := c.object(id, KindBlob)
	if err != nil {
		return nil, err
	}
	b := o.(*Blob)
	if b.Shared {
		return nil, errorf(ErrSharedBlob, "blob %s is shared", id)
	}
	if b.Owner != c.sender {
		return nil, errorf(ErrNotOwner, "blob %s", id)
	}
	return b, nil
}

func (c *ctx) ownedStaked(id ObjectID) (*StakedWal, error) {
	o, err := c.object(id, KindStakedWal)
	if err != nil {
		return nil, err
	}
	if o.OwnerAddress() != c.sender {
		return nil, errorf(ErrNotOwner, "staked WAL %s", id)
	}
	return o.(*StakedWal), nil
}

func (c *ctx) pool(id ObjectID) (*Pool, error) {
	p, ok := getPool(c.kv, id)
	if !ok {
		return nil, errorf(ErrUnknownNode, "%s", id)
	}
	return &p, nil
}

func (c *ctx) operatedPool(id ObjectID) (*Pool, error) {
	p, err := c.pool(id)
	if err != nil {
		return nil, err
	}
	if p.Operator != c.sender {
		return nil, errorf(ErrNotOperator, "node %s", id)
	}
	return p, nil
}

// --- balances ------------------------------------------------------------------------------

// debit takes amount from addr.
func (c *ctx) debit(addr Address, amount uint64) error {
	acct := getAccount(c.kv, addr)
	if acct.Balance < amount {
		return errorf(ErrInsufficientFunds, "balance %d, need %d", acct.Balance, amount)
	}
	acct.Balance -= amount
	putAccount(c.kv, addr, acct)
	return nil
}

// credit adds amount to addr. Balances cannot overflow: they are bounded by the supply,
// which is checked when WAL is minted.
func (c *ctx) credit(addr Address, amount uint64) {
	acct := getAccount(c.kv, addr)
	acct.Balance += amount
	putAccount(c.kv, addr, acct)
}

// --- arithmetic ----------------------------------------------------------------------------

// mul returns a*b or ErrOverflow.
func mul(a, b uint64) (uint64, error) {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return 0, errorf(ErrOverflow, "%d × %d", a, b)
	}
	return lo, nil
}

// add returns a+b or ErrOverflow.
func add(a, b uint64) (uint64, error) {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return 0, errorf(ErrOverflow, "%d + %d", a, b)
	}
	return s, nil
}

// mulDiv returns floor(a*b/d) computed in 128 bits; d must be non-zero and the quotient must
// fit in 64 bits (callers ensure a <= d or b <= d), otherwise it saturates.
func mulDiv(a, b, d uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= d {
		return ^uint64(0)
	}
	q, _ := bits.Div64(hi, lo, d)
	return q
}
