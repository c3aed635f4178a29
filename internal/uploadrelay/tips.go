package uploadrelay

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/walrus-go/walrus/internal/base58"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
)

// DefaultTipFreshness is how long a TipLedger remembers a tip (Walrus's
// tx_freshness_threshold_secs).
const DefaultTipFreshness = time.Hour

// maxTips bounds the tips a ledger remembers; the oldest are forgotten first.
const maxTips = 1 << 16

// TipLedger follows the chain's event log from the moment it is created and remembers, for
// its freshness time, the TransferredWithMemo events paying its address. Tips paid before
// it was created are unknown to it, so a restarted relay never accepts a tip twice. It is
// safe for concurrent use; Run drives it.
type TipLedger struct {
	chain     *chainclient.Client
	to        chain.Address
	freshness time.Duration
	now       func() time.Time
	start     uint64

	// mu guards the fields below; changed is closed and replaced whenever cursor moves.
	mu       sync.Mutex
	cursor   uint64
	changed  chan struct{}
	payments map[[32]byte]tipEntry
	order    [][32]byte // digests in the order seen, for forgetting
}

type tipEntry struct {
	pay  Payment
	seen time.Time
}

// NewTipLedger returns a ledger of the tips paid to to from now on; freshness 0 means
// DefaultTipFreshness, now nil means time.Now.
func NewTipLedger(ctx context.Context, c *chainclient.Client, to chain.Address, freshness time.Duration, now func() time.Time) (*TipLedger, error) {
	sys, err := c.System(ctx)
	if err != nil {
		return nil, fmt.Errorf("uploadrelay: %w", err)
	}
	if freshness <= 0 {
		freshness = DefaultTipFreshness
	}
	if now == nil {
		now = time.Now
	}
	return &TipLedger{chain: c, to: to, freshness: freshness, now: now, start: sys.NextEventSeq,
		cursor: sys.NextEventSeq, changed: make(chan struct{}), payments: map[[32]byte]tipEntry{}}, nil
}

// Run follows the event log until ctx ends and returns its error.
func (l *TipLedger) Run(ctx context.Context) error {
	return l.chain.Follow(l.start, 0).Run(ctx, func(_ context.Context, page chain.EventPage) error {
		l.mu.Lock()
		defer l.mu.Unlock()
		now := l.now()
		for _, ev := range page.Events {
			t, ok := ev.Body.(*chain.TransferredWithMemo)
			if !ok || t.To != l.to {
				continue
			}
			if _, dup := l.payments[ev.TxDigest]; dup {
				continue
			}
			l.payments[ev.TxDigest] = tipEntry{pay: Payment{From: t.From, Amount: t.Amount, Memo: t.Memo}, seen: now}
			l.order = append(l.order, ev.TxDigest)
		}
		for len(l.order) > 0 {
			e := l.payments[l.order[0]]
			if len(l.order) <= maxTips && now.Sub(e.seen) <= l.freshness {
				break
			}
			delete(l.payments, l.order[0])
			l.order = l.order[1:]
		}
		l.cursor = page.Next
		close(l.changed)
		l.changed = make(chan struct{})
		return nil
	})
}

// Payment implements Tips: it waits until the ledger has seen every event committed now,
// then looks the transaction up.
func (l *TipLedger) Payment(ctx context.Context, tx [32]byte) (Payment, error) {
	sys, err := l.chain.System(ctx)
	if err != nil {
		return Payment{}, fmt.Errorf("uploadrelay: %w", err)
	}
	for {
		l.mu.Lock()
		cursor, changed := l.cursor, l.changed
		e, ok := l.payments[tx]
		l.mu.Unlock()
		if ok && l.now().Sub(e.seen) <= l.freshness {
			return e.pay, nil
		}
		if cursor >= sys.NextEventSeq {
			return Payment{}, fmt.Errorf("%w: transaction %s paid no tip to %s since the relay started, or it is older than %s",
				ErrNoTipSent, base58.Encode(tx[:]), l.to, l.freshness)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return Payment{}, fmt.Errorf("%w: the relay has not seen the chain's latest events: %w", ErrNoTipSent, ctx.Err())
		}
	}
}
