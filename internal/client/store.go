package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/uploadrelay"
)

// StoreOptions configures a store.
type StoreOptions struct {
	// Epochs is the number of epochs to store the blob for, counting the current one
	// (the blob expires at the start of epoch current+Epochs). Exactly one of Epochs and
	// EndEpoch must be set.
	Epochs uint32
	// EndEpoch is the exclusive end epoch, an alternative to Epochs.
	EndEpoch uint32
	// Permanent registers a permanent blob; the default is deletable, as Walrus does
	// since v1.33.
	Permanent bool
	// Force stores even if the blob is already certified for long enough.
	Force bool
	// DryRun only encodes the blob and computes the cost; nothing is sent.
	DryRun bool
	// SendTo, if not the zero address, receives the newly created Blob object once it is
	// certified (Walrus's send_object_to); an already certified blob is not sent. Not
	// with Share.
	SendTo chain.Address
	// Share makes the newly created Blob object shared once it is certified (Walrus's
	// share), with no funds: anyone may then fund and extend it. Not with SendTo.
	Share bool
	// Progress, if not nil, is called as the store advances, from the calling goroutine
	// or from upload goroutines (never concurrently with itself).
	Progress func(Progress)
	// UploadRelay, if not nil, is the upload relay that encodes the blob, uploads it to
	// the nodes and answers with the certificate, instead of the client uploading the
	// slivers itself (Walrus's --upload-relay). The client still registers and certifies.
	UploadRelay *uploadrelay.Client
	// MaxTip bounds the tip paid to UploadRelay, in FROST; a relay asking more is refused
	// with ErrTipRefused before anything is sent. 0 pays no tip.
	MaxTip uint64
	// ExcludeNodes lists network addresses (host:port, as registered on chain) of storage
	// nodes the store does not upload to, say nodes the caller knows to be faulty or does
	// not trust: they count as not confirming, and their shards are recovered by the
	// other nodes once the blob is certified. The store fails with ErrNoQuorum if the
	// other nodes hold no quorum of shards. Not with UploadRelay.
	ExcludeNodes []string
	// ChunkSize is the size of the chunks StoreFile cuts a file larger than it into; 0
	// means DefaultChunkSize for the network's shard count. It is capped at the maximum
	// blob size. Store ignores it.
	ChunkSize int64
}

// epochsAhead resolves the storage duration against the current epoch and the maximum.
func (o StoreOptions) epochsAhead(current, maxAhead uint32) (uint32, error) {
	switch {
	case o.Epochs > 0 && o.EndEpoch > 0:
		return 0, fmt.Errorf("%w: give either a number of epochs or an end epoch, not both", ErrInvalidEpochs)
	case o.Epochs == 0 && o.EndEpoch == 0:
		return 0, fmt.Errorf("%w: the number of epochs must be at least 1", ErrInvalidEpochs)
	case o.EndEpoch > 0 && o.EndEpoch <= current:
		return 0, fmt.Errorf("%w: end epoch %d is not after the current epoch %d", ErrInvalidEpochs, o.EndEpoch, current)
	}
	n := o.Epochs
	if o.EndEpoch > 0 {
		n = o.EndEpoch - current
	}
	if n > maxAhead {
		return 0, fmt.Errorf("%w: %d epochs is more than the maximum of %d epochs ahead", ErrInvalidEpochs, n, maxAhead)
	}
	return n, nil
}

// progress serializes calls of a progress callback.
type progress struct {
	fn func(Progress)
	mu chan struct{}
}

func newProgress(fn func(Progress)) *progress {
	p := &progress{fn: fn, mu: make(chan struct{}, 1)}
	return p
}

func (p *progress) report(phase string, done, total int64) {
	if p == nil || p.fn == nil {
		return
	}
	p.mu <- struct{}{}
	p.fn(Progress{Phase: phase, Done: done, Total: total})
	<-p.mu
}

