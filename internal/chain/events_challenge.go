package chain

import (
	"fmt"
	"strings"

	"github.com/walrus-go/walrus/internal/bcs"
)

// Events of storage challenges, the stake-shift penalty and governance (variants 26 to 34).

// ChallengeSeedFixed is emitted when the challenge seed of Epoch is fixed: Blobs is the
// number of blobs in the index (0: the epoch is unchallenged), Revealed the members that
// revealed and SampleSize the items per member. From this event on, QueryChallenge returns
// each member's items.
type ChallengeSeedFixed struct {
	Epoch      uint32
	Seed       [32]byte
	Blobs      uint64
	Revealed   uint32
	SampleSize uint32
}

// ChallengePassed is emitted when a valid certificate shows that Node passed its challenge
// of Epoch.
type ChallengePassed struct {
	Epoch uint32
	Node  ObjectID
}

// Reasons of a ChallengeFailed event.
const (
	FailNoCertificate uint8 = 0 // no certificate before the epoch's end
	FailNoReveal      uint8 = 1 // the member withheld its reveal
)

// ChallengeFailed is emitted at the end of Epoch for each member without a certificate:
// Reason is FailNoReveal or FailNoCertificate, Forfeited the reward it lost (burned) and
// Consecutive its count of consecutive failed epochs, this one included; when it reaches
// FailureLimit the pool is slashed (StakeSlashed follows) and the count starts again.
type ChallengeFailed struct {
	Epoch       uint32
	Node        ObjectID
	Reason      uint8
	Forfeited   uint64
	Consecutive uint32
}

// StakeSlashed is emitted when a member failed FailureLimit consecutive challenges:
// Burned WAL of its pool's active stake (BasisPoints of it) was destroyed, lowering the
// value of every stake in the pool.
type StakeSlashed struct {
	Epoch       uint32
	Node        ObjectID
	Burned      uint64
	BasisPoints uint16
}

// StakeShiftPenalized is emitted when a withdrawal pays the stake-shift penalty (the stake
// was active for ActiveEpochs, fewer than StakeMinEpochs): Penalty was kept back from the
// payout, Burned of it destroyed and ToStakers credited to the pool's remaining stakers.
type StakeShiftPenalized struct {
	Node         ObjectID
	StakedWal    ObjectID
	ActiveEpochs uint32
	Penalty      uint64
	Burned       uint64
	ToStakers    uint64
}

// ProposalCreated is emitted when a committee member opens a governance proposal.
type ProposalCreated struct {
	Proposal [32]byte
	Epoch    uint32
	Proposer ObjectID
	Changes  []ParamChange
}

// ProposalAccepted is emitted when the yes votes on a proposal reach 2f+1 shards; it
// applies at the start of epoch ApplyEpoch.
type ProposalAccepted struct {
	Proposal   [32]byte
	ApplyEpoch uint32
}

// ProposalRejected is emitted when a proposal can no longer pass (no votes), when its
// epoch ends undecided, or when it is invalid at the time it would apply.
type ProposalRejected struct {
	Proposal [32]byte
	Epoch    uint32
}

// ParametersChanged is emitted at the start of Epoch when an accepted proposal applies.
type ParametersChanged struct {
	Proposal [32]byte
	Epoch    uint32
	Changes  []ParamChange
}

func (*ChallengeSeedFixed) eventVariant() uint32  { return 26 }
func (*ChallengePassed) eventVariant() uint32     { return 27 }
func (*ChallengeFailed) eventVariant() uint32     { return 28 }
func (*StakeSlashed) eventVariant() uint32        { return 29 }
func (*StakeShiftPenalized) eventVariant() uint32 { return 30 }
func (*ProposalCreated) eventVariant() uint32     { return 31 }
func (*ProposalAccepted) eventVariant() uint32    { return 32 }
func (*ProposalRejected) eventVariant() uint32    { return 33 }
func (*ParametersChanged) eventVariant() uint32   { return 34 }

func (v *ChallengeSeedFixed) encode(e *bcs.Encoder) {
	e.U32(v.Epoch)
	e.Fixed(v.Seed[:])
	e.U64(v.Blobs)
	e.U32(v.Revealed)
	e.U32(v.SampleSize)
}

func (v *ChallengeSeedFixed) decode(d *bcs.Decoder) {
	v.Epoch = d.U32()
	v.Seed = fixed32(d)
	v.Blobs = d.U64()
	v.Revealed = d.U32()
	v.SampleSize = d.U32()
}

func (v *ChallengeSeedFixed) fields() []field {
	return []field{{"epoch", v.Epoch}, {"seed", fmt.Sprintf("%x", v.Seed[:4])}, {"blobs", v.Blobs},
		{"revealed", v.Revealed}, {"samples", v.SampleSize}}
}

func (v *ChallengePassed) encode(e *bcs.Encoder) { e.U32(v.Epoch); e.Fixed(v.Node[:]) }
func (v *ChallengePassed) decode(d *bcs.Decoder) { v.Epoch = d.U32(); v.Node = fixed32(d) }
func (v *ChallengePassed) fields() []field {
	return []field{{"epoch", v.Epoch}, {"node", v.Node}}
}

