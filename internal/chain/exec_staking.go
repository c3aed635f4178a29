package chain

import (
	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/committee"
)

// MaxCommissionRate is 100% in basis points.
const MaxCommissionRate = 10_000

func checkNodeInfo(name, addr string) error {
	if name == "" || addr == "" {
		return errorf(ErrInvalidArgument, "node name and network address must not be empty")
	}
	return CheckNetworkAddress(addr)
}

// checkPossession validates a BLS key and its proof of possession for address in epoch.
func checkPossession(pkBytes [48]byte, popBytes [96]byte, epoch uint32, address Address) error {
	pk, err := bls.PublicKeyFromBytes(pkBytes[:])
	if err != nil {
		return errorf(ErrBadProofOfPossession, "%v", err)
	}
	pop, err := bls.SignatureFromBytes(popBytes[:])
	if err != nil {
		return errorf(ErrBadProofOfPossession, "%v", err)
	}
	if err := bls.VerifyPossession(pk, epoch, address, pop); err != nil {
		return errorf(ErrBadProofOfPossession, "%v", err)
	}
	return nil
}

func (c *ctx) execRegisterNode(p *RegisterNode) error {
	if err := checkNodeInfo(p.Name, p.NetworkAddress); err != nil {
		return err
	}
	if p.CommissionRate > MaxCommissionRate {
		return errorf(ErrInvalidArgument, "commission rate %d above %d", p.CommissionRate, MaxCommissionRate)
	}
	if err := checkNetworkKey(p.NetworkPublicKey); err != nil {
		return err
	}
	if err := checkPossession(p.PublicKey, p.ProofOfPossession, c.sys.Epoch, c.sender); err != nil {
		return err
	}
	if _, taken := c.kv.Get(keyBLS(p.PublicKey)); taken {
		return errorf(ErrDuplicateKey, "%x", p.PublicKey[:8])
	}
	pool := &Pool{
		NodeID:           c.newObjectID(),
		Operator:         c.sender,
		Name:             p.Name,
		NetworkAddress:   p.NetworkAddress,
		PublicKey:        p.PublicKey,
		NetworkPublicKey: p.NetworkPublicKey,
		CommissionRate:   p.CommissionRate,
		StoragePriceVote: p.StoragePrice,
		WritePriceVote:   p.WritePrice,
		CapacityVote:     p.Capacity,
		RegisteredEpoch:  c.sys.Epoch,
	}
	c.kv.Set(keyBLS(p.PublicKey), pool.NodeID[:])
	putPool(c.kv, pool)
	c.emit(&NodeRegistered{NodeID: pool.NodeID, Operator: c.sender, Name: p.Name})
	return nil
}

func (c *ctx) execSetNodeInfo(p *SetNodeInfo) error {
	pool, err := c.operatedPool(p.Node)
	if err != nil {
		return err
	}
	if err := checkNodeInfo(p.Name, p.NetworkAddress); err != nil {
		return err
	}
	if p.NetworkPublicKey != ([NetworkKeySize]byte{}) {
		if err := checkNetworkKey(p.NetworkPublicKey); err != nil {
			return err
		}
		pool.NetworkPublicKey = p.NetworkPublicKey
	}
	pool.Name, pool.NetworkAddress = p.Name, p.NetworkAddress
	putPool(c.kv, pool)
	return nil
}

func (c *ctx) execSetNodeVotes(p *SetNodeVotes) error {
	pool, err := c.operatedPool(p.Node)
	if err != nil {
		return err
	}
	pool.StoragePriceVote, pool.WritePriceVote, pool.CapacityVote = p.StoragePrice, p.WritePrice, p.Capacity
	putPool(c.kv, pool)
	// Prices follow the votes at once, as in current Walrus.
	if cmt, ok := getCommittee(c.kv, c.sys.Epoch); ok {
		c.updatePrices(&cmt)
	}
	return nil
}

