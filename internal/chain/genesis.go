package chain

import (
	"bytes"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/committee"
	"github.com/walrus-go/walrus/internal/redstuff"
	"golang.org/x/crypto/blake2b"
)

// Genesis is the initial state: parameters, account allocations and the storage nodes of
// epoch 0.
type Genesis struct {
	Params   Params
	Accounts []GenesisAccount
	Nodes    []GenesisNode
}

// GenesisAccount allocates Balance FROST to Address. Repeated addresses add up.
type GenesisAccount struct {
	Address Address
	Balance uint64
}

// GenesisNode is a storage node registered at genesis. Its Stake is minted and staked by the
// Operator, active from epoch 0 (a StakedWal owned by the Operator). Node IDs are derived from
// the genesis digest in node order: the i-th node's pool is created object 2i, its StakedWal
// object 2i+1.
type GenesisNode struct {
	Name              string
	NetworkAddress    string
	Operator          Address
	PublicKey         [48]byte
	NetworkPublicKey  [NetworkKeySize]byte // as RegisterNode.NetworkPublicKey
	ProofOfPossession [96]byte             // over bls.PopMessage(0, Operator, PublicKey)
	CommissionRate    uint16
	StoragePrice      uint64
	WritePrice        uint64
	Capacity          uint64
	Stake             uint64
	// Shards optionally fixes the node's epoch-0 shards. Either every node lists its shards
	// (and together they cover each shard once) or none does, and shards are apportioned by
	// stake as at every epoch change.
	Shards []uint16
}

func (g *Genesis) encode(e *bcs.Encoder) {
	g.Params.encodeBase(e)
	e.Len(len(g.Accounts))
	for _, a := range g.Accounts {
		e.Fixed(a.Address[:])
		e.U64(a.Balance)
	}
	e.Len(len(g.Nodes))
	for _, n := range g.Nodes {
		e.Bytes([]byte(n.Name))
		e.Bytes([]byte(n.NetworkAddress))
		e.Fixed(n.Operator[:])
		e.Fixed(n.PublicKey[:])
		e.Fixed(n.NetworkPublicKey[:])
		e.Fixed(n.ProofOfPossession[:])
		e.U16(n.CommissionRate)
		e.U64(n.StoragePrice)
		e.U64(n.WritePrice)
		e.U64(n.Capacity)
		e.U64(n.Stake)
		e.Len(len(n.Shards))
		for _, s := range n.Shards {
			e.U16(s)
		}
	}
	g.Params.encodeTrailing(e)
}

func (g *Genesis) decode(d *bcs.Decoder) {
	g.Params.decodeBase(d)
	n := d.Len(maxListLen)
	for i := 0; i < n && d.Err() == nil; i++ {
		g.Accounts = append(g.Accounts, GenesisAccount{Address: fixed32(d), Balance: d.U64()})
	}
	n = d.Len(maxListLen)
	for i := 0; i < n && d.Err() == nil; i++ {
		nd := GenesisNode{
			Name:              str(d, MaxNameLen),
			NetworkAddress:    str(d, MaxNetworkAddressLen),
			Operator:          fixed32(d),
			PublicKey:         fixed48(d),
			NetworkPublicKey:  fixed32(d),
			ProofOfPossession: fixed96(d),
			CommissionRate:    d.U16(),
			StoragePrice:      d.U64(),
			WritePrice:        d.U64(),
			Capacity:          d.U64(),
			Stake:             d.U64(),
		}
		k := d.Len(maxListLen)
		for j := 0; j < k && d.Err() == nil; j++ {
			nd.Shards = append(nd.Shards, d.U16())
		}
		g.Nodes = append(g.Nodes, nd)
	}
	g.Params.decodeTrailing(d)
}

// Encode returns the BCS encoding of the genesis.
func (g *Genesis) Encode() []byte { return encodeBCS(g) }

