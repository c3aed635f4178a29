package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/manifest"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
)

// ReadOptions configures a read. The zero value reads with the default consistency check.
type ReadOptions struct {
	// Consistency selects the check of the decoded blob; the default re-hashes the
	// systematic slivers that were not received directly (Walrus's default).
	Consistency redstuff.Consistency
	// Progress, if not nil, is called as the read advances (never concurrently with
	// itself).
	Progress func(Progress)
	// MaxWholeRead bounds the size of a blob that a BlobReader reads whole when a part of
	// it cannot be fetched from its primary slivers; for a larger blob it rebuilds every
	// missing row from recovery symbols instead, and if that fails the read fails with
	// ErrUnavailable, so that a reader never holds more than the rows it was asked for.
	// 0 means no bound. Read ignores it.
	MaxWholeRead int64
	// Raw reads a blob's own bytes even if it is a chunk manifest; by default Read and
	// OpenFile read a manifest as the file it describes (see package manifest).
	Raw bool
}

// ReadStats describe the work of one read.
type ReadStats struct {
	HTTPRequests int64
	Epoch        uint32 // epoch of the committee the blob was read from
}

// Read reads and verifies a blob; a chunk manifest is read as its file, whole, into
// memory (OpenFile streams it). Errors: ErrNotFound (the blob does not exist, was
// deleted, expired or never certified), ErrInvalidBlob (declared invalid, or inconsistent
// encoding), ErrUnavailable (not enough nodes answered), chain and context errors.
func (c *Client) Read(ctx context.Context, id redstuff.BlobID, opts ReadOptions) ([]byte, error) {
	data, _, err := c.ReadWithStats(ctx, id, opts)
	return data, err
}

// ReadWithStats is Read that also returns statistics.
func (c *Client) ReadWithStats(ctx context.Context, id redstuff.BlobID, opts ReadOptions) ([]byte, ReadStats, error) {
	var requests atomic.Int64
	ctx = withCounter(ctx, &requests)
	var st ReadStats
	data, err := c.read(ctx, id, opts, &st)
	if err == nil && !opts.Raw && manifest.HasMagic(data) && len(data) <= manifest.MaxSize {
		data, err = c.readFile(ctx, id, data, opts)
	}
	st.HTTPRequests = requests.Load()
	return data, st, err
}

