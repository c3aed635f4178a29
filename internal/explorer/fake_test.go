package explorer

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// fakeChain is an in-memory Chain for the package's unit tests: state is set directly and
// events appended; queries page as the chain's do.
type fakeChain struct {
	mu        sync.Mutex
	params    chain.Params
	sys       chain.SystemState
	committee map[uint32]chain.CommitteeInfo
	pools     []chain.Pool // in node ID order
	objects   map[chain.ObjectID]chain.Object
	accounts  map[chain.Address]chain.Account
	events    []chain.Event
	queries   int
	// owned indexes objects by owner and kind, in object ID order (as the chain's index).
	owned map[ownedKey][]chain.ObjectID
}

type ownedKey struct {
	owner chain.Address
	kind  chain.ObjectKind
}

func newFakeChain(nodes, shards int) *fakeChain {
	f := &fakeChain{
		params:    chain.Params{NShards: uint16(shards), EpochDuration: 3600e9, GenesisTime: 1_700_000_000e9},
		sys:       chain.SystemState{TotalCapacity: 1 << 40, StoragePrice: 100, WritePrice: 20, EpochStart: 1_700_000_000e9, Time: 1_700_000_900e9},
		committee: map[uint32]chain.CommitteeInfo{}, objects: map[chain.ObjectID]chain.Object{}, accounts: map[chain.Address]chain.Account{},
		owned: map[ownedKey][]chain.ObjectID{},
	}
	info := chain.CommitteeInfo{NShards: uint16(shards)}
	for i := 0; i < nodes; i++ {
		id := oid(0xA0, i)
		var op chain.Address
		op[0] = byte(i + 1)
		f.pools = append(f.pools, chain.Pool{NodeID: id, Operator: op, Name: fmt.Sprintf("node-%d", i), NetworkAddress: fmt.Sprintf("127.0.0.1:%d", 9000+i),
			CommissionRate: 500, Wal: uint64(1000 * (i + 1))})
		m := chain.MemberInfo{NodeID: id, Name: fmt.Sprintf("node-%d", i), NetworkAddress: fmt.Sprintf("127.0.0.1:%d", 9000+i)}
		m.NetworkPublicKey[0] = byte(i + 1)
		for s := i; s < shards; s += nodes {
			m.Shards = append(m.Shards, uint16(s))
		}
		info.Members = append(info.Members, m)
	}
	f.committee[0] = info
	return f
}

func oid(tag byte, i int) chain.ObjectID {
	var id chain.ObjectID
	id[0] = tag
	binary.BigEndian.PutUint64(id[24:], uint64(i))
	return id
}

// addBlob registers (and certifies) blob i owned by owner, as the chain would, with its events.
func (f *fakeChain) addBlob(i int, owner chain.Address, size uint64, end uint32, certified bool) *chain.Blob {
	f.mu.Lock()
	defer f.mu.Unlock()
	var bid redstuff.BlobID
	binary.BigEndian.PutUint64(bid[:], uint64(i))
	b := &chain.Blob{ID: oid(0xB0, i), Owner: owner, RegisteredEpoch: f.sys.Epoch, BlobID: bid, Size: size, Certified: certified,
		Storage: chain.Storage{StartEpoch: f.sys.Epoch, EndEpoch: end}, Attributes: []chain.Attribute{{Key: "name", Value: fmt.Sprint("blob ", i)}}}
	f.objects[b.ID] = b
	k := ownedKey{owner, chain.KindBlob}
	f.owned[k] = append(f.owned[k], b.ID)
	slices.SortFunc(f.owned[k], func(a, b chain.ObjectID) int { return slices.Compare(a[:], b[:]) })
	f.emit(&chain.BlobRegistered{Epoch: f.sys.Epoch, BlobID: bid, Size: size, EndEpoch: end, ObjectID: b.ID})
	if certified {
		f.emit(&chain.BlobCertified{Epoch: f.sys.Epoch, BlobID: bid, EndEpoch: end, ObjectID: b.ID})
	}
	return b
}

