package chain

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/committee"
)

// quorumVerifier holds a committee's decoded BLS keys. It is derived from the committee record
// and cached by the App; the record bytes it was built from are kept to detect a stale entry.
type quorumVerifier struct {
	record []byte
	cmt    *committee.Committee
	keys   []bls.PublicKey // in member (node ID) order
	total  bls.PublicKey
}

func newQuorumVerifier(rec *CommitteeRecord, raw []byte) (*quorumVerifier, error) {
	members := make([]committee.Member, len(rec.Members))
	keys := make([]bls.PublicKey, len(rec.Members))
	for i, m := range rec.Members {
		shards := make([]int, len(m.Shards))
		for j, s := range m.Shards {
			shards[j] = int(s)
		}
		members[i] = committee.Member{NodeID: m.NodeID, PublicKey: m.PublicKey, Shards: shards}
		pk, err := bls.PublicKeyFromBytes(m.PublicKey[:])
		if err != nil {
			return nil, fmt.Errorf("chain: committee %d member %s: %w", rec.Epoch, m.NodeID, err)
		}
		keys[i] = pk
	}
	cmt, err := committee.New(rec.Epoch, int(rec.NShards), members)
	if err != nil {
		return nil, fmt.Errorf("chain: committee %d: %w", rec.Epoch, err)
	}
	total, err := bls.PublicKeyFromBytes(rec.AggregateKey[:])
	if err != nil {
		return nil, fmt.Errorf("chain: committee %d aggregate key: %w", rec.Epoch, err)
	}
	return &quorumVerifier{record: raw, cmt: cmt, keys: keys, total: total}, nil
}

// verifier returns the verifier of the committee of epoch as stored in kv.
func (a *App) verifier(kv Store, epoch uint32) (*quorumVerifier, error) {
	raw, ok := kv.Get(keyCommittee(epoch))
	if !ok {
		return nil, fmt.Errorf("chain: no committee for epoch %d", epoch)
	}
	if v, ok := a.cache[epoch]; ok && bytes.Equal(v.record, raw) {
		return v, nil
	}
	rec, err := decodeBCS[CommitteeRecord](raw)
	if err != nil {
		return nil, err
	}
	v, err := newQuorumVerifier(&rec, bytes.Clone(raw))
	if err != nil {
		return nil, err
	}
	a.cache[epoch] = v
	return v, nil
}

// verifyCertificate checks an aggregate certificate over msg by the committee of the current
// epoch: the bitmap must name only members, the signers must reach the threshold, and the
// aggregate signature must verify under the signers' aggregate key (the committee's aggregate
// minus the non-signers', as Walrus's bls_aggregate.move).
func (c *ctx) verifyCertificate(cert *Certificate, threshold func(weight, n int) bool) error {
	v, err := c.app.verifier(c.kv, c.sys.Epoch)
	if err != nil {
		return err
	}
	weight, err := v.cmt.WeightOfSigners(cert.Signers)
	if err != nil {
		return errorf(ErrNotCommitteeMember, "signer bitmap: %v", err)
	}
	if !threshold(weight, v.cmt.NShards()) {
		return errorf(ErrNoQuorum, "signers hold %d of %d shards", weight, v.cmt.NShards())
	}
	sig, err := bls.SignatureFromBytes(cert.Signature[:])
	if err != nil {
		return errorf(ErrBadCertificate, "%v", err)
	}
	non, err := v.cmt.NonSigners(cert.Signers)
	if err != nil {
		return errorf(ErrNotCommitteeMember, "signer bitmap: %v", err)
	}
	nonKeys := make([]bls.PublicKey, len(non))
	for i, idx := range non {
		nonKeys[i] = v.keys[idx]
	}
	agg, err := bls.SubtractPublicKeys(v.total, nonKeys)
	if err != nil {
		return errorf(ErrBadCertificate, "signer key: %v", err)
	}
	c.app.pairings++
	if err := bls.Verify(agg, cert.Message, sig); err != nil {
		if errors.Is(err, bls.ErrVerify) {
			return errorf(ErrBadCertificate, "aggregate signature does not verify")
		}
		return errorf(ErrBadCertificate, "%v", err)
	}
	return nil
}

// quorumBelow returns the lowest value v such that members holding a quorum of shards voted
// at most v, as Walrus's staking_inner::quorum_below: walking the votes from the highest,
// the first value at which the weight seen reaches f+1 (f = (n-1)/3).
func quorumBelow(votes []weightedVote, n int) uint64 {
	return thresholdValue(votes, (n-1)/3+1)
}

// quorumAbove returns the highest value v such that members holding a quorum of shards voted
// at least v (Walrus quorum_above): walking from the highest vote, the first value at which the
// weight seen reaches n-f.
func quorumAbove(votes []weightedVote, n int) uint64 {
	return thresholdValue(votes, n-(n-1)/3)
}

type weightedVote struct {
	value  uint64
	weight int
}

func thresholdValue(votes []weightedVote, threshold int) uint64 {
	sorted := append([]weightedVote(nil), votes...)
	// Descending by value; equal values are interchangeable, so the order among them does
	// not matter for the result.
	slices.SortStableFunc(sorted, func(a, b weightedVote) int { return cmp.Compare(b.value, a.value) })
	sum := 0
	for _, v := range sorted {
		sum += v.weight
		if sum >= threshold {
			return v.value
		}
	}
	if len(sorted) == 0 {
		return 0
	}
	return sorted[len(sorted)-1].value
}
