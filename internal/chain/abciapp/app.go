package abciapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cockroachdb/pebble/v2/vfs"
	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/walrus-go/walrus/internal/chain"
)

// Version and AppVersion are the application's versions, reported by Info.
const (
	Version    = "walrus-go/1"
	AppVersion = 1
)

// systemKey is the chain key of the system record (internal/chain/keys.go). The adapter
// reads it to recognize idle blocks; TestAppMatchesStateMachine fails if it changes.
var systemKey = []byte("s")

// Options configures an App.
type Options struct {
	// Dir is the directory of the state database (required).
	Dir string
	// FS is the filesystem of the database; nil means the operating system's.
	FS vfs.FS
	// Logger receives the adapter's and the database's logs; nil discards them.
	Logger *slog.Logger
	// CacheBytes is the database block cache size; 0 means DefaultCacheBytes.
	CacheBytes int64
}

// App is the ABCI 2.0 application: the chain state machine over a pebble Store. See the
// package documentation for the protocol.
//
// App is safe for concurrent use. The chain state machine is not, so the App runs two of
// them over the same committed state: one for the consensus calls (InitChain,
// FinalizeBlock, Commit), serialized by one mutex, and one for mempool admission (CheckTx),
// serialized by another and reset after each commit. Admission therefore proceeds while a
// block executes, and Info and Query read the committed state under a read lock that only
// the database commit of a block excludes. Neither state machine writes the database except
// through Commit. The App can be served with proxy.NewConnSyncLocalClientCreator (one mutex
// per ABCI connection) as well as with proxy.NewLocalClientCreator.
type App struct {
	abci.BaseApplication

	logger *slog.Logger
	store  *Store

	// mu serializes the consensus calls and guards the fields below.
	mu      sync.Mutex
	closed  bool
	app     *chain.App    // executes blocks
	pending *pendingBlock // the finalized, not yet committed block

	// checkMu serializes CheckTx and guards check; Commit and InitChain hold it (after mu)
	// while they change the committed state.
	checkMu sync.Mutex
	check   *chain.App // admits transactions; its admission state is reset by each commit

	// view guards the committed state (the database contents and store.last) for Info and
	// Query: readers hold it shared, the database commit exclusively.
	view sync.RWMutex
}

// pendingBlock is a block between FinalizeBlock and Commit.
type pendingBlock struct {
	commit Commit
	idle   bool
}

var _ abci.Application = (*App)(nil)

// Open opens (or creates) the application's database and returns the App. It does not
// contact CometBFT; the node's handshake calls Info and replays what the App is missing.
func Open(opts Options) (*App, error) {
	if opts.Dir == "" {
		return nil, errors.New("abciapp: options: Dir is required")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	st, err := OpenStore(opts.Dir, StoreOptions{FS: opts.FS, Logger: logger.With("component", "pebble"), CacheBytes: opts.CacheBytes})
	if err != nil {
		return nil, err
	}
	app, err := chain.New(st)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("abciapp: %w", err)
	}
	check, err := chain.New(st)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("abciapp: %w", err)
	}
	last, _ := st.LastCommit()
	logger.Info("abciapp: opened state", "height", last.Height, "app_hash", fmt.Sprintf("%X", last.AppHash))
	return &App{logger: logger, store: st, app: app, check: check}, nil
}

// Close closes the database. Calls after Close fail with ErrClosed. It is idempotent. The
// caller stops the CometBFT node first, so that no block is being processed.
func (a *App) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	a.checkMu.Lock()
	defer a.checkMu.Unlock()
	a.view.Lock()
	defer a.view.Unlock()
	return a.store.Close()
}

// LastCommit returns the height and app hash of the last committed block (height 0 is the
// genesis state) and whether the state has a genesis.
func (a *App) LastCommit() (Commit, bool) { return a.store.LastCommit() }

// ReadState calls fn with a view of the committed state and its commit record, holding the
// state steady for the duration of fn. fn must not retain the view.
func (a *App) ReadState(fn func(v *chain.View, c Commit) error) error {
	a.view.RLock()
	defer a.view.RUnlock()
	if a.isClosed() {
		return ErrClosed
	}
	c, _ := a.store.LastCommit()
	return fn(chain.NewView(a.store), c)
}

// StateHash returns chain.StateHash of the committed state and its commit record.
func (a *App) StateHash() (h [32]byte, c Commit, err error) {
	err = a.ReadState(func(_ *chain.View, cm Commit) error {
		h, c = chain.StateHash(a.store), cm
		return nil
	})
	return h, c, err
}

func (a *App) isClosed() bool {
	// The store's closed flag is set under view.Lock, so reading it under view.RLock is
	// consistent.
	a.store.mu.RLock()
	defer a.store.mu.RUnlock()
	return a.store.closed
}

