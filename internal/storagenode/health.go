package storagenode

import (
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// Health returns the node's health report; detailed adds the status of every shard.
func (n *Node) Health(detailed bool) HealthInfo {
	st := n.st.Load()
	pk := n.pub.Bytes()
	h := HealthInfo{
		Uptime:     Duration(n.now().Sub(n.started)),
		Epoch:      st.epoch,
		Challenges: n.ChallengeResults(),
		PublicKey:  pk[:],
		NodeStatus: st.status.String(),
		EventProgress: EventProgress{
			Persisted: st.cursor,
		},
	}
	if st.cursor > 0 {
		last := st.cursor - 1
		h.EventProgress.HighestFinishedEventIndex = &last
	}
	if detailed {
		h.ShardDetail = &ShardDetail{Owned: []ShardHealth{}, Other: []ShardHealth{}}
	}
	for _, shard := range st.readable {
		status := st.shards[shard]
		name := shardHealthName(status)
		if status.Owned() {
			h.ShardSummary.Owned++
			switch status {
			case store.ShardActive:
				h.ShardSummary.OwnedShardStatus.Ready++
			case store.ShardActiveSync:
				h.ShardSummary.OwnedShardStatus.InTransfer++
			case store.ShardActiveRecover:
				h.ShardSummary.OwnedShardStatus.InRecovery++
			}
			if detailed {
				h.ShardDetail.Owned = append(h.ShardDetail.Owned, ShardHealth{Shard: shard, Status: name})
			}
			continue
		}
		h.ShardSummary.ReadOnly++
		if detailed {
			h.ShardDetail.Other = append(h.ShardDetail.Other, ShardHealth{Shard: shard, Status: name})
		}
	}
	return h
}

func shardHealthName(s store.ShardStatus) string {
	switch s {
	case store.ShardActive:
		return "ready"
	case store.ShardActiveSync:
		return "inTransfer"
	case store.ShardActiveRecover:
		return "inRecovery"
	case store.ShardLockedToMove:
		return "readOnly"
	}
	return "unknown"
}
