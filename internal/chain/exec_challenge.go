package chain

import (
	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/committee"
)

// challengesOn reports whether the chain has storage challenges.
func (c *ctx) challengesOn() bool { return c.params.Challenge.Enabled() }

func (c *ctx) execChallengeReveal(p *ChallengeReveal) error {
	if !c.challengesOn() {
		return errorf(ErrChallengesDisabled, "reveal")
	}
	if p.Epoch != c.sys.Epoch {
		return errorf(ErrWrongEpoch, "reveal for epoch %d, current epoch %d", p.Epoch, c.sys.Epoch)
	}
	pool, err := c.operatedPool(p.Node)
	if err != nil {
		return err
	}
	cmt, ok := getCommittee(c.kv, c.sys.Epoch)
	if !ok {
		return errorf(ErrNotCommitteeMember, "no committee")
	}
	i := cmt.index(pool.NodeID)
	if i < 0 {
		return errorf(ErrNotCommitteeMember, "node %s is not in the committee of epoch %d", pool.NodeID, c.sys.Epoch)
	}
	rec := c.challenge(c.sys.Epoch)
	if rec.SeedFinal {
		return errorf(ErrChallengePhase, "the seed of epoch %d is fixed", c.sys.Epoch)
	}
	nc := getNodeChallenge(c.kv, c.sys.Epoch, pool.NodeID)
	if nc.Revealed {
		return errorf(ErrAlreadyDone, "node already revealed for epoch %d", c.sys.Epoch)
	}
	pk, err := bls.PublicKeyFromBytes(cmt.Members[i].PublicKey[:])
	if err != nil {
		return errorf(ErrBadReveal, "%v", err)
	}
	sig, err := bls.SignatureFromBytes(p.Signature[:])
	if err != nil {
		return errorf(ErrBadReveal, "%v", err)
	}
	c.app.pairings++
	if err := bls.Verify(pk, ChallengeRevealMessage(c.params.ChainID, c.sys.Epoch), sig); err != nil {
		return errorf(ErrBadReveal, "signature does not verify")
	}
	nc.Revealed, nc.Reveal = true, p.Signature
	c.kv.Set(keyChalNode(c.sys.Epoch, pool.NodeID), encodeBCS(&nc))
	rec.Revealed++
	if int(rec.Revealed) == len(cmt.Members) {
		c.fixSeed(&rec, &cmt)
	}
	c.putChallenge(&rec)
	return nil
}

func (c *ctx) execChallengeCertificate(p *ChallengeCertificate) error {
	if !c.challengesOn() {
		return errorf(ErrChallengesDisabled, "certificate")
	}
	if p.Epoch != c.sys.Epoch {
		return errorf(ErrWrongEpoch, "certificate for epoch %d, current epoch %d", p.Epoch, c.sys.Epoch)
	}
	cmt, ok := getCommittee(c.kv, c.sys.Epoch)
	if !ok || cmt.index(p.Node) < 0 {
		return errorf(ErrNotCommitteeMember, "node %s is not in the committee of epoch %d", p.Node, c.sys.Epoch)
	}
	rec := c.challenge(c.sys.Epoch)
	if !rec.SeedFinal {
		return errorf(ErrChallengePhase, "the seed of epoch %d is not fixed yet", c.sys.Epoch)
	}
	if rec.Blobs == 0 {
		return errorf(ErrChallengePhase, "epoch %d is unchallenged", c.sys.Epoch)
	}
	nc := getNodeChallenge(c.kv, c.sys.Epoch, p.Node)
	if nc.Passed {
		return errorf(ErrAlreadyDone, "node %s already passed epoch %d", p.Node, c.sys.Epoch)
	}
	if !nc.Revealed {
		return errorf(ErrChallengePhase, "node %s did not reveal for epoch %d", p.Node, c.sys.Epoch)
	}
	cert := Certificate{Signers: p.Signers, Message: ChallengePassedMessage(p.Epoch, p.Node), Signature: p.Signature}
	if err := c.verifyCertificate(&cert, committee.Quorum); err != nil {
		return err
	}
	nc.Passed = true
	c.kv.Set(keyChalNode(c.sys.Epoch, p.Node), encodeBCS(&nc))
	c.emit(&ChallengePassed{Epoch: c.sys.Epoch, Node: p.Node})
	return nil
}

