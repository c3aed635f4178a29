package chainclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/cometbft/cometbft/libs/bytes"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	jsonrpcclient "github.com/cometbft/cometbft/rpc/jsonrpc/client"
	jsonrpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	"github.com/cometbft/cometbft/types"
)

// ErrNoEndpoint is returned by DialAll without addresses.
var ErrNoEndpoint = errors.New("chainclient: no RPC endpoint")

// DialAll returns a Client over the CometBFT RPC servers at addrs (validators of one
// chain, in order of preference; see Dial for the address forms). Calls go to one endpoint
// at a time, starting with the first; a call that fails without an answer from the
// endpoint (connection refused, reset, timeout: not an error the node answered with) is
// tried again on the next endpoint, which then serves later calls too, so that a node
// keeps working while any one of the validators answers. A transaction broadcast whose
// answer was lost may reach two validators; the second reports it as ErrDuplicateTx. It
// does not contact any node. With one address it is Dial.
func DialAll(addrs []string, opts Options) (*Client, error) {
	if len(addrs) == 0 {
		return nil, ErrNoEndpoint
	}
	if len(addrs) == 1 {
		return Dial(addrs[0], opts)
	}
	opts = opts.withDefaults()
	f := &Failover{logger: opts.Logger}
	var hcs []*http.Client
	for _, a := range addrs {
		if !strings.Contains(a, "://") {
			a = "http://" + a
		}
		hc, err := jsonrpcclient.DefaultHTTPClient(a)
		if err != nil {
			return nil, fmt.Errorf("chainclient: dial %s: %w", a, err)
		}
		rpc, err := rpchttp.NewWithClient(a, "/websocket", hc)
		if err != nil {
			return nil, fmt.Errorf("chainclient: dial %s: %w", a, err)
		}
		f.endpoints = append(f.endpoints, rpc)
		f.names = append(f.names, a)
		hcs = append(hcs, hc)
	}
	c, err := newClient(f, opts)
	if err != nil {
		return nil, err
	}
	// The new-block subscription goes to the endpoint current when it (re)connects; it
	// moves only when its connection fails. Any validator's blocks are a good hint.
	c.wsURL = func() string { return wsURL(f.Current()) }
	c.closeIdle = func() {
		for _, hc := range hcs {
			hc.CloseIdleConnections()
		}
	}
	return c, nil
}

// Failover is a CometBFT RPC client over several endpoints of one chain (see DialAll). It
// is safe for concurrent use. Subscriptions go to the endpoint current at the time of the
// call and are not moved on failover.
type Failover struct {
	endpoints []rpcclient.Client
	names     []string
	logger    *slog.Logger

	mu      sync.Mutex
	current int // index of the endpoint calls go to
}

var _ rpcclient.Client = (*Failover)(nil)

// Current returns the address of the endpoint calls go to now.
func (f *Failover) Current() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.names[f.current]
}

// unreachable reports whether err means that the endpoint did not answer (so that another
// endpoint may), as opposed to an answer of the node or the caller's own cancellation.
func unreachable(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	var rpcErr *jsonrpctypes.RPCError
	return !errors.As(err, &rpcErr)
}

// call runs fn on the current endpoint and, while the endpoint is unreachable, on the next
// ones, each at most once per call.
func call[T any](ctx context.Context, f *Failover, fn func(rpcclient.Client) (T, error)) (T, error) {
	f.mu.Lock()
	start := f.current
	f.mu.Unlock()
	var (
		res T
		err error
	)
	for k := range len(f.endpoints) {
		i := (start + k) % len(f.endpoints)
		res, err = fn(f.endpoints[i])
		if !unreachable(ctx, err) {
			if k > 0 {
				f.mu.Lock()
				if f.current == start {
					f.current = i
					f.logger.Warn("chainclient: failed over to another validator", "from", f.names[start], "to", f.names[i], "err", err)
				}
				f.mu.Unlock()
			}
			return res, err
		}
	}
	return res, err
}

// Service methods: the HTTP endpoints need no start; Start and Stop reach all of them.

