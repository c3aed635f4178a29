package testnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/committee"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// StoreOptions configure Store and StoreEncoded.
type StoreOptions struct {
	// Epochs is how many epochs ahead the storage is reserved; default 5.
	Epochs uint32
	// Deletable registers a deletable blob; the default is a permanent one.
	Deletable bool
	// Skip lists network addresses of nodes that get no slivers (client.StoreOptions.ExcludeNodes);
	// they are not asked for confirmations either.
	Skip []string
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

// SDK returns the client (package client) that Store uses: it pays with Wallet,
// waits up to a minute for nodes to catch up with the chain, follows epoch changes for
// as long as a test runs, and lets every upload finish (no tail deadline). It is made on
// first use, and again after the validator restarts in-process (Chain changes).
func (n *Cluster) SDK() *client.Client {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sdk != nil && n.sdk.Chain() == n.Chain {
		return n.sdk
	}
	c, err := client.New(client.Config{
		Chain: n.Chain, Signer: n.Wallet, Logger: n.Opts.Logger.With("component", "client"),
		HTTPClient:            &http.Client{Transport: nodetls.NewTransport(nil)},
		RequestTimeout:        time.Minute,
		RegistrationTimeout:   time.Minute,
		MaxEpochChangeRetries: 1000,
		TailBase:              time.Hour,
	})
	if err != nil {
		n.T.Fatal(err)
	}
	if n.sdk != nil {
		old := n.sdk
		go old.Close() //nolint:errcheck // waits for the old client's tail uploads
	}
	n.sdk = c
	return c
}

// Store stores data through the client SDK (SDK): it encodes the blob, reserves storage
// and registers it (or reuses the wallet's uncertified registration of the same blob, see
// Register), uploads each node's sliver pairs, collects a quorum of confirmations and
// certifies the blob, following epoch changes. It returns once every node not skipped got
// its slivers or failed for good (no node is left to recover what a client would have
// sent).
//
// If the registration ends before the blob is certified (a short one overtaken by an
// epoch change on a loaded machine), it fails with an error wrapping chain.ErrExpired;
// the caller may store again with a new registration.
func (n *Cluster) Store(ctx context.Context, data []byte, o StoreOptions) (*Blob, error) {
	if o.Epochs == 0 {
		o.Epochs = 5
	}
	sdk := n.SDK()
	eb, err := n.Enc.Encode(data)
	if err != nil {
		return nil, err
	}
	sys, err := n.Chain.System(ctx)
	if err != nil {
		return nil, err
	}
	res, err := sdk.Store(ctx, data, client.StoreOptions{Epochs: o.Epochs, Permanent: !o.Deletable, Force: true, ExcludeNodes: o.Skip})
	sdk.WaitTail()
	if err != nil {
		if ended := n.registrationEnded(ctx, eb.Metadata.BlobID, sys.Epoch); ended != nil {
			return nil, fmt.Errorf("blob %s: %w (%w)", eb.Metadata.BlobID, ended, err)
		}
		return nil, err
	}
	if res.NewlyCreated == nil {
		return nil, fmt.Errorf("testnet: blob %s: the client created no Blob object", eb.Metadata.BlobID)
	}
	obj := res.NewlyCreated.BlobObject
	b := &Blob{ID: eb.Metadata.BlobID, Data: data, Encoded: eb, Deletable: obj.Deletable}
	if b.Object, err = chain.ParseObjectID(obj.ID); err != nil {
		return nil, err
	}
	if obj.CertifiedEpoch != nil {
		b.Epoch = *obj.CertifiedEpoch
	}
	return b, nil
}

// registrationEnded returns an error wrapping chain.ErrExpired if the wallet owns an
// uncertified registration of blob id, made in epoch since or later (by the store that
// failed, not an earlier attempt), that has ended, or nil.
func (n *Cluster) registrationEnded(ctx context.Context, id redstuff.BlobID, since uint32) error {
	sys, err := n.Chain.System(ctx)
	if err != nil {
		return nil
	}
	objs, err := n.Chain.AllOwned(ctx, n.Wallet.Address(), chain.KindBlob)
	if err != nil {
		return nil
	}
	for _, o := range objs {
		if b, ok := o.(*chain.Blob); ok && b.BlobID == id && !b.Certified && b.RegisteredEpoch >= since && b.EndEpoch() <= sys.Epoch {
			return fmt.Errorf("registration ended at epoch %d before certification (epoch %d): %w", b.EndEpoch(), sys.Epoch, chain.ErrExpired)
		}
	}
	return nil
}

// Read reads a blob from the nodes, whatever its status on chain (a blob kept only by an
// uncertified registration, which a client refuses to read), during or outside an epoch
// change: metadata
// from any node, then primary slivers from the shards' owners in the current committee or,
// for shards that moved at the start of the epoch, their previous owners; each verified,
// then decoded with Walrus's default consistency check.
func (n *Cluster) Read(ctx context.Context, id redstuff.BlobID) ([]byte, error) {
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

// Register reserves storage for an encoded blob and registers it with Wallet; it returns
// the Blob object. A later Store of the same data (same Deletable, no more Epochs) reuses
// this registration, as a client reuses the uncertified registrations it owns.
func (n *Cluster) Register(ctx context.Context, eb *redstuff.EncodedBlob, epochs uint32, deletable bool) (chain.ObjectID, error) {
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

// StoreEncoded stores an encoding built by the caller, one that no client would make (an
// inconsistent one, to test invalid-blob attestations): it registers the blob, uploads to
// every node not skipped, aggregates their confirmations and certifies the blob, starting
// over with the new committee if the epoch changes. Consistent blobs go through Store.
//
// If the registration ends before the blob is certified, it fails with an error wrapping
// chain.ErrExpired.
func (n *Cluster) StoreEncoded(ctx context.Context, eb *redstuff.EncodedBlob, o StoreOptions) (*Blob, error) {
	b := &Blob{ID: eb.Metadata.BlobID, Encoded: eb, Deletable: o.Deletable}
	var err error
	if b.Object, err = n.Register(ctx, eb, o.Epochs, o.Deletable); err != nil {
		return nil, err
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
func (n *Cluster) confirm(ctx context.Context, cmt chain.CommitteeInfo, b *Blob, skip map[string]bool) (chain.Certificate, error) {
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
func (n *Cluster) retry(ctx context.Context, epoch uint32, fn func() error) error {
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

// HoldsAll reports whether the node at addr stores both slivers of blob id in each of
// shards.
func (n *Cluster) HoldsAll(ctx context.Context, addr string, id redstuff.BlobID, shards []uint16) (bool, error) {
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
