package chainclient

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/cometbft/cometbft/rpc/client/local"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	jsonrpcclient "github.com/cometbft/cometbft/rpc/jsonrpc/client"
	"github.com/cometbft/cometbft/types"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/abciapp"
)

// Options configures a Client. The zero value is valid: every field has a documented
// default.
type Options struct {
	// ChainID pins the chain: if set, the client refuses a node whose chain has another ID
	// (Params and everything that signs return ErrChainID), so that a wallet configured
	// for one chain never signs a transaction for another. Empty accepts any chain.
	ChainID string
	// Logger receives the client's logs (retries after errors); nil discards them.
	Logger *slog.Logger
	// PollMin and PollMax bound the interval at which the client asks the node for its
	// committed height while it waits for a transaction or for new events and has no live
	// new-block subscription: PollMin after each new block, doubling up to PollMax while
	// nothing happens. Defaults 5 ms and 200 ms. A new-block subscription wakes the client
	// at once: in-process for an in-process node, over the node's websocket endpoint for a
	// dialed one (opened by the first wait, kept until Close).
	PollMin, PollMax time.Duration
	// IdlePoll is the polling interval while nothing waits, and while a live new-block
	// subscription wakes the client at each block (the poll then only covers a lost
	// event); default 1 s.
	IdlePoll time.Duration
	// RetryMin and RetryMax bound the exponential backoff after a failed call to the node
	// (a restart, a network error); defaults 50 ms and 2 s.
	RetryMin, RetryMax time.Duration
	// CallTimeout bounds each call to the node made by the client's background work;
	// default 10 s.
	CallTimeout time.Duration
	// TxTimeout bounds Submit's wait for a transaction's block when the caller's context
	// has no deadline; default 1 min.
	TxTimeout time.Duration
	// Resend is how long an admitted transaction may go unseen in the blocks before the
	// client checks it again, and then the interval between checks; default 5 s. A check
	// reads the sender's committed nonce: if it has passed the transaction's, the
	// transaction cannot be committed any more once the blocks up to that height were
	// searched (another transaction used the nonce), and its wait ends with ErrTxDropped;
	// otherwise the transaction is broadcast again, to every endpoint of a DialAll client
	// (a validator that admitted it may have died, or peers rejected it while behind).
	Resend time.Duration
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PollMin, 5*time.Millisecond)
	def(&o.PollMax, 200*time.Millisecond)
	def(&o.IdlePoll, time.Second)
	def(&o.RetryMin, 50*time.Millisecond)
	def(&o.RetryMax, 2*time.Second)
	def(&o.CallTimeout, 10*time.Second)
	def(&o.TxTimeout, time.Minute)
	def(&o.Resend, 5*time.Second)
	o.PollMax = max(o.PollMax, o.PollMin)
	o.RetryMax = max(o.RetryMax, o.RetryMin)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Client talks to one CometBFT node running the Walrus application: it submits signed
// transactions and waits for their results, answers typed queries and follows the event
// log. It is safe for concurrent use. A background goroutine tracks the node's committed
// height (polling, plus a new-block subscription) and finds the
// results of submitted transactions in the blocks; Close stops it.
type Client struct {
	rpc    rpcclient.Client
	opts   Options
	logger *slog.Logger
	// closeIdle closes the idle connections of a dialed node's HTTP clients (nil for an
	// in-process node); Close calls it.
	closeIdle func()
	// wsURL returns the websocket endpoint of a dialed node (of DialAll's current
	// endpoint); the watcher (watch.go), started once by the first wait, subscribes there
	// to new blocks. Nil for an in-process node.
	wsURL     func() string
	watchOnce sync.Once

	params atomic.Pointer[chain.Params] // immutable once fetched

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{} // capacity 1: wakes the tracker
	// rechecking is set while a goroutine checks the transactions waited for too long
	// (resend.go).
	rechecking atomic.Bool

	interest atomic.Int64 // callers waiting for new heights (followers)
	// watched is set while a new-block subscription is live (acknowledged by the node and
	// not failed since): the tracker then polls at IdlePoll only, except while the height
	// it has seen is below announced, the highest height of the new-block events: then it
	// polls from PollMin up (after a failover the events may come from another validator
	// than the one it asks, which may commit the block a little later).
	watched   atomic.Bool
	announced atomic.Int64

	mu       sync.Mutex
	closed   bool
	waiters  map[string]*Pending // by CometBFT tx hash
	height   int64               // the node's committed height, as last seen
	scanned  int64               // blocks up to here were searched for waiters (or skipped while none waited)
	based    bool                // scanned was set from an observed height (not the initial 0)
	heightCh chan struct{}       // closed when height grows
	accounts map[chain.Address]*account
}