func (f *fakeChain) emit(body chain.EventBody) {
	f.events = append(f.events, chain.Event{Seq: uint64(len(f.events)), Body: body})
	f.sys.NextEventSeq = uint64(len(f.events))
}

func (f *fakeChain) setEpoch(e uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sys.Epoch = e
	f.emit(&chain.EpochChangeStart{Epoch: e})
}

func (f *fakeChain) Params(context.Context) (chain.Params, error) { return f.params, nil }
func (f *fakeChain) System(context.Context) (chain.SystemState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries++
	return f.sys, nil
}
func (f *fakeChain) CommitteeAt(_ context.Context, e uint32) (chain.CommitteeInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.committee[e]
	if !ok {
		return c, fmt.Errorf("%w: no committee for epoch %d", chain.ErrNotFound, e)
	}
	c.Epoch = e
	return c, nil
}
func (f *fakeChain) PoolPage(_ context.Context, r chain.PoolsRequest) (chain.PoolPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	limit := int(r.Limit)
	if limit == 0 || limit > chain.MaxPoolPageSize {
		limit = chain.MaxPoolPageSize
	}
	i := 0
	if r.HasAfter {
		i, _ = slices.BinarySearchFunc(f.pools, r.After, func(p chain.Pool, id chain.ObjectID) int { return slices.Compare(p.NodeID[:], id[:]) })
		if i < len(f.pools) && f.pools[i].NodeID == r.After {
			i++
		}
	}
	var p chain.PoolPage
	p.Pools = slices.Clone(f.pools[i:min(i+limit, len(f.pools))])
	if i+limit < len(f.pools) {
		p.HasNext, p.Next = true, p.Pools[len(p.Pools)-1].NodeID
	}
	return p, nil
}
func (f *fakeChain) Object(_ context.Context, id chain.ObjectID) (chain.Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.objects[id]
	if !ok {
		return nil, fmt.Errorf("%w: object %s", chain.ErrNotFound, id)
	}
	return o, nil
}
func (f *fakeChain) Account(_ context.Context, a chain.Address) (chain.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.accounts[a], nil
}

// Owned pages through the owner index, as the chain does.
func (f *fakeChain) Owned(_ context.Context, r chain.OwnedRequest) (chain.ObjectPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := f.owned[ownedKey{r.Owner, r.Kind}]
	if r.HasAfter {
		i, found := slices.BinarySearchFunc(ids, r.After, func(a, b chain.ObjectID) int { return slices.Compare(a[:], b[:]) })
		if found {
			i++
		}
		ids = ids[i:]
	}
	limit := int(r.Limit)
	if limit == 0 || limit > chain.MaxPageSize {
		limit = chain.MaxPageSize
	}
	var p chain.ObjectPage
	for _, id := range ids[:min(limit, len(ids))] {
		p.Objects = append(p.Objects, f.objects[id])
	}
	if len(ids) > limit {
		p.HasNext, p.Next = true, ids[limit-1]
	}
	return p, nil
}

func (f *fakeChain) Events(_ context.Context, cursor uint64, limit uint32) (chain.EventPage, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := int(limit)
	if n == 0 || n > chain.MaxPageSize {
		n = chain.MaxPageSize
	}
	p := chain.EventPage{Next: cursor}
	for i := cursor; i < uint64(len(f.events)) && len(p.Events) < n; i++ {
		p.Events = append(p.Events, f.events[i])
		p.Next = i + 1
	}
	return p, 0, nil
}

// fakeNode is a storage node that is up or down and holds some blobs.
type fakeNode struct {
	mu   sync.Mutex
	down bool
}

func (n *fakeNode) setDown(d bool) { n.mu.Lock(); n.down = d; n.mu.Unlock() }

func (n *fakeNode) Health(context.Context, bool) (sn.HealthInfo, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.down {
		return sn.HealthInfo{}, fmt.Errorf("connection refused")
	}
	return sn.HealthInfo{NodeStatus: "Active"}, nil
}

func (n *fakeNode) MetadataStatus(context.Context, redstuff.BlobID) (sn.StoredStatus, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.down {
		return "", fmt.Errorf("connection refused")
	}
	return sn.StatusStored, nil
}
