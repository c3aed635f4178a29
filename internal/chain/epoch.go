package chain

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/committee"
)

// advanceEpochs runs the epoch state machine at the current block time: at the sync
// deadline it completes an epoch change that no quorum has completed, mid-epoch (half an
// epoch after the current epoch's change completed) it selects the next committee, and at the
// end of the epoch it starts the change to the next epoch. Several may happen in one block if
// blocks were sparse; at most one epoch change starts per block, since the next one waits for
// the new committee's EpochSyncDone quorum or the sync deadline, which is in a later block.
func (c *ctx) advanceEpochs() error {
	d := c.params.EpochDuration
	c.fixSeedAtDeadline()
	for {
		switch {
		case c.sys.EpochState == StateEpochChangeSync && c.header.Time >= c.sys.SyncDeadline:
			// The members that did not sync in time lose the epoch's rewards
			// (distributeRewards); the others go on without them.
			c.completeEpochChange()
		case c.sys.EpochState == StateEpochChangeDone && c.header.Time >= c.sys.EpochStart+d/2:
			if err := c.selectNextCommittee(); err != nil {
				return err
			}
		case c.sys.EpochState == StateNextParamsSelected && c.header.Time >= c.sys.EpochStart+d:
			return c.startEpochChange()
		default:
			return nil
		}
	}
}

// allPools returns every pool, in node ID order.
func allPools(kv Store) []*Pool {
	var pools []*Pool
	iteratePrefix(kv, []byte(prefixPool), func(_, v []byte) bool {
		p, err := DecodePool(v)
		if err != nil {
			panic(fmt.Sprintf("chain: corrupt pool: %v", err))
		}
		pools = append(pools, &p)
		return true
	})
	return pools
}

// stakeAt returns the stake the pool will have in epoch: active WAL, minus the value of
// withdrawals due by then, plus stake activating by then, minus stake activating whose
// withdrawal (one epoch after its activation) is due by then.
func (p *Pool) stakeAt(epoch uint32) uint64 {
	active := p.Wal
	if w := sumScheduled(p.PendingWithdraw, epoch); w > 0 {
		active -= walFor(w, ExchangeRate{Wal: p.Wal, Shares: p.Shares})
	}
	pending := sumScheduled(p.PendingStake, epoch)
	if epoch > 0 {
		pending -= min(sumScheduled(p.PreActiveWithdraw, epoch-1), pending)
	}
	return active + pending
}

// computeCommittee selects the committee of epoch from the pools, as Walrus does at
// voting_end: the MaxCommitteeSize pools with the most stake for that epoch (ties to the lower
// node ID), shards apportioned by stake with D'Hondt under the per-node cap, and assigned
// starting from prev (the current committee) so that as few shards as possible move.
func computeCommittee(epoch uint32, nShards int, maxSize int, prev *CommitteeRecord, pools []*Pool) (CommitteeRecord, error) {
	type cand struct {
		pool  *Pool
		stake uint64
	}
	var cands []cand
	for _, p := range pools {
		if s := p.stakeAt(epoch); s > 0 {
			cands = append(cands, cand{p, s})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if a.stake != b.stake {
			return cmp.Compare(b.stake, a.stake)
		}
		return bytes.Compare(a.pool.NodeID[:], b.pool.NodeID[:])
	})
	if len(cands) > maxSize {
		cands = cands[:maxSize]
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return bytes.Compare(a.pool.NodeID[:], b.pool.NodeID[:]) })
	stakes := make([]uint64, len(cands))
	for i, cd := range cands {
		stakes[i] = cd.stake
	}
	counts, err := committee.Apportion(stakes, nShards, committee.MaxShardsPerNode(len(cands), nShards))
	if err != nil {
		return CommitteeRecord{}, err
	}

	// Merge the previous members and the candidates by node ID; previous members that were
	// not selected get a count of 0 and give up their shards.
	type slot struct {
		id    ObjectID
		prev  []int
		count int
		key   [48]byte
	}
	var slots []slot
	i, j := 0, 0
	var prevMembers []CommitteeMember
	if prev != nil {
		prevMembers = prev.Members
	}
	for i < len(prevMembers) || j < len(cands) {
		var c int
		switch {
		case i == len(prevMembers):
			c = 1
		case j == len(cands):
			c = -1
		default:
			c = bytes.Compare(prevMembers[i].NodeID[:], cands[j].pool.NodeID[:])
		}
		var s slot
		if c <= 0 {
			m := prevMembers[i]
			s.id = m.NodeID
			for _, sh := range m.Shards {
				s.prev = append(s.prev, int(sh))
			}
			i++
		}
		if c >= 0 {
			s.id, s.count, s.key = cands[j].pool.NodeID, counts[j], cands[j].pool.PublicKey
			j++
		}
		slots = append(slots, s)
	}
	prevs := make([][]int, len(slots))
	cnts := make([]int, len(slots))
	for k, s := range slots {
		prevs[k], cnts[k] = s.prev, s.count
	}
	if prev == nil {
		prevs = nil
	}
	assigned, err := committee.Assign(prevs, cnts, nShards)
	if err != nil {
		return CommitteeRecord{}, err
	}
	rec := CommitteeRecord{Epoch: epoch, NShards: uint16(nShards)}
	for k, s := range slots {
		if s.count == 0 {
			continue
		}
		m := CommitteeMember{NodeID: s.id, PublicKey: s.key, Shards: make([]uint16, len(assigned[k]))}
		for x, sh := range assigned[k] {
			m.Shards[x] = uint16(sh)
		}
		rec.Members = append(rec.Members, m)
	}
	if err := rec.setAggregateKey(); err != nil {
		return CommitteeRecord{}, err
	}
	return rec, nil
}

