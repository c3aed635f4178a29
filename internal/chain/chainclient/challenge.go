package chainclient

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/walrus-go/walrus/internal/chain"
)

// Storage challenges and governance (docs/challenges.md). Queries of a chain without
// challenges give an *Error wrapping chain.ErrChallengesDisabled.

// Challenge returns the challenge state of an epoch: its phase, seed, reveal deadline, the
// status of every member and, if node is not nil and the epoch is the current one with its
// seed fixed, node's items.
func (c *Client) Challenge(ctx context.Context, epoch uint32, node *chain.ObjectID) (chain.ChallengeState, error) {
	r := chain.ChallengeRequest{Epoch: epoch}
	if node != nil {
		r.HasNode, r.Node = true, *node
	}
	return query(ctx, c, chain.QueryChallenge, r.Encode(), chain.DecodeChallengeState)
}

// CurrentChallenge returns the challenge state of the current epoch (two queries, possibly
// at different heights: an epoch change in between gives the new epoch's state).
func (c *Client) CurrentChallenge(ctx context.Context, node *chain.ObjectID) (chain.ChallengeState, error) {
	sys, err := c.System(ctx)
	if err != nil {
		return chain.ChallengeState{}, err
	}
	return c.Challenge(ctx, sys.Epoch, node)
}

// Settings returns the governed parameters now. Unlike Params, it is not cached:
// governance changes it at epoch starts.
func (c *Client) Settings(ctx context.Context) (chain.Settings, error) {
	return query(ctx, c, chain.QuerySettings, nil, chain.DecodeSettings)
}

// Proposals returns the governance proposals made in an epoch, in ID order.
func (c *Client) Proposals(ctx context.Context, epoch uint32) ([]chain.Proposal, error) {
	l, err := query(ctx, c, chain.QueryProposals, binary.LittleEndian.AppendUint32(nil, epoch), chain.DecodeProposalList)
	return l.Proposals, err
}

// RevealChallenge submits node's reveal for epoch: sig must be the node's BLS signature over
// chain.ChallengeRevealMessage(chain ID, epoch). s must be the node's operator.
func (c *Client) RevealChallenge(ctx context.Context, s *Signer, node chain.ObjectID, epoch uint32, sig [96]byte) (*TxResult, error) {
	return c.Submit(ctx, s, &chain.ChallengeReveal{Node: node, Epoch: epoch, Signature: sig})
}

// SubmitChallengeCertificate submits an aggregate certificate that node passed its
// challenge of epoch (signers over the current committee, signature over
// chain.ChallengePassedMessage(epoch, node)). Any account may submit it.
func (c *Client) SubmitChallengeCertificate(ctx context.Context, s *Signer, cert *chain.ChallengeCertificate) (*TxResult, error) {
	return c.Submit(ctx, s, cert)
}

// Propose opens a governance proposal by committee member node (s its operator) and returns
// the proposal's ID (the transaction digest) with the result.
func (c *Client) Propose(ctx context.Context, s *Signer, node chain.ObjectID, changes []chain.ParamChange) ([32]byte, *TxResult, error) {
	res, err := c.Submit(ctx, s, &chain.GovernancePropose{Node: node, Changes: changes})
	if err != nil {
		return [32]byte{}, res, err
	}
	for _, ev := range res.Events {
		if pc, ok := ev.Body.(*chain.ProposalCreated); ok {
			return pc.Proposal, res, nil
		}
	}
	return [32]byte{}, res, fmt.Errorf("chainclient: proposal transaction emitted no ProposalCreated event")
}

// Vote records committee member node's vote (s its operator) on a proposal of the current
// epoch.
func (c *Client) Vote(ctx context.Context, s *Signer, node chain.ObjectID, proposal [32]byte, approve bool) (*TxResult, error) {
	return c.Submit(ctx, s, &chain.GovernanceVote{Node: node, Proposal: proposal, Approve: approve})
}
