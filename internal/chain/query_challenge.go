package chain

import (
	"fmt"

	"github.com/walrus-go/walrus/internal/bcs"
)

// Query paths of challenges and governance.
const (
	// QueryChallenge: request ChallengeRequest; response ChallengeState. ErrChallengesDisabled
	// on a chain without challenges, ErrNotFound for an epoch without a challenge record.
	QueryChallenge = "/challenge"
	// QuerySettings: empty request; response Settings (the governed parameters now).
	QuerySettings = "/settings"
	// QueryProposals: request the epoch as u32 (little-endian) or empty for the current
	// epoch; response ProposalList (at most MaxOpenProposals, in ID order).
	QueryProposals = "/proposals"
)

// ChallengeRequest asks for the challenge of Epoch and, if HasNode, for Node's items.
type ChallengeRequest struct {
	Epoch   uint32
	HasNode bool
	Node    ObjectID
}

func (r *ChallengeRequest) encode(e *bcs.Encoder) {
	e.U32(r.Epoch)
	encodeOptionalID(e, r.HasNode, r.Node)
}

func (r *ChallengeRequest) decode(d *bcs.Decoder) {
	r.Epoch = d.U32()
	r.HasNode, r.Node = decodeOptionalID(d)
}

// Encode returns the BCS encoding of r.
func (r ChallengeRequest) Encode() []byte { return encodeBCS(&r) }

// ChallengePhase is where an epoch's challenge is.
type ChallengePhase uint8

// Challenge phases.
const (
	// PhaseReveal: members are revealing; the seed and the items are not known yet.
	PhaseReveal ChallengePhase = 0
	// PhaseAnswer: the seed is fixed; members answer and attest until the epoch ends.
	PhaseAnswer ChallengePhase = 1
	// PhaseUnchallenged: the index was empty at the epoch's start; nothing is challenged.
	PhaseUnchallenged ChallengePhase = 2
	// PhaseSettled: the epoch is over and its results are final.
	PhaseSettled ChallengePhase = 3
)

// String returns "reveal", "answer", "unchallenged" or "settled".
func (p ChallengePhase) String() string {
	switch p {
	case PhaseReveal:
		return "reveal"
	case PhaseAnswer:
		return "answer"
	case PhaseUnchallenged:
		return "unchallenged"
	case PhaseSettled:
		return "settled"
	}
	return "unknown"
}

// MemberChallenge is one committee member's challenge status in an epoch. Consecutive is
// its count of consecutive failed epochs now (not as of that epoch).
type MemberChallenge struct {
	Node        ObjectID
	Shards      uint16
	Revealed    bool
	Passed      bool
	Consecutive uint32
}

// ChallengeState is the answer of QueryChallenge: the challenge of one epoch, the status of
// every member of its committee (in node ID order) and, for the current epoch once the seed
// is fixed, the items of the requested node (Items; none for a node outside the committee).
// Items of earlier epochs are not kept: the index has changed since.
type ChallengeState struct {
	Epoch          uint32
	Phase          ChallengePhase
	Start          int64 // block time of the challenge start (the epoch change)
	RevealDeadline int64
	Blobs          uint64
	SampleSize     uint32
	Seed           [32]byte // valid from PhaseAnswer
	Revealed       uint32
	Members        []MemberChallenge
	Items          []ChallengeItem
}

func (s *ChallengeState) encode(e *bcs.Encoder) {
	e.U32(s.Epoch)
	e.U8(uint8(s.Phase))
	e.U64(uint64(s.Start))
	e.U64(uint64(s.RevealDeadline))
	e.U64(s.Blobs)
	e.U32(s.SampleSize)
	e.Fixed(s.Seed[:])
	e.U32(s.Revealed)
	e.Len(len(s.Members))
	for _, m := range s.Members {
		e.Fixed(m.Node[:])
		e.U16(m.Shards)
		e.Bool(m.Revealed)
		e.Bool(m.Passed)
		e.U32(m.Consecutive)
	}
	e.Len(len(s.Items))
	for i := range s.Items {
		s.Items[i].encode(e)
	}
}

func (s *ChallengeState) decode(d *bcs.Decoder) {
	s.Epoch = d.U32()
	s.Phase = ChallengePhase(d.U8())
	if s.Phase > PhaseSettled {
		d.Fail(errPhase)
	}
	s.Start = int64(d.U64())
	s.RevealDeadline = int64(d.U64())
	s.Blobs = d.U64()
	s.SampleSize = d.U32()
	s.Seed = fixed32(d)
	s.Revealed = d.U32()
	n := d.Len(maxListLen)
	for i := 0; i < n && d.Err() == nil; i++ {
		s.Members = append(s.Members, MemberChallenge{Node: fixed32(d), Shards: d.U16(), Revealed: d.Bool(), Passed: d.Bool(), Consecutive: d.U32()})
	}
	n = d.Len(MaxChallengeSampleSize)
	for i := 0; i < n && d.Err() == nil; i++ {
		var it ChallengeItem
		it.decode(d)
		s.Items = append(s.Items, it)
	}
}