// setAggregateKey computes the sum of the members' BLS keys.
func (rec *CommitteeRecord) setAggregateKey() error {
	keys := make([]bls.PublicKey, len(rec.Members))
	for i, m := range rec.Members {
		pk, err := bls.PublicKeyFromBytes(m.PublicKey[:])
		if err != nil {
			return fmt.Errorf("chain: member %s: %w", m.NodeID, err)
		}
		keys[i] = pk
	}
	agg, err := bls.AggregatePublicKeys(keys)
	if err != nil {
		return fmt.Errorf("chain: committee %d: %w", rec.Epoch, err)
	}
	rec.AggregateKey = agg.Bytes()
	return nil
}

// capacityVote returns the total capacity the committee votes for (Walrus quorum_above over
// each member's capacity extrapolated to all shards: capacity / shards × n).
func capacityVote(kv Store, rec *CommitteeRecord) uint64 {
	n := uint64(rec.NShards)
	votes := make([]weightedVote, 0, len(rec.Members))
	for _, m := range rec.Members {
		p, _ := getPool(kv, m.NodeID)
		v, err := mul(p.CapacityVote/uint64(len(m.Shards)), n)
		if err != nil {
			v = ^uint64(0)
		}
		votes = append(votes, weightedVote{value: v, weight: len(m.Shards)})
	}
	return quorumAbove(votes, int(n))
}

// selectNextCommittee runs Walrus's voting_end: it fixes the committee and capacity of the
// next epoch. Only pools with stake for the next epoch can be members (computeCommittee);
// only if no pool has any does the current committee carry over, so that the chain keeps a
// committee at all.
func (c *ctx) selectNextCommittee() error {
	next := c.sys.Epoch + 1
	cur, ok := getCommittee(c.kv, c.sys.Epoch)
	if !ok {
		return fmt.Errorf("chain: no committee for epoch %d", c.sys.Epoch)
	}
	rec, err := computeCommittee(next, int(c.params.NShards), int(c.params.MaxCommitteeSize), &cur, allPools(c.kv))
	if err != nil {
		rec = cur
		rec.Epoch = next
	}
	c.kv.Set(keyCommittee(next), encodeBCS(&rec))
	capacity := capacityVote(c.kv, &rec)
	// Never below what is already reserved for the coming epochs.
	iteratePrefix(c.kv, []byte(prefixFuture), func(_, v []byte) bool {
		f, err := decodeBCS[FutureEpoch](v)
		if err == nil && f.Epoch >= next {
			capacity = max(capacity, f.UsedCapacity)
		}
		return true
	})
	c.sys.NextCapacity = capacity
	c.sys.EpochState = StateNextParamsSelected
	c.emit(&EpochParametersSelected{NextEpoch: next})
	return nil
}

