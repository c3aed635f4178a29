package daemon

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
)

// committeeView is a committee with the lookups the daemon needs. It is immutable.
type committeeView struct {
	epoch uint32
	info  chain.CommitteeInfo
	owner []int // shard -> index of its member
	self  int   // index of this node among the members, or -1
	keys  []bls.PublicKey
}

func newCommitteeView(info chain.CommitteeInfo, self [48]byte) (*committeeView, error) {
	v := &committeeView{epoch: info.Epoch, info: info, owner: make([]int, info.NShards), self: -1, keys: make([]bls.PublicKey, len(info.Members))}
	for i := range v.owner {
		v.owner[i] = -1
	}
	for i, m := range info.Members {
		pk, err := bls.PublicKeyFromBytes(m.PublicKey[:])
		if err != nil {
			return nil, fmt.Errorf("committee %d member %s: %w", info.Epoch, m.NodeID, err)
		}
		v.keys[i] = pk
		if m.PublicKey == self {
			v.self = i
		}
		for _, s := range m.Shards {
			if int(s) >= len(v.owner) || v.owner[s] >= 0 {
				return nil, fmt.Errorf("committee %d: shard %d out of range or held twice", info.Epoch, s)
			}
			v.owner[s] = i
		}
	}
	for s, o := range v.owner {
		if o < 0 {
			return nil, fmt.Errorf("committee %d: shard %d has no owner", info.Epoch, s)
		}
	}
	return v, nil
}

// selfShards returns the shards this node owns in the committee (none if not a member).
func (v *committeeView) selfShards() []uint16 {
	if v.self < 0 {
		return nil
	}
	return slices.Clone(v.info.Members[v.self].Shards)
}

// weight returns the number of shards of member i.
func (v *committeeView) weight(i int) int { return len(v.info.Members[i].Shards) }

// chainView caches what the daemon reads from the chain (committees) and the clients of
// the other storage nodes. It is safe for concurrent use.
type chainView struct {
	chain    *chainclient.Client
	self     [48]byte
	peerOpts nodeclient.Options

	mu         sync.Mutex
	committees map[uint32]*committeeView
	clients    map[peer]*nodeclient.Client
}

// peer is a node as the chain announces it: its network address and network key.
type peer struct {
	addr string
	key  [chain.NetworkKeySize]byte
}

// peerOf returns the peer of a committee member.
func peerOf(m chain.MemberInfo) peer { return peer{addr: m.NetworkAddress, key: m.NetworkPublicKey} }

func newChainView(c *chainclient.Client, self bls.PublicKey, peerOpts nodeclient.Options) *chainView {
	return &chainView{
		chain: c, self: self.Bytes(), peerOpts: peerOpts,
		committees: map[uint32]*committeeView{}, clients: map[peer]*nodeclient.Client{},
	}
}

// committee returns the committee of epoch, from the cache or the chain.
func (v *chainView) committee(ctx context.Context, epoch uint32) (*committeeView, error) {
	v.mu.Lock()
	c, ok := v.committees[epoch]
	v.mu.Unlock()
	if ok {
		return c, nil
	}
	info, err := v.chain.CommitteeAt(ctx, epoch)
	if err != nil {
		return nil, err
	}
	if info.Epoch != epoch {
		return nil, fmt.Errorf("daemon: asked for the committee of epoch %d, got epoch %d", epoch, info.Epoch)
	}
	c, err = newCommitteeView(info, v.self)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.committees[epoch] = c
	// Keep the few recent epochs the node works with.
	for e := range v.committees {
		if e+4 < epoch {
			delete(v.committees, e)
		}
	}
	return c, nil
}

// client returns the client of a node, over TLS pinned to its network key.
func (v *chainView) client(p peer) (*nodeclient.Client, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if c, ok := v.clients[p]; ok {
		return c, nil
	}
	opts := v.peerOpts
	opts.NetworkKey = p.key
	c, err := nodeclient.New(nodeclient.URL(p.addr), opts)
	if err != nil {
		return nil, err
	}
	v.clients[p] = c
	return c, nil
}

// ShardOwner implements api.ShardOwners with the chain's committees.
func (v *chainView) ShardOwner(ctx context.Context, epoch uint32, shard uint16) (bls.PublicKey, error) {
	c, err := v.committee(ctx, epoch)
	if err != nil {
		return bls.PublicKey{}, err
	}
	if int(shard) >= len(c.owner) {
		return bls.PublicKey{}, fmt.Errorf("%w: shard %d", sn.ErrIndexOutOfRange, shard)
	}
	return c.keys[c.owner[shard]], nil
}
