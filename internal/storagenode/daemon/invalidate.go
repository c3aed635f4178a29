package daemon

import (
	"bytes"
	"context"
	"fmt"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/committee"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// invalidate proves that blob id is invalid (walrus-spec §3.8): it sends the inconsistency
// proof to every member of the current committee (this node verifies it itself), collects
// their signed invalid-blob messages until the signers hold at least f+1 shards (3w >= n+1),
// aggregates the signatures into a certificate and submits the chain's invalidate
// transaction. The chain then emits InvalidBlobID, which makes every node delete the
// blob's data. Only one invalidation of a blob runs at a time.
func (d *Daemon) invalidate(ctx context.Context, id redstuff.BlobID, proof *redstuff.InconsistencyProof) error {
	d.invalidMu.Lock()
	if d.invalidating[id] {
		d.invalidMu.Unlock()
		return nil
	}
	d.invalidating[id] = true
	d.invalidMu.Unlock()
	defer func() {
		d.invalidMu.Lock()
		delete(d.invalidating, id)
		d.invalidMu.Unlock()
	}()

	epoch := d.node.Epoch()
	cmt, err := d.view.committee(ctx, epoch)
	if err != nil {
		return err
	}
	msg := chain.InvalidBlobMessage(epoch, id)
	type vote struct {
		member int
		sig    bls.Signature
		ok     bool
	}
	askCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	votes := make(chan vote, len(cmt.info.Members))
	for i, m := range cmt.info.Members {
		go func() {
			var signed sn.SignedMessage
			var err error
			if i == cmt.self {
				signed, err = d.node.VerifyInconsistency(askCtx, id, proof)
			} else {
				c, cerr := d.view.client(peerOf(m))
				if cerr != nil {
					votes <- vote{member: i}
					return
				}
				signed, err = peerCall(d, askCtx, func(ctx context.Context) (sn.SignedMessage, error) {
					return c.InconsistencyProof(ctx, id, proof)
				})
			}
			if err != nil {
				d.log.Debug("inconsistency proof not attested", "blob", id, "member", m.NodeID, "err", err)
				votes <- vote{member: i}
				return
			}
			if !bytes.Equal(signed.Message, msg) || bls.Verify(cmt.keys[i], msg, signed.Signature) != nil {
				d.metrics.badResponse(&d.counters, "invalid_blob_signature")
				votes <- vote{member: i}
				return
			}
			votes <- vote{member: i, sig: signed.Signature, ok: true}
		}()
	}
	var signers []int
	var sigs []bls.Signature
	weight := 0
	n := int(cmt.info.NShards)
	for range cmt.info.Members {
		v := <-votes
		if !v.ok {
			continue
		}
		signers = append(signers, v.member)
		sigs = append(sigs, v.sig)
		weight += cmt.weight(v.member)
		if committee.Validity(weight, n) {
			break
		}
	}
	cancel()
	if !committee.Validity(weight, n) {
		return fmt.Errorf("daemon: invalid-blob attestations of %d of %d shards, need 3w >= n+1", weight, n)
	}
	agg, err := bls.AggregateSignatures(sigs)
	if err != nil {
		return err
	}
	cert := chain.Certificate{Signers: signerBitmap(signers), Message: msg, Signature: agg.Bytes()}
	if _, err := d.chain.Submit(ctx, d.wallet, &chain.InvalidateBlobID{Certificate: cert}); err != nil {
		return fmt.Errorf("daemon: submitting the invalidation of %s: %w", id, err)
	}
	d.counters.invalidated.Add(1)
	d.log.Info("submitted invalid-blob certificate", "blob", id, "epoch", epoch, "signer_shards", weight)
	return nil
}

// signerBitmap returns the signer bitmap of a certificate: bit i of byte k is set when
// committee member 8k+i (in node ID order) signed.
func signerBitmap(members []int) []byte {
	top := -1
	for _, m := range members {
		top = max(top, m)
	}
	b := make([]byte, top/8+1)
	for _, m := range members {
		b[m/8] |= 1 << (m % 8)
	}
	return b
}
