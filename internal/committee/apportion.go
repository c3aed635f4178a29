package committee

import (
	"fmt"
	"math/bits"
)

// Walrus's per-node shard cap (staking_inner.move): with at least capMinNodes nodes a node may
// hold at most n/capDenominator shards; with fewer, the cap grows so that the nodes can still
// hold twice the shards between them.
const (
	capMinNodes    = 20
	capDenominator = 10
)

// MaxShardsPerNode returns Walrus's cap on the shards one node may hold, for nNodes nodes
// competing for nShards shards: nShards/10 (rounded down) when nNodes >= 20, otherwise
// ceil(nShards·20 / (nNodes·10)), never more than nShards. For nNodes <= 0 it returns
// nShards. When nShards >= 10, nNodes nodes with stake can always hold all shards under this
// cap; with fewer than 10 shards and 20 or more nodes it is 0, which [Apportion] rejects, as
// in Walrus.
func MaxShardsPerNode(nNodes, nShards int) int {
	var c int
	switch {
	case nNodes <= 0:
		return nShards
	case nNodes >= capMinNodes:
		c = nShards / capDenominator
	default:
		num, den := nShards*capMinNodes, nNodes*capDenominator
		c = (num + den - 1) / den
	}
	return min(c, nShards)
}

// Apportion divides nShards shards among nodes in proportion to stakes[i] by the D'Hondt
// (Jefferson, highest averages) method with a cap: shards are handed out one at a time, each
// to the node with the highest quotient stake/(shards so far + 1) among the nodes with stake
// that hold fewer than maxShardsPerNode shards. Nodes with zero stake get no shards.
//
// Ties between equal quotients go to the node with the lower index, as Walrus breaks them by
// position in its active-set list; callers order stakes by their priority (for the chain, by
// node ID). Quotients are compared exactly as stake_a·(d_b+1) against stake_b·(d_a+1) in 128
// bits, so any uint64 stakes work.
//
// The result has len(stakes) entries summing to nShards. It returns an error wrapping
// [ErrInvalidArgument] if nShards < 1 or maxShardsPerNode < 1, [ErrNoStake] if no node has
// stake, and [ErrCapacity] if the nodes with stake cannot hold nShards under the cap.
func Apportion(stakes []uint64, nShards int, maxShardsPerNode int) ([]int, error) {
	if nShards < 1 {
		return nil, fmt.Errorf("%w: %d shards", ErrInvalidArgument, nShards)
	}
	if maxShardsPerNode < 1 {
		return nil, fmt.Errorf("%w: cap of %d shards per node", ErrInvalidArgument, maxShardsPerNode)
	}
	capped := min(maxShardsPerNode, nShards)
	h := quotientHeap{stakes: stakes, counts: make([]int, len(stakes)), nodes: make([]int, 0, len(stakes))}
	for i, s := range stakes {
		if s > 0 {
			h.nodes = append(h.nodes, i)
		}
	}
	if len(h.nodes) == 0 {
		return nil, ErrNoStake
	}
	if len(h.nodes) < (nShards+capped-1)/capped {
		return nil, fmt.Errorf("%w: %d nodes with stake, cap %d, %d shards", ErrCapacity, len(h.nodes), capped, nShards)
	}
	h.init()
	for range nShards {
		i := h.nodes[0]
		h.counts[i]++
		if h.counts[i] == capped {
			h.popTop()
		} else {
			h.down(0)
		}
	}
	return h.counts, nil
}

// quotientHeap is a binary max-heap of node indices ordered by [quotientHeap.before]. Because
// that order is total (ties fall back to the index), the sequence of tops, and so the
// result, does not depend on the heap's internal layout.
type quotientHeap struct {
	stakes []uint64
	counts []int
	nodes  []int
}

// before reports whether node a's next quotient, stakes[a]/(counts[a]+1), outranks node b's:
// it is larger, or equal with a < b.
func (h *quotientHeap) before(a, b int) bool {
	ahi, alo := bits.Mul64(h.stakes[a], uint64(h.counts[b])+1)
	bhi, blo := bits.Mul64(h.stakes[b], uint64(h.counts[a])+1)
	if ahi != bhi {
		return ahi > bhi
	}
	if alo != blo {
		return alo > blo
	}
	return a < b
}

func (h *quotientHeap) init() {
	for i := len(h.nodes)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *quotientHeap) popTop() {
	last := len(h.nodes) - 1
	h.nodes[0] = h.nodes[last]
	h.nodes = h.nodes[:last]
	if last > 0 {
		h.down(0)
	}
}

func (h *quotientHeap) down(i int) {
	n := len(h.nodes)
	for {
		best := i
		if l := 2*i + 1; l < n && h.before(h.nodes[l], h.nodes[best]) {
			best = l
		}
		if r := 2*i + 2; r < n && h.before(h.nodes[r], h.nodes[best]) {
			best = r
		}
		if best == i {
			return
		}
		h.nodes[i], h.nodes[best] = h.nodes[best], h.nodes[i]
		i = best
	}
}