// DecodeGenesis decodes the BCS encoding of a Genesis.
func DecodeGenesis(b []byte) (*Genesis, error) {
	g, err := decodeBCS[Genesis](b)
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// Digest returns Blake2b-256 of the domain tag "walrus-go/genesis" and the genesis
// encoding; genesis object IDs derive from it.
func (g *Genesis) Digest() [32]byte {
	h, _ := blake2b.New256(nil)
	h.Write([]byte("walrus-go/genesis"))
	h.Write(g.Encode())
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Validate checks the genesis and names the first bad field.
func (g *Genesis) Validate() error {
	p := &g.Params
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("chain: genesis: %s: %s", field, fmt.Sprintf(format, args...))
	}
	switch {
	case p.ChainID == "" || len(p.ChainID) > MaxChainIDLen || !utf8.ValidString(p.ChainID):
		return bad("Params.ChainID", "want 1 to %d bytes of UTF-8", MaxChainIDLen)
	case p.NShards < redstuff.MinShards:
		return bad("Params.NShards", "%d, want at least %d", p.NShards, redstuff.MinShards)
	case p.EpochDuration < 2 || p.EpochDuration > 1<<60:
		return bad("Params.EpochDuration", "%d ns out of range", p.EpochDuration)
	case p.GenesisTime < 0 || p.GenesisTime > 1<<61:
		return bad("Params.GenesisTime", "%d out of range", p.GenesisTime)
	case p.MaxEpochsAhead < 1 || p.MaxEpochsAhead > 1000:
		return bad("Params.MaxEpochsAhead", "%d, want 1 to 1000", p.MaxEpochsAhead)
	case p.MaxCommitteeSize < 1:
		return bad("Params.MaxCommitteeSize", "must be at least 1")
	case p.EpochSyncTimeout < 0 || p.EpochSyncTimeout > 1<<60:
		return bad("Params.EpochSyncTimeout", "%d ns out of range", p.EpochSyncTimeout)
	case p.BurnBasisPoints > 10_000:
		return bad("Params.BurnBasisPoints", "%d above 10000", p.BurnBasisPoints)
	case p.FaucetMax > 0 && p.FaucetAccountMax < p.FaucetMax:
		return bad("Params.FaucetAccountMax", "%d below FaucetMax %d (the faucet needs a per-account cap)", p.FaucetAccountMax, p.FaucetMax)
	case p.FaucetMax > 0 && p.FaucetTotalMax < p.FaucetAccountMax:
		return bad("Params.FaucetTotalMax", "%d below FaucetAccountMax %d (the faucet needs a total cap)", p.FaucetTotalMax, p.FaucetAccountMax)
	case len(g.Nodes) == 0:
		return bad("Nodes", "at least one storage node is needed")
	}
	if p.Challenge.Enabled() {
		if f, err := p.Challenge.validate(true); err != nil {
			return bad("Params.Challenge."+f, "%v", err)
		}
	}
	explicit := len(g.Nodes[0].Shards) > 0
	for i, n := range g.Nodes {
		f := fmt.Sprintf("Nodes[%d]", i)
		switch {
		case n.Name == "" || len(n.Name) > MaxNameLen || !utf8.ValidString(n.Name):
			return bad(f+".Name", "want 1 to %d bytes of UTF-8", MaxNameLen)
		case CheckNetworkAddress(n.NetworkAddress) != nil:
			return bad(f+".NetworkAddress", "%v", CheckNetworkAddress(n.NetworkAddress))
		case n.Operator == Address{}:
			return bad(f+".Operator", "zero address")
		case n.CommissionRate > MaxCommissionRate:
			return bad(f+".CommissionRate", "%d above %d", n.CommissionRate, MaxCommissionRate)
		case (len(n.Shards) > 0) != explicit:
			return bad(f+".Shards", "either every node lists its shards or none does")
		case !explicit && n.Stake == 0:
			return bad(f+".Stake", "zero stake without explicit shards")
		}
		if err := checkPossession(n.PublicKey, n.ProofOfPossession, 0, n.Operator); err != nil {
			return bad(f+".ProofOfPossession", "%v", err)
		}
		if err := checkNetworkKey(n.NetworkPublicKey); err != nil {
			return bad(f+".NetworkPublicKey", "%v", err)
		}
		for _, m := range g.Nodes[:i] {
			if m.PublicKey == n.PublicKey {
				return bad(f+".PublicKey", "used by another node")
			}
		}
	}
	return nil
}

// InitChain writes the genesis state. The store must be empty. It returns the genesis write
// set and events; the driver then calls Commit.
func (a *App) InitChain(g *Genesis) (WriteSet, []Event, error) {
	if a.params != nil || a.block != nil {
		return nil, nil, fmt.Errorf("%w: InitChain on an initialized state", ErrCallOrder)
	}
	if _, ok := a.base.Get(keyParams()); ok {
		return nil, nil, fmt.Errorf("%w: InitChain on an initialized state", ErrCallOrder)
	}
	if err := g.Validate(); err != nil {
		return nil, nil, err
	}
	p := g.Params
	if err := a.setParams(&p); err != nil {
		return nil, nil, err
	}
	done := false
	defer func() {
		if !done {
			a.params, a.codec = nil, nil
		}
	}()
	kv := NewOverlay(a.base)
	kv.Set(keyParams(), encodeBCS(&p))
	sys := SystemState{EpochState: StateEpochChangeDone, EpochStart: p.GenesisTime, Time: p.GenesisTime, SyncDeadline: p.GenesisTime}
	kv.Set(keySystem(), encodeBCS(&sys))
	c, err := a.newCtx(kv, BlockHeader{Time: p.GenesisTime}, g.Digest())
	if err != nil {
		return nil, nil, err
	}
	mint := func(amount uint64) error {
		s, err := add(c.sys.Supply, amount)
		if err != nil {
			return fmt.Errorf("chain: genesis: supply overflows: %w", err)
		}
		c.sys.Supply = s
		return nil
	}
	for _, acc := range g.Accounts {
		if err := mint(acc.Balance); err != nil {
			return nil, nil, err
		}
		c.credit(acc.Address, acc.Balance)
	}
	pools := make([]*Pool, len(g.Nodes))
	for i, n := range g.Nodes {
		if err := mint(n.Stake); err != nil {
			return nil, nil, err
		}
		pool := &Pool{
			NodeID: c.newObjectID(), Operator: n.Operator, Name: n.Name, NetworkAddress: n.NetworkAddress,
			PublicKey: n.PublicKey, NetworkPublicKey: n.NetworkPublicKey, CommissionRate: n.CommissionRate, StoragePriceVote: n.StoragePrice,
			WritePriceVote: n.WritePrice, CapacityVote: n.Capacity, Wal: n.Stake, Shares: n.Stake,
		}
		sw := &StakedWal{ID: c.newObjectID(), Owner: n.Operator, NodeID: pool.NodeID, Principal: n.Stake}
		rate := ExchangeRate{Wal: n.Stake, Shares: n.Stake}
		kv.Set(keyRate(pool.NodeID, 0), encodeBCS(&rate))
		kv.Set(keyBLS(n.PublicKey), pool.NodeID[:])
		putPool(kv, pool)
		c.emit(&NodeRegistered{NodeID: pool.NodeID, Operator: n.Operator, Name: n.Name})
		if n.Stake > 0 {
			createObject(kv, sw)
			c.emit(&StakeDeposited{NodeID: pool.NodeID, StakedWal: sw.ID, Owner: n.Operator, Amount: n.Stake})
		}
		pools[i] = pool
	}

	var rec CommitteeRecord
	if len(g.Nodes[0].Shards) > 0 {
		rec = CommitteeRecord{NShards: p.NShards}
		members := make([]committee.Member, len(g.Nodes))
		for i, n := range g.Nodes {
			shards := slices.Clone(n.Shards)
			slices.Sort(shards)
			rec.Members = append(rec.Members, CommitteeMember{NodeID: pools[i].NodeID, PublicKey: n.PublicKey, Shards: shards})
			members[i] = committee.Member{NodeID: pools[i].NodeID}
			for _, s := range shards {
				members[i].Shards = append(members[i].Shards, int(s))
			}
		}
		if _, err := committee.New(0, int(p.NShards), members); err != nil {
			return nil, nil, fmt.Errorf("chain: genesis: Nodes[].Shards: %w", err)
		}
		slices.SortFunc(rec.Members, func(x, y CommitteeMember) int { return bytes.Compare(x.NodeID[:], y.NodeID[:]) })
		if err := rec.setAggregateKey(); err != nil {
			return nil, nil, err
		}
	} else {
		sorted := slices.Clone(pools)
		slices.SortFunc(sorted, func(x, y *Pool) int { return bytes.Compare(x.NodeID[:], y.NodeID[:]) })
		rec, err = computeCommittee(0, int(p.NShards), int(p.MaxCommitteeSize), nil, sorted)
		if err != nil {
			return nil, nil, fmt.Errorf("chain: genesis: committee: %w", err)
		}
	}
	kv.Set(keyCommittee(0), encodeBCS(&rec))
	c.sys.TotalCapacity = capacityVote(kv, &rec)
	c.updatePrices(&rec)
	c.emit(&EpochChangeStart{Epoch: 0})
	for _, m := range rec.Members {
		c.emit(&ShardsReceived{Epoch: 0, NodeID: m.NodeID, Shards: m.Shards})
	}
	c.emit(&EpochChangeDone{Epoch: 0})
	if p.Challenge.Enabled() {
		c.startChallenge(0, 0) // epoch 0 has no certified blob: unchallenged
	}
	c.saveSystem()
	a.block = kv
	done = true
	return kv.Writes(), c.events, nil
}