// DecodeChallengeState decodes the response of QueryChallenge.
func DecodeChallengeState(b []byte) (ChallengeState, error) { return decodeBCS[ChallengeState](b) }

// Member returns the status of node, if it is a member.
func (s *ChallengeState) Member(node ObjectID) (MemberChallenge, bool) {
	for _, m := range s.Members {
		if m.Node == node {
			return m, true
		}
	}
	return MemberChallenge{}, false
}

var errPhase = fmt.Errorf("%w: challenge phase", bcs.ErrInvalidVariant)

// sliverSymbols returns the symbols of a primary and a secondary sliver for n shards (as
// redstuff.Config.SliverSymbols): n-f and n-2f.
func sliverSymbols(n int) [2]int {
	f := (n - 1) / 3
	return [2]int{n - f, n - 2*f}
}

// Challenge returns the challenge state of an epoch (see ChallengeState).
func (v *View) Challenge(r ChallengeRequest) (ChallengeState, error) {
	p, err := v.Params()
	if err != nil {
		return ChallengeState{}, err
	}
	if !p.Challenge.Enabled() {
		return ChallengeState{}, errorf(ErrChallengesDisabled, "query")
	}
	rec, ok := get[ChallengeRecord](v.s, keyChalRecord(r.Epoch))
	if !ok {
		return ChallengeState{}, errorf(ErrNotFound, "no challenge for epoch %d", r.Epoch)
	}
	sys, err := v.System()
	if err != nil {
		return ChallengeState{}, err
	}
	st := ChallengeState{Epoch: rec.Epoch, Start: rec.Start, RevealDeadline: rec.RevealDeadline, Blobs: rec.Blobs,
		SampleSize: rec.SampleSize, Revealed: rec.Revealed}
	switch {
	case rec.Epoch < sys.Epoch:
		st.Phase = PhaseSettled
	case rec.Blobs == 0:
		st.Phase = PhaseUnchallenged
	case rec.SeedFinal:
		st.Phase = PhaseAnswer
	}
	if rec.SeedFinal {
		st.Seed = rec.Seed
	}
	cmt, _ := getCommittee(v.s, rec.Epoch)
	for _, m := range cmt.Members {
		nc := getNodeChallenge(v.s, rec.Epoch, m.NodeID)
		st.Members = append(st.Members, MemberChallenge{Node: m.NodeID, Shards: uint16(len(m.Shards)), Revealed: nc.Revealed,
			Passed: nc.Passed, Consecutive: getStreak(v.s, m.NodeID)})
	}
	if r.HasNode && rec.Epoch == sys.Epoch && rec.SeedFinal && rec.Blobs > 0 {
		if i := cmt.index(r.Node); i >= 0 {
			st.Items = indexChallengeItems(v.s, rec.Seed, r.Node, cmt.Members[i].Shards, rec.Blobs, int(rec.SampleSize),
				sliverSymbols(int(p.NShards)))
		}
	}
	return st, nil
}

// Settings returns the governed parameters now.
func (v *View) Settings() (Settings, error) {
	p, ok := get[Params](v.s, keyParams())
	if !ok {
		return Settings{}, ErrNotInitialized
	}
	return loadSettings(v.s, &p), nil
}

// ProposalList is the answer of QueryProposals.
type ProposalList struct {
	Proposals []Proposal
}

func (l *ProposalList) encode(e *bcs.Encoder) {
	e.Len(len(l.Proposals))
	for i := range l.Proposals {
		l.Proposals[i].encode(e)
	}
}

func (l *ProposalList) decode(d *bcs.Decoder) {
	n := d.Len(MaxOpenProposals)
	for i := 0; i < n && d.Err() == nil; i++ {
		var p Proposal
		p.decode(d)
		l.Proposals = append(l.Proposals, p)
	}
}

// DecodeProposalList decodes the response of QueryProposals.
func DecodeProposalList(b []byte) (ProposalList, error) { return decodeBCS[ProposalList](b) }

// Proposals returns the proposals made in epoch, in ID order.
func (v *View) Proposals(epoch uint32) ProposalList {
	return ProposalList{Proposals: proposals(v.s, epoch)}
}