// startEpochChange ends the current epoch: it pays the epoch's rewards to its committee,
// advances the epoch, installs the selected committee and capacity, settles each pool's
// scheduled stake changes, recomputes prices and emits EpochChangeStart and ShardsReceived.
func (c *ctx) startEpochChange() error {
	old := c.sys.Epoch
	next := old + 1
	oldCmt, ok := getCommittee(c.kv, old)
	if !ok {
		return fmt.Errorf("chain: no committee for epoch %d", old)
	}
	nextCmt, ok := getCommittee(c.kv, next)
	if !ok {
		return fmt.Errorf("chain: no committee selected for epoch %d", next)
	}
	c.distributeRewards(old, &oldCmt)
	c.applyProposals(old)
	nextPosition := c.challenge(old).NextPosition

	c.sys.Epoch = next
	c.sys.TotalCapacity = c.sys.NextCapacity
	c.sys.EpochState = StateEpochChangeSync
	c.sys.SyncWeight = 0
	c.sys.SyncDeadline = c.header.Time + c.params.SyncTimeout()
	for _, p := range allPools(c.kv) {
		c.settlePool(p, next)
		putPool(c.kv, p)
	}
	c.pruneSlashing(old)
	if c.challengesOn() {
		c.startChallenge(next, nextPosition)
	}

	c.emit(&EpochChangeStart{Epoch: next})
	for _, m := range nextCmt.Members {
		var held []uint16
		if i := oldCmt.index(m.NodeID); i >= 0 {
			held = oldCmt.Members[i].Shards
		}
		var gained []uint16
		for _, s := range m.Shards {
			if _, found := slices.BinarySearch(held, s); !found {
				gained = append(gained, s)
			}
		}
		if len(gained) > 0 {
			c.emit(&ShardsReceived{Epoch: next, NodeID: m.NodeID, Shards: gained})
		}
	}
	c.updatePrices(&nextCmt)
	return nil
}

// completeEpochChange ends the sync phase of the current epoch (EpochChangeDone); the
// mid-epoch selection and the end of the epoch count from now.
func (c *ctx) completeEpochChange() {
	c.sys.EpochState = StateEpochChangeDone
	c.sys.EpochStart = c.header.Time
	c.emit(&EpochChangeDone{Epoch: c.sys.Epoch})
}

// distributeRewards pays the reward slot of epoch to the pools of its committee in proportion
// to their shards, after burning BurnBasisPoints of it. Each pool's reward is split into the
// operator's commission and the stakers' part, which raises the pool's exchange rate.
// Rounding leftovers roll into the next epoch's slot.
//
// A member earns its part only if it sent EpochSyncDone for the epoch before the sync
// deadline (Pool.LastSyncOnTime; the genesis committee of epoch 0 needs no sync). The part of
// a member that did not is burned, like a slashing: burning rather than sharing it among the
// others gives no member a reason to keep another's EpochSyncDone out of the chain. A pool
// with no shares (nobody's stake is in it) earns its commission only; the stakers' part has
// no owner and is burned too.
//
// On a chain with storage challenges, a member is paid only if a certificate showed that it
// passed its challenge of the epoch (unless the epoch was unchallenged); the part of a
// member without one is burned too, and challengeOutcome counts its failure and slashes
// its pool at the FailureLimit-th in a row.
//
// Simplification: Walrus weights each node by shards × (used capacity − its deny-list size);
// there are no deny lists here, so the weight is the shard count.
func (c *ctx) distributeRewards(epoch uint32, cmt *CommitteeRecord) {
	slot := getFuture(c.kv, epoch)
	total := slot.Rewards
	burned := mulDiv(total, uint64(c.params.BurnBasisPoints), 10_000)
	dist := total - burned
	var paid, forfeited uint64
	n := uint64(cmt.NShards)
	rec := c.challenge(epoch)
	for _, m := range cmt.Members {
		r := mulDiv(dist, uint64(len(m.Shards)), n)
		p, ok := getPool(c.kv, m.NodeID)
		if !ok {
			continue
		}
		if !c.challengeOutcome(&rec, epoch, &p, r) {
			forfeited += r
			putPool(c.kv, &p)
			continue
		}
		if r == 0 {
			continue
		}
		if epoch > 0 && p.LastSyncOnTime < epoch {
			forfeited += r
			continue
		}
		commission := mulDiv(r, uint64(p.CommissionRate), 10_000)
		p.Commission += commission
		if p.Shares == 0 {
			forfeited += r - commission
			paid += commission
		} else {
			p.Wal += r - commission
			paid += r
		}
		putPool(c.kv, &p)
	}
	burned += forfeited
	c.kv.Delete(keyFuture(epoch))
	if left := dist - paid - forfeited; left > 0 {
		f := getFuture(c.kv, epoch+1)
		f.Rewards += left
		putFuture(c.kv, f)
	}
	c.sys.Burned += burned
	c.emit(&RewardsDistributed{Epoch: epoch, Total: total, Burned: burned, Distributed: paid})
}

