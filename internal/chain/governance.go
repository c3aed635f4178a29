package chain

import (
	"fmt"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/committee"
)

// ProposalStatus is the state of a governance proposal.
type ProposalStatus uint8

// Proposal states.
const (
	// StatusOpen: votes are being collected (during the epoch it was made in).
	StatusOpen ProposalStatus = 0
	// StatusAccepted: yes votes reached 2f+1 shards; it applies at the next epoch start.
	StatusAccepted ProposalStatus = 1
	// StatusRejected: it can no longer pass, its epoch ended undecided, or it was invalid
	// when it would have applied.
	StatusRejected ProposalStatus = 2
	// StatusApplied: it was accepted and applied at the start of the next epoch.
	StatusApplied ProposalStatus = 3
)

// String returns "open", "accepted", "rejected" or "applied".
func (s ProposalStatus) String() string {
	switch s {
	case StatusOpen:
		return "open"
	case StatusAccepted:
		return "accepted"
	case StatusRejected:
		return "rejected"
	case StatusApplied:
		return "applied"
	}
	return "unknown"
}

// Proposal is a governance proposal to change parameters. Yes and No are the shard weights
// of the committee members of Epoch that voted.
type Proposal struct {
	ID       [32]byte
	Epoch    uint32
	Proposer ObjectID
	Changes  []ParamChange
	Yes, No  uint32
	Status   ProposalStatus
}

func (p *Proposal) encode(e *bcs.Encoder) {
	e.Fixed(p.ID[:])
	e.U32(p.Epoch)
	e.Fixed(p.Proposer[:])
	encParamChanges(e, p.Changes)
	e.U32(p.Yes)
	e.U32(p.No)
	e.U8(uint8(p.Status))
}

func (p *Proposal) decode(d *bcs.Decoder) {
	p.ID = fixed32(d)
	p.Epoch = d.U32()
	p.Proposer = fixed32(d)
	p.Changes = decParamChanges(d)
	p.Yes = d.U32()
	p.No = d.U32()
	p.Status = ProposalStatus(d.U8())
	if p.Status > StatusApplied {
		d.Fail(errStatus)
	}
}

var errStatus = fmt.Errorf("%w: proposal status", bcs.ErrInvalidVariant)

// proposals returns the proposals of epoch, in ID order.
func proposals(kv Store, epoch uint32) []Proposal {
	var out []Proposal
	iteratePrefix(kv, key(prefixProposal, be32(epoch)), func(_, v []byte) bool {
		p, err := decodeBCS[Proposal](v)
		if err != nil {
			panic("chain: corrupt proposal: " + err.Error())
		}
		out = append(out, p)
		return true
	})
	return out
}

func (c *ctx) execGovernancePropose(p *GovernancePropose) error {
	pool, err := c.operatedPool(p.Node)
	if err != nil {
		return err
	}
	cmt, ok := getCommittee(c.kv, c.sys.Epoch)
	weight := 0
	if ok {
		weight = cmt.Weight(pool.NodeID)
	}
	if weight == 0 {
		return errorf(ErrNotCommitteeMember, "node %s is not in the committee of epoch %d", pool.NodeID, c.sys.Epoch)
	}
	if len(p.Changes) == 0 {
		return errorf(ErrInvalidArgument, "a proposal needs at least one change")
	}
	for i, ch := range p.Changes {
		for _, prev := range p.Changes[:i] {
			if prev.Name == ch.Name {
				return errorf(ErrInvalidArgument, "%q changed twice", ch.Name)
			}
		}
	}
	if _, err := applyChanges(c.settings, p.Changes, c.challengesOn()); err != nil {
		return err
	}
	if len(proposals(c.kv, c.sys.Epoch)) >= MaxOpenProposals {
		return errorf(ErrInvalidArgument, "%d proposals already made this epoch", MaxOpenProposals)
	}
	prop := Proposal{ID: c.digest, Epoch: c.sys.Epoch, Proposer: pool.NodeID, Changes: p.Changes}
	c.emit(&ProposalCreated{Proposal: prop.ID, Epoch: prop.Epoch, Proposer: prop.Proposer, Changes: prop.Changes})
	c.vote(&prop, pool.NodeID, weight, true, &cmt)
	return nil
}

