package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/walrus-go/walrus/internal/bls"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// CommitteeMembers answers whether a key belongs to a committee member of an epoch, for
// authorizing challenge answer requests. The node's daemon implements it with the chain's
// committees; the handler asks only about the epoch of the node's installed challenge, so
// a cached implementation answers from memory. Errors other than storagenode sentinels
// are reported as unavailable.
type CommitteeMembers interface {
	// IsMember reports whether pk is the key of a member of the committee of epoch.
	IsMember(ctx context.Context, epoch uint32, pk bls.PublicKey) (bool, error)
}

// DefaultMaxChallengeAnswers is the default of Options.MaxChallengeAnswers.
const DefaultMaxChallengeAnswers = 64

// POST /v1/challenges/answers: the body is a BCS SignedMessage over a challenge answers
// request (storagenode.ChallengeAnswersMessage) signed by a committee member of the
// request's epoch. The answer is the BCS storagenode.EncodeChallengeAnswers of this
// node's own challenged items [start, start+count) of that epoch, count clipped to
// Options.MaxChallengeAnswers (a verifier pages through the items).
//
// The request is checked cheapest first: the body (at most storagenode.
// MaxSignedMessageSize bytes) is read within BodyGrace and parsed (400); the epoch must
// be that of the node's installed challenge (ErrInvalidEpoch); only then does it take a
// symbol slot (429 if none is free), verify the signature (403) and ask whether the
// requester is a committee member (403 if not).
func (h *Handler) postChallengeAnswers(w http.ResponseWriter, r *http.Request) error {
	if h.opts.ChallengeMembers == nil {
		return fmt.Errorf("%w: storage challenges are not enabled on this node", sn.ErrUnavailable)
	}
	body, done, err := h.readBody(w, r, sn.MaxSignedMessageSize)
	if err != nil {
		return err
	}
	defer done()
	signed, err := sn.DecodeSignedMessage(body)
	if err != nil {
		return err
	}
	if ch := h.node.Challenge(); ch.Epoch == 0 && len(ch.Items) == 0 {
		return &sn.EpochError{Server: h.node.Epoch(), Detail: "the node has no challenge installed"}
	}
	if !tryAcquire(h.symbols) {
		return fmt.Errorf("%w: %d symbol requests in flight", sn.ErrOverloaded, cap(h.symbols))
	}
	defer release(h.symbols)
	req, err := sn.VerifyChallengeAnswersRequest(signed)
	if err != nil {
		return err
	}
	ok, err := h.opts.ChallengeMembers.IsMember(r.Context(), req.Epoch, req.Requester)
	switch {
	case err != nil && known(err):
		return err
	case err != nil:
		return fmt.Errorf("%w: looking up the committee of epoch %d: %v", sn.ErrUnavailable, req.Epoch, err)
	case !ok:
		return fmt.Errorf("%w: %s is not a committee member in epoch %d", sn.ErrUnauthorized, req.Requester, req.Epoch)
	}
	answers, err := h.node.ChallengeAnswers(req.Epoch, int(req.Start), int(min(req.Count, uint32(h.opts.MaxChallengeAnswers))))
	if err != nil {
		return err
	}
	writeBytes(w, sn.EncodeChallengeAnswers(answers))
	return nil
}

// GET /v1/challenges/{epoch}/attestations/{node_id}: this node's signed attestation
// (JSON SignedMessage in the success envelope) that the committee member with chain node
// ID node_id (0x-prefixed hex) passed its challenge of epoch, once this node has verified
// its answers; 404 NOT_ATTESTED before. Attestations are public: anyone may fetch them
// and submit a certificate.
func (h *Handler) getAttestation(w http.ResponseWriter, r *http.Request) {
	epoch, err := strconv.ParseUint(r.PathValue("epoch"), 10, 32)
	if err != nil {
		h.fail(w, r, fmt.Errorf("%w: epoch %q", sn.ErrMalformed, r.PathValue("epoch")))
		return
	}
	node, err := sn.ParseObjectID(r.PathValue("node_id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	m, err := h.node.Attestation(uint32(epoch), node)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeSuccess(w, http.StatusOK, m)
}
