package nodenet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/committee"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// StoreOptions configure Store.
type StoreOptions struct {
	// Epochs is how many epochs ahead the storage is reserved; default 5.
	Epochs uint32
	// Deletable registers a deletable blob.
	Deletable bool
	// Skip lists network addresses of nodes that get no slivers (as if the client skipped
	// them); they are not asked for confirmations either.
	Skip []string
	// Object reuses an existing registration instead of registering the blob (set by
	// StoreEncoded callers that registered it themselves).
	Object *chain.ObjectID
}

// Blob is a blob stored by Store.
type Blob struct {
	ID        redstuff.BlobID
	Data      []byte
	Encoded   *redstuff.EncodedBlob
	Object    chain.ObjectID
	Deletable bool
	// Epoch is the epoch of the certificate.
	Epoch uint32
}

// Store encodes data and stores it the way a client does: reserve storage and register the
// blob on chain, upload each node's sliver pairs in one batched request, collect
// confirmations from nodes holding a quorum of shards, aggregate them and certify the
// blob. If the epoch changes before the certificate lands, it uploads to the new committee
// and certifies again.
func (n *Net) Store(ctx context.Context, data []byte, o StoreOptions) (*Blob, error) {
	eb, err := n.Enc.Encode(data)
	if err != nil {
		return nil, err
	}
	b, err := n.StoreEncoded(ctx, eb, o)
	if err != nil {
		return nil, err
	}
	b.Data = data
	return b, nil
}

// Register reserves storage for an encoded blob and registers it; it returns the Blob
// object.
func (n *Net) Register(ctx context.Context, eb *redstuff.EncodedBlob, epochs uint32, deletable bool) (chain.ObjectID, error) {
	if epochs == 0 {
		epochs = 5
	}
	m := eb.Metadata
	size, err := n.Enc.EncodedLength(m.UnencodedLength)
	if err != nil {
		return chain.ObjectID{}, err
	}
	res, err := n.Chain.Submit(ctx, n.Wallet, &chain.ReserveAndRegister{
		StorageSize: size, EpochsAhead: epochs, BlobID: m.BlobID, RootHash: m.Root(), Size: m.UnencodedLength,
		EncodingType: redstuff.EncodingRS2, Deletable: deletable,
	})
	if err != nil {
		return chain.ObjectID{}, fmt.Errorf("reserve and register: %w", err)
	}
	return res.Created[1], nil
}

// StoreEncoded is Store for an encoding built by the caller (an inconsistent one, say).
//
// If the registration ends before the blob is certified (a short one overtaken by an
// epoch change on a loaded machine), it fails with an error wrapping chain.ErrExpired
// instead of uploading again to nodes that have dropped the registration; the caller may
// store again with a new registration.
func (n *Net) StoreEncoded(ctx context.Context, eb *redstuff.EncodedBlob, o StoreOptions) (*Blob, error) {
	b := &Blob{ID: eb.Metadata.BlobID, Encoded: eb, Deletable: o.Deletable}
	if o.Object != nil {
		b.Object = *o.Object
	} else {
		var err error
		if b.Object, err = n.Register(ctx, eb, o.Epochs, o.Deletable); err != nil {
			return nil, err
		}
	}
	obj, err := n.Chain.Blob(ctx, b.Object)
	if err != nil {
		return nil, fmt.Errorf("blob object: %w", err)
	}
	end := obj.EndEpoch()
	skip := map[string]bool{}
	for _, a := range o.Skip {
		skip[a] = true
	}
	for {
		cmt, err := n.Chain.Committee(ctx)
		if err != nil {
			return nil, err
		}
		if cmt.Epoch >= end {
			return nil, fmt.Errorf("blob %s: registration ended at epoch %d before certification (epoch %d): %w", b.ID, end, cmt.Epoch, chain.ErrExpired)
		}
		cert, err := n.confirm(ctx, cmt, b, skip)
		if err != nil {
			if now, qerr := n.Chain.Committee(ctx); qerr == nil && now.Epoch != cmt.Epoch {
				continue // the committee changed while collecting confirmations
			}
			return nil, err
		}
		_, err = n.Chain.Submit(ctx, n.Wallet, &chain.CertifyBlob{Blob: b.Object, Certificate: cert})
		if errors.Is(err, chain.ErrWrongEpoch) {
			continue // the committee changed: upload to the new one
		}
		if err != nil {
			return nil, fmt.Errorf("certify: %w", err)
		}
		b.Epoch = cmt.Epoch
		return b, nil
	}
}