// settlePool applies the pool's scheduled changes at the start of epoch: a due commission
// change, the exchange rate of the epoch, withdrawals due (their WAL moves to the withdrawal
// reserve), stake activating (new shares at the epoch's rate) and, for activating stake whose
// withdrawal was requested before, its shares scheduled for withdrawal at epoch+1.
func (c *ctx) settlePool(p *Pool, epoch uint32) {
	if p.HasNextCommission && p.NextCommissionEpoch <= epoch {
		p.CommissionRate = p.NextCommissionRate
		p.HasNextCommission, p.NextCommissionRate, p.NextCommissionEpoch = false, 0, 0
	}
	rate := ExchangeRate{Wal: p.Wal, Shares: p.Shares}
	c.kv.Set(keyRate(p.NodeID, epoch), encodeBCS(&rate))
	var shares, stake uint64
	p.PendingWithdraw, shares = takeScheduled(p.PendingWithdraw, epoch)
	if shares > 0 {
		amount := walFor(shares, rate)
		p.Wal -= amount
		p.Shares -= min(shares, p.Shares)
		p.WithdrawReserve += amount
	}
	p.PendingStake, stake = takeScheduled(p.PendingStake, epoch)
	if stake > 0 {
		p.Shares += sharesFor(stake, rate)
		p.Wal += stake
	}
	p.PreActiveWithdraw, stake = takeScheduled(p.PreActiveWithdraw, epoch)
	if stake > 0 {
		p.PendingWithdraw = addScheduled(p.PendingWithdraw, epoch+1, sharesFor(stake, rate))
	}
	if len(p.PreActiveWithdraw) == 0 {
		p.PreActiveWithdraw = nil
	}
	if len(p.PendingStake) == 0 {
		p.PendingStake = nil
	}
	if len(p.PendingWithdraw) == 0 {
		p.PendingWithdraw = nil
	}
}

// updatePrices sets the storage and write prices to the quorum_below of the committee's votes,
// within governance's price bounds (Settings), and emits PricesUpdated if they changed.
func (c *ctx) updatePrices(cmt *CommitteeRecord) {
	var sv, wv []weightedVote
	for _, m := range cmt.Members {
		p, _ := getPool(c.kv, m.NodeID)
		sv = append(sv, weightedVote{value: p.StoragePriceVote, weight: len(m.Shards)})
		wv = append(wv, weightedVote{value: p.WritePriceVote, weight: len(m.Shards)})
	}
	sp, wp := quorumBelow(sv, int(cmt.NShards)), quorumBelow(wv, int(cmt.NShards))
	g := &c.settings
	sp, wp = clampPrice(sp, g.MinStoragePrice, g.MaxStoragePrice), clampPrice(wp, g.MinWritePrice, g.MaxWritePrice)
	if sp != c.sys.StoragePrice || wp != c.sys.WritePrice {
		c.sys.StoragePrice, c.sys.WritePrice = sp, wp
		c.emit(&PricesUpdated{Epoch: c.sys.Epoch, StoragePrice: sp, WritePrice: wp})
	}
}

// pruneSlashing deletes the slashing votes and tallies of an epoch (proposals reset every
// epoch).
func (c *ctx) pruneSlashing(epoch uint32) {
	for _, prefix := range []string{prefixVote, prefixTally} {
		var keys [][]byte
		iteratePrefix(c.kv, key(prefix, be32(epoch)), func(k, _ []byte) bool {
			keys = append(keys, bytes.Clone(k))
			return true
		})
		for _, k := range keys {
			c.kv.Delete(k)
		}
	}
}
