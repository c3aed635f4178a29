package client

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/committee"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
)

// uploadAndCertify uploads the blob to the current committee, collects a quorum of
// confirmations and certifies the Blob object, starting over with the new committee if
// the epoch moved before the certificate landed.
//
// early, if not nil, delivers the first attempt's outcome: the uploads a store started
// while the registration was in flight (startEarly). Members at the network addresses in
// exclude get nothing (StoreOptions.ExcludeNodes). It returns the result of the
// certifying transaction, or nil if the blob object was certified already.
func (c *Client) uploadAndCertify(ctx context.Context, eb *redstuff.EncodedBlob, obj chain.ObjectID, deletable bool, exclude []string, st *StoreStats, prog *progress, early <-chan earlyResult) (*chainclient.TxResult, error) {
	p := sn.Persistence{Deletable: deletable}
	if deletable {
		p.ObjectID = sn.ObjectID(obj)
	}
	var lastErr error
	for attempt := 0; attempt <= c.cfg.MaxEpochChangeRetries; attempt++ {
		var view *committeeView
		var cert chain.Certificate
		var err error
		if early != nil && attempt == 0 {
			r := <-early
			st.add(&r.stats)
			view, cert, err = r.view, r.cert, r.err
		} else {
			sys, serr := c.chain.System(ctx)
			if serr != nil {
				return nil, fmt.Errorf("client: %w", serr)
			}
			if view, err = c.committee(ctx, sys.Epoch); err != nil {
				return nil, err
			}
			if view.n != len(eb.Pairs) {
				return nil, fmt.Errorf("client: the committee of epoch %d has %d shards, the blob was encoded for %d", view.epoch, view.n, len(eb.Pairs))
			}
			t := time.Now()
			cert, err = c.collect(ctx, view.excluding(exclude), eb, registered(p), st, prog)
			st.Upload += time.Since(t)
		}
		if errors.Is(err, ErrNoQuorum) {
			// Nodes that moved to a new epoch sign for it: start over with its committee.
			if now, serr := c.chain.System(ctx); serr == nil && now.Epoch != view.epoch {
				c.log.Info("client: epoch changed during the upload; uploading to the new committee", "blob", eb.Metadata.BlobID, "epoch", now.Epoch)
				st.EpochChanges++
				lastErr = err
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		prog.report("certifying", 0, 0)
		t := time.Now()
		res, err := c.chain.Submit(ctx, c.cfg.Signer, &chain.CertifyBlob{Blob: obj, Certificate: cert})
		st.Transactions++
		st.Certify += time.Since(t)
		switch {
		case err == nil:
			return res, nil
		case errors.Is(err, chain.ErrAlreadyCertified):
			return nil, nil
		case errors.Is(err, chain.ErrWrongEpoch), errors.Is(err, chain.ErrNotCommitteeMember):
			c.log.Info("client: epoch changed during the store; collecting confirmations again", "blob", eb.Metadata.BlobID, "epoch", view.epoch)
			st.EpochChanges++
			lastErr = err
			continue
		default:
			return nil, fmt.Errorf("client: certifying blob %s: %w", eb.Metadata.BlobID, err)
		}
	}
	return nil, fmt.Errorf("client: certifying blob %s: the epoch kept changing: %w", eb.Metadata.BlobID, lastErr)
}

// registration is the blob's registration as the uploads of a store see it: done is
// closed once the registration transaction landed (or failed: err), and p is then the
// persistence the confirmations are for. admitted, if closed before done, means the
// registration transaction was admitted to the mempool and will, if it lands, register
// the blob for persistence expected (the object ID derives from the transaction's
// digest).
type registration struct {
	done     chan struct{}
	p        sn.Persistence
	err      error
	admitted chan struct{}
	expected sn.Persistence
}

// newRegistration returns a registration in flight.
func newRegistration() *registration {
	return &registration{done: make(chan struct{}), admitted: make(chan struct{})}
}

// registered returns a registration already done, for persistence p.
func registered(p sn.Persistence) *registration {
	r := &registration{done: make(chan struct{}), p: p}
	close(r.done)
	return r
}

// admit records that the registration transaction was admitted, for persistence p; call
// it at most once, before settle.
func (r *registration) admit(p sn.Persistence) {
	r.expected = p
	close(r.admitted)
}

// expect returns the persistence the registration is for as soon as it is known: once
// its transaction was admitted, or once it landed. The registration may still fail after
// admission: the caller checks with wait before it relies on the registration.
func (r *registration) expect(ctx context.Context) (sn.Persistence, error) {
	select {
	case <-r.admitted:
		return r.expected, nil
	case <-r.done:
		return r.wait(ctx)
	case <-ctx.Done():
		return sn.Persistence{}, ctx.Err()
	}
}

// settle records the registration's outcome; call it once.
func (r *registration) settle(p sn.Persistence, err error) {
	r.p, r.err = p, err
	close(r.done)
}

// wait waits for the registration; its error if it failed.
func (r *registration) wait(ctx context.Context) (sn.Persistence, error) {
	select {
	case <-r.done:
		if r.err != nil {
			return sn.Persistence{}, fmt.Errorf("%w: %w", errRegistrationFailed, r.err)
		}
		return r.p, nil
	case <-ctx.Done():
		return sn.Persistence{}, ctx.Err()
	}
}

// pending reports whether uploads may go before the registration landed.
func (r *registration) pending() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// errRegistrationFailed: the registration of the blob being uploaded failed.
var errRegistrationFailed = errors.New("client: the registration failed")

// earlyResult is the outcome of the uploads a store started before its registration
// landed, with their own statistics (merged into the store's by uploadAndCertify).
type earlyResult struct {
	view  *committeeView
	cert  chain.Certificate
	err   error
	stats StoreStats
}

// startEarly starts uploading eb to the committee of epoch (the current one, as the
// store read it) with pending uploads while the caller registers the blob; the caller
// settles reg when the registration landed.
// The result arrives on the channel; a failed registration (or ctx) ends the uploads.
// It returns nil if the uploads cannot start early (the committee is unknown or has a
// different shard count): the caller then uploads after the registration.
func (c *Client) startEarly(ctx context.Context, epoch uint32, eb *redstuff.EncodedBlob, reg *registration, exclude []string, prog *progress) <-chan earlyResult {
	view, err := c.committee(ctx, epoch)
	if err != nil || view.n != len(eb.Pairs) {
		return nil
	}
	out := make(chan earlyResult, 1)
	g := uploadGroup(ctx)
	g.Add(1)
	go func() {
		defer g.Done()
		r := earlyResult{view: view}
		t := time.Now()
		r.cert, r.err = c.collect(ctx, view.excluding(exclude), eb, reg, &r.stats, prog)
		r.stats.Upload = time.Since(t)
		out <- r
	}()
	return out
}

// uploadCounters count the batched uploads of one collect and their pairs.
type uploadCounters struct{ uploads, pairs, behind atomic.Int64 }

// confirmation is the outcome of uploading to one member.
type confirmation struct {
	m   *member
	sig bls.Signature
	err error
}

// collect uploads to every member of view concurrently and returns a certificate as soon
// as the confirming members hold a quorum of shards. The uploads still running then go on
// in the background for the tail time.
//
// reg is the blob's registration: while it is in flight, uploads go with ?pending=true
// (a node that refuses one gets the upload again once the registration landed), and the
// confirmations are asked for once it landed, waiting for the node to see it.
func (c *Client) collect(ctx context.Context, view *committeeView, eb *redstuff.EncodedBlob, reg *registration, st *StoreStats, prog *progress) (chain.Certificate, error) {
	id := eb.Metadata.BlobID
	st.Nodes = len(view.members)
	// The caller's upload group counts this collect until its uploads, the tail
	// included, have ended.
	group := uploadGroup(ctx)
	group.Add(1)
	tailStarted := false
	defer func() {
		if !tailStarted {
			group.Done()
		}
	}()
	// Tail uploads go on counting after Store returned: they count into uc, which is read
	// into st only now and when the quorum is reached.
	uc := &uploadCounters{}
	defer func() {
		st.SliverUploads += uc.uploads.Load()
		st.PairsUploaded += uc.pairs.Load()
		st.UploadsBehind += uc.behind.Load()
	}()

	// Uploads run under their own context: the caller's cancellation reaches them until a
	// quorum confirmed; after that only the tail deadline ends them.
	upCtx, upCancel := context.WithCancel(context.WithoutCancel(ctx))
	stopPropagation := context.AfterFunc(ctx, upCancel)
	var quorum atomic.Bool
	results := make(chan confirmation, len(view.members))
	limit := c.cfg.MaxConcurrentUploads
	if limit <= 0 {
		limit = len(view.members)
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for _, m := range view.members {
		pairs := make([]*redstuff.SliverPair, 0, m.weight)
		for _, s := range m.info.Shards {
			pairs = append(pairs, &eb.Pairs[id.ShardPair(int(s), view.n)])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-upCtx.Done():
				results <- confirmation{m: m, err: upCtx.Err()}
				return
			}
			defer func() { <-sem }()
			sig, err := c.uploadTo(upCtx, m, view.epoch, eb.Metadata, pairs, reg, &quorum, uc)
			results <- confirmation{m: m, sig: sig, err: err}
		}()
	}

	start := time.Now()
	weight := 0
	var signers []*member
	var sigs []bls.Signature
	var errs []error
	prog.report("uploading", 0, int64(view.n))
	for range view.members {
		r := <-results
		if r.err != nil {
			errs = append(errs, fmt.Errorf("node %s (%s): %w", r.m.info.Name, r.m.info.NetworkAddress, r.err))
			c.log.Warn("client: upload failed", "blob", id, "node", r.m.info.Name, "err", r.err)
			continue
		}
		weight += r.m.weight
		signers = append(signers, r.m)
		sigs = append(sigs, r.sig)
		prog.report("uploading", int64(weight), int64(view.n))
		if committee.Quorum(weight, view.n) {
			break
		}
	}
	st.ConfirmedWeight = weight
	if !committee.Quorum(weight, view.n) {
		stopPropagation()
		upCancel()
		wg.Wait()
		if ctx.Err() != nil {
			return chain.Certificate{}, ctx.Err()
		}
		if _, err := reg.wait(ctx); err != nil {
			return chain.Certificate{}, err
		}
		return chain.Certificate{}, fmt.Errorf("%w: nodes holding %d of %d shards confirmed blob %s, %d needed: %w",
			ErrNoQuorum, weight, view.n, id, (2*view.n)/3+1, errors.Join(errs...))
	}
	quorum.Store(true)
	stopPropagation()
	st.TailNodes = len(view.members) - len(signers) - len(errs)
	tail := time.Duration(float64(time.Since(start))*c.cfg.TailFactor) + c.cfg.TailBase
	if c.cfg.TailBase < 0 || st.TailNodes == 0 {
		tail = 0
	}
	timer := time.AfterFunc(tail, upCancel)
	c.tails.add()
	tailStarted = true
	go func() {
		defer c.tails.done()
		defer group.Done()
		wg.Wait()
		timer.Stop()
		upCancel()
	}()

	// Every signer confirmed after the registration landed.
	p, err := reg.wait(ctx)
	if err != nil {
		return chain.Certificate{}, err
	}
	msg := sn.ConfirmationMessage(view.epoch, id, p)
	agg, err := bls.AggregateSignatures(sigs)
	if err != nil {
		return chain.Certificate{}, fmt.Errorf("client: aggregating confirmations: %w", err)
	}
	bitmap := make([]byte, (len(view.members)+7)/8)
	for _, m := range signers {
		bitmap[m.index/8] |= 1 << (m.index % 8)
	}
	return chain.Certificate{Signers: bitmap, Message: msg, Signature: agg.Bytes()}, nil
}

// uploadTo sends the metadata and pairs to one member in one batched request and, unless
// a quorum was reached meanwhile, fetches and checks its confirmation.
func (c *Client) uploadTo(ctx context.Context, m *member, epoch uint32, md *redstuff.Metadata, pairs []*redstuff.SliverPair, reg *registration, quorum *atomic.Bool, uc *uploadCounters) (bls.Signature, error) {
	if m.node == nil {
		return bls.Signature{}, m.err
	}
	if len(pairs) == 0 {
		return bls.Signature{}, errors.New("the node holds no shards")
	}
	start := time.Now()
	var confirmWait time.Duration
	uploaded := false
	if reg.pending() && !c.cfg.DisablePendingUploads {
		// Upload before the registration landed; a node that refuses (one that does not
		// know pending uploads, or whose buffer is full) gets it again after.
		uc.uploads.Add(1)
		uc.pairs.Add(int64(len(pairs)))
		if _, err := m.node.StoreSliversPending(ctx, md, pairs); err == nil {
			uploaded, confirmWait = true, pendingConfirmationWait
		} else {
			c.log.Debug("client: pending upload refused; uploading after the registration", "blob", md.BlobID, "node", m.info.Name, "err", err)
		}
	}
	var p sn.Persistence
	var err error
	if uploaded {
		// The confirmation is asked for as soon as the registration transaction was
		// admitted: the node answers once it has seen the registration land and stored the
		// data, while this client learns of the registration's block itself.
		p, err = reg.expect(ctx)
	} else {
		p, err = reg.wait(ctx)
	}
	if err != nil {
		return bls.Signature{}, err
	}
	if !uploaded {
		if err := c.uploadRegistered(ctx, m, md, pairs, uc); err != nil {
			return bls.Signature{}, err
		}
	}
	c.log.Debug("client: uploaded", "blob", md.BlobID, "node", m.info.Name, "pairs", len(pairs), "duration", time.Since(start))
	for {
		if quorum.Load() {
			return bls.Signature{}, errors.New("quorum reached before the confirmation")
		}
		sig, err := c.confirmFrom(ctx, m, epoch, md, pairs, p, confirmWait, uc)
		if err != nil {
			return bls.Signature{}, err
		}
		// Every confirmation is for the registration that landed.
		final, err := reg.wait(ctx)
		if err != nil {
			return bls.Signature{}, err
		}
		if final == p {
			c.log.Debug("client: confirmed", "blob", md.BlobID, "node", m.info.Name, "duration", time.Since(start))
			return sig, nil
		}
		p = final
	}
}

// confirmFrom asks one member for its confirmation of the blob for persistence p, waiting
// up to confirmWait at the node for the registration, and checks it.
func (c *Client) confirmFrom(ctx context.Context, m *member, epoch uint32, md *redstuff.Metadata, pairs []*redstuff.SliverPair, p sn.Persistence, confirmWait time.Duration, uc *uploadCounters) (bls.Signature, error) {
	msg := sn.ConfirmationMessage(epoch, md.BlobID, p)
	var signed sn.SignedMessage
	reuploaded := false
	err := c.retry(ctx, true, func() error {
		var err error
		signed, err = m.node.ConfirmationWait(ctx, md.BlobID, p, confirmWait)
		if errors.Is(err, sn.ErrMissingSlivers) && !reuploaded {
			// The node has applied the registration (it checks that before the slivers)
			// and lost slivers it took: it took them while an earlier registration of the
			// blob was live in its view and then applied that registration's deletion or
			// expiry, which dropped the blob's data. Having applied this registration,
			// it keeps what it is given now.
			reuploaded = true
			c.log.Debug("client: node lacks uploaded slivers; uploading again", "blob", md.BlobID, "node", m.info.Name, "err", err)
			if err := c.uploadRegistered(ctx, m, md, pairs, uc); err != nil {
				return err
			}
			signed, err = m.node.ConfirmationWait(ctx, md.BlobID, p, confirmWait)
		}
		if err == nil && !bytes.Equal(signed.Message, msg) && messageEpoch(signed.Message) < messageEpoch(msg) {
			return fmt.Errorf("%w: it signed for epoch %d, the committee is of epoch %d", errNodeBehind,
				messageEpoch(signed.Message), messageEpoch(msg))
		}
		return err
	})
	if err != nil {
		return bls.Signature{}, fmt.Errorf("confirmation: %w", err)
	}
	if !bytes.Equal(signed.Message, msg) {
		return bls.Signature{}, fmt.Errorf("confirmation: the node signed %x, expected %x (epoch change?)", signed.Message, msg)
	}
	if err := signed.Verify(m.key); err != nil {
		return bls.Signature{}, fmt.Errorf("confirmation: %w", err)
	}
	return signed.Signature, nil
}

// pendingConfirmationWait is how long a confirmation request after a pending upload asks
// the node to wait for the registration (nodes cap it, at 5 s by default).
const pendingConfirmationWait = 5 * time.Second

// uploadRegistered uploads the pairs to one member in one batched request once the blob
// is registered, retrying while the node has not seen the registration.
func (c *Client) uploadRegistered(ctx context.Context, m *member, md *redstuff.Metadata, pairs []*redstuff.SliverPair, uc *uploadCounters) error {
	size := 0
	for _, pr := range pairs {
		size += len(pr.Primary.Data) + len(pr.Secondary.Data)
	}
	if size > statusCheckThreshold {
		// A node that has not seen the registration yet would refuse a large body after
		// part of it was sent: wait for the registration with small status requests.
		if err := c.waitRegistered(ctx, m, md.BlobID); err != nil {
			return fmt.Errorf("waiting for the registration: %w", err)
		}
	}
	err := c.retry(ctx, true, func() error {
		uc.uploads.Add(1)
		uc.pairs.Add(int64(len(pairs)))
		_, err := m.node.StoreSlivers(ctx, md, pairs)
		if waitable(err) {
			uc.behind.Add(1)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	return nil
}

// statusCheckThreshold is the upload size above which the client first checks that the
// node has seen the blob's registration.
const statusCheckThreshold = 4 << 20

// waitRegistered polls a node's status of a blob until it reports a registration, for at
// most RegistrationTimeout.
func (c *Client) waitRegistered(ctx context.Context, m *member, id redstuff.BlobID) error {
	return c.retry(ctx, true, func() error {
		s, err := m.node.BlobStatus(ctx, id)
		if err == nil && s.Kind == sn.BlobStatusNonexistent {
			return fmt.Errorf("the node has not seen the registration: %w", sn.ErrNotRegistered)
		}
		return err
	})
}

// errNodeBehind: a node confirmed for an earlier epoch than the committee's; it has not
// applied the epoch change yet.
var errNodeBehind = errors.New("the node has not reached the epoch yet")

// messageEpoch is the epoch of a signed protocol message (intent ‖ epoch u32 LE ‖ ...),
// or 0 if it is too short.
func messageEpoch(m []byte) uint32 {
	if len(m) < 7 {
		return 0
	}
	return binary.LittleEndian.Uint32(m[3:7])
}

// waitable reports errors that mean the node has not caught up with the chain yet: it has
// not seen the registration, or is still taking over its shards, or lacks slivers that a
// concurrent upload is storing.
func waitable(err error) bool {
	return errors.Is(err, errNodeBehind) || errors.Is(err, sn.ErrNotRegistered) || errors.Is(err, sn.ErrShardNotAssigned) ||
		errors.Is(err, sn.ErrMissingSlivers) || errors.Is(err, sn.ErrShardLocked)
}

// retry calls fn until it succeeds, fails for good, or the retries run out. With waitLag,
// errors that mean the node lags behind the chain are retried quickly until
// RegistrationTimeout;
// errors that may pass (nodeclient.IsRetryable) up to MaxRetries times with exponential
// backoff.
func (c *Client) retry(ctx context.Context, waitLag bool, fn func() error) error {
	backoff := c.cfg.RetryMin
	lagWait := 5 * time.Millisecond
	lagDeadline := time.Now().Add(c.cfg.RegistrationTimeout)
	retries := 0
	for {
		err := fn()
		if err == nil || ctx.Err() != nil {
			if err != nil && ctx.Err() != nil {
				return fmt.Errorf("%w (%w)", ctx.Err(), err)
			}
			return err
		}
		switch {
		case waitLag && waitable(err):
			if time.Now().After(lagDeadline) {
				return err
			}
			if err := sleep(ctx, lagWait); err != nil {
				return err
			}
			lagWait = min(2*lagWait, 200*time.Millisecond)
		case nodeclient.IsRetryable(err) && retries < c.cfg.MaxRetries:
			retries++
			if err := sleep(ctx, backoff); err != nil {
				return err
			}
			backoff = min(2*backoff, c.cfg.RetryMax)
		default:
			return err
		}
	}
}