// Store stores data as a blob and certifies it; see the package documentation for the
// steps. Store only reads data, but the systematic slivers alias it and tail uploads may
// still send them after Store returns: do not modify data until WaitTail or Close
// returns.
//
// Errors: ErrInvalidEpochs, ErrTooLarge, ErrNoWallet, ErrInvalidBlob, ErrNoQuorum, chain
// errors such as chain.ErrInsufficientFunds (checked before any transaction is sent),
// and context errors.
func (c *Client) Store(ctx context.Context, data []byte, opts StoreOptions) (*StoreResult, error) {
	if c.closed.Load() {
		return nil, errors.New("client: closed")
	}
	start := time.Now()
	var requests atomic.Int64
	ctx = withCounter(ctx, &requests)
	res, err := c.store(ctx, data, nil, opts)
	if res != nil {
		res.Stats.HTTPRequests = requests.Load()
		res.Stats.Total = time.Since(start)
	}
	return res, err
}

// store stores data; pre, if not nil, is data already encoded (by the chunk pipeline),
// used if it was encoded for the current number of shards.
func (c *Client) store(ctx context.Context, data []byte, pre *redstuff.EncodedBlob, opts StoreOptions) (*StoreResult, error) {
	prog := newProgress(opts.Progress)
	if opts.Share && opts.SendTo != (chain.Address{}) {
		return nil, fmt.Errorf("%w: a blob object is either shared or sent to an address, not both", ErrInvalidOptions)
	}
	if opts.UploadRelay != nil && len(opts.ExcludeNodes) > 0 {
		return nil, fmt.Errorf("%w: the upload relay chooses the nodes; ExcludeNodes is not with UploadRelay", ErrInvalidOptions)
	}
	if c.cfg.Signer == nil && !opts.DryRun {
		return nil, ErrNoWallet
	}
	params, err := c.chain.Params(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	// The wallet's balance and Storage objects do not depend on the blob: they are read
	// while the system state is read and the blob encoded, not one after the other.
	var wallet *walletReads
	if !opts.DryRun {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		wallet = c.readWallet(wctx)
	}
	sys, err := c.chain.System(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	epochs, err := opts.epochsAhead(sys.Epoch, params.MaxEpochsAhead)
	if err != nil {
		return nil, err
	}
	enc, err := c.Encoding(int(params.NShards))
	if err != nil {
		return nil, err
	}
	if max := enc.MaxBlobSize(); uint64(len(data)) > max {
		return nil, fmt.Errorf("%w: %d bytes, the maximum is %d bytes for %d shards", ErrTooLarge, len(data), max, params.NShards)
	}
	res := &StoreResult{}
	st := &res.Stats

	prog.report("encoding", 0, 0)
	t := time.Now()
	eb := pre
	if eb == nil || len(eb.Pairs) != int(params.NShards) {
		if eb, err = c.encoders.encode(enc, data); err != nil {
			return nil, fmt.Errorf("client: encoding: %w", err)
		}
	}
	// Once the store and its uploads (the tail after it returns included) are done with
	// eb, its buffers go to the next store's encode.
	ctx, doneWithEncoding := c.holdEncoding(ctx, enc, eb)
	defer doneWithEncoding()
	st.Encode = time.Since(t)
	m := eb.Metadata
	encLen, err := enc.EncodedLength(m.UnencodedLength)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	storageCost, writeCost, err := estimateCost(sys.StoragePrice, sys.WritePrice, encLen, epochs)
	if err != nil {
		return nil, err
	}
	if opts.DryRun {
		res.DryRun = &DryRun{
			BlobID: m.BlobID.String(), EncodingType: EncodingName(m.EncodingType), UnencodedSize: m.UnencodedLength,
			EncodedSize: encLen, StorageCost: storageCost, WriteCost: writeCost, Epochs: epochs,
		}
		return res, nil
	}
	end := sys.Epoch + epochs
	deletable := !opts.Permanent

	// Status and owned objects.
	prog.report("checking", 0, 0)
	t = time.Now()
	status, err := c.chain.BlobStatus(ctx, m.BlobID)
	if err != nil {
		return nil, fmt.Errorf("client: blob status: %w", err)
	}
	if status.Invalid {
		return nil, fmt.Errorf("%w: blob %s was declared invalid in epoch %d", ErrInvalidBlob, m.BlobID, status.InvalidatedEpoch)
	}
	// Owned registrations of the blob can exist only if it has registrations at all.
	var owned []*chain.Blob
	if status.PermanentRegistered+status.DeletableRegistered > 0 {
		if owned, err = c.ownedBlobsOf(ctx, m.BlobID); err != nil {
			return nil, err
		}
	}
	if !opts.Force {
		if ac := c.alreadyCertified(ctx, m.BlobID, status, owned, sys.Epoch, end, deletable); ac != nil {
			st.Check = time.Since(t)
			res.AlreadyCertified = ac
			return res, nil
		}
	}

	// An owned certified Blob object that ends too early is extended instead of registering
	// the blob again (Walrus's reuseAndExtend).
	if !opts.Force && !opts.Share && opts.SendTo == (chain.Address{}) {
		if b := extendCandidate(owned, sys.Epoch, end, deletable); b != nil && c.claim(b.ID) {
			defer c.release(resourcePlan{registration: b})
			st.Check = time.Since(t)
			return c.reuseAndExtend(ctx, res, b, end, &params, sys.StoragePrice, wallet, prog)
		}
	}

	// Registration. The resources a plan uses are claimed until the store ends, so that
	// concurrent stores of this Client do not pick the same ones.
	plan, err := c.planResources(ctx, owned, wallet, sys.Epoch, end, encLen, deletable)
	if err != nil {
		return nil, err
	}
	defer c.release(plan)
	st.Check = time.Since(t)
	prog.report("registering", 0, 0)
	t = time.Now()
	cost := uint64(0)
	switch {
	case plan.registration != nil:
	case plan.storage != nil:
		cost = writeCost
	default:
		cost = storageCost + writeCost
	}
	need, err := withFees(cost, &params, plan.txs())
	if err != nil {
		return nil, err
	}
	var tip uint64
	var payee chain.Address
	if opts.UploadRelay != nil {
		if tip, payee, err = relayTip(ctx, opts, encLen); err != nil {
			return nil, err
		}
		if tip > 0 {
			if need, err = withFees(need, &params, 1); err != nil {
				return nil, err
			}
			var carry uint64
			if need, carry = bits.Add64(need, tip, 0); carry != 0 {
				return nil, fmt.Errorf("%w: cost %d FROST plus a tip of %d FROST", ErrCostOverflow, need, tip)
			}
		}
	}
	if err := wallet.checkFunds(ctx, need, m.UnencodedLength); err != nil {
		return nil, err
	}
	// Without a relay, the uploads start now, with pending uploads, while the
	// registration is in flight.
	var early <-chan earlyResult
	var reg *registration
	cancelEarly := func() {}
	if opts.UploadRelay == nil && !c.cfg.DisablePendingUploads {
		var ectx context.Context
		ectx, cancelEarly = context.WithCancel(ctx)
		reg = newRegistration()
		early = c.startEarly(ectx, sys.Epoch, eb, reg, opts.ExcludeNodes, prog)
	}
	defer cancelEarly()
	persistence := func(obj chain.ObjectID) sn.Persistence {
		p := sn.Persistence{Deletable: deletable}
		if deletable {
			p.ObjectID = sn.ObjectID(obj)
		}
		return p
	}
	var admitted func(chain.ObjectID)
	if reg != nil {
		admitted = func(obj chain.ObjectID) { reg.admit(persistence(obj)) }
	}
	blobObj, ntx, err := c.register(ctx, plan, m, encLen, epochs, deletable, admitted)
	st.Transactions += ntx
	// Reusing an owned Storage object (whole or split) is optimistic: the object can be
	// gone when the registration executes (another holder of the wallet's key consumed
	// it). Then the store registers once more on new space.
	if err != nil && plan.registration == nil && errors.Is(err, chain.ErrUnknownObject) {
		c.release(plan)
		plan = resourcePlan{}
		cost = storageCost + writeCost
		blobObj, ntx, err = c.register(ctx, plan, m, encLen, epochs, deletable, nil)
		st.Transactions += ntx
	}
	if reg != nil {
		reg.settle(persistence(blobObj), err)
	}
	if err != nil {
		if early != nil {
			cancelEarly()
			<-early
		}
		return nil, err
	}
	st.Register = time.Since(t)
	// The Blob object is read now, while the blob is uploaded, rather than after its
	// certification (one round trip to the chain less at the end of the store).
	rctx, cancelRead := context.WithCancel(ctx)
	defer cancelRead()
	registered := c.readBlob(rctx, blobObj, plan.registration)

	// Upload, confirmations, certificate.
	var certified *chainclient.TxResult
	if opts.UploadRelay != nil {
		prog.report("uploading", 0, 0)
		cert, err := c.relayCertificate(ctx, data, m, blobObj, deletable, tip, payee, opts, st)
		if err != nil {
			return nil, err
		}
		prog.report("certifying", 0, 0)
		t = time.Now()
		certified, err = c.chain.Submit(ctx, c.cfg.Signer, &chain.CertifyBlob{Blob: blobObj, Certificate: cert})
		st.Transactions++
		st.Certify += time.Since(t)
		if err != nil && !errors.Is(err, chain.ErrAlreadyCertified) {
			return nil, fmt.Errorf("client: certifying blob %s with the upload relay's certificate: %w", m.BlobID, err)
		}
	} else if certified, err = c.uploadAndCertify(ctx, eb, blobObj, deletable, opts.ExcludeNodes, st, prog, early); err != nil {
		return nil, err
	}
	b, err := c.certifiedBlob(ctx, blobObj, registered, certified)
	if err != nil {
		return nil, err
	}
	res.NewlyCreated = &NewlyCreated{BlobObject: NewBlobObject(b), Cost: cost}
	switch {
	case opts.Share:
		if _, err := c.chain.Submit(ctx, c.cfg.Signer, &chain.ShareBlob{Blob: blobObj}); err != nil {
			return nil, fmt.Errorf("client: blob %s is stored as object %s, but sharing it failed: %w", b.BlobID, blobObj, err)
		}
		st.Transactions++
		res.NewlyCreated.SharedBlobObject = blobObj.String()
	case opts.SendTo != (chain.Address{}):
		if _, err := c.chain.Submit(ctx, c.cfg.Signer, &chain.TransferObject{Object: blobObj, To: opts.SendTo}); err != nil {
			return nil, fmt.Errorf("client: blob %s is stored as object %s, but sending it to %s failed: %w", b.BlobID, blobObj, opts.SendTo, err)
		}
		st.Transactions++
	}
	prog.report("done", 0, 0)
	switch {
	case plan.registration != nil:
		res.NewlyCreated.ResourceOperation.ReuseRegistration = &ReuseResource{EncodedLength: encLen}
	case plan.storage != nil:
		res.NewlyCreated.ResourceOperation.ReuseStorage = &ReuseResource{EncodedLength: encLen}
	default:
		res.NewlyCreated.ResourceOperation.RegisterFromScratch = &RegisterFromScratch{EncodedLength: encLen, EpochsAhead: epochs}
	}
	return res, nil
}

// ownedBlobsOf returns the wallet's Blob objects of a blob ID.
func (c *Client) ownedBlobsOf(ctx context.Context, id redstuff.BlobID) ([]*chain.Blob, error) {
	objs, err := c.chain.AllOwned(ctx, c.cfg.Signer.Address(), chain.KindBlob)
	if err != nil {
		return nil, fmt.Errorf("client: listing owned blobs: %w", err)
	}
	var out []*chain.Blob
	for _, o := range objs {
		if b, ok := o.(*chain.Blob); ok && b.BlobID == id {
			out = append(out, b)
		}
	}
	return out, nil
}

// alreadyCertified returns the AlreadyCertified result if the blob is certified until at
// least end: by a permanent certification (anyone's), or by an owned certified Blob object
// of the requested persistence.
func (c *Client) alreadyCertified(ctx context.Context, id redstuff.BlobID, st chain.BlobStatus, owned []*chain.Blob, now, end uint32, deletable bool) *AlreadyCertified {
	if st.PermanentCertified > 0 && st.PermanentCertifiedEnd >= end && st.PermanentCertifiedEnd > now {
		ac := &AlreadyCertified{BlobID: id.String(), EndEpoch: st.PermanentCertifiedEnd}
		// The event behind the status comes from the nodes (best effort).
		vctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if ns, err := c.Status(vctx, id); err == nil && ns.Kind == sn.BlobStatusPermanent && ns.IsCertified {
			ac.Event = eventRef(ns.Event)
			ac.EndEpoch = max(ac.EndEpoch, ns.EndEpoch)
		}
		return ac
	}
	for _, b := range owned {
		if b.Certified && b.Deletable == deletable && b.EndEpoch() >= end && b.EndEpoch() > now {
			return &AlreadyCertified{BlobID: id.String(), Object: b.ID.String(), EndEpoch: b.EndEpoch()}
		}
	}
	return nil
}

// extendCandidate returns the owned, certified, live Blob object of the requested
// persistence that a store until end should extend instead of registering the blob again
// (Walrus's reuseAndExtend): one that ends after now but before end. Of several, it picks
// the one that ends last (the cheapest extension), then the lowest object ID. It returns
// nil if there is none.
func extendCandidate(owned []*chain.Blob, now, end uint32, deletable bool) *chain.Blob {
	var best *chain.Blob
	for _, b := range owned {
		if !b.Certified || b.Shared || b.Deletable != deletable || b.EndEpoch() <= now || b.EndEpoch() >= end {
			continue
		}
		if best == nil || b.EndEpoch() > best.EndEpoch() || (b.EndEpoch() == best.EndEpoch() && bytes.Compare(b.ID[:], best.ID[:]) < 0) {
			best = b
		}
	}
	return best
}

// reuseAndExtend extends the certified Blob object b to end, paying the storage price for
// the added epochs, and completes res as a NewlyCreated result with a reuseAndExtend
// resource operation.
func (c *Client) reuseAndExtend(ctx context.Context, res *StoreResult, b *chain.Blob, end uint32, params *chain.Params, storagePrice uint64, wallet *walletReads, prog *progress) (*StoreResult, error) {
	delta := end - b.EndEpoch()
	cost, _, err := estimateCost(storagePrice, 0, b.Storage.Size, delta)
	if err != nil {
		return nil, err
	}
	fee := params.MinFeeFor(&chain.ExtendBlob{})
	need, carry := bits.Add64(cost, fee, 0)
	if carry != 0 {
		return nil, fmt.Errorf("%w: extension cost %d FROST plus a fee", ErrCostOverflow, cost)
	}
	if err := wallet.checkFunds(ctx, need, b.Size); err != nil {
		return nil, err
	}
	prog.report("registering", 0, 0)
	t := time.Now()
	res.Stats.Transactions++
	if _, err := c.chain.Submit(ctx, c.cfg.Signer, &chain.ExtendBlob{Blob: b.ID, Epochs: delta}); err != nil {
		return nil, fmt.Errorf("client: extending the owned blob object %s of blob %s by %d epochs: %w", b.ID, b.BlobID, delta, err)
	}
	res.Stats.Register = time.Since(t)
	nb, err := c.chain.Blob(ctx, b.ID)
	if err != nil {
		return nil, fmt.Errorf("client: reading the extended blob object: %w", err)
	}
	res.NewlyCreated = &NewlyCreated{
		BlobObject: NewBlobObject(nb),
		Cost:       cost,
		ResourceOperation: ResourceOperation{
			ReuseAndExtend: &ReuseAndExtend{EncodedLength: b.Storage.Size, EpochsExtended: delta},
		},
	}
	prog.report("done", 0, 0)
	return res, nil
}

// resourcePlan is how a store gets its registration.
type resourcePlan struct {
	registration *chain.Blob    // an owned uncertified registration to reuse
	storage      *chain.Storage // an owned Storage resource to register with
	split        bool           // split storage down to the encoded length first
}

// estimateCost returns what storing encLen encoded bytes for epochs epochs costs at the
// given prices: storage price × units × epochs, and write price × units (units are
// chain.StorageUnits). A cost that does not fit in a uint64 is ErrCostOverflow.
func estimateCost(storagePrice, writePrice, encLen uint64, epochs uint32) (storage, write uint64, err error) {
	units := chain.StorageUnits(encLen)
	perEpoch, ok1 := mulChecked(storagePrice, units)
	storage, ok2 := mulChecked(perEpoch, uint64(epochs))
	write, ok3 := mulChecked(writePrice, units)
	if !ok1 || !ok2 || !ok3 {
		return 0, 0, fmt.Errorf("%w: %d encoded bytes for %d epochs at storage price %d and write price %d FROST per MiB",
			ErrCostOverflow, encLen, epochs, storagePrice, writePrice)
	}
	return storage, write, nil
}

// withFees adds to cost the fees of a store's transactions: txs ordinary ones and the
// certification, which pays the signature fee. A sum that does not fit is ErrCostOverflow.
func withFees(cost uint64, p *chain.Params, txs int) (uint64, error) {
	fees, ok := mulChecked(p.MinFee, uint64(txs))
	total, carry := bits.Add64(cost, fees, 0)
	total, carry2 := bits.Add64(total, p.MinFeeFor(&chain.CertifyBlob{}), carry)
	if !ok || carry2 != 0 {
		return 0, fmt.Errorf("%w: cost %d FROST plus the fees of %d transactions", ErrCostOverflow, cost, txs+1)
	}
	return total, nil
}

func mulChecked(a, b uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0
}

func (p resourcePlan) txs() int {
	switch {
	case p.registration != nil:
		return 0
	case p.storage != nil && p.split:
		return 2
	default:
		return 2 // reserve-and-register pays two minimum fees; register only is counted high
	}
}

// planResources picks an owned uncertified registration of the blob, else the smallest
// owned Storage resource that covers the encoded length until end, else nothing (reserve
// new space).
//
// owned and the Storage listing are snapshots: a concurrent store of this Client may have
// consumed an object in them and ended (releasing its claim) since. So an object is read
// again once claimed, and dropped if it is gone or changed.
func (c *Client) planResources(ctx context.Context, owned []*chain.Blob, wallet *walletReads, now, end uint32, encLen uint64, deletable bool) (resourcePlan, error) {
	for _, b := range owned {
		if !b.Certified && b.Deletable == deletable && b.EndEpoch() >= end && b.Storage.StartEpoch <= now && b.EndEpoch() > now && c.claim(b.ID) {
			if cur, err := c.chain.Blob(ctx, b.ID); err == nil && !cur.Certified && cur.Owner == b.Owner && cur.EndEpoch() == b.EndEpoch() {
				return resourcePlan{registration: cur}, nil
			}
			c.release(resourcePlan{registration: b})
		}
	}
	objs, err := wallet.ownedStorage(ctx)
	if err != nil {
		return resourcePlan{}, err
	}
	var best *chain.Storage
	for _, o := range objs {
		s, ok := o.(*chain.Storage)
		if !ok || s.Size < encLen || s.StartEpoch > now || s.EndEpoch < end || s.EndEpoch <= now || c.isClaimed(s.ID) {
			continue
		}
		if best == nil || s.Size < best.Size || (s.Size == best.Size && s.EndEpoch < best.EndEpoch) {
			best = s
		}
	}
	if best != nil && c.claim(best.ID) {
		o, err := c.chain.Object(ctx, best.ID)
		if cur, ok := o.(*chain.Storage); err == nil && ok && cur.Size == best.Size && cur.EndEpoch == best.EndEpoch && cur.StartEpoch == best.StartEpoch {
			return resourcePlan{storage: best, split: best.Size > encLen}, nil
		}
		c.release(resourcePlan{storage: best})
	}
	return resourcePlan{}, nil
}

func (c *Client) isClaimed(id chain.ObjectID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.claimed[id]
}

// claim marks an owned object as used by a store in progress; it returns false if another
// store of this Client uses it.
func (c *Client) claim(id chain.ObjectID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.claimed[id] {
		return false
	}
	c.claimed[id] = true
	return true
}

// release ends the claims of a plan.
func (c *Client) release(p resourcePlan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.registration != nil {
		delete(c.claimed, p.registration.ID)
	}
	if p.storage != nil {
		delete(c.claimed, p.storage.ID)
	}
}

// walletReads are the reads of the wallet that a store needs whatever its blob: the
// balance (checkFunds) and the owned Storage objects (planResources). readWallet starts
// both in the background, so that they overlap each other and the store's other queries.
type walletReads struct {
	addr                     chain.Address
	accountDone, storageDone chan struct{}
	account                  chain.Account
	accountErr               error
	storage                  []chain.Object
	storageErr               error
}

// readWallet starts the wallet's reads; they end with ctx.
func (c *Client) readWallet(ctx context.Context) *walletReads {
	w := &walletReads{addr: c.cfg.Signer.Address(), accountDone: make(chan struct{}), storageDone: make(chan struct{})}
	go func() {
		defer close(w.accountDone)
		w.account, w.accountErr = c.chain.Account(ctx, w.addr)
	}()
	go func() {
		defer close(w.storageDone)
		w.storage, w.storageErr = c.chain.AllOwned(ctx, w.addr, chain.KindStorage)
	}()
	return w
}

// await waits for done or ctx.
func await(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ownedStorage returns the wallet's Storage objects as listed when the store began.
func (w *walletReads) ownedStorage(ctx context.Context) ([]chain.Object, error) {
	if err := await(ctx, w.storageDone); err != nil {
		return nil, err
	}
	if w.storageErr != nil {
		return nil, fmt.Errorf("client: listing owned storage: %w", w.storageErr)
	}
	return w.storage, nil
}

// checkFunds fails with chain.ErrInsufficientFunds if the wallet held less than need
// when the store began.
func (w *walletReads) checkFunds(ctx context.Context, need uint64, size uint64) error {
	if err := await(ctx, w.accountDone); err != nil {
		return err
	}
	if w.accountErr != nil {
		return fmt.Errorf("client: reading the wallet balance: %w", w.accountErr)
	}
	if w.account.Balance < need {
		return fmt.Errorf("client: storing %d bytes costs %d FROST with fees, the wallet %s holds %d: %w",
			size, need, w.addr, w.account.Balance, chain.ErrInsufficientFunds)
	}
	return nil
}

// blobRead is the outcome of reading a Blob object.
type blobRead struct {
	b   *chain.Blob
	err error
}

// readBlob reads the Blob object id in the background; known, if not nil, is the object
// as already read, delivered as it is.
func (c *Client) readBlob(ctx context.Context, id chain.ObjectID, known *chain.Blob) <-chan blobRead {
	out := make(chan blobRead, 1)
	if known != nil {
		out <- blobRead{b: known}
		return out
	}
	go func() {
		b, err := c.chain.Blob(ctx, id)
		out <- blobRead{b, err}
	}()
	return out
}

// certifiedBlob returns the Blob object id once certified: the object as registered
// (registered, read after the registration landed) with the certification that the
// certifying transaction's BlobCertified event reports, which is all that a
// certification changes. Without that event (the blob was already certified, say) or
// that read, it reads the object from the chain.
func (c *Client) certifiedBlob(ctx context.Context, id chain.ObjectID, registered <-chan blobRead, certified *chainclient.TxResult) (*chain.Blob, error) {
	var ev *chain.BlobCertified
	if certified != nil {
		for _, e := range certified.Events {
			if bc, ok := e.Body.(*chain.BlobCertified); ok && bc.ObjectID == id && !bc.IsExtension {
				ev = bc
			}
		}
	}
	var r blobRead
	select {
	case r = <-registered:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if ev != nil && r.err == nil && r.b.ID == id && r.b.BlobID == ev.BlobID && r.b.EndEpoch() == ev.EndEpoch && !r.b.Certified {
		b := *r.b
		b.Certified, b.CertifiedEpoch = true, ev.Epoch
		return &b, nil
	}
	b, err := c.chain.Blob(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("client: reading the certified blob object: %w", err)
	}
	return b, nil
}

// register obtains the registration of plan and returns the Blob object ID and the
// number of transactions sent. New storage is reserved and the blob registered on it in
// one ReserveAndRegister transaction (the Blob is its created object 1). A split of owned
// storage and the registration are pipelined: the registration names the split Storage,
// which keeps its ID.
//
// admitted, if not nil, is called with the Blob object ID once a ReserveAndRegister
// transaction was admitted to the mempool, before its block (the ID derives from the
// transaction's digest); the other plans do not call it.
func (c *Client) register(ctx context.Context, plan resourcePlan, m *redstuff.Metadata, encLen uint64, epochs uint32, deletable bool, admitted func(chain.ObjectID)) (chain.ObjectID, int, error) {
	if plan.registration != nil {
		return plan.registration.ID, 0, nil
	}
	signer := c.cfg.Signer
	var first *chainclient.Pending
	var storage chain.ObjectID
	var err error
	root := m.Root()
	switch {
	case plan.storage == nil:
		// Reserve and register in one transaction: one block instead of possibly two, and
		// no Storage left behind if the registration fails.
		tx, err := c.chain.SubmitAsync(ctx, signer, &chain.ReserveAndRegister{
			StorageSize: encLen, EpochsAhead: epochs, BlobID: m.BlobID, RootHash: root, Size: m.UnencodedLength,
			EncodingType: m.EncodingType, Deletable: deletable,
		}, 0)
		if err != nil {
			return chain.ObjectID{}, 0, fmt.Errorf("client: reserving storage and registering blob %s: %w", m.BlobID, err)
		}
		if admitted != nil {
			admitted(chain.DeriveObjectID(tx.Digest, 1))
		}
		if _, err := tx.Wait(ctx); err != nil {
			return chain.ObjectID{}, 1, fmt.Errorf("client: reserving storage and registering blob %s: %w", m.BlobID, err)
		}
		return chain.DeriveObjectID(tx.Digest, 1), 1, nil
	case plan.split:
		first, err = c.chain.SubmitAsync(ctx, signer, &chain.SplitStorageBySize{Storage: plan.storage.ID, Size: encLen}, 0)
		if err != nil {
			return chain.ObjectID{}, 0, fmt.Errorf("client: splitting storage %s: %w", plan.storage.ID, err)
		}
		storage = plan.storage.ID
	default:
		storage = plan.storage.ID
	}
	sent := 0
	if first != nil {
		sent++
	}
	reg, err := c.chain.SubmitAsync(ctx, signer, &chain.RegisterBlob{
		Storage: storage, BlobID: m.BlobID, RootHash: root, Size: m.UnencodedLength,
		EncodingType: m.EncodingType, Deletable: deletable,
	}, 0)
	if first != nil {
		if _, ferr := first.Wait(ctx); ferr != nil {
			if err == nil {
				_, _ = reg.Wait(ctx)
				sent++
			}
			return chain.ObjectID{}, sent, fmt.Errorf("client: reserving storage: %w", ferr)
		}
	}
	if err != nil {
		return chain.ObjectID{}, sent, fmt.Errorf("client: registering blob %s: %w", m.BlobID, err)
	}
	sent++
	if _, err := reg.Wait(ctx); err != nil {
		return chain.ObjectID{}, sent, fmt.Errorf("client: registering blob %s: %w", m.BlobID, err)
	}
	return chain.DeriveObjectID(reg.Digest, 0), sent, nil
}