func (c *Client) read(ctx context.Context, id redstuff.BlobID, opts ReadOptions, st *ReadStats) ([]byte, error) {
	prog := newProgress(opts.Progress)
	epochs, err := c.readEpochs(ctx, id)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, e := range epochs {
		view, err := c.committee(ctx, e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		st.Epoch = e
		data, err := c.readFrom(ctx, view, id, opts.Consistency, prog)
		if err == nil {
			prog.report("done", 0, 0)
			return data, nil
		}
		if !errors.Is(err, ErrUnavailable) || ctx.Err() != nil {
			return nil, err
		}
		errs = append(errs, fmt.Errorf("epoch %d: %w", e, err))
	}
	return nil, errors.Join(errs...)
}

// readEpochs checks that blob id is certified and not invalid, and returns the epochs
// whose committees to read it from, in order: the current one, and during an epoch change
// the previous one (first if the blob was certified before the current epoch), which
// still holds it while the new committee may still be fetching it.
func (c *Client) readEpochs(ctx context.Context, id redstuff.BlobID) ([]uint32, error) {
	sys, err := c.chain.System(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return c.readEpochsAt(ctx, sys, id)
}

// readEpochsAt is readEpochs with the system state given.
func (c *Client) readEpochsAt(ctx context.Context, sys chain.SystemState, id redstuff.BlobID) ([]uint32, error) {
	status, err := c.chain.BlobStatus(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("client: blob status: %w", err)
	}
	if status.Invalid {
		return nil, fmt.Errorf("%w: blob %s was declared invalid in epoch %d", ErrInvalidBlob, id, status.InvalidatedEpoch)
	}
	now := sys.Epoch
	certified := (status.PermanentCertified > 0 && status.PermanentCertifiedEnd > now) ||
		(status.DeletableCertified > 0 && status.DeletableCertifiedEnd > now)
	if !certified {
		registered := (status.PermanentRegistered > 0 && status.PermanentRegisteredEnd > now) ||
			(status.DeletableRegistered > 0 && status.DeletableRegisteredEnd > now)
		if registered {
			return nil, fmt.Errorf("%w: blob %s is registered but not certified", ErrNotFound, id)
		}
		return nil, fmt.Errorf("%w: blob %s does not exist (never stored, deleted or expired)", ErrNotFound, id)
	}
	if sys.EpochState == chain.StateEpochChangeSync && now > 0 {
		if status.HasInitialCertifiedEpoch && status.InitialCertifiedEpoch < now {
			return []uint32{now - 1, now}, nil
		}
		return []uint32{now, now - 1}, nil
	}
	return []uint32{now}, nil
}

// readFrom reads a blob from one committee.
func (c *Client) readFrom(ctx context.Context, view *committeeView, id redstuff.BlobID, check redstuff.Consistency, prog *progress) ([]byte, error) {
	prog.report("metadata", 0, 0)
	m, err := c.metadata(ctx, view, id)
	if err != nil {
		return nil, err
	}
	slivers, err := c.primarySlivers(ctx, view, m, prog)
	if err != nil {
		return nil, err
	}
	prog.report("decoding", 0, 0)
	data, err := view.enc.Decode(m, slivers, check)
	if err != nil {
		if errors.Is(err, redstuff.ErrInconsistent) {
			return nil, fmt.Errorf("%w: %w", ErrInvalidBlob, err)
		}
		return nil, fmt.Errorf("client: decoding blob %s: %w", id, err)
	}
	return data, nil
}

// Metadata returns the verified metadata of a blob from the current committee.
func (c *Client) Metadata(ctx context.Context, id redstuff.BlobID) (*redstuff.Metadata, error) {
	sys, err := c.chain.System(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	view, err := c.committee(ctx, sys.Epoch)
	if err != nil {
		return nil, err
	}
	return c.metadata(ctx, view, id)
}

// metadata asks the members, in random order and a few at a time, for the blob's
// metadata and returns the first that verifies.
func (c *Client) metadata(ctx context.Context, view *committeeView, id redstuff.BlobID) (*redstuff.Metadata, error) {
	order := rand.Perm(len(view.members))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		m   *redstuff.Metadata
		err error
	}
	answers := make(chan answer, len(order))
	next, inflight := 0, 0
	launch := func() {
		mb := view.members[order[next]]
		next++
		inflight++
		go func() {
			if mb.node == nil {
				answers <- answer{err: mb.err}
				return
			}
			m, err := mb.node.Metadata(ctx, id)
			bad := errors.Is(err, nodeclient.ErrBadAnswer)
			if err == nil {
				err = view.enc.VerifyMetadata(m)
				bad = err != nil
			}
			if bad {
				c.badResponse(badMetadata, mb.info.Name, id, err)
			}
			if err != nil {
				err = fmt.Errorf("node %s: %w", mb.info.Name, err)
			}
			answers <- answer{m: m, err: err}
		}()
	}
	var errs []error
	for {
		for inflight < c.cfg.MaxConcurrentMetadataReads && next < len(order) {
			launch()
		}
		if inflight == 0 {
			break
		}
		a := <-answers
		inflight--
		if a.err == nil {
			return a.m, nil
		}
		errs = append(errs, a.err)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, fmt.Errorf("%w: no node returned valid metadata of blob %s: %w", ErrUnavailable, id, errors.Join(errs...))
}

// primarySlivers fetches primary slivers, systematic ones first, verifying them in
// batches, until n-2f are verified.
func (c *Client) primarySlivers(ctx context.Context, view *committeeView, m *redstuff.Metadata, prog *progress) ([]*redstuff.Sliver, error) {
	enc := view.enc
	need := enc.SourceSymbols(redstuff.Primary)
	n := view.n
	id := m.BlobID
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		s    *redstuff.Sliver
		node string
		err  error
	}
	answers := make(chan answer, n)
	next, inflight := 0, 0
	// Primary sliver i is in pair i: the systematic slivers are pairs 0..need-1.
	launch := func() {
		pair := next
		next++
		inflight++
		mb := view.owner[id.PairShard(pair, n)]
		go func() {
			if mb.node == nil {
				answers <- answer{err: mb.err}
				return
			}
			s, err := mb.node.Sliver(ctx, id, pair, redstuff.Primary)
			if errors.Is(err, nodeclient.ErrBadAnswer) {
				c.badResponse(badSliver, mb.info.Name, id, err)
			}
			if err != nil {
				err = fmt.Errorf("node %s: primary sliver %d: %w", mb.info.Name, pair, err)
			}
			answers <- answer{s: s, node: mb.info.Name, err: err}
		}()
	}
	var verified, pending []*redstuff.Sliver
	var pendingFrom []string
	var errs []error
	prog.report("slivers", 0, int64(need))
	// hedged counts extra requests allowed because no answer came for HedgeDelay: nodes
	// that accept requests and never answer cost a hedge delay, not a request timeout.
	hedged := 0
	hedgeTimer := time.NewTimer(c.cfg.HedgeDelay)
	defer hedgeTimer.Stop()
	hedge := hedgeTimer.C
	if c.cfg.HedgeDelay < 0 {
		hedge = nil
	}
	for len(verified) < need {
		for inflight < c.cfg.MaxConcurrentSliverReads && next < n && len(verified)+len(pending)+inflight < need+hedged {
			launch()
		}
		if inflight == 0 && len(pending) == 0 {
			break
		}
		if inflight > 0 {
			var a answer
			select {
			case a = <-answers:
			case <-hedge:
				// Nothing arrived for a hedge delay: every request in flight is a
				// straggler (a node that accepted and went silent holds all of its
				// requests). Ask other nodes for as many slivers again.
				hedged += inflight
				hedgeTimer.Reset(c.cfg.HedgeDelay)
				continue
			}
			if hedge != nil {
				hedgeTimer.Reset(c.cfg.HedgeDelay)
			}
			inflight--
			if a.err != nil {
				if len(errs) < 8 {
					errs = append(errs, a.err)
				}
			} else {
				pending = append(pending, a.s)
				pendingFrom = append(pendingFrom, a.node)
			}
		}
		// Verify in batches: when everything asked for has arrived, or enough for a
		// decode are waiting.
		if inflight == 0 || len(verified)+len(pending) >= need || len(pending) >= 16 {
			for i, err := range enc.VerifySlivers(m, pending) {
				if err != nil {
					c.badResponse(badSliver, pendingFrom[i], id, err)
					errs = append(errs, fmt.Errorf("node %s: primary sliver %d: %w", pendingFrom[i], pending[i].Index, err))
					continue
				}
				verified = append(verified, pending[i])
			}
			pending, pendingFrom = pending[:0], pendingFrom[:0]
			prog.report("slivers", int64(min(len(verified), need)), int64(need))
		}
	}
	if len(verified) < need {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %d of the %d primary slivers needed for blob %s could be fetched and verified: %w",
			ErrUnavailable, len(verified), need, id, errors.Join(errs...))
	}
	return verified, nil
}
