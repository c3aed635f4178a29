package chainclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/abciapp"
)

// TxResult is the outcome of a transaction included in a block.
type TxResult struct {
	// Height is the block that included the transaction, Index its position there.
	Height int64
	Index  int
	// Hash is CometBFT's transaction hash (SHA-256 of the encoded transaction).
	Hash []byte
	// Code is chain.CodeOK or the code of the failure; Log the chain's message.
	Code chain.Code
	Log  string
	// Fee is the fee charged (0 if the transaction was rejected before execution).
	Fee uint64
	// Digest is the chain's transaction digest (object IDs derive from it).
	Digest [32]byte
	// Events are the chain events the transaction emitted (none on failure).
	Events []chain.Event
	// Created lists the objects the transaction created, in creation order.
	Created []chain.ObjectID
}

func decodeResult(height int64, index int, hash []byte, code uint32, log string, data []byte, meta abciapp.TxMeta, events []chain.Event) (*TxResult, error) {
	res := &TxResult{Height: height, Index: index, Hash: hash, Code: chain.Code(code), Log: log,
		Fee: meta.Fee, Digest: meta.Digest, Events: events}
	if res.Code != chain.CodeOK {
		return res, &Error{Code: res.Code, Log: log, Height: height}
	}
	created, err := chain.DecodeTxData(data)
	if err != nil {
		return nil, fmt.Errorf("chainclient: block %d tx %d: %w", height, index, err)
	}
	res.Created = created
	return res, nil
}

// Pending is a transaction admitted to the node's mempool, whose block is awaited.
type Pending struct {
	c *Client
	// Hash is CometBFT's transaction hash; Digest the chain's transaction digest.
	Hash   []byte
	Digest [32]byte
	// Nonce is the transaction's nonce.
	Nonce uint64

	// raw is the encoded transaction, sent again by the recheck (resend.go); sender its
	// sender's address (hasSender false for bytes that do not decode as a transaction).
	raw       []byte
	sender    chain.Address
	hasSender bool
	// Guarded by c.mu: sentAt is when the transaction was admitted or last checked (zero
	// before admission); dropAt, if positive, a height at which the sender's committed
	// nonce had passed the transaction's: once the blocks up to it were searched without
	// finding the transaction, it can never be committed.
	sentAt time.Time
	dropAt int64

	done   chan struct{}
	once   sync.Once
	res    *TxResult
	err    error
	settle func(*TxResult, error) // nonce bookkeeping, called once
}

// finish records the outcome (once).
func (p *Pending) finish(res *TxResult, err error) {
	p.once.Do(func() {
		p.res, p.err = res, err
		if p.settle != nil {
			p.settle(res, err)
		}
		close(p.done)
	})
}

// Wait blocks until the transaction is in a committed block and returns its result. For a
// transaction that failed in its block it returns the result together with an *Error. A
// transaction that stays out of the blocks is checked and sent again (Options.Resend); one
// that can no longer be committed, because another transaction used its nonce, ends with
// an error wrapping ErrTxDropped. If
// ctx ends first it stops waiting for good and returns an error wrapping
// ErrOutcomeUnknown and ctx's error: the transaction may still be committed. Wait may be
// called several times; it returns the same outcome.
func (p *Pending) Wait(ctx context.Context) (*TxResult, error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		p.c.mu.Lock()
		if p.c.waiters[string(p.Hash)] == p {
			delete(p.c.waiters, string(p.Hash))
		}
		p.c.mu.Unlock()
		p.finish(nil, fmt.Errorf("%w: %w", ErrOutcomeUnknown, ctx.Err()))
	}
	return p.res, p.err
}

// Done is closed when the outcome is known (or the wait was abandoned).
func (p *Pending) Done() <-chan struct{} { return p.done }

// ChainID returns the chain ID (from the parameters, fetched once).
func (c *Client) ChainID(ctx context.Context) (string, error) {
	p, err := c.Params(ctx)
	if err != nil {
		return "", err
	}
	return p.ChainID, nil
}

// Sign builds and signs a transaction with an explicit nonce and fee (0 means the chain's
// minimum fee for the payload, chain.Params.MinFeeFor), without sending it. Most callers
// use Submit, which manages nonces. With Options.ChainID set, Sign refuses (ErrChainID) to
// sign for a chain with another ID.
func (c *Client) Sign(ctx context.Context, s *Signer, p chain.Payload, nonce, fee uint64) (*chain.Tx, error) {
	params, err := c.Params(ctx)
	if err != nil {
		return nil, err
	}
	if fee == 0 {
		fee = params.MinFeeFor(p)
	}
	tx := &chain.Tx{Nonce: nonce, Fee: fee, Payload: p}
	s.Sign(params.ChainID, tx)
	return tx, nil
}

