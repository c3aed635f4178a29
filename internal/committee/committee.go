// Package committee is the pure arithmetic of Walrus storage committees: which member holds
// which shard, how much a set of signers weighs, when that weight is a quorum, how shards are
// apportioned by stake and how they move between epochs.
//
// A member's weight is the number of shards it holds, and every threshold is over the total
// number of shards n: a quorum is 3w >= 2n+1 ([Quorum]) and validity, "at least one honest
// member", is 3w >= n+1 ([Validity]). Certificates name their signers with a bitmap over the
// members sorted by node ID ([Committee.WeightOfSigners]).
//
// Between epochs the chain computes shard counts with [Apportion] (D'Hondt by stake with a
// per-node cap) and turns them into shard lists with [Assign] (keep what can be kept, move as
// few shards as possible), then builds the next [Committee] with [New].
//
// Everything here is deterministic: no floats, no map iteration, no randomness, no I/O. All
// functions are safe for concurrent use, and a Committee is immutable once built.
package committee

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// MaxShards is the largest number of shards a committee may have (Walrus stores shard indices
// as u16).
const MaxShards = 1<<16 - 1

// Errors returned by this package; compare with errors.Is.
var (
	// ErrInvalidCommittee reports members that do not form a committee: duplicate node IDs,
	// shards out of range, held twice or not held at all, or members without shards.
	ErrInvalidCommittee = errors.New("committee: invalid committee")
	// ErrInvalidBitmap reports a signer bitmap longer than the committee or with bits set
	// beyond the last member.
	ErrInvalidBitmap = errors.New("committee: invalid signer bitmap")
	// ErrInvalidArgument reports an out-of-range argument, such as a non-positive shard
	// count or cap, or shard counts that do not add up.
	ErrInvalidArgument = errors.New("committee: invalid argument")
	// ErrNoStake reports an apportionment in which no node has stake.
	ErrNoStake = errors.New("committee: no stake")
	// ErrCapacity reports an apportionment in which the nodes with stake cannot hold all
	// shards under the per-node cap.
	ErrCapacity = errors.New("committee: shards exceed capacity under the per-node cap")
)

// Member is one storage node of a committee.
type Member struct {
	// NodeID identifies the node (its staking pool's object ID); members are ordered by it.
	NodeID [32]byte
	// PublicKey is the node's compressed BLS12-381 G1 public key for this epoch. This package
	// only carries it; package bls validates it.
	PublicKey [48]byte
	// Shards are the indices of the shards the member holds, in ascending order. The length
	// is the member's weight.
	Shards []int
}

// Committee is the set of storage nodes that hold the shards in one epoch. It is immutable
// and safe for concurrent use; accessors return copies.
type Committee struct {
	epoch   uint32
	nShards int
	members []Member // sorted by NodeID; Shards ascending and owned by the Committee
	owner   []int32  // shard -> index into members
}

// New builds the committee of epoch with nShards shards. members may come in any order: New
// copies them, sorts the copy by node ID (member indices, and hence signer bitmaps, refer to
// that order) and sorts each member's shards. It returns an error wrapping
// [ErrInvalidCommittee] unless nShards is in [1, MaxShards], node IDs are distinct, every
// member holds at least one shard, and every shard in [0, nShards) is held by exactly one
// member.
func New(epoch uint32, nShards int, members []Member) (*Committee, error) {
	if nShards < 1 || nShards > MaxShards {
		return nil, fmt.Errorf("%w: %d shards, want 1 to %d", ErrInvalidCommittee, nShards, MaxShards)
	}
	ms := make([]Member, len(members))
	for i, m := range members {
		ms[i] = Member{NodeID: m.NodeID, PublicKey: m.PublicKey, Shards: slices.Clone(m.Shards)}
		slices.Sort(ms[i].Shards)
	}
	slices.SortFunc(ms, func(a, b Member) int { return bytes.Compare(a.NodeID[:], b.NodeID[:]) })

	owner := make([]int32, nShards)
	for s := range owner {
		owner[s] = -1
	}
	for i, m := range ms {
		if i > 0 && m.NodeID == ms[i-1].NodeID {
			return nil, fmt.Errorf("%w: duplicate node %x", ErrInvalidCommittee, m.NodeID)
		}
		if len(m.Shards) == 0 {
			return nil, fmt.Errorf("%w: node %x holds no shards", ErrInvalidCommittee, m.NodeID)
		}
		for _, s := range m.Shards {
			if s < 0 || s >= nShards {
				return nil, fmt.Errorf("%w: node %x holds shard %d, want 0 to %d", ErrInvalidCommittee, m.NodeID, s, nShards-1)
			}
			if owner[s] >= 0 {
				return nil, fmt.Errorf("%w: shard %d held twice", ErrInvalidCommittee, s)
			}
			owner[s] = int32(i)
		}
	}
	for s, o := range owner {
		if o < 0 {
			return nil, fmt.Errorf("%w: shard %d held by no member", ErrInvalidCommittee, s)
		}
	}
	return &Committee{epoch: epoch, nShards: nShards, members: ms, owner: owner}, nil
}

// Epoch returns the epoch the committee serves.
func (c *Committee) Epoch() uint32 { return c.epoch }

// NShards returns the number of shards n, which is also the total weight.
func (c *Committee) NShards() int { return c.nShards }

// Len returns the number of members.
func (c *Committee) Len() int { return len(c.members) }

// Member returns a copy of member i (in node ID order). It panics if i is out of range.
func (c *Committee) Member(i int) Member {
	m := c.members[i]
	m.Shards = slices.Clone(m.Shards)
	return m
}

// Members returns a copy of all members in node ID order.
func (c *Committee) Members() []Member {
	out := make([]Member, len(c.members))
	for i := range c.members {
		out[i] = c.Member(i)
	}
	return out
}

// IndexOf returns the index of the member with the given node ID.
func (c *Committee) IndexOf(nodeID [32]byte) (int, bool) {
	return slices.BinarySearchFunc(c.members, nodeID, func(m Member, id [32]byte) int {
		return bytes.Compare(m.NodeID[:], id[:])
	})
}

// ShardOwner returns the index of the member holding shard, or -1 if shard is not in
// [0, NShards()).
func (c *Committee) ShardOwner(shard int) int {
	if shard < 0 || shard >= c.nShards {
		return -1
	}
	return int(c.owner[shard])
}

// ShardsOf returns a copy of the ascending shard list of member i, or nil if i is out of range.
func (c *Committee) ShardsOf(i int) []int {
	if i < 0 || i >= len(c.members) {
		return nil
	}
	return slices.Clone(c.members[i].Shards)
}

// WeightOf returns the weight (shard count) of member i, or 0 if i is out of range.
func (c *Committee) WeightOf(i int) int {
	if i < 0 || i >= len(c.members) {
		return 0
	}
	return len(c.members[i].Shards)
}