// Info implements abci.Application: it reports the last committed height and app hash, from
// which CometBFT's handshake decides which blocks to replay.
func (a *App) Info(_ context.Context, _ *abci.RequestInfo) (*abci.ResponseInfo, error) {
	if a.isClosed() {
		return nil, ErrClosed
	}
	c, ok := a.store.LastCommit()
	res := &abci.ResponseInfo{Data: "walrus-go", Version: Version, AppVersion: AppVersion, LastBlockHeight: c.Height}
	if ok {
		res.LastBlockAppHash = bytes.Clone(c.AppHash[:])
	}
	return res, nil
}

// InitChain implements abci.Application. The genesis is the JSON app state (see
// DecodeAppState); its chain ID and genesis time must equal CometBFT's. If the state already
// holds this genesis (CometBFT calls InitChain again when the node stops before block 1 is
// committed), it returns the stored app hash.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, ErrClosed
	}
	g, err := DecodeAppState(req.AppStateBytes)
	if err != nil {
		return nil, err
	}
	switch {
	case req.ChainId != g.Params.ChainID:
		return nil, fmt.Errorf("abciapp: InitChain: CometBFT chain ID %q differs from the app state's %q", req.ChainId, g.Params.ChainID)
	case req.Time.UnixNano() != g.Params.GenesisTime:
		return nil, fmt.Errorf("abciapp: InitChain: CometBFT genesis time %s differs from the app state's %d", req.Time, g.Params.GenesisTime)
	case req.InitialHeight > 1:
		return nil, fmt.Errorf("abciapp: InitChain: initial height %d is not supported (want 1)", req.InitialHeight)
	}
	digest := g.Digest()
	if last, ok := a.store.LastCommit(); ok {
		have, _, err := a.store.GenesisDigest()
		if err != nil {
			return nil, err
		}
		if last.Height != 0 || have != digest {
			return nil, fmt.Errorf("abciapp: InitChain on a state at height %d with genesis digest %x (request %x)", last.Height, have, digest)
		}
		a.logger.Info("abciapp: genesis already applied", "app_hash", fmt.Sprintf("%X", last.AppHash))
		return &abci.ResponseInitChain{AppHash: bytes.Clone(last.AppHash[:])}, nil
	}
	ws, _, err := a.app.InitChain(g)
	if err != nil {
		return nil, fmt.Errorf("abciapp: %w", err)
	}
	if _, err := a.app.Commit(); err != nil {
		return nil, fmt.Errorf("abciapp: %w", err)
	}
	c := Commit{Height: 0, AppHash: ws.Hash([32]byte{})}
	a.checkMu.Lock()
	defer a.checkMu.Unlock()
	if err := a.commitStore(c, &digest); err != nil {
		return nil, err
	}
	// The admission state machine reads the parameters when it is created.
	if a.check, err = chain.New(a.store); err != nil {
		return nil, fmt.Errorf("abciapp: %w", err)
	}
	a.logger.Info("abciapp: genesis applied", "chain_id", g.Params.ChainID, "writes", len(ws), "app_hash", fmt.Sprintf("%X", c.AppHash))
	return &abci.ResponseInitChain{AppHash: bytes.Clone(c.AppHash[:])}, nil
}

func (a *App) commitStore(c Commit, genesis *[32]byte) error {
	a.view.Lock()
	defer a.view.Unlock()
	return a.store.CommitBlock(c, genesis)
}

// CheckTx implements abci.Application: chain.App.CheckTx against the committed state plus
// the transactions admitted since the last commit (rechecks after a block go through the
// same path, in mempool order).
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	a.checkMu.Lock()
	defer a.checkMu.Unlock()
	if a.isClosed() {
		return nil, ErrClosed
	}
	r := a.check.CheckTx(req.Tx)
	res := &abci.ResponseCheckTx{Code: uint32(r.Code), Log: r.Log, Info: chain.CodeName(r.Code)}
	if r.Code != chain.CodeOK {
		res.Codespace = Codespace
	}
	return res, nil
}

// FinalizeBlock implements abci.Application: it runs the block through the state machine
// and returns the transaction results, the block's events and the new app hash. Nothing is
// written until Commit.
//
// The app hash after block h is WriteSet.Hash(app hash after h-1) over the block's sorted
// writes, except for an idle block: one whose only write is the system record and changes
// nothing in it but the height and time of the last block (the state machine writes those
// in every block). An idle block keeps the previous app hash and its write is dropped, so
// SystemState.Height and Time are those of the last block that was not idle. Without this,
// every block would change the app hash and CometBFT would follow each block with another
// ("proof block"), producing blocks back to back instead of only for transactions and the
// heartbeat. The rule is a deterministic function of the committed state and the block.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, ErrClosed
	}
	if a.pending != nil {
		return nil, fmt.Errorf("abciapp: FinalizeBlock of height %d before Commit of height %d", req.Height, a.pending.commit.Height)
	}
	last, ok := a.store.LastCommit()
	if !ok {
		return nil, fmt.Errorf("abciapp: FinalizeBlock of height %d before InitChain", req.Height)
	}
	if req.Height != last.Height+1 {
		return nil, fmt.Errorf("abciapp: FinalizeBlock of height %d after committed height %d", req.Height, last.Height)
	}
	h := chain.BlockHeader{Height: uint64(req.Height), Time: req.Time.UnixNano()}
	res, err := a.app.FinalizeBlock(h, req.Txs)
	if err != nil {
		return nil, fmt.Errorf("abciapp: block %d: %w", req.Height, err)
	}
	idle, err := a.idle(res.Writes)
	if err != nil {
		return nil, err
	}
	next := Commit{Height: req.Height, AppHash: last.AppHash}
	if !idle {
		next.AppHash = res.Writes.Hash(last.AppHash)
	}
	a.pending = &pendingBlock{commit: next, idle: idle}
	out := &abci.ResponseFinalizeBlock{
		Events:    chainEvents(res.Events),
		TxResults: make([]*abci.ExecTxResult, len(res.TxResults)),
		AppHash:   bytes.Clone(next.AppHash[:]),
	}
	for i := range res.TxResults {
		out.TxResults[i] = execTxResult(&res.TxResults[i])
	}
	return out, nil
}

