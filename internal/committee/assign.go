package committee

import (
	"fmt"
	"slices"
)

// Assign turns shard counts into shard lists for the next epoch, moving as few shards as
// possible from the previous assignment. counts[i] is node i's target number of shards and
// prev[i] the shards it held (empty for a new node); prev may be nil or empty for the first
// epoch, otherwise it must have one entry per node (a leaving node has count 0).
//
// The rule, which is deterministic and documented so that every validator and node agrees:
//
//  1. Each node keeps its lowest-numbered min(len(prev[i]), counts[i]) previous shards; a
//     node that shrinks gives up its highest-numbered shards.
//  2. Every shard not kept (given up, held by a leaving node, or held by no one in prev)
//     goes into a free pool in ascending order.
//  3. Nodes that need more shards take them from the front of the pool, in node index order.
//
// With no previous assignment this hands out shards sequentially: node 0 gets
// 0..counts[0]-1, node 1 the next counts[1], and so on, as Walrus's first committee does when
// nodes are sorted by node ID. When prev covers every shard, exactly
// sum over i of max(0, len(prev[i]) - counts[i]) shards change owner, the minimum possible.
//
// The result has one ascending list per node; prev is not modified. It returns an error
// wrapping [ErrInvalidArgument] if nShards is not in [1, MaxShards], a count is negative,
// the counts do not sum to nShards, len(prev) is neither 0 nor len(counts), or prev names a
// shard out of range or twice.
func Assign(prev [][]int, counts []int, nShards int) ([][]int, error) {
	if nShards < 1 || nShards > MaxShards {
		return nil, fmt.Errorf("%w: %d shards, want 1 to %d", ErrInvalidArgument, nShards, MaxShards)
	}
	if len(prev) != 0 && len(prev) != len(counts) {
		return nil, fmt.Errorf("%w: %d previous assignments for %d nodes", ErrInvalidArgument, len(prev), len(counts))
	}
	total := 0
	for i, c := range counts {
		if c < 0 || c > nShards {
			return nil, fmt.Errorf("%w: node %d count %d", ErrInvalidArgument, i, c)
		}
		total += c
	}
	if total != nShards {
		return nil, fmt.Errorf("%w: counts sum to %d, want %d", ErrInvalidArgument, total, nShards)
	}

	held := make([]bool, nShards) // shards named in prev, to reject duplicates
	for i, shards := range prev {
		for _, s := range shards {
			if s < 0 || s >= nShards {
				return nil, fmt.Errorf("%w: node %d held shard %d, want 0 to %d", ErrInvalidArgument, i, s, nShards-1)
			}
			if held[s] {
				return nil, fmt.Errorf("%w: shard %d held twice", ErrInvalidArgument, s)
			}
			held[s] = true
		}
	}

	kept := make([]bool, nShards)
	out := make([][]int, len(counts))
	for i, c := range counts {
		var p []int
		if len(prev) != 0 {
			p = slices.Clone(prev[i])
			slices.Sort(p)
		}
		keep := p[:min(len(p), c)]
		out[i] = make([]int, len(keep), c)
		copy(out[i], keep)
		for _, s := range keep {
			kept[s] = true
		}
	}

	next := 0 // scan position in the free pool: the ascending shards with kept[s] == false
	for i, c := range counts {
		for len(out[i]) < c {
			for kept[next] {
				next++
			}
			out[i] = append(out[i], next)
			next++
		}
		slices.Sort(out[i])
	}
	return out, nil
}
