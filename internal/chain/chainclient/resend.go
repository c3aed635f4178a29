package chainclient

import (
	"context"
	"fmt"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/walrus-go/walrus/internal/chain"
)

// Transactions that stay out of the blocks. A node's answer to BroadcastTxSync only says
// that its mempool admitted the transaction; the transaction may still never be committed:
// the validator may die before gossiping it (a client of several validators then talks to
// another one, which never saw it), and a peer one block behind rejects it at admission
// (its nonce is ahead of the peer's state) and is never offered it again. With no empty
// blocks, a chain whose live validators lack the transaction may even wait for it forever.
// The tracker would wait for such a transaction until the caller's context ends, so a
// transaction unseen for Options.Resend is checked: the sender's committed nonce tells
// whether it can still be committed; if it can, it is broadcast again to every endpoint;
// if not, its wait ends with ErrTxDropped once the blocks up to the height of that answer
// were searched (it might be in one of them).

// startRecheck starts a check of the transactions waited for longer than Resend, unless
// one runs. It is called by the tracker; the check runs apart so that a slow endpoint
// does not hold up the tracking of heights.
func (c *Client) startRecheck() {
	due := c.dueForRecheck(time.Now())
	if len(due) == 0 || !c.rechecking.CompareAndSwap(false, true) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.rechecking.Store(false)
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.rechecking.Store(false)
		for _, p := range c.dueForRecheck(time.Now()) {
			if c.ctx.Err() != nil {
				return
			}
			c.recheck(p)
		}
	}()
}

// dueForRecheck returns the waiters admitted or last checked at least Resend before now.
func (c *Client) dueForRecheck(now time.Time) []*Pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	var due []*Pending
	for _, p := range c.waiters {
		if !p.sentAt.IsZero() && p.dropAt == 0 && now.Sub(p.sentAt) >= c.opts.Resend {
			due = append(due, p)
		}
	}
	return due
}

// recheck checks one transaction left out of the blocks: it marks it dropped if the
// sender's committed nonce passed its nonce, else it broadcasts it again.
func (c *Client) recheck(p *Pending) {
	c.mu.Lock()
	if c.waiters[string(p.Hash)] != p {
		c.mu.Unlock()
		return
	}
	p.sentAt = time.Now()
	c.mu.Unlock()
	if p.hasSender {
		ctx, cancel := context.WithTimeout(c.ctx, c.opts.CallTimeout)
		acct, h, err := c.accountAt(ctx, p)
		cancel()
		if err == nil && acct > p.Nonce {
			c.mu.Lock()
			if c.waiters[string(p.Hash)] == p {
				p.dropAt = max(h, 1)
			}
			c.mu.Unlock()
			c.poke()
			return
		}
	}
	c.sendAgain(p.raw)
}

// accountAt returns the committed nonce of p's sender and the height it was read at.
func (c *Client) accountAt(ctx context.Context, p *Pending) (uint64, int64, error) {
	raw, h, err := c.Query(ctx, chain.QueryAccount, p.sender[:])
	if err != nil {
		return 0, 0, err
	}
	acct, err := chain.DecodeAccount(raw)
	if err != nil {
		return 0, 0, err
	}
	return acct.Nonce, h, nil
}

// sendAgain broadcasts raw to the node, or to every endpoint of a DialAll client, each
// within CallTimeout. The answers do not matter: a copy already in a mempool is refused as
// a duplicate, a stale one for its nonce (the next check then finds the nonce passed).
func (c *Client) sendAgain(raw []byte) {
	tx := cmttypes.Tx(raw)
	send := func(name string, fn func(ctx context.Context) error) {
		ctx, cancel := context.WithTimeout(c.ctx, c.opts.CallTimeout)
		defer cancel()
		if err := fn(ctx); err != nil {
			c.logger.Debug("chainclient: transaction sent again", "hash", fmt.Sprintf("%X", tx.Hash()), "to", name, "err", err)
		}
	}
	f, ok := c.rpc.(*Failover)
	if !ok {
		send("node", func(ctx context.Context) error { _, err := c.rpc.BroadcastTxSync(ctx, tx); return err })
		return
	}
	for i, e := range f.endpoints {
		send(f.names[i], func(ctx context.Context) error { _, err := e.BroadcastTxSync(ctx, tx); return err })
	}
}

// endDropped ends the waits of the transactions marked dropped whose height has been
// searched. The tracker calls it after each scan.
func (c *Client) endDropped() {
	c.mu.Lock()
	var dropped []*Pending
	for k, p := range c.waiters {
		if p.dropAt > 0 && c.scanned >= p.dropAt {
			delete(c.waiters, k)
			dropped = append(dropped, p)
		}
	}
	c.mu.Unlock()
	for _, p := range dropped {
		p.finish(nil, fmt.Errorf("%w: nonce %d of %s was used by height %d, and the blocks up to there do not hold transaction %X",
			ErrTxDropped, p.Nonce, p.sender, p.dropAt, p.Hash))
	}
}