// New returns a Client over an RPC client: an in-process node's (chainnode.Node.Client,
// CometBFT's local client) or an HTTP one. The Client does not stop rpc when closed.
func New(rpc rpcclient.Client, opts Options) (*Client, error) {
	return newClient(rpc, opts)
}

// Dial returns a Client for the CometBFT RPC server at addr ("http://host:port",
// "tcp://host:port" or "host:port"). It does not contact the node.
func Dial(addr string, opts Options) (*Client, error) {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	hc, err := jsonrpcclient.DefaultHTTPClient(addr)
	if err != nil {
		return nil, fmt.Errorf("chainclient: dial %s: %w", addr, err)
	}
	rpc, err := rpchttp.NewWithClient(addr, "/websocket", hc)
	if err != nil {
		return nil, fmt.Errorf("chainclient: dial %s: %w", addr, err)
	}
	c, err := newClient(rpc, opts)
	if err != nil {
		return nil, err
	}
	c.closeIdle = hc.CloseIdleConnections
	if u := wsURL(addr); u != "" {
		c.wsURL = func() string { return u }
	}
	return c, nil
}

func newClient(rpc rpcclient.Client, opts Options) (*Client, error) {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		rpc: rpc, opts: opts, logger: opts.Logger, ctx: ctx, cancel: cancel,
		wake: make(chan struct{}, 1), waiters: make(map[string]*Pending), heightCh: make(chan struct{}),
		accounts: make(map[chain.Address]*account),
	}
	if l, ok := rpc.(*local.Local); ok {
		c.subscribe(l)
	}
	c.wg.Add(1)
	go c.track()
	return c, nil
}

// RPC returns the underlying CometBFT RPC client.
func (c *Client) RPC() rpcclient.Client { return c.rpc }

// Close stops the client's background work; pending waits fail with ErrClosed. It is
// idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	waiters := c.waiters
	c.waiters = map[string]*Pending{}
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	if c.closeIdle != nil {
		c.closeIdle()
	}
	for _, p := range waiters {
		p.finish(nil, ErrClosed)
	}
	return nil
}

// subscribe turns an in-process node's new-block events into wake-ups of the tracker. The
// events are only hints: the tracker reads heights and results itself, so a lost event
// costs at most one poll interval.
func (c *Client) subscribe(l *local.Local) {
	name := fmt.Sprintf("chainclient-%p", c)
	ch, err := l.Subscribe(c.ctx, name, types.EventQueryNewBlockHeader.String(), 64)
	if err != nil {
		c.logger.Debug("chainclient: no new-block subscription; polling", "err", err)
		return
	}
	// CometBFT's local client resubscribes by itself if the subscription is cancelled (a
	// full buffer); the events lost meanwhile cost at most IdlePoll.
	c.watched.Store(true)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer l.UnsubscribeAll(context.Background(), name) //nolint:errcheck // best effort at shutdown
		for {
			select {
			case <-c.ctx.Done():
				return
			case ev := <-ch:
				if h, ok := ev.Data.(types.EventDataNewBlockHeader); ok {
					c.announce(h.Header.Height)
				}
				c.poke()
			}
		}
	}()
}

func (c *Client) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// track is the background loop: it follows the node's committed height and hands the
// results of waited-for transactions to their waiters.
func (c *Client) track() {
	defer c.wg.Done()
	interval := c.opts.PollMin
	retry := c.opts.RetryMin
	failing := false
	for {
		grew, err := c.step()
		var delay time.Duration
		switch {
		case err != nil:
			if !failing {
				c.logger.Warn("chainclient: node unreachable; retrying", "err", err)
			}
			failing = true
			delay = retry
			retry = min(2*retry, c.opts.RetryMax)
		default:
			if failing {
				c.logger.Info("chainclient: node reachable again")
			}
			c.startRecheck()
			failing, retry = false, c.opts.RetryMin
			switch {
			case grew:
				interval = c.opts.PollMin
			default:
				interval = min(2*interval, c.opts.PollMax)
			}
			delay = interval
			if !c.busy() || c.watched.Load() && c.announced.Load() <= c.seenHeight() {
				// Nobody waits, or the subscription wakes the tracker at each block.
				delay = c.opts.IdlePoll
			}
		}
		t := time.NewTimer(delay)
		select {
		case <-c.ctx.Done():
			t.Stop()
			return
		case <-c.wake:
			interval = c.opts.PollMin
		case <-t.C:
		}
		t.Stop()
	}
}

// seenHeight returns the committed height the tracker has seen.
func (c *Client) seenHeight() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.height
}

// announce records the height of a new-block event.
func (c *Client) announce(h int64) {
	for {
		cur := c.announced.Load()
		if h <= cur || c.announced.CompareAndSwap(cur, h) {
			return
		}
	}
}

// busy reports whether anyone waits for a block.
func (c *Client) busy() bool {
	if c.interest.Load() > 0 {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters) > 0
}