func (f *Failover) Start() error {
	var errs []error
	for _, e := range f.endpoints {
		errs = append(errs, e.Start())
	}
	return errors.Join(errs...)
}
func (f *Failover) OnStart() error { return nil }
func (f *Failover) Stop() error {
	var errs []error
	for _, e := range f.endpoints {
		errs = append(errs, e.Stop())
	}
	return errors.Join(errs...)
}
func (f *Failover) OnStop()               {}
func (f *Failover) Reset() error          { return errors.New("chainclient: failover client cannot be reset") }
func (f *Failover) OnReset() error        { return nil }
func (f *Failover) IsRunning() bool       { return f.endpoints[0].IsRunning() }
func (f *Failover) Quit() <-chan struct{} { return f.endpoints[0].Quit() }
func (f *Failover) String() string        { return "Failover" + fmt.Sprint(f.names) }
func (f *Failover) SetLogger(l cmtlog.Logger) {
	for _, e := range f.endpoints {
		e.SetLogger(l)
	}
}

func (f *Failover) ABCIInfo(ctx context.Context) (*ctypes.ResultABCIInfo, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultABCIInfo, error) { return c.ABCIInfo(ctx) })
}

func (f *Failover) ABCIQuery(ctx context.Context, path string, data bytes.HexBytes) (*ctypes.ResultABCIQuery, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultABCIQuery, error) { return c.ABCIQuery(ctx, path, data) })
}

func (f *Failover) ABCIQueryWithOptions(ctx context.Context, path string, data bytes.HexBytes, opts rpcclient.ABCIQueryOptions) (*ctypes.ResultABCIQuery, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultABCIQuery, error) {
		return c.ABCIQueryWithOptions(ctx, path, data, opts)
	})
}

func (f *Failover) BroadcastTxCommit(ctx context.Context, tx types.Tx) (*ctypes.ResultBroadcastTxCommit, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultBroadcastTxCommit, error) { return c.BroadcastTxCommit(ctx, tx) })
}

func (f *Failover) BroadcastTxAsync(ctx context.Context, tx types.Tx) (*ctypes.ResultBroadcastTx, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultBroadcastTx, error) { return c.BroadcastTxAsync(ctx, tx) })
}

func (f *Failover) BroadcastTxSync(ctx context.Context, tx types.Tx) (*ctypes.ResultBroadcastTx, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultBroadcastTx, error) { return c.BroadcastTxSync(ctx, tx) })
}

func (f *Failover) Block(ctx context.Context, height *int64) (*ctypes.ResultBlock, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultBlock, error) { return c.Block(ctx, height) })
}

func (f *Failover) BlockByHash(ctx context.Context, hash []byte) (*ctypes.ResultBlock, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultBlock, error) { return c.BlockByHash(ctx, hash) })
}

func (f *Failover) BlockResults(ctx context.Context, height *int64) (*ctypes.ResultBlockResults, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultBlockResults, error) { return c.BlockResults(ctx, height) })
}

func (f *Failover) Header(ctx context.Context, height *int64) (*ctypes.ResultHeader, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultHeader, error) { return c.Header(ctx, height) })
}

func (f *Failover) HeaderByHash(ctx context.Context, hash bytes.HexBytes) (*ctypes.ResultHeader, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultHeader, error) { return c.HeaderByHash(ctx, hash) })
}

func (f *Failover) Commit(ctx context.Context, height *int64) (*ctypes.ResultCommit, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultCommit, error) { return c.Commit(ctx, height) })
}

func (f *Failover) Validators(ctx context.Context, height *int64, page, perPage *int) (*ctypes.ResultValidators, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultValidators, error) {
		return c.Validators(ctx, height, page, perPage)
	})
}

func (f *Failover) Tx(ctx context.Context, hash []byte, prove bool) (*ctypes.ResultTx, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultTx, error) { return c.Tx(ctx, hash, prove) })
}

func (f *Failover) TxSearch(ctx context.Context, query string, prove bool, page, perPage *int, orderBy string) (*ctypes.ResultTxSearch, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultTxSearch, error) {
		return c.TxSearch(ctx, query, prove, page, perPage, orderBy)
	})
}