func (c *ctx) execSetCommissionRate(p *SetCommissionRate) error {
	pool, err := c.operatedPool(p.Node)
	if err != nil {
		return err
	}
	if p.Rate > MaxCommissionRate {
		return errorf(ErrInvalidArgument, "commission rate %d above %d", p.Rate, MaxCommissionRate)
	}
	pool.HasNextCommission, pool.NextCommissionRate, pool.NextCommissionEpoch = true, p.Rate, c.sys.Epoch+2
	putPool(c.kv, pool)
	return nil
}

// activationEpoch is when new stake starts counting: the next epoch, or the one after if the
// next committee has already been selected.
func (c *ctx) activationEpoch() uint32 {
	if c.sys.EpochState == StateNextParamsSelected {
		return c.sys.Epoch + 2
	}
	return c.sys.Epoch + 1
}

func (c *ctx) execStake(p *Stake) error {
	if p.Amount == 0 {
		return errorf(ErrInvalidArgument, "zero amount")
	}
	pool, err := c.pool(p.Node)
	if err != nil {
		return err
	}
	if err := c.debit(c.sender, p.Amount); err != nil {
		return err
	}
	act := c.activationEpoch()
	pool.PendingStake = addScheduled(pool.PendingStake, act, p.Amount)
	putPool(c.kv, pool)
	sw := &StakedWal{ID: c.newObjectID(), Owner: c.sender, NodeID: pool.NodeID, Principal: p.Amount, ActivationEpoch: act}
	createObject(c.kv, sw)
	c.emit(&StakeDeposited{NodeID: pool.NodeID, StakedWal: sw.ID, Owner: c.sender, Amount: p.Amount, ActivationEpoch: act})
	return nil
}

// counted reports whether stake activating at act may already have been counted by a
// committee selection: it is active, or it activates next epoch and the next committee has
// been selected. Stake that is not counted yet can be withdrawn at once (withdrawEarly);
// counted stake serves the epochs it was counted for before it can leave, as in Walrus
// (staking_pool.move: early withdrawal only before the stake can be counted).
func (c *ctx) counted(act uint32) bool {
	return act < c.activationEpoch()
}

// withdrawEarly pays back stake that no committee selection can have counted yet.
func (c *ctx) withdrawEarly(sw *StakedWal, pool *Pool) {
	pool.PendingStake = subScheduled(pool.PendingStake, sw.ActivationEpoch, sw.Principal)
	putPool(c.kv, pool)
	deleteObject(c.kv, sw)
	c.credit(c.sender, sw.Principal)
	c.emit(&StakeWithdrawn{NodeID: pool.NodeID, StakedWal: sw.ID, Amount: sw.Principal})
}

// sharesFor returns the pool shares minted for amount at an exchange rate (1:1 for an empty
// pool).
func sharesFor(amount uint64, r ExchangeRate) uint64 {
	if r.Wal == 0 || r.Shares == 0 {
		return amount
	}
	return mulDiv(amount, r.Shares, r.Wal)
}

// walFor returns the WAL value of shares at an exchange rate.
func walFor(shares uint64, r ExchangeRate) uint64 {
	if r.Shares == 0 {
		return 0
	}
	return mulDiv(min(shares, r.Shares), r.Wal, r.Shares)
}

func (c *ctx) rate(node ObjectID, epoch uint32) ExchangeRate {
	r, _ := get[ExchangeRate](c.kv, keyRate(node, epoch))
	return r
}

