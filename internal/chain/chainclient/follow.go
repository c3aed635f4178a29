package chainclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/walrus-go/walrus/internal/chain"
)

// Follower pages through the chain's event log from a cursor (the sequence number of the
// next event wanted). It waits for new blocks when it has seen every event, and retries
// with backoff while the node is unreachable (a restart), so a follower outlives restarts
// of the node; the cursor is the caller's to persist, so a new Follower at the persisted
// cursor continues after a restart of the caller. Events come in sequence order with no
// gaps and no repeats. A Follower is not safe for concurrent use.
type Follower struct {
	c      *Client
	cursor uint64
	limit  uint32
}

// Follow returns a Follower starting at cursor, reading pages of at most limit events (0
// means chain.MaxPageSize).
func (c *Client) Follow(cursor uint64, limit uint32) *Follower {
	return &Follower{c: c, cursor: cursor, limit: limit}
}

// Cursor returns the sequence number of the next event the Follower will return.
func (f *Follower) Cursor() uint64 { return f.cursor }

// Next returns the next page of events, waiting until there is at least one. It advances
// the cursor past the page. It returns an error only when ctx ends, the client is closed,
// or the node's answer is wrong (a chain error, a page that does not continue the cursor:
// ErrEventGap); network errors are retried.
func (f *Follower) Next(ctx context.Context) (chain.EventPage, error) {
	retry := f.c.opts.RetryMin
	failing := false
	for {
		page, h, err := f.c.Events(ctx, f.cursor, f.limit)
		var ce *Error
		switch {
		case err == nil:
		case errors.As(err, &ce):
			return chain.EventPage{}, err
		case ctx.Err() != nil:
			return chain.EventPage{}, ctx.Err()
		default:
			if !failing {
				f.c.logger.Warn("chainclient: follower: node unreachable; retrying", "cursor", f.cursor, "err", err)
			}
			failing = true
			if err := f.c.sleep(ctx, retry); err != nil {
				return chain.EventPage{}, err
			}
			retry = min(2*retry, f.c.opts.RetryMax)
			continue
		}
		failing, retry = false, f.c.opts.RetryMin
		if len(page.Events) > 0 {
			if err := checkPage(f.cursor, page); err != nil {
				return chain.EventPage{}, err
			}
			f.cursor = page.Next
			return page, nil
		}
		// Everything up to height h has been seen: wait for a later block.
		if err := f.c.waitHeight(ctx, h); err != nil {
			return chain.EventPage{}, err
		}
	}
}

func checkPage(cursor uint64, page chain.EventPage) error {
	for i, ev := range page.Events {
		if ev.Seq != cursor+uint64(i) {
			return fmt.Errorf("%w: event %d of the page has sequence number %d, want %d", ErrEventGap, i, ev.Seq, cursor+uint64(i))
		}
	}
	if last := page.Events[len(page.Events)-1].Seq; page.Next != last+1 {
		return fmt.Errorf("%w: page ends at %d but its next cursor is %d", ErrEventGap, last, page.Next)
	}
	return nil
}

// Run calls fn with each page of events until ctx ends or fn fails; it returns ctx's error
// or fn's. The cursor advances past a page before fn is called; a caller that persists
// the cursor does so in fn, with the effects of the page (page.Next is the cursor to
// store).
func (f *Follower) Run(ctx context.Context, fn func(ctx context.Context, page chain.EventPage) error) error {
	for {
		page, err := f.Next(ctx)
		if err != nil {
			return err
		}
		if err := fn(ctx, page); err != nil {
			return err
		}
	}
}