func (f *Failover) BlockSearch(ctx context.Context, query string, page, perPage *int, orderBy string) (*ctypes.ResultBlockSearch, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultBlockSearch, error) {
		return c.BlockSearch(ctx, query, page, perPage, orderBy)
	})
}

func (f *Failover) Genesis(ctx context.Context) (*ctypes.ResultGenesis, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultGenesis, error) { return c.Genesis(ctx) })
}

func (f *Failover) GenesisChunked(ctx context.Context, id uint) (*ctypes.ResultGenesisChunk, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultGenesisChunk, error) { return c.GenesisChunked(ctx, id) })
}

func (f *Failover) BlockchainInfo(ctx context.Context, minHeight, maxHeight int64) (*ctypes.ResultBlockchainInfo, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultBlockchainInfo, error) {
		return c.BlockchainInfo(ctx, minHeight, maxHeight)
	})
}

func (f *Failover) Status(ctx context.Context) (*ctypes.ResultStatus, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultStatus, error) { return c.Status(ctx) })
}

func (f *Failover) NetInfo(ctx context.Context) (*ctypes.ResultNetInfo, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultNetInfo, error) { return c.NetInfo(ctx) })
}

func (f *Failover) DumpConsensusState(ctx context.Context) (*ctypes.ResultDumpConsensusState, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultDumpConsensusState, error) { return c.DumpConsensusState(ctx) })
}

func (f *Failover) ConsensusState(ctx context.Context) (*ctypes.ResultConsensusState, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultConsensusState, error) { return c.ConsensusState(ctx) })
}

func (f *Failover) ConsensusParams(ctx context.Context, height *int64) (*ctypes.ResultConsensusParams, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultConsensusParams, error) { return c.ConsensusParams(ctx, height) })
}

func (f *Failover) Health(ctx context.Context) (*ctypes.ResultHealth, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultHealth, error) { return c.Health(ctx) })
}

func (f *Failover) UnconfirmedTxs(ctx context.Context, limit *int) (*ctypes.ResultUnconfirmedTxs, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultUnconfirmedTxs, error) { return c.UnconfirmedTxs(ctx, limit) })
}

func (f *Failover) NumUnconfirmedTxs(ctx context.Context) (*ctypes.ResultUnconfirmedTxs, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultUnconfirmedTxs, error) { return c.NumUnconfirmedTxs(ctx) })
}

func (f *Failover) CheckTx(ctx context.Context, tx types.Tx) (*ctypes.ResultCheckTx, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultCheckTx, error) { return c.CheckTx(ctx, tx) })
}

func (f *Failover) BroadcastEvidence(ctx context.Context, ev types.Evidence) (*ctypes.ResultBroadcastEvidence, error) {
	return call(ctx, f, func(c rpcclient.Client) (*ctypes.ResultBroadcastEvidence, error) { return c.BroadcastEvidence(ctx, ev) })
}

// Subscribe subscribes on the current endpoint (which must have been started, as for
// CometBFT's HTTP client); the subscription stays there.
func (f *Failover) Subscribe(ctx context.Context, subscriber, query string, outCapacity ...int) (<-chan ctypes.ResultEvent, error) {
	f.mu.Lock()
	e := f.endpoints[f.current]
	f.mu.Unlock()
	return e.Subscribe(ctx, subscriber, query, outCapacity...)
}

// Unsubscribe and UnsubscribeAll reach every endpoint and succeed if one of them does.
func (f *Failover) Unsubscribe(ctx context.Context, subscriber, query string) error {
	var errs []error
	for _, e := range f.endpoints {
		if err := e.Unsubscribe(ctx, subscriber, query); err == nil {
			return nil
		} else {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (f *Failover) UnsubscribeAll(ctx context.Context, subscriber string) error {
	var errs []error
	for _, e := range f.endpoints {
		if err := e.UnsubscribeAll(ctx, subscriber); err == nil {
			return nil
		} else {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
