package client

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/uploadrelay"
)

// RelayUpload does an upload relay's work (it implements uploadrelay.Uploader): it
// encodes data for the current committee, checks that it encodes to id, uploads the
// slivers and metadata and returns the certificate of a quorum of confirmations, for a
// permanent blob (deletable nil) or for the deletable Blob object *deletable. It needs no
// wallet: the blob must already be registered, and the caller certifies it. If the epoch
// moves during the upload, it uploads again to the new committee.
//
// Errors: an error wrapping uploadrelay.ErrBlobIDMismatch, ErrTooLarge, ErrNoQuorum,
// chain and context errors.
func (c *Client) RelayUpload(ctx context.Context, data []byte, id redstuff.BlobID, deletable *chain.ObjectID) (chain.Certificate, error) {
	params, err := c.chain.Params(ctx)
	if err != nil {
		return chain.Certificate{}, fmt.Errorf("client: %w", err)
	}
	enc, err := c.Encoding(int(params.NShards))
	if err != nil {
		return chain.Certificate{}, err
	}
	if max := enc.MaxBlobSize(); uint64(len(data)) > max {
		return chain.Certificate{}, fmt.Errorf("%w: %d bytes, the maximum is %d bytes for %d shards", ErrTooLarge, len(data), max, params.NShards)
	}
	eb, err := c.encoders.encode(enc, data)
	if err != nil {
		return chain.Certificate{}, fmt.Errorf("client: encoding: %w", err)
	}
	ctx, doneWithEncoding := c.holdEncoding(ctx, enc, eb)
	defer doneWithEncoding()
	if eb.Metadata.BlobID != id {
		return chain.Certificate{}, fmt.Errorf("%w: the blob encodes to %s, not %s", uploadrelay.ErrBlobIDMismatch, eb.Metadata.BlobID, id)
	}
	p := sn.Persistence{}
	if deletable != nil {
		p = sn.Persistence{Deletable: true, ObjectID: sn.ObjectID(*deletable)}
	}
	st := &StoreStats{}
	var lastErr error
	for attempt := 0; attempt <= c.cfg.MaxEpochChangeRetries; attempt++ {
		sys, err := c.chain.System(ctx)
		if err != nil {
			return chain.Certificate{}, fmt.Errorf("client: %w", err)
		}
		view, err := c.committee(ctx, sys.Epoch)
		if err != nil {
			return chain.Certificate{}, err
		}
		if view.n != len(eb.Pairs) {
			return chain.Certificate{}, fmt.Errorf("client: the committee of epoch %d has %d shards, the blob was encoded for %d", view.epoch, view.n, len(eb.Pairs))
		}
		cert, err := c.collect(ctx, view, eb, registered(p), st, nil)
		if errors.Is(err, ErrNoQuorum) {
			if now, serr := c.chain.System(ctx); serr == nil && now.Epoch != view.epoch {
				lastErr = err
				continue
			}
		}
		return cert, err
	}
	return chain.Certificate{}, fmt.Errorf("client: uploading blob %s: the epoch kept changing: %w", id, lastErr)
}

// EncodedLength returns the encoded length of a blob of n bytes on the network (it
// implements uploadrelay.Uploader).
func (c *Client) EncodedLength(ctx context.Context, n uint64) (uint64, error) {
	params, err := c.chain.Params(ctx)
	if err != nil {
		return 0, fmt.Errorf("client: %w", err)
	}
	enc, err := c.Encoding(int(params.NShards))
	if err != nil {
		return 0, err
	}
	l, err := enc.EncodedLength(n)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return l, nil
}

// relayTip returns the tip the store's upload relay asks for a blob of encLen encoded
// bytes and where to pay it; 0 if none. A tip above opts.MaxTip is ErrTipRefused.
func relayTip(ctx context.Context, opts StoreOptions, encLen uint64) (uint64, chain.Address, error) {
	cfg, err := opts.UploadRelay.TipConfig(ctx)
	if err != nil {
		return 0, chain.Address{}, fmt.Errorf("client: asking the upload relay for its tip: %w", err)
	}
	if !cfg.RequiresTip() {
		return 0, chain.Address{}, nil
	}
	tip, ok := cfg.Tip(encLen)
	if !ok {
		return 0, chain.Address{}, fmt.Errorf("%w: the upload relay's tip overflows", ErrCostOverflow)
	}
	if tip > opts.MaxTip {
		return 0, chain.Address{}, fmt.Errorf("%w: the upload relay asks a tip of %d FROST, the limit is %d FROST", ErrTipRefused, tip, opts.MaxTip)
	}
	return tip, cfg.Address, nil
}

// relayCertificate pays the relay's tip (if any), sends data to the upload relay and
// returns the certificate it answers with.
func (c *Client) relayCertificate(ctx context.Context, data []byte, m *redstuff.Metadata, obj chain.ObjectID, deletable bool, tip uint64, payee chain.Address, opts StoreOptions, st *StoreStats) (chain.Certificate, error) {
	p := uploadrelay.Params{BlobID: m.BlobID, EncodingType: m.EncodingType}
	if deletable {
		p.DeletableBlobObject = &obj
	}
	if tip > 0 {
		if _, err := rand.Read(p.Nonce[:]); err != nil {
			return chain.Certificate{}, fmt.Errorf("client: %w", err)
		}
		memo := uploadrelay.NewAuthPackage(data, p.Nonce).Encode()
		res, err := c.chain.Submit(ctx, c.cfg.Signer, &chain.TransferWithMemo{To: payee, Amount: tip, Memo: memo})
		st.Transactions++
		if err != nil {
			return chain.Certificate{}, fmt.Errorf("client: paying the upload relay's tip of %d FROST: %w", tip, err)
		}
		p.TxID, p.HasTip = res.Digest, true
	}
	t := time.Now()
	resp, err := opts.UploadRelay.Upload(ctx, p, data)
	st.Upload += time.Since(t)
	if err != nil {
		return chain.Certificate{}, fmt.Errorf("client: storing blob %s through the upload relay: %w", m.BlobID, err)
	}
	return resp.Certificate.Chain()
}
