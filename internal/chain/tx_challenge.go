package chain

import (
	"fmt"

	"github.com/walrus-go/walrus/internal/bcs"
)

// Payloads of storage challenges and parameter governance (variants 45 to 48; see
// docs/challenges.md for the protocol).

// ChallengeReveal is a committee member's reveal for the challenge seed of Epoch, sent by
// the member's operator: Signature is the member's BLS signature over
// [ChallengeRevealMessage](chain ID, Epoch). A BLS signature is unique for a key and a
// message, so a member has exactly one valid reveal per epoch and cannot grind the seed; it
// can only withhold its reveal, which fails its own challenge for the epoch.
//
// It is accepted only on a chain with challenges (Params.Challenge enabled), for the
// current epoch, from a member of the current committee, while the reveal phase is open
// (from the epoch change's start until the seed is fixed: when every member revealed, or at
// the reveal deadline, ChallengeState.RevealDeadline), and once per member. Errors:
// ErrChallengesDisabled, ErrWrongEpoch, ErrNotOperator, ErrNotCommitteeMember,
// ErrChallengePhase (the seed is fixed: reveals closed, or the epoch is unchallenged),
// ErrAlreadyDone, ErrBadReveal.
// It verifies a BLS signature, so its minimum fee includes Params.SignatureFee.
type ChallengeReveal struct {
	Node      ObjectID
	Epoch     uint32
	Signature [96]byte
}

// ChallengeCertificate proves that committee member Node passed its storage challenge of
// Epoch: Signers is a signer bitmap over the members of the current committee (in node ID
// order, as [Certificate.Signers]) holding at least 2f+1 shards, and Signature their
// aggregate BLS signature over [ChallengePassedMessage](Epoch, Node). Anyone may submit
// it, in the epoch it is about, after the seed is final (ChallengeState.SeedFinal) and
// before the epoch ends; the first valid certificate counts and later ones fail with
// ErrAlreadyDone. A member that withheld its reveal cannot pass: its certificate fails with
// ErrChallengePhase.
//
// Errors: ErrChallengesDisabled, ErrWrongEpoch, ErrChallengePhase (seed not final yet, an
// unchallenged epoch, or the node did not reveal), ErrNotCommitteeMember, ErrNoQuorum, ErrBadCertificate,
// ErrAlreadyDone. Its minimum fee includes Params.SignatureFee.
type ChallengeCertificate struct {
	Epoch     uint32
	Node      ObjectID
	Signers   []byte
	Signature [96]byte
}

// ParamChange sets the governed parameter Name (one of [GovernedParams]) to Value; see
// [Settings] for each parameter's unit and range.
type ParamChange struct {
	Name  string
	Value uint64
}

// GovernancePropose opens a proposal by committee member Node (sent by its operator) to
// change named parameters, the protocol version among them. It creates no object: the
// proposal's ID is the transaction digest (created object 0 is not used; the ID is in the
// ProposalCreated event and QueryProposals). A proposal is voted on by the members of the
// current committee during the epoch it was made in; accepted (yes weight reaches 2f+1
// shards), it applies at the start of the next epoch; otherwise it is rejected, at once
// when enough members voted no that 2f+1 can no longer be reached, or at the epoch's end.
// The proposer's vote counts as yes.
//
// Errors: ErrNotOperator, ErrNotCommitteeMember, ErrUnknownParameter (an unknown name),
// ErrInvalidArgument (a value out of range, no or duplicate changes, too many open
// proposals).
type GovernancePropose struct {
	Node    ObjectID
	Changes []ParamChange
}

// GovernanceVote is committee member Node's vote (sent by its operator) on an open
// proposal of the current epoch. Each member votes once; its weight is its shard count.
// Errors: ErrNotOperator, ErrNotCommitteeMember, ErrUnknownProposal, ErrProposalClosed
// (decided or of an earlier epoch), ErrAlreadyDone.
type GovernanceVote struct {
	Node     ObjectID
	Proposal [32]byte
	Approve  bool
}

// MaxParamChanges bounds the changes of one proposal, MaxParamNameLen a parameter name and
// MaxOpenProposals the proposals open at once.
const (
	MaxParamChanges  = 16
	MaxParamNameLen  = 64
	MaxOpenProposals = 32
)

func (*ChallengeReveal) variant() uint32      { return 45 }
func (*ChallengeCertificate) variant() uint32 { return 46 }
func (*GovernancePropose) variant() uint32    { return 47 }
func (*GovernanceVote) variant() uint32       { return 48 }

func (p *ChallengeReveal) encode(e *bcs.Encoder) {
	e.Fixed(p.Node[:])
	e.U32(p.Epoch)
	e.Fixed(p.Signature[:])
}

func (p *ChallengeReveal) decode(d *bcs.Decoder) {
	p.Node = fixed32(d)
	p.Epoch = d.U32()
	p.Signature = fixed96(d)
}

func (p *ChallengeCertificate) encode(e *bcs.Encoder) {
	e.U32(p.Epoch)
	e.Fixed(p.Node[:])
	e.Bytes(p.Signers)
	e.Fixed(p.Signature[:])
}

func (p *ChallengeCertificate) decode(d *bcs.Decoder) {
	p.Epoch = d.U32()
	p.Node = fixed32(d)
	p.Signers = bytesCopy(d, MaxBitmapLen)
	p.Signature = fixed96(d)
}

func (p *GovernancePropose) encode(e *bcs.Encoder) {
	e.Fixed(p.Node[:])
	encParamChanges(e, p.Changes)
}

func (p *GovernancePropose) decode(d *bcs.Decoder) {
	p.Node = fixed32(d)
	p.Changes = decParamChanges(d)
}

func encParamChanges(e *bcs.Encoder, l []ParamChange) {
	e.Len(len(l))
	for _, c := range l {
		e.Bytes([]byte(c.Name))
		e.U64(c.Value)
	}
}

func decParamChanges(d *bcs.Decoder) []ParamChange {
	n := d.Len(MaxParamChanges)
	var l []ParamChange
	for i := 0; i < n && d.Err() == nil; i++ {
		l = append(l, ParamChange{Name: str(d, MaxParamNameLen), Value: d.U64()})
	}
	return l
}

func (p *GovernanceVote) encode(e *bcs.Encoder) {
	e.Fixed(p.Node[:])
	e.Fixed(p.Proposal[:])
	e.Bool(p.Approve)
}

func (p *GovernanceVote) decode(d *bcs.Decoder) {
	p.Node = fixed32(d)
	p.Proposal = fixed32(d)
	p.Approve = d.Bool()
}

// reservedPayload reports a variant number that is reserved (not defined on this chain).
func reservedPayload(v uint32) error {
	return fmt.Errorf("%w: payload variant %d is reserved", bcs.ErrInvalidVariant, v)
}