// confirm uploads the blob to every member of cmt not skipped and returns the certificate
// of their confirmations.
func (n *Net) confirm(ctx context.Context, cmt chain.CommitteeInfo, b *Blob, skip map[string]bool) (chain.Certificate, error) {
	m := b.Encoded.Metadata
	msg := chain.ConfirmationMessage(cmt.Epoch, b.ID, b.Deletable, b.Object)
	type result struct {
		sig bls.Signature
		err error
	}
	results := make([]result, len(cmt.Members))
	var wg sync.WaitGroup
	for i, mem := range cmt.Members {
		if skip[mem.NetworkAddress] {
			results[i].err = errors.New("skipped")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := n.Client(mem.NetworkAddress)
			var pairs []*redstuff.SliverPair
			for _, s := range mem.Shards {
				pairs = append(pairs, &b.Encoded.Pairs[b.ID.ShardPair(int(s), n.Enc.NShards())])
			}
			err := n.retry(ctx, cmt.Epoch, func() error {
				_, err := c.StoreSlivers(ctx, m, pairs)
				return err
			})
			if err != nil {
				results[i].err = fmt.Errorf("upload to %s: %w", mem.Name, err)
				return
			}
			var signed sn.SignedMessage
			err = n.retry(ctx, cmt.Epoch, func() error {
				var err error
				signed, err = c.Confirmation(ctx, b.ID, sn.Persistence{Deletable: b.Deletable, ObjectID: sn.ObjectID(b.Object)})
				if err == nil && !bytes.Equal(signed.Message, msg) {
					err = fmt.Errorf("%w: confirmation of another message: %x", errOtherEpoch, signed.Message)
				}
				return err
			})
			if err != nil {
				results[i].err = fmt.Errorf("confirmation from %s: %w", mem.Name, err)
				return
			}
			pk, err := bls.PublicKeyFromBytes(mem.PublicKey[:])
			if err == nil {
				err = bls.Verify(pk, msg, signed.Signature)
			}
			results[i] = result{sig: signed.Signature, err: err}
		}()
	}
	wg.Wait()
	var sigs []bls.Signature
	bitmap := make([]byte, (len(cmt.Members)+7)/8)
	weight := 0
	var errs []error
	for i, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		sigs = append(sigs, r.sig)
		bitmap[i/8] |= 1 << (i % 8)
		weight += len(cmt.Members[i].Shards)
	}
	if !committee.Quorum(weight, int(cmt.NShards)) {
		return chain.Certificate{}, fmt.Errorf("confirmations of %d of %d shards: %w", weight, cmt.NShards, errors.Join(errs...))
	}
	agg, err := bls.AggregateSignatures(sigs)
	if err != nil {
		return chain.Certificate{}, err
	}
	return chain.Certificate{Signers: bitmap, Message: msg, Signature: agg.Bytes()}, nil
}

// errOtherEpoch is a confirmation signed in another epoch: the node has not applied the
// epoch change yet.
var errOtherEpoch = errors.New("node at another epoch")

