package chain

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Query paths served by [App.Query] and [View.Query]. Requests and responses are BCS.
const (
	// QueryParams: empty request; response Params.
	QueryParams = "/params"
	// QuerySystem: empty request; response SystemState.
	QuerySystem = "/system"
	// QueryAccount: request the 32-byte address; response Account (zero if absent).
	QueryAccount = "/account"
	// QueryObject: request the 32-byte object ID; response the Object enum.
	QueryObject = "/object"
	// QueryOwned: request OwnedRequest; response ObjectPage.
	QueryOwned = "/owned"
	// QueryBlobStatus: request the 32-byte blob ID; response BlobStatus (all zero counts if
	// the blob ID was never registered).
	QueryBlobStatus = "/blob-status"
	// QueryCommittee: request empty (current epoch) or the epoch as u32; response
	// CommitteeInfo.
	QueryCommittee = "/committee"
	// QueryPools: request PoolsRequest; response PoolPage (pools in node ID order, at most
	// MaxPoolPageSize per page).
	QueryPools = "/pools"
	// QueryPool: request the 32-byte node ID; response Pool.
	QueryPool = "/pool"
	// QueryEvents: request EventsRequest; response EventPage.
	QueryEvents = "/events"
)

// MaxPageSize bounds the number of items one paged query returns.
const MaxPageSize = 1000

// MaxPoolPageSize bounds the number of pools one QueryPools page returns: a pool record is
// up to about 1 KiB (and more with scheduled stake changes), so pages are smaller than
// MaxPageSize.
const MaxPoolPageSize = 100

// Every query that returns a list is paged: QueryOwned and QueryPools by an After cursor,
// QueryEvents by sequence number. QueryCommittee returns a whole committee, which is
// bounded by MaxCommitteeSize and NShards.

// View reads typed state from a Store. The App's View reads the committed state. A View is
// as safe for concurrent use as its Store.
type View struct{ s Store }

// NewView returns a View of s.
func NewView(s Store) *View { return &View{s: s} }

// View returns a view of the committed state.
func (a *App) View() *View { return NewView(a.base) }

// Query answers a query against the committed state; see [View.Query].
func (a *App) Query(path string, data []byte) ([]byte, error) { return a.View().Query(path, data) }

// Params returns the system parameters: those of the genesis, with the governed ones
// that governance changed since (EpochDuration; see [Settings]) at their current values.
func (v *View) Params() (Params, error) {
	p, ok := get[Params](v.s, keyParams())
	if !ok {
		return Params{}, ErrNotInitialized
	}
	s := loadSettings(v.s, &p)
	return *effectiveParams(&p, &s), nil
}

// System returns the system state.
func (v *View) System() (SystemState, error) { return loadSystem(v.s) }

// Account returns the account of addr (zero if it never received WAL).
func (v *View) Account(addr Address) Account { return getAccount(v.s, addr) }

// Object returns the object with the given ID, or an error wrapping ErrNotFound.
func (v *View) Object(id ObjectID) (Object, error) {
	o, ok := getObject(v.s, id)
	if !ok {
		return nil, errorf(ErrNotFound, "object %s", id)
	}
	return o, nil
}

// Blob returns the Blob object with the given ID.
func (v *View) Blob(id ObjectID) (*Blob, error) {
	o, err := v.Object(id)
	if err != nil {
		return nil, err
	}
	b, ok := o.(*Blob)
	if !ok {
		return nil, errorf(ErrWrongObjectKind, "%s is a %s", id, o.Kind())
	}
	return b, nil
}

// BlobStatus returns the aggregated status of a blob ID.
func (v *View) BlobStatus(id redstuff.BlobID) BlobStatus { return getBlobStatus(v.s, id) }

// ExchangeRate returns a pool's exchange rate at the start of an epoch (zero if the pool did
// not exist then).
func (v *View) ExchangeRate(node ObjectID, epoch uint32) ExchangeRate {
	r, _ := get[ExchangeRate](v.s, keyRate(node, epoch))
	return r
}

// OwnedRequest asks for the objects of one kind owned by Owner, in object ID order, starting
// after After (if set), at most Limit (capped at MaxPageSize; 0 means MaxPageSize).
type OwnedRequest struct {
	Owner    Address
	Kind     ObjectKind
	HasAfter bool
	After    ObjectID
	Limit    uint32
}

func (r *OwnedRequest) encode(e *bcs.Encoder) {
	e.Fixed(r.Owner[:])
	e.U8(uint8(r.Kind))
	encodeOptionalID(e, r.HasAfter, r.After)
	e.U32(r.Limit)
}

func (r *OwnedRequest) decode(d *bcs.Decoder) {
	r.Owner = fixed32(d)
	r.Kind = ObjectKind(d.U8())
	if r.Kind >= numKinds {
		d.Fail(fmt.Errorf("%w: object kind %d", bcs.ErrInvalidVariant, r.Kind))
	}
	r.HasAfter, r.After = decodeOptionalID(d)
	r.Limit = d.U32()
}