// fixSeed fixes the seed of rec's epoch from the reveals of the committee's members.
func (c *ctx) fixSeed(rec *ChallengeRecord, cmt *CommitteeRecord) {
	reveals := make([]*[96]byte, len(cmt.Members))
	for i, m := range cmt.Members {
		if nc := getNodeChallenge(c.kv, rec.Epoch, m.NodeID); nc.Revealed {
			reveals[i] = &nc.Reveal
		}
	}
	rec.Seed = challengeSeed(c.params.ChainID, rec.Epoch, reveals)
	rec.SeedFinal = true
	c.emit(&ChallengeSeedFixed{Epoch: rec.Epoch, Seed: rec.Seed, Blobs: rec.Blobs, Revealed: rec.Revealed, SampleSize: rec.SampleSize})
}

// fixSeedAtDeadline fixes the current epoch's seed at the first block at or after its
// reveal deadline, with the reveals received.
func (c *ctx) fixSeedAtDeadline() {
	if !c.challengesOn() {
		return
	}
	rec := c.challenge(c.sys.Epoch)
	if rec.SeedFinal || c.header.Time < rec.RevealDeadline {
		return
	}
	cmt, ok := getCommittee(c.kv, c.sys.Epoch)
	if !ok {
		return
	}
	c.fixSeed(&rec, &cmt)
	c.putChallenge(&rec)
}

// startChallenge opens the challenge of the epoch that just started: it applies the
// previous epoch's changes to the index and records the snapshot. An epoch with no blob in
// the index is unchallenged: its (zero) seed is fixed at once.
func (c *ctx) startChallenge(epoch uint32, nextPosition uint64) {
	c.updateIndex(epoch)
	rec := ChallengeRecord{
		Epoch: epoch, Start: c.header.Time, RevealDeadline: c.header.Time + c.params.EpochDuration/4,
		Blobs: indexTotal(c.kv), SampleSize: c.settings.Challenge.SampleSize, NextPosition: nextPosition,
	}
	if rec.Blobs == 0 {
		rec.SeedFinal = true
	}
	c.putChallenge(&rec)
}

// challengeOutcome settles the challenge of a member at the end of epoch: it returns
// whether the member may be paid. On a chain without challenges, and in an unchallenged
// epoch, every member may. A member without a certificate gets ChallengeFailed (forfeit is
// the reward it loses) and one more consecutive failure; at FailureLimit its pool is
// slashed (pool is updated in place; the caller stores it).
func (c *ctx) challengeOutcome(rec *ChallengeRecord, epoch uint32, pool *Pool, forfeit uint64) bool {
	if !c.challengesOn() || rec.Blobs == 0 {
		return true
	}
	nc := getNodeChallenge(c.kv, epoch, pool.NodeID)
	if nc.Passed {
		c.kv.Delete(keyChalStreak(pool.NodeID))
		return true
	}
	reason := FailNoCertificate
	if !nc.Revealed {
		reason = FailNoReveal
	}
	streak := getStreak(c.kv, pool.NodeID) + 1
	ch := c.settings.Challenge
	slash := streak >= ch.FailureLimit
	c.emit(&ChallengeFailed{Epoch: epoch, Node: pool.NodeID, Reason: reason, Forfeited: forfeit, Consecutive: streak})
	if slash {
		c.kv.Delete(keyChalStreak(pool.NodeID))
		burned := mulDiv(pool.Wal, uint64(ch.SlashBasisPoints), 10_000)
		pool.Wal -= burned
		c.sys.Burned += burned
		c.emit(&StakeSlashed{Epoch: epoch, Node: pool.NodeID, Burned: burned, BasisPoints: ch.SlashBasisPoints})
	} else {
		c.kv.Set(keyChalStreak(pool.NodeID), encodeBCS(&u32Value{streak}))
	}
	return false
}

// stakeShiftPenalty returns the penalty on a withdrawal of amount from stake active from
// activation to withdraw, and its burned part (the rest goes to the pool's stakers).
func (c *ctx) stakeShiftPenalty(amount uint64, activation, withdraw uint32) (penalty, burned uint64, active uint32) {
	ch := c.settings.Challenge
	if withdraw > activation {
		active = withdraw - activation
	}
	if ch.StakeMinEpochs == 0 || ch.StakePenaltyBasisPoints == 0 || active >= ch.StakeMinEpochs {
		return 0, 0, active
	}
	penalty = mulDiv(amount, uint64(ch.StakePenaltyBasisPoints), 10_000)
	burned = mulDiv(penalty, uint64(ch.StakePenaltyBurnBasisPoints), 10_000)
	return penalty, burned, active
}