// retry calls fn until it succeeds, fails with an error other than the node not having
// caught up with the chain yet (registration or epoch not seen, slivers of a shard it is
// still taking over), the chain leaves epoch (the caller then starts over with the new
// committee, or gives up if the registration ended), or 60 s pass.
func (n *Net) retry(ctx context.Context, epoch uint32, fn func() error) error {
	deadline := time.Now().Add(60 * time.Second)
	var checked time.Time
	for {
		err := fn()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		if !errors.Is(err, errOtherEpoch) && !errors.Is(err, sn.ErrNotRegistered) && !errors.Is(err, sn.ErrShardNotAssigned) && !errors.Is(err, sn.ErrMissingSlivers) &&
			!errors.Is(err, sn.ErrOverloaded) && !errors.Is(err, sn.ErrShardLocked) {
			return err
		}
		if time.Since(checked) >= 100*time.Millisecond {
			checked = time.Now()
			if sys, serr := n.Chain.System(ctx); serr == nil && sys.Epoch != epoch {
				return fmt.Errorf("%w (the chain moved on to epoch %d)", err, sys.Epoch)
			}
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
}

// Read reads a blob the way a client does during or outside an epoch change: metadata
// from any node, then primary slivers from the shards' owners in the current committee or,
// for shards that moved at the start of the epoch, their previous owners; each verified,
// then decoded with Walrus's default consistency check.
func (n *Net) Read(ctx context.Context, id redstuff.BlobID) ([]byte, error) {
	cur, err := n.Chain.Committee(ctx)
	if err != nil {
		return nil, err
	}
	nShards := n.Enc.NShards()
	holders := make([][]string, nShards)
	for _, mem := range cur.Members {
		for _, s := range mem.Shards {
			holders[s] = append(holders[s], mem.NetworkAddress)
		}
	}
	if cur.Epoch > 0 {
		prev, err := n.Chain.CommitteeAt(ctx, cur.Epoch-1)
		if err != nil {
			return nil, err
		}
		for _, mem := range prev.Members {
			for _, s := range mem.Shards {
				if holders[s][0] != mem.NetworkAddress {
					holders[s] = append(holders[s], mem.NetworkAddress)
				}
			}
		}
	}
	var m *redstuff.Metadata
	var lastErr error
	for _, mem := range cur.Members {
		got, err := n.Client(mem.NetworkAddress).Metadata(ctx, id)
		if err == nil {
			err = n.Enc.VerifyMetadata(got)
		}
		if err == nil {
			m = got
			break
		}
		lastErr = err
	}
	if m == nil {
		return nil, fmt.Errorf("no metadata: %w", lastErr)
	}
	slivers := make([]*redstuff.Sliver, nShards)
	errs := make([]error, nShards)
	var wg sync.WaitGroup
	for p := range nShards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, addr := range holders[id.PairShard(p, nShards)] {
				s, err := n.Client(addr).Sliver(ctx, id, p, redstuff.Primary)
				if err == nil {
					err = n.Enc.VerifySliver(m, s)
				}
				if err == nil {
					slivers[p], errs[p] = s, nil
					return
				}
				errs[p] = fmt.Errorf("primary sliver %d from %s: %w", p, addr, err)
			}
		}()
	}
	wg.Wait()
	var have []*redstuff.Sliver
	for _, s := range slivers {
		if s != nil {
			have = append(have, s)
		}
	}
	if len(have) < n.Enc.SourceSymbols(redstuff.Primary) {
		return nil, fmt.Errorf("%d of %d primary slivers: %w", len(have), n.Enc.SourceSymbols(redstuff.Primary), errors.Join(errs...))
	}
	return n.Enc.Decode(m, have, redstuff.ConsistencyDefault)
}

// HoldsAll reports whether the node at addr stores both slivers of blob id in each of
// shards.
func (n *Net) HoldsAll(ctx context.Context, addr string, id redstuff.BlobID, shards []uint16) (bool, error) {
	c := n.Client(addr)
	for _, s := range shards {
		p := id.ShardPair(int(s), n.Enc.NShards())
		for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
			st, err := c.SliverStatus(ctx, id, p, a)
			if err != nil || st != sn.StatusStored {
				return false, nil
			}
		}
	}
	return true, nil
}
