package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// translate turns a chain event into the node's event. Events the node does not act on
// give ok == false. For an epoch change, shardsAt returns the shards this node owns in the
// new epoch (from the chain's committee); its error is returned.
func translate(ev chain.Event, shardsAt func(epoch uint32) ([]uint16, error)) (se sn.SequencedEvent, ok bool, err error) {
	se.ID = sn.EventID{TxDigest: ev.TxDigest, Seq: ev.Seq}
	switch b := ev.Body.(type) {
	case *chain.BlobRegistered:
		se.Event = sn.BlobRegistered{
			Epoch: b.Epoch, BlobID: b.BlobID, ObjectID: sn.ObjectID(b.ObjectID), Size: b.Size,
			EncodingType: b.EncodingType, EndEpoch: b.EndEpoch, Deletable: b.Deletable,
		}
	case *chain.BlobCertified:
		se.Event = sn.BlobCertified{
			Epoch: b.Epoch, BlobID: b.BlobID, ObjectID: sn.ObjectID(b.ObjectID), EndEpoch: b.EndEpoch,
			Deletable: b.Deletable, IsExtension: b.IsExtension,
		}
	case *chain.BlobDeleted:
		se.Event = sn.BlobDeleted{
			Epoch: b.Epoch, BlobID: b.BlobID, ObjectID: sn.ObjectID(b.ObjectID), EndEpoch: b.EndEpoch,
			WasCertified: b.WasCertified,
		}
	case *chain.InvalidBlobID:
		se.Event = sn.BlobInvalid{Epoch: b.Epoch, BlobID: b.BlobID}
	case *chain.EpochChangeStart:
		shards, err := shardsAt(b.Epoch)
		if err != nil {
			return se, false, fmt.Errorf("daemon: shards of epoch %d: %w", b.Epoch, err)
		}
		// Epoch 0's committee is the first: there is no previous owner to fetch from.
		se.Event = sn.EpochChangeStart{Epoch: b.Epoch, Shards: shards, Initial: b.Epoch == 0}
	case *chain.EpochChangeDone:
		se.Event = sn.EpochChangeDone{Epoch: b.Epoch}
	default:
		return se, false, nil
	}
	return se, true, nil
}

// translatePage translates a page of chain events into one batch for Node.ApplyEvents.
// The batch always ends at the page's last event (a cursor-only entry if the node ignores
// it), so applying it moves the cursor past the whole page.
func translatePage(page chain.EventPage, shardsAt func(epoch uint32) ([]uint16, error)) ([]sn.SequencedEvent, error) {
	out := make([]sn.SequencedEvent, 0, len(page.Events))
	for _, ev := range page.Events {
		se, ok, err := translate(ev, shardsAt)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, se)
		}
	}
	if n := len(page.Events); n > 0 {
		last := page.Events[n-1]
		if len(out) == 0 || out[len(out)-1].ID.Seq != last.Seq {
			out = append(out, sn.SequencedEvent{ID: sn.EventID{TxDigest: last.TxDigest, Seq: last.Seq}})
		}
	}
	return out, nil
}

// follow applies the chain's events to the node until ctx ends: it pages through the
// event log from the node's cursor, translates each page (looking up this node's shards
// at epoch changes) and applies it with the cursor in one batch. Chain restarts are
// retried by the Follower; other failures (a bad answer, a store failure) restart the
// Follower at the node's cursor after a backoff.
func (d *Daemon) follow(ctx context.Context) error {
	backoff := d.cfg.RetryMin
	for {
		start := d.node.Cursor()
		f := d.chain.Follow(start, uint32(d.cfg.EventPageSize))
		err := f.Run(ctx, d.applyPage)
		if ctx.Err() != nil {
			return nil
		}
		if d.node.Cursor() != start {
			// It made progress before failing: a new failure, not the same one again.
			backoff = d.cfg.RetryMin
		}
		d.log.Warn("event follower failed; restarting at the node's cursor", "cursor", d.node.Cursor(), "err", err, "retry_in", backoff)
		if !sleep(ctx, backoff) {
			return nil
		}
		backoff = min(2*backoff, d.cfg.RetryMax)
	}
}

// applyPage applies one page of events and starts what they call for.
func (d *Daemon) applyPage(ctx context.Context, page chain.EventPage) error {
	batch, err := translatePage(page, func(epoch uint32) ([]uint16, error) {
		c, err := d.view.committee(ctx, epoch)
		if err != nil {
			return nil, err
		}
		return c.selfShards(), nil
	})
	if err != nil {
		return err
	}
	before := d.node.Epoch()
	if err := d.node.ApplyEvents(batch); err != nil {
		return err
	}
	d.counters.cursor.Store(int64(d.node.Cursor()))
	d.counters.epoch.Store(int64(d.node.Epoch()))
	epochChanged := d.node.Epoch() != before
	for _, e := range batch {
		switch ev := e.Event.(type) {
		case sn.BlobCertified:
			d.blobs.enqueue(ev.BlobID)
		case sn.EpochChangeStart, sn.EpochChangeDone:
			d.shards.kick()
		}
	}
	if epochChanged {
		d.gc.schedule(d.node.Epoch())
	}
	for _, ev := range page.Events {
		switch ev.Body.(type) {
		case *chain.EpochChangeStart, *chain.ChallengeSeedFixed, *chain.ChallengePassed:
			d.kickChallenger()
		}
	}
	return nil
}

// kickChallenger makes the challenge driver poll now (the chain's challenge state has
// changed) instead of at its next tick.
func (d *Daemon) kickChallenger() {
	select {
	case d.chalKick <- struct{}{}:
	default:
	}
}

// sleep waits for d or ctx; it reports false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