// execRequestWithdraw starts the withdrawal of a StakedWal:
//
//   - stake no selection can have counted yet is paid back at once (withdrawEarly);
//   - stake counted by the selection of the next committee but not active yet (activation
//     epoch E+1 after the selection in E) serves epoch E+1 and becomes withdrawable at E+2;
//     its WAL is kept in Pool.PreActiveWithdraw until it activates;
//   - active stake leaves when the committee that counts it is over: at E+1, or at E+2 if the
//     pool is in the already selected committee of E+1.
func (c *ctx) execRequestWithdraw(p *RequestWithdrawStake) error {
	sw, err := c.ownedStaked(p.StakedWal)
	if err != nil {
		return err
	}
	if sw.Withdrawing {
		return errorf(ErrNotWithdrawable, "withdrawal already requested for epoch %d", sw.WithdrawEpoch)
	}
	pool, err := c.pool(sw.NodeID)
	if err != nil {
		return err
	}
	if !c.counted(sw.ActivationEpoch) {
		c.withdrawEarly(sw, pool)
		return nil
	}
	var w uint32
	var shares uint64
	if sw.ActivationEpoch > c.sys.Epoch {
		w = sw.ActivationEpoch + 1
		pool.PreActiveWithdraw = addScheduled(pool.PreActiveWithdraw, sw.ActivationEpoch, sw.Principal)
	} else {
		w = c.sys.Epoch + 1
		if c.sys.EpochState == StateNextParamsSelected {
			if next, ok := getCommittee(c.kv, c.sys.Epoch+1); ok && next.Weight(pool.NodeID) > 0 {
				w = c.sys.Epoch + 2
			}
		}
		shares = sharesFor(sw.Principal, c.rate(pool.NodeID, sw.ActivationEpoch))
		pool.PendingWithdraw = addScheduled(pool.PendingWithdraw, w, shares)
	}
	putPool(c.kv, pool)
	sw.Withdrawing, sw.WithdrawEpoch, sw.Shares = true, w, shares
	putObject(c.kv, sw)
	c.emit(&StakeWithdrawRequested{NodeID: pool.NodeID, StakedWal: sw.ID, WithdrawEpoch: w})
	return nil
}

// execWithdraw pays out a StakedWal: at once if no selection can have counted it yet,
// otherwise from its withdrawal epoch on, the value of its shares (those of its principal at
// the activation epoch's rate) at the withdrawal epoch's rate, which includes the rewards of
// the epochs it served. Counted stake that was active for fewer than StakeMinEpochs epochs
// (Settings.Challenge; from its activation to its withdrawal epoch) pays the stake-shift
// penalty: StakePenaltyBasisPoints of the value, of which StakePenaltyBurnBasisPoints are
// burned and the rest credited to the pool's remaining stakers (StakeShiftPenalized).
func (c *ctx) execWithdraw(p *WithdrawStake) error {
	sw, err := c.ownedStaked(p.StakedWal)
	if err != nil {
		return err
	}
	pool, err := c.pool(sw.NodeID)
	if err != nil {
		return err
	}
	if !sw.Withdrawing {
		if !c.counted(sw.ActivationEpoch) {
			c.withdrawEarly(sw, pool)
			return nil
		}
		return errorf(ErrNotWithdrawable, "request the withdrawal first")
	}
	if c.sys.Epoch < sw.WithdrawEpoch {
		return errorf(ErrNotWithdrawable, "withdrawable from epoch %d", sw.WithdrawEpoch)
	}
	shares := sw.Shares
	if shares == 0 {
		shares = sharesFor(sw.Principal, c.rate(pool.NodeID, sw.ActivationEpoch))
	}
	amount := min(walFor(shares, c.rate(pool.NodeID, sw.WithdrawEpoch)), pool.WithdrawReserve)
	pool.WithdrawReserve -= amount
	if penalty, burned, active := c.stakeShiftPenalty(amount, sw.ActivationEpoch, sw.WithdrawEpoch); penalty > 0 {
		if pool.Shares == 0 {
			burned = penalty // no staker is left to receive it
		}
		amount -= penalty
		pool.Wal += penalty - burned
		c.sys.Burned += burned
		c.emit(&StakeShiftPenalized{Node: pool.NodeID, StakedWal: sw.ID, ActiveEpochs: active, Penalty: penalty,
			Burned: burned, ToStakers: penalty - burned})
	}
	putPool(c.kv, pool)
	deleteObject(c.kv, sw)
	c.credit(c.sender, amount)
	c.emit(&StakeWithdrawn{NodeID: pool.NodeID, StakedWal: sw.ID, Amount: amount})
	return nil
}