// Broadcast sends an encoded transaction with BroadcastTxSync and, once the node admitted
// it (CheckTx), returns a Pending to wait for its block. A rejection comes back as an
// *Error with the chain's code and Height 0; a transaction the mempool already holds as
// ErrDuplicateTx. Broadcast does no nonce bookkeeping (see Submit).
func (c *Client) Broadcast(ctx context.Context, raw []byte) (*Pending, error) {
	return c.broadcast(ctx, raw, nil)
}

func (c *Client) broadcast(ctx context.Context, raw []byte, settle func(*TxResult, error)) (*Pending, error) {
	tx := cmttypes.Tx(raw)
	p := &Pending{c: c, Hash: tx.Hash(), raw: raw, done: make(chan struct{}), settle: settle}
	if decoded, err := chain.DecodeTx(raw); err == nil {
		p.Nonce = decoded.Nonce
		p.sender, p.hasSender = decoded.SenderAddress(), true
		if params := c.params.Load(); params != nil {
			p.Digest = decoded.Digest(params.ChainID)
		}
	}
	if err := c.register(ctx, p); err != nil {
		return nil, err
	}
	res, err := c.rpc.BroadcastTxSync(ctx, tx)
	if err == nil && res.Code != 0 {
		err = &Error{Code: chain.Code(res.Code), Log: res.Log}
	}
	if err != nil {
		c.unregister(p)
		return nil, broadcastError(err)
	}
	c.mu.Lock()
	p.sentAt = time.Now()
	c.mu.Unlock()
	c.poke()
	return p, nil
}

func broadcastError(err error) error {
	var ce *Error
	switch {
	case errors.As(err, &ce):
		return err
	case strings.Contains(err.Error(), "tx already exists in cache"):
		return fmt.Errorf("%w: %v", ErrDuplicateTx, err)
	case strings.Contains(err.Error(), "mempool is full"):
		return fmt.Errorf("%w: %v", ErrMempoolFull, err)
	}
	return fmt.Errorf("chainclient: broadcast: %w", err)
}