// Encode returns the BCS encoding of r.
func (r OwnedRequest) Encode() []byte { return encodeBCS(&r) }

// ObjectPage is a page of objects; if HasNext, the next page starts after Next.
type ObjectPage struct {
	Objects []Object
	HasNext bool
	Next    ObjectID
}

func (p *ObjectPage) encode(e *bcs.Encoder) {
	e.Len(len(p.Objects))
	for _, o := range p.Objects {
		e.Variant(uint32(o.Kind()))
		o.encode(e)
	}
	encodeOptionalID(e, p.HasNext, p.Next)
}

func (p *ObjectPage) decode(d *bcs.Decoder) {
	n := d.Len(MaxPageSize)
	for i := 0; i < n && d.Err() == nil; i++ {
		p.Objects = append(p.Objects, decodeObject(d))
	}
	p.HasNext, p.Next = decodeOptionalID(d)
}

// DecodeObjectPage decodes the BCS encoding of an ObjectPage.
func DecodeObjectPage(b []byte) (ObjectPage, error) { return decodeBCS[ObjectPage](b) }

func pageLimit(l uint32) int {
	if l == 0 || l > MaxPageSize {
		return MaxPageSize
	}
	return int(l)
}

// Owned returns a page of the objects of one kind owned by an address.
func (v *View) Owned(r OwnedRequest) ObjectPage {
	limit := pageLimit(r.Limit)
	prefix := keyOwnedPrefix(r.Owner, r.Kind)
	start := prefix
	if r.HasAfter {
		start = append(bytes.Clone(prefix), r.After[:]...)
		start = append(start, 0) // the smallest key after After
	}
	var page ObjectPage
	var ids []ObjectID
	v.s.Iterate(start, prefixEnd(prefix), func(k, _ []byte) bool {
		if len(ids) == limit {
			page.HasNext = true
			return false
		}
		var id ObjectID
		copy(id[:], k[len(prefix):])
		ids = append(ids, id)
		return true
	})
	for _, id := range ids {
		if o, ok := getObject(v.s, id); ok {
			page.Objects = append(page.Objects, o)
		}
	}
	if page.HasNext {
		page.Next = ids[len(ids)-1]
	}
	return page
}

// CommitteeInfo is a committee with its members' current node information.
type CommitteeInfo struct {
	Epoch   uint32
	NShards uint16
	Members []MemberInfo // in node ID order (the order of signer bitmaps)
}

// MemberInfo is one committee member.
type MemberInfo struct {
	NodeID         ObjectID
	Name           string
	NetworkAddress string
	PublicKey      [48]byte // the key of the committee's epoch
	// NetworkPublicKey is the node's current TLS key (as its NetworkAddress, the node's
	// current one): clients accept the node's certificate only if its key is this one.
	NetworkPublicKey [NetworkKeySize]byte
	Shards           []uint16
}

func (c *CommitteeInfo) encode(e *bcs.Encoder) {
	e.U32(c.Epoch)
	e.U16(c.NShards)
	e.Len(len(c.Members))
	for _, m := range c.Members {
		e.Fixed(m.NodeID[:])
		e.Bytes([]byte(m.Name))
		e.Bytes([]byte(m.NetworkAddress))
		e.Fixed(m.PublicKey[:])
		e.Fixed(m.NetworkPublicKey[:])
		e.Len(len(m.Shards))
		for _, s := range m.Shards {
			e.U16(s)
		}
	}
}

func (c *CommitteeInfo) decode(d *bcs.Decoder) {
	c.Epoch = d.U32()
	c.NShards = d.U16()
	n := d.Len(maxListLen)
	for i := 0; i < n && d.Err() == nil; i++ {
		m := MemberInfo{NodeID: fixed32(d), Name: str(d, MaxNameLen), NetworkAddress: str(d, MaxNetworkAddressLen), PublicKey: fixed48(d),
			NetworkPublicKey: fixed32(d)}
		k := d.Len(maxListLen)
		for j := 0; j < k && d.Err() == nil; j++ {
			m.Shards = append(m.Shards, d.U16())
		}
		c.Members = append(c.Members, m)
	}
}

// DecodeCommitteeInfo decodes the BCS encoding of a CommitteeInfo.
func DecodeCommitteeInfo(b []byte) (CommitteeInfo, error) { return decodeBCS[CommitteeInfo](b) }