// step reads the committed height once and processes new blocks. It reports whether the
// height grew.
//
// A new-block event of the one node the Client asks announces a committed height: CometBFT
// fires it after the application committed the block and the node saved its state. So
// when the events announce a height above the one seen, step scans up to it without
// asking the node for its height first (one round trip less between a block and its
// waiters). It asks if that scan fails (the events of a node that was replaced by another
// chain, say) and always behind a Failover, whose events may come from another validator.
func (c *Client) step() (bool, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.CallTimeout)
	defer cancel()
	h := c.announced.Load()
	_, failover := c.rpc.(*Failover)
	if failover || h <= c.seenHeight() || c.scan(ctx, h) != nil {
		info, err := c.rpc.ABCIInfo(ctx)
		if err != nil {
			return false, err
		}
		h = info.Response.LastBlockHeight
		if err := c.scan(ctx, h); err != nil {
			return false, err
		}
	}
	c.endDropped()
	c.mu.Lock()
	defer c.mu.Unlock()
	if h <= c.height {
		return false, nil
	}
	c.height = h
	close(c.heightCh)
	c.heightCh = make(chan struct{})
	return true, nil
}

// scan searches the blocks after c.scanned up to h (all committed) for waited-for
// transactions. While nobody waits it only moves c.scanned: a waiter registers before its
// transaction is broadcast, so its transaction cannot be in a block committed before the
// registration.
func (c *Client) scan(ctx context.Context, h int64) error {
	for {
		c.mu.Lock()
		if c.scanned >= h {
			c.mu.Unlock()
			return nil
		}
		if len(c.waiters) == 0 {
			c.scanned, c.based = h, true
			c.mu.Unlock()
			return nil
		}
		next := c.scanned + 1
		c.mu.Unlock()
		if err := c.scanBlock(ctx, next); err != nil {
			return err
		}
		c.mu.Lock()
		c.scanned = next
		c.mu.Unlock()
	}
}

// scanBlock hands the results of block h's waited-for transactions to their waiters. The
// block (for its transactions' hashes) and its results are read concurrently: one round
// trip to the node per block, not two in a row, at the price of reading the results of
// blocks with no transactions too (only while someone waits).
func (c *Client) scanBlock(ctx context.Context, h int64) error {
	var results *ctypes.ResultBlockResults
	var resErr error
	read := make(chan struct{})
	go func() {
		defer close(read)
		hr := h
		results, resErr = c.rpc.BlockResults(ctx, &hr)
	}()
	block, err := c.rpc.Block(ctx, &h)
	<-read
	if err != nil {
		return fmt.Errorf("chainclient: block %d: %w", h, err)
	}
	if len(block.Block.Data.Txs) == 0 {
		return nil
	}
	if resErr != nil {
		return fmt.Errorf("chainclient: block results %d: %w", h, resErr)
	}
	if len(results.TxsResults) != len(block.Block.Data.Txs) {
		return fmt.Errorf("chainclient: block %d has %d transactions but %d results", h, len(block.Block.Data.Txs), len(results.TxsResults))
	}
	for i, tx := range block.Block.Data.Txs {
		hash := tx.Hash()
		c.mu.Lock()
		p, ok := c.waiters[string(hash)]
		if ok {
			delete(c.waiters, string(hash))
		}
		c.mu.Unlock()
		if !ok {
			continue
		}
		r := results.TxsResults[i]
		meta, events, err := abciapp.DecodeEvents(r.Events)
		if err != nil {
			p.finish(nil, fmt.Errorf("chainclient: block %d tx %d: %w", h, i, err))
			continue
		}
		res, err := decodeResult(h, i, hash, r.Code, r.Log, r.Data, meta, events)
		p.finish(res, err)
	}
	return nil
}

// Height returns the node's committed height (the application's last commit).
func (c *Client) Height(ctx context.Context) (int64, error) {
	info, err := c.rpc.ABCIInfo(ctx)
	if err != nil {
		return 0, fmt.Errorf("chainclient: info: %w", err)
	}
	return info.Response.LastBlockHeight, nil
}

// waitHeight blocks until the committed height seen by the tracker exceeds h, or ctx ends.
func (c *Client) waitHeight(ctx context.Context, h int64) error {
	c.interest.Add(1)
	defer c.interest.Add(-1)
	c.startWatch()
	if !c.watched.Load() {
		// Read the height now rather than at the next poll. A live subscription wakes the
		// tracker at the next block anyway.
		c.poke()
	}
	for {
		c.mu.Lock()
		cur, ch, closed := c.height, c.heightCh, c.closed
		c.mu.Unlock()
		switch {
		case closed:
			return ErrClosed
		case cur > h:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.ctx.Done():
			return ErrClosed
		case <-ch:
		}
	}
}

// sleep waits for d or until ctx or the client ends.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ctx.Done():
		return ErrClosed
	case <-t.C:
		return nil
	}
}