// idle reports whether a block's write set only refreshes the height and time of the system
// record (see FinalizeBlock).
func (a *App) idle(ws chain.WriteSet) (bool, error) {
	if len(ws) != 1 || !bytes.Equal(ws[0].Key, systemKey) || ws[0].Deleted {
		return false, nil
	}
	oldRaw, ok := a.store.Get(systemKey)
	if !ok {
		return false, nil
	}
	old, err := chain.DecodeSystemState(oldRaw)
	if err != nil {
		return false, fmt.Errorf("abciapp: stored system state: %w", err)
	}
	cur, err := chain.DecodeSystemState(ws[0].Value)
	if err != nil {
		return false, fmt.Errorf("abciapp: block system state: %w", err)
	}
	old.Height, old.Time, cur.Height, cur.Time = 0, 0, 0, 0
	return bytes.Equal(old.Encode(), cur.Encode()), nil
}

// Commit implements abci.Application: it applies the finalized block's writes and its
// (height, app hash) record in one atomic database batch, not synced (Store.CommitBlock):
// the block is already durable in CometBFT's block store, whose handshake replays the
// blocks a crash took from the application (Info reports the height the
// database holds). One fsync less per block, on the path of every transaction.
func (a *App) Commit(_ context.Context, _ *abci.RequestCommit) (*abci.ResponseCommit, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, ErrClosed
	}
	p := a.pending
	if p == nil {
		return nil, errors.New("abciapp: Commit without FinalizeBlock")
	}
	if _, err := a.app.Commit(); err != nil {
		return nil, fmt.Errorf("abciapp: %w", err)
	}
	if p.idle {
		a.store.DiscardPending()
	}
	a.checkMu.Lock()
	defer a.checkMu.Unlock()
	if err := a.commitStore(p.commit, nil); err != nil {
		return nil, err
	}
	// Admission starts again from the new state (CometBFT rechecks the mempool next).
	if _, err := a.check.Commit(); err != nil {
		return nil, fmt.Errorf("abciapp: %w", err)
	}
	a.pending = nil
	return &abci.ResponseCommit{}, nil
}

// Query implements abci.Application: the path and data are a chain query (chain.Query*
// constants, BCS request and response), answered from the committed state. The response
// carries the committed height; errors carry the chain code in Code, Codespace "walrus" and
// the message in Log. A request for a height other than 0 (latest) or the committed height
// fails with chain.CodeNotFound: the App keeps no history.
func (a *App) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	a.view.RLock()
	defer a.view.RUnlock()
	if a.isClosed() {
		return nil, ErrClosed
	}
	c, _ := a.store.LastCommit()
	res := &abci.ResponseQuery{Height: c.Height}
	fail := func(err error) (*abci.ResponseQuery, error) {
		code := chain.CodeOf(err)
		res.Code, res.Log, res.Info, res.Codespace = uint32(code), err.Error(), chain.CodeName(code), Codespace
		return res, nil
	}
	if req.Prove {
		return fail(fmt.Errorf("%w: proofs are not supported", chain.ErrUnknownQuery))
	}
	if req.Height != 0 && req.Height != c.Height {
		return fail(fmt.Errorf("%w: state at height %d (committed height is %d)", chain.ErrNotFound, req.Height, c.Height))
	}
	v, err := chain.NewView(a.store).Query(req.Path, req.Data)
	if err != nil {
		return fail(err)
	}
	res.Value = v
	return res, nil
}

// ExportState calls fn for every key and value of the committed state, in key order, until
// fn returns false, and returns the commit record of that state. It holds the state steady
// meanwhile. For tests and tools (state dumps, comparisons).
func (a *App) ExportState(fn func(key, value []byte) bool) (Commit, error) {
	var c Commit
	err := a.ReadState(func(_ *chain.View, cm Commit) error {
		c = cm
		a.store.Iterate(nil, nil, fn)
		return nil
	})
	return c, err
}