// register adds a waiter before its transaction is broadcast (see scan).
func (c *Client) register(ctx context.Context, p *Pending) error {
	c.startWatch()
	c.mu.Lock()
	based := c.based
	c.mu.Unlock()
	var h int64
	if !based {
		var err error
		if h, err = c.Height(ctx); err != nil {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if _, dup := c.waiters[string(p.Hash)]; dup {
		return fmt.Errorf("%w: already awaited by this client", ErrDuplicateTx)
	}
	if !c.based && len(c.waiters) == 0 {
		// No waiter registered before h was read: blocks up to h cannot hold this or any
		// later waiter's transaction.
		c.scanned, c.based = max(c.scanned, h), true
	}
	c.waiters[string(p.Hash)] = p
	return nil
}

func (c *Client) unregister(p *Pending) {
	c.mu.Lock()
	if c.waiters[string(p.Hash)] == p {
		delete(c.waiters, string(p.Hash))
	}
	c.mu.Unlock()
}

// account is the client's nonce bookkeeping for one sender.
type account struct {
	// mu serializes the submissions of the sender, so that transactions reach the mempool
	// in nonce order.
	mu      sync.Mutex
	synced  bool
	next    uint64            // the nonce of the next transaction
	pending map[uint64][]byte // transactions admitted but not yet seen in a block, by nonce
	// used: the nonces below it are known to be used, by transactions of this client
	// seen in the block at height usedAt or earlier.
	used   uint64
	usedAt int64
}

func (c *Client) account(addr chain.Address) *account {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.accounts[addr]
	if !ok {
		a = &account{pending: make(map[uint64][]byte)}
		c.accounts[addr] = a
	}
	return a
}

// resync sets the next nonce from the committed state, skipping the nonces of this
// client's own transactions still in flight. Those in flight from the committed nonce on
// are broadcast again: a validator that crashed or restarted loses its mempool, and
// without them every later nonce would be rejected (a copy still in a mempool is refused
// as a duplicate, which is harmless). a.mu is held.
func (c *Client) resync(ctx context.Context, addr chain.Address, a *account) error {
	acct, err := c.committedAccount(ctx, addr, a)
	if err != nil {
		return err
	}
	next := acct.Nonce
	for {
		raw, ok := a.pending[next]
		if !ok {
			break
		}
		if _, err := c.rpc.BroadcastTxSync(ctx, cmttypes.Tx(raw)); err != nil {
			c.logger.Debug("chainclient: rebroadcast of an in-flight transaction", "nonce", next, "err", err)
		}
		next++
	}
	a.next, a.synced = next, true
	return nil
}

// committedAccount reads the sender's account. An endpoint below the height at which this
// client saw a nonce used, with a lower nonce, is behind (a client of several validators
// that failed over to one a block behind): its nonce would sign a transaction that it
// admits now and evicts once it catches up, never to be committed. committedAccount then
// reads again, with backoff, until the endpoint reaches that height or ctx ends. At or
// above that height the endpoint's answer stands (a chain reset behind the address). a.mu
// is held.
func (c *Client) committedAccount(ctx context.Context, addr chain.Address, a *account) (chain.Account, error) {
	retry := c.opts.RetryMin
	for {
		raw, h, err := c.Query(ctx, chain.QueryAccount, addr[:])
		if err != nil {
			return chain.Account{}, err
		}
		acct, err := chain.DecodeAccount(raw)
		if err != nil {
			return chain.Account{}, fmt.Errorf("chainclient: query %s: %w", chain.QueryAccount, err)
		}
		if acct.Nonce >= a.used || h >= a.usedAt {
			return acct, nil
		}
		c.logger.Debug("chainclient: the node is behind the block that used the sender's nonce; reading again",
			"sender", addr, "nonce", acct.Nonce, "height", h, "used", a.used, "used_at", a.usedAt)
		if err := c.sleep(ctx, retry); err != nil {
			return chain.Account{}, err
		}
		retry = min(2*retry, c.opts.RetryMax)
	}
}

// SubmitAsync signs p as the signer's next transaction (fee 0 means the chain's minimum
// fee), sends it and returns once the node admitted it, with a Pending to wait for its
// block. Concurrent submissions from one sender are serialized up to admission, so that
// they reach the mempool in nonce order; the block waits run in parallel. The Client keeps
// each sender's next nonce, read from the chain at first use and again after an outcome
// that leaves it in doubt (a nonce rejection, a transaction that failed before execution,
// an abandoned wait, a broadcast error). A rejection comes back as an *Error with Height 0.
func (c *Client) SubmitAsync(ctx context.Context, s *Signer, p chain.Payload, fee uint64) (*Pending, error) {
	addr := s.Address()
	a := c.account(addr)
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.synced {
		if err := c.resync(ctx, addr, a); err != nil {
			return nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		nonce := a.next
		tx, err := c.Sign(ctx, s, p, nonce, fee)
		if err != nil {
			return nil, err
		}
		settle := func(res *TxResult, err error) {
			a.mu.Lock()
			defer a.mu.Unlock()
			delete(a.pending, nonce)
			if res != nil && (err == nil || res.Fee > 0) && nonce >= a.used {
				a.used, a.usedAt = nonce+1, res.Height
			}
			// A transaction rejected before execution (bad nonce, fee it could not pay) did
			// not consume its nonce; neither did one whose outcome is unknown, maybe. Read
			// the nonce again before the next submission.
			if err != nil && (res == nil || res.Fee == 0) {
				a.synced = false
			}
		}
		raw := tx.Encode()
		pend, err := c.broadcast(ctx, raw, settle)
		if err != nil {
			a.synced = false
			// A nonce rejection means the bookkeeping was off (another client of the same
			// key, or in-flight transactions a restarted validator lost): read the nonce
			// again, send the lost ones again, and retry once.
			if attempt == 0 && errors.Is(err, chain.ErrNonce) && c.resync(ctx, addr, a) == nil {
				continue
			}
			return nil, err
		}
		pend.Digest = tx.Digest(c.params.Load().ChainID)
		a.next = nonce + 1
		a.pending[nonce] = raw
		return pend, nil
	}
}

// Submit is SubmitAsync followed by Wait: it returns the result of the transaction once
// its block is committed (so that queries already see its effects). A transaction that
// failed in its block returns its result and an *Error. Without a deadline on ctx, the
// wait is bounded by Options.TxTimeout.
func (c *Client) Submit(ctx context.Context, s *Signer, p chain.Payload) (*TxResult, error) {
	pend, err := c.SubmitAsync(ctx, s, p, 0)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.TxTimeout)
		defer cancel()
	}
	return pend.Wait(ctx)
}