// Committee returns the committee of epoch (selected ones exist up to the current epoch + 1
// after the mid-epoch selection).
func (v *View) Committee(epoch uint32) (CommitteeInfo, error) {
	rec, ok := getCommittee(v.s, epoch)
	if !ok {
		return CommitteeInfo{}, errorf(ErrNotFound, "no committee for epoch %d", epoch)
	}
	info := CommitteeInfo{Epoch: rec.Epoch, NShards: rec.NShards}
	for _, m := range rec.Members {
		p, _ := getPool(v.s, m.NodeID)
		info.Members = append(info.Members, MemberInfo{NodeID: m.NodeID, Name: p.Name, NetworkAddress: p.NetworkAddress,
			PublicKey: m.PublicKey, NetworkPublicKey: p.NetworkPublicKey, Shards: m.Shards})
	}
	return info, nil
}

// PoolsRequest asks for the pools in node ID order, starting after After (if set), at most
// Limit (capped at MaxPoolPageSize; 0 means MaxPoolPageSize).
type PoolsRequest struct {
	HasAfter bool
	After    ObjectID
	Limit    uint32
}

func (r *PoolsRequest) encode(e *bcs.Encoder) {
	encodeOptionalID(e, r.HasAfter, r.After)
	e.U32(r.Limit)
}

func (r *PoolsRequest) decode(d *bcs.Decoder) {
	r.HasAfter, r.After = decodeOptionalID(d)
	r.Limit = d.U32()
}

// Encode returns the BCS encoding of r.
func (r PoolsRequest) Encode() []byte { return encodeBCS(&r) }

// PoolPage is a page of pools; if HasNext, the next page starts after Next.
type PoolPage struct {
	Pools   []Pool
	HasNext bool
	Next    ObjectID
}

func (p *PoolPage) encode(e *bcs.Encoder) {
	e.Len(len(p.Pools))
	for i := range p.Pools {
		p.Pools[i].encode(e)
	}
	encodeOptionalID(e, p.HasNext, p.Next)
}

func (p *PoolPage) decode(d *bcs.Decoder) {
	n := d.Len(MaxPoolPageSize)
	for i := 0; i < n && d.Err() == nil; i++ {
		var pool Pool
		pool.decode(d)
		p.Pools = append(p.Pools, pool)
	}
	p.HasNext, p.Next = decodeOptionalID(d)
}

// DecodePoolPage decodes the response of QueryPools.
func DecodePoolPage(b []byte) (PoolPage, error) { return decodeBCS[PoolPage](b) }

// Pools returns a page of the staking pools, in node ID order.
func (v *View) Pools(r PoolsRequest) PoolPage {
	limit := int(r.Limit)
	if limit == 0 || limit > MaxPoolPageSize {
		limit = MaxPoolPageSize
	}
	start := []byte(prefixPool)
	if r.HasAfter {
		start = append(keyPool(r.After), 0) // the smallest key after After
	}
	var page PoolPage
	v.s.Iterate(start, prefixEnd([]byte(prefixPool)), func(_, val []byte) bool {
		if len(page.Pools) == limit {
			page.HasNext = true
			return false
		}
		p, err := DecodePool(val)
		if err != nil {
			panic(fmt.Sprintf("chain: corrupt pool: %v", err))
		}
		page.Pools = append(page.Pools, p)
		return true
	})
	if page.HasNext {
		page.Next = page.Pools[len(page.Pools)-1].NodeID
	}
	return page
}

// Pool returns the pool of a node.
func (v *View) Pool(id ObjectID) (Pool, error) {
	p, ok := getPool(v.s, id)
	if !ok {
		return Pool{}, errorf(ErrNotFound, "node %s", id)
	}
	return p, nil
}

// EventsRequest asks for the events with sequence numbers >= Cursor, at most Limit (capped at
// MaxPageSize; 0 means MaxPageSize).
type EventsRequest struct {
	Cursor uint64
	Limit  uint32
}

func (r *EventsRequest) encode(e *bcs.Encoder) { e.U64(r.Cursor); e.U32(r.Limit) }
func (r *EventsRequest) decode(d *bcs.Decoder) { r.Cursor = d.U64(); r.Limit = d.U32() }

// Encode returns the BCS encoding of r.
func (r EventsRequest) Encode() []byte { return encodeBCS(&r) }

// EventPage is a page of events. Next is the cursor for the following page (the sequence
// number after the last event returned, or the request's cursor if there were none).
type EventPage struct {
	Events []Event
	Next   uint64
}

func (p *EventPage) encode(e *bcs.Encoder) {
	e.Len(len(p.Events))
	for i := range p.Events {
		p.Events[i].encode(e)
	}
	e.U64(p.Next)
}

func (p *EventPage) decode(d *bcs.Decoder) {
	n := d.Len(MaxPageSize)
	for i := 0; i < n && d.Err() == nil; i++ {
		var ev Event
		ev.decode(d)
		p.Events = append(p.Events, ev)
	}
	p.Next = d.U64()
}