func (c *ctx) execCollectCommission(p *CollectCommission) error {
	pool, err := c.operatedPool(p.Node)
	if err != nil {
		return err
	}
	// As in Walrus, commission is collectable after the mid-epoch committee selection, which
	// leaves the first half of each epoch for slashing votes.
	if c.sys.EpochState != StateNextParamsSelected {
		return errorf(ErrWrongEpochState, "commission is collectable after the mid-epoch selection")
	}
	amount := pool.Commission
	pool.Commission = 0
	putPool(c.kv, pool)
	c.credit(c.sender, amount)
	c.emit(&CommissionCollected{NodeID: pool.NodeID, Amount: amount})
	return nil
}

func (c *ctx) execEpochSyncDone(p *EpochSyncDone) error {
	pool, err := c.operatedPool(p.Node)
	if err != nil {
		return err
	}
	if p.Epoch != c.sys.Epoch {
		return errorf(ErrWrongEpoch, "sync for epoch %d, current epoch %d", p.Epoch, c.sys.Epoch)
	}
	cmt, ok := getCommittee(c.kv, c.sys.Epoch)
	if !ok {
		return errorf(ErrNotCommitteeMember, "no committee")
	}
	weight := cmt.Weight(pool.NodeID)
	if weight == 0 {
		return errorf(ErrNotCommitteeMember, "node %s is not in the committee of epoch %d", pool.NodeID, c.sys.Epoch)
	}
	if pool.LastSyncDone >= p.Epoch {
		return errorf(ErrAlreadyDone, "node already signalled sync for epoch %d", pool.LastSyncDone)
	}
	pool.LastSyncDone = p.Epoch
	if c.header.Time < c.sys.SyncDeadline {
		pool.LastSyncOnTime = p.Epoch
	}
	putPool(c.kv, pool)
	if c.sys.EpochState == StateEpochChangeSync {
		c.sys.SyncWeight += uint32(weight)
		if committee.Quorum(int(c.sys.SyncWeight), int(cmt.NShards)) {
			c.completeEpochChange()
		}
	}
	return nil
}

// SlashTally is the running count of slashing votes against a node in one epoch.
type SlashTally struct {
	Weight   uint32 // shards of the committee members that voted
	Executed bool
}

func (t *SlashTally) encode(e *bcs.Encoder) { e.U32(t.Weight); e.Bool(t.Executed) }
func (t *SlashTally) decode(d *bcs.Decoder) { t.Weight = d.U32(); t.Executed = d.Bool() }

func (c *ctx) execVoteToSlash(p *VoteToSlash) error {
	voter, err := c.operatedPool(p.Voter)
	if err != nil {
		return err
	}
	if _, err := c.pool(p.Candidate); err != nil {
		return err
	}
	cmt, ok := getCommittee(c.kv, c.sys.Epoch)
	weight := 0
	if ok {
		weight = cmt.Weight(voter.NodeID)
	}
	if weight == 0 {
		return errorf(ErrNotCommitteeMember, "voter %s is not in the committee of epoch %d", voter.NodeID, c.sys.Epoch)
	}
	vk := keyVote(c.sys.Epoch, p.Candidate, voter.NodeID)
	if _, voted := c.kv.Get(vk); voted {
		return errorf(ErrAlreadyDone, "already voted against %s this epoch", p.Candidate)
	}
	c.kv.Set(vk, nil)
	tk := keyTally(c.sys.Epoch, p.Candidate)
	tally, _ := get[SlashTally](c.kv, tk)
	tally.Weight += uint32(weight)
	if !tally.Executed && committee.Quorum(int(tally.Weight), int(cmt.NShards)) {
		// A quorum burns the candidate's accumulated commission (Walrus slashing.move);
		// delegated stake is untouched.
		tally.Executed = true
		cand, _ := c.pool(p.Candidate)
		burned := cand.Commission
		cand.Commission = 0
		putPool(c.kv, cand)
		c.sys.Burned += burned
		c.emit(&NodeSlashed{Epoch: c.sys.Epoch, NodeID: cand.NodeID, Burned: burned})
	}
	c.kv.Set(tk, encodeBCS(&tally))
	return nil
}