func (v *ChallengeFailed) encode(e *bcs.Encoder) {
	e.U32(v.Epoch)
	e.Fixed(v.Node[:])
	e.U8(v.Reason)
	e.U64(v.Forfeited)
	e.U32(v.Consecutive)
}

func (v *ChallengeFailed) decode(d *bcs.Decoder) {
	v.Epoch = d.U32()
	v.Node = fixed32(d)
	v.Reason = d.U8()
	if v.Reason > FailNoReveal {
		d.Fail(fmt.Errorf("%w: failure reason %d", bcs.ErrInvalidVariant, v.Reason))
	}
	v.Forfeited = d.U64()
	v.Consecutive = d.U32()
}

// FailureReason names a ChallengeFailed reason: "no-certificate" or "no-reveal".
func FailureReason(r uint8) string {
	if r == FailNoReveal {
		return "no-reveal"
	}
	return "no-certificate"
}

func (v *ChallengeFailed) fields() []field {
	return []field{{"epoch", v.Epoch}, {"node", v.Node}, {"reason", FailureReason(v.Reason)},
		{"forfeited", v.Forfeited}, {"consecutive", v.Consecutive}}
}

func (v *StakeSlashed) encode(e *bcs.Encoder) {
	e.U32(v.Epoch)
	e.Fixed(v.Node[:])
	e.U64(v.Burned)
	e.U16(v.BasisPoints)
}

func (v *StakeSlashed) decode(d *bcs.Decoder) {
	v.Epoch = d.U32()
	v.Node = fixed32(d)
	v.Burned = d.U64()
	v.BasisPoints = d.U16()
}

func (v *StakeSlashed) fields() []field {
	return []field{{"epoch", v.Epoch}, {"node", v.Node}, {"burned", v.Burned}, {"bps", v.BasisPoints}}
}

func (v *StakeShiftPenalized) encode(e *bcs.Encoder) {
	e.Fixed(v.Node[:])
	e.Fixed(v.StakedWal[:])
	e.U32(v.ActiveEpochs)
	e.U64(v.Penalty)
	e.U64(v.Burned)
	e.U64(v.ToStakers)
}

func (v *StakeShiftPenalized) decode(d *bcs.Decoder) {
	v.Node = fixed32(d)
	v.StakedWal = fixed32(d)
	v.ActiveEpochs = d.U32()
	v.Penalty = d.U64()
	v.Burned = d.U64()
	v.ToStakers = d.U64()
}

func (v *StakeShiftPenalized) fields() []field {
	return []field{{"node", v.Node}, {"staked", v.StakedWal}, {"active-epochs", v.ActiveEpochs},
		{"penalty", v.Penalty}, {"burned", v.Burned}, {"to-stakers", v.ToStakers}}
}

func formatChanges(l []ParamChange) string {
	s := make([]string, len(l))
	for i, c := range l {
		s[i] = fmt.Sprintf("%s=%d", c.Name, c.Value)
	}
	return "[" + strings.Join(s, ",") + "]"
}

func (v *ProposalCreated) encode(e *bcs.Encoder) {
	e.Fixed(v.Proposal[:])
	e.U32(v.Epoch)
	e.Fixed(v.Proposer[:])
	encParamChanges(e, v.Changes)
}

func (v *ProposalCreated) decode(d *bcs.Decoder) {
	v.Proposal = fixed32(d)
	v.Epoch = d.U32()
	v.Proposer = fixed32(d)
	v.Changes = decParamChanges(d)
}

func (v *ProposalCreated) fields() []field {
	return []field{{"proposal", v.Proposal}, {"epoch", v.Epoch}, {"proposer", v.Proposer},
		{"changes", formatChanges(v.Changes)}}
}

func (v *ProposalAccepted) encode(e *bcs.Encoder) { e.Fixed(v.Proposal[:]); e.U32(v.ApplyEpoch) }
func (v *ProposalAccepted) decode(d *bcs.Decoder) { v.Proposal = fixed32(d); v.ApplyEpoch = d.U32() }
func (v *ProposalAccepted) fields() []field {
	return []field{{"proposal", v.Proposal}, {"apply-epoch", v.ApplyEpoch}}
}

func (v *ProposalRejected) encode(e *bcs.Encoder) { e.Fixed(v.Proposal[:]); e.U32(v.Epoch) }
func (v *ProposalRejected) decode(d *bcs.Decoder) { v.Proposal = fixed32(d); v.Epoch = d.U32() }
func (v *ProposalRejected) fields() []field {
	return []field{{"proposal", v.Proposal}, {"epoch", v.Epoch}}
}

func (v *ParametersChanged) encode(e *bcs.Encoder) {
	e.Fixed(v.Proposal[:])
	e.U32(v.Epoch)
	encParamChanges(e, v.Changes)
}

func (v *ParametersChanged) decode(d *bcs.Decoder) {
	v.Proposal = fixed32(d)
	v.Epoch = d.U32()
	v.Changes = decParamChanges(d)
}

func (v *ParametersChanged) fields() []field {
	return []field{{"proposal", v.Proposal}, {"epoch", v.Epoch}, {"changes", formatChanges(v.Changes)}}
}
