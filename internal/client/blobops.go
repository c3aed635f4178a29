package client

import (
	"context"
	"fmt"

	"github.com/walrus-go/walrus/internal/chain"
)

// This file holds the operations on existing Blob objects besides delete and extend:
// burning, sharing, funding and extending shared blobs, and attributes. Each sends one
// chain transaction per object or attribute; a failure leaves the earlier ones done.

// Burn destroys owned Blob objects, one transaction each, in order, and returns the IDs
// burned before the first failure (the data stays on the nodes until expiry; the blob can
// no longer be extended or deleted). Errors: chain.ErrNotOwner, chain.ErrNotFound, ...
func (c *Client) Burn(ctx context.Context, objs []chain.ObjectID) ([]chain.ObjectID, error) {
	if c.cfg.Signer == nil {
		return nil, ErrNoWallet
	}
	var done []chain.ObjectID
	for _, o := range objs {
		if _, err := c.chain.Submit(ctx, c.cfg.Signer, &chain.BurnBlob{Blob: o}); err != nil {
			return done, fmt.Errorf("client: burning blob object %s: %w", o, err)
		}
		done = append(done, o)
	}
	return done, nil
}

// Share makes an owned Blob object shared, moving funds FROST (may be 0) from the wallet
// into it; the object keeps its ID. Anyone may then fund it and extend it from its funds.
func (c *Client) Share(ctx context.Context, obj chain.ObjectID, funds uint64) (*chain.Blob, error) {
	if c.cfg.Signer == nil {
		return nil, ErrNoWallet
	}
	if _, err := c.chain.Submit(ctx, c.cfg.Signer, &chain.ShareBlob{Blob: obj, Funds: funds}); err != nil {
		return nil, fmt.Errorf("client: sharing blob object %s: %w", obj, err)
	}
	return c.BlobObject(ctx, obj)
}

// FundShared adds amount FROST from the wallet to a shared blob's funds. Errors:
// chain.ErrSharedBlob if the blob is not shared, chain.ErrInsufficientFunds, ...
func (c *Client) FundShared(ctx context.Context, obj chain.ObjectID, amount uint64) (*chain.Blob, error) {
	if c.cfg.Signer == nil {
		return nil, ErrNoWallet
	}
	if _, err := c.chain.Submit(ctx, c.cfg.Signer, &chain.FundSharedBlob{Blob: obj, Amount: amount}); err != nil {
		return nil, fmt.Errorf("client: funding shared blob %s: %w", obj, err)
	}
	return c.BlobObject(ctx, obj)
}

// ExtendShared extends a shared blob by epochs, paid from the blob's own funds (the
// wallet pays only the fee). Errors: chain.ErrSharedBlob if the blob is not shared,
// chain.ErrInsufficientFunds if its funds do not cover the extension, ErrInvalidEpochs.
func (c *Client) ExtendShared(ctx context.Context, obj chain.ObjectID, epochs uint32) (*chain.Blob, error) {
	if c.cfg.Signer == nil {
		return nil, ErrNoWallet
	}
	if epochs == 0 {
		return nil, fmt.Errorf("%w: extend by at least 1 epoch", ErrInvalidEpochs)
	}
	if _, err := c.chain.Submit(ctx, c.cfg.Signer, &chain.ExtendSharedBlob{Blob: obj, Epochs: epochs}); err != nil {
		return nil, fmt.Errorf("client: extending shared blob %s: %w", obj, err)
	}
	return c.BlobObject(ctx, obj)
}

// SetAttributes inserts or updates attributes of an owned Blob object, one transaction
// per pair, in order, and returns the updated object. Keys must be non-empty UTF-8 of at
// most chain.MaxAttributeKeyLen bytes, values UTF-8 of at most chain.MaxAttributeValueLen.
func (c *Client) SetAttributes(ctx context.Context, obj chain.ObjectID, attrs []chain.Attribute) (*chain.Blob, error) {
	if c.cfg.Signer == nil {
		return nil, ErrNoWallet
	}
	for _, a := range attrs {
		if _, err := c.chain.Submit(ctx, c.cfg.Signer, &chain.SetBlobAttribute{Blob: obj, Key: a.Key, Value: a.Value}); err != nil {
			return nil, fmt.Errorf("client: setting attribute %q of blob object %s: %w", a.Key, obj, err)
		}
	}
	return c.BlobObject(ctx, obj)
}

// RemoveAttributes removes attributes of an owned Blob object by key, one transaction per
// key, in order, and returns the updated object. A key the blob does not have is
// chain.ErrUnknownAttribute.
func (c *Client) RemoveAttributes(ctx context.Context, obj chain.ObjectID, keys []string) (*chain.Blob, error) {
	if c.cfg.Signer == nil {
		return nil, ErrNoWallet
	}
	for _, k := range keys {
		if _, err := c.chain.Submit(ctx, c.cfg.Signer, &chain.RemoveBlobAttribute{Blob: obj, Key: k}); err != nil {
			return nil, fmt.Errorf("client: removing attribute %q of blob object %s: %w", k, obj, err)
		}
	}
	return c.BlobObject(ctx, obj)
}