// DecodeEventPage decodes the BCS encoding of an EventPage.
func DecodeEventPage(b []byte) (EventPage, error) { return decodeBCS[EventPage](b) }

// Events returns the events with sequence numbers from cursor on.
func (v *View) Events(cursor uint64, limit uint32) EventPage {
	n := pageLimit(limit)
	page := EventPage{Next: cursor}
	v.s.Iterate(keyEvent(cursor), prefixEnd([]byte(prefixEvent)), func(_, val []byte) bool {
		ev, err := DecodeEvent(val)
		if err != nil {
			panic(fmt.Sprintf("chain: corrupt event: %v", err))
		}
		page.Events = append(page.Events, ev)
		page.Next = ev.Seq + 1
		return len(page.Events) < n
	})
	return page
}

// Query answers a query (see the Query* path constants). Errors carry codes: ErrUnknownQuery,
// ErrMalformed for a bad request, ErrNotFound, ErrNotInitialized.
func (v *View) Query(path string, data []byte) ([]byte, error) {
	id32 := func() ([32]byte, error) {
		var id [32]byte
		if len(data) != 32 {
			return id, errorf(ErrMalformed, "%s wants 32 bytes, got %d", path, len(data))
		}
		copy(id[:], data)
		return id, nil
	}
	noData := func() error {
		if len(data) != 0 {
			return errorf(ErrMalformed, "%s takes no request data", path)
		}
		return nil
	}
	switch path {
	case QueryParams:
		if err := noData(); err != nil {
			return nil, err
		}
		p, err := v.Params()
		if err != nil {
			return nil, err
		}
		return encodeBCS(&p), nil
	case QuerySystem:
		if err := noData(); err != nil {
			return nil, err
		}
		s, err := v.System()
		if err != nil {
			return nil, err
		}
		return encodeBCS(&s), nil
	case QueryAccount:
		id, err := id32()
		if err != nil {
			return nil, err
		}
		acct := v.Account(id)
		return encodeBCS(&acct), nil
	case QueryObject:
		id, err := id32()
		if err != nil {
			return nil, err
		}
		o, err := v.Object(id)
		if err != nil {
			return nil, err
		}
		return EncodeObject(o), nil
	case QueryBlobStatus:
		id, err := id32()
		if err != nil {
			return nil, err
		}
		st := v.BlobStatus(id)
		return encodeBCS(&st), nil
	case QueryOwned:
		r, err := decodeBCS[OwnedRequest](data)
		if err != nil {
			return nil, err
		}
		page := v.Owned(r)
		return encodeBCS(&page), nil
	case QueryCommittee:
		var epoch uint32
		switch len(data) {
		case 0:
			s, err := v.System()
			if err != nil {
				return nil, err
			}
			epoch = s.Epoch
		case 4:
			epoch = binary.LittleEndian.Uint32(data)
		default:
			return nil, errorf(ErrMalformed, "%s wants an empty request or a u32 epoch", path)
		}
		info, err := v.Committee(epoch)
		if err != nil {
			return nil, err
		}
		return encodeBCS(&info), nil
	case QueryPools:
		r, err := decodeBCS[PoolsRequest](data)
		if err != nil {
			return nil, err
		}
		page := v.Pools(r)
		return encodeBCS(&page), nil
	case QueryPool:
		id, err := id32()
		if err != nil {
			return nil, err
		}
		p, err := v.Pool(id)
		if err != nil {
			return nil, err
		}
		return encodeBCS(&p), nil
	case QueryEvents:
		r, err := decodeBCS[EventsRequest](data)
		if err != nil {
			return nil, err
		}
		page := v.Events(r.Cursor, r.Limit)
		return encodeBCS(&page), nil
	}
	switch path {
	case QueryChallenge:
		r, err := decodeBCS[ChallengeRequest](data)
		if err != nil {
			return nil, err
		}
		st, err := v.Challenge(r)
		if err != nil {
			return nil, err
		}
		return encodeBCS(&st), nil
	case QuerySettings:
		if err := noData(); err != nil {
			return nil, err
		}
		s, err := v.Settings()
		if err != nil {
			return nil, err
		}
		return encodeBCS(&s), nil
	case QueryProposals:
		var epoch uint32
		switch len(data) {
		case 0:
			s, err := v.System()
			if err != nil {
				return nil, err
			}
			epoch = s.Epoch
		case 4:
			epoch = binary.LittleEndian.Uint32(data)
		default:
			return nil, errorf(ErrMalformed, "%s wants an empty request or a u32 epoch", path)
		}
		l := v.Proposals(epoch)
		return encodeBCS(&l), nil
	}
	if out, ok, err := v.queryBucket(path, data); ok {
		return out, err
	}
	if out, ok, err := v.querySite(path, data); ok {
		return out, err
	}
	return nil, errorf(ErrUnknownQuery, "%q", path)
}