func (c *ctx) execGovernanceVote(p *GovernanceVote) error {
	pool, err := c.operatedPool(p.Node)
	if err != nil {
		return err
	}
	prop, ok := get[Proposal](c.kv, keyProposal(c.sys.Epoch, p.Proposal))
	if !ok {
		// A proposal of an earlier epoch is closed; only the current epoch's are open.
		if c.sys.Epoch > 0 {
			if _, old := get[Proposal](c.kv, keyProposal(c.sys.Epoch-1, p.Proposal)); old {
				return errorf(ErrProposalClosed, "proposal of epoch %d", c.sys.Epoch-1)
			}
		}
		return errorf(ErrUnknownProposal, "%x", p.Proposal[:8])
	}
	if prop.Status != StatusOpen {
		return errorf(ErrProposalClosed, "proposal is %s", prop.Status)
	}
	cmt, ok := getCommittee(c.kv, c.sys.Epoch)
	weight := 0
	if ok {
		weight = cmt.Weight(pool.NodeID)
	}
	if weight == 0 {
		return errorf(ErrNotCommitteeMember, "node %s is not in the committee of epoch %d", pool.NodeID, c.sys.Epoch)
	}
	if _, voted := c.kv.Get(keyGovVote(prop.ID, pool.NodeID)); voted {
		return errorf(ErrAlreadyDone, "node already voted on this proposal")
	}
	c.vote(&prop, pool.NodeID, weight, p.Approve, &cmt)
	return nil
}

// vote records a member's vote and decides the proposal when it can.
func (c *ctx) vote(prop *Proposal, node ObjectID, weight int, approve bool, cmt *CommitteeRecord) {
	c.kv.Set(keyGovVote(prop.ID, node), nil)
	if approve {
		prop.Yes += uint32(weight)
	} else {
		prop.No += uint32(weight)
	}
	n := int(cmt.NShards)
	switch {
	case committee.Quorum(int(prop.Yes), n):
		prop.Status = StatusAccepted
		c.emit(&ProposalAccepted{Proposal: prop.ID, ApplyEpoch: prop.Epoch + 1})
	case !committee.Quorum(n-int(prop.No), n):
		prop.Status = StatusRejected
		c.emit(&ProposalRejected{Proposal: prop.ID, Epoch: prop.Epoch})
	}
	c.kv.Set(keyProposal(prop.Epoch, prop.ID), encodeBCS(prop))
}

// applyProposals closes the proposals of epoch as it ends: accepted ones apply, in ID order
// (a later one wins where two change the same parameter), to the settings of the next
// epoch; open ones are rejected. An accepted proposal that is no longer valid against the
// settings it would change (a lower protocol version than one applied before it, bounds
// that cross) is rejected instead.
func (c *ctx) applyProposals(epoch uint32) {
	props := proposals(c.kv, epoch)
	changed := false
	for i := range props {
		prop := &props[i]
		switch prop.Status {
		case StatusOpen:
			prop.Status = StatusRejected
			c.emit(&ProposalRejected{Proposal: prop.ID, Epoch: epoch})
		case StatusAccepted:
			s, err := applyChanges(c.settings, prop.Changes, c.challengesOn())
			if err != nil {
				prop.Status = StatusRejected
				c.emit(&ProposalRejected{Proposal: prop.ID, Epoch: epoch})
				break
			}
			c.settings, changed = s, true
			prop.Status = StatusApplied
			c.emit(&ParametersChanged{Proposal: prop.ID, Epoch: epoch + 1, Changes: prop.Changes})
		default:
			continue
		}
		c.kv.Set(keyProposal(epoch, prop.ID), encodeBCS(prop))
	}
	if changed {
		c.kv.Set(keySettings(), encodeBCS(&c.settings))
		c.params = effectiveParams(c.app.params, &c.settings)
	}
}

// clampPrice bounds a voted price by governance's bounds (a zero maximum is no bound).
func clampPrice(v, lo, hi uint64) uint64 {
	v = max(v, lo)
	if hi != 0 {
		v = min(v, hi)
	}
	return v
}
