package chainnode

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	dbm "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/proxy"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/cometbft/cometbft/rpc/client/local"

	"github.com/walrus-go/walrus/internal/chain/abciapp"
)

// Node is a running validator: a CometBFT node with the Walrus application in-process.
// Its methods are safe for concurrent use.
type Node struct {
	cfg    Config
	app    *abciapp.App
	node   *nm.Node
	client *local.Local
	dbs    *dbTracker
	rpc    *rpcServer   // nil if RPCListen is off
	pprof  *pprofServer // nil if PprofListen is ""

	closeOnce sync.Once
	closeErr  error
}

// Start opens the application state in cfg.Home, creates the CometBFT node (whose
// handshake replays the blocks the application is missing after a crash) and starts it.
// The home must have been initialized by GenerateSingle or GenerateNetwork. The caller
// must Close the node.
func Start(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cmt, err := cfg.cometConfig()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(cmt.GenesisFile()); err != nil {
		return nil, fmt.Errorf("chainnode: %s is not initialized (see GenerateSingle): %w", cfg.Home, err)
	}
	pv, err := loadFilePV(cmt.PrivValidatorKeyFile(), cmt.PrivValidatorStateFile())
	if err != nil {
		return nil, err
	}
	nodeKey, err := p2p.LoadNodeKey(cmt.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("chainnode: node key: %w", err)
	}
	logger := cfg.Logger.With("validator", cfg.Moniker)
	app, err := abciapp.Open(abciapp.Options{Dir: AppDir(cfg.Home), Logger: logger.With("component", "app"), CacheBytes: cfg.AppCacheBytes})
	if err != nil {
		return nil, err
	}
	dbs := &dbTracker{}
	node, err := nm.NewNode(cmt, pv, nodeKey,
		proxy.NewConnSyncLocalClientCreator(app),
		nm.DefaultGenesisDocProviderFunc(cmt),
		dbs.provider,
		nm.DefaultMetricsProvider(cmt.Instrumentation),
		NewCometLogger(logger.With("component", "cometbft")),
	)
	if err != nil {
		dbs.closeAll()
		app.Close()
		return nil, fmt.Errorf("chainnode: create node: %w", err)
	}
	if err := node.Start(); err != nil {
		// Start failed part-way; OnStop releases what OnStart and NewNode acquired.
		node.OnStop()
		dbs.closeAll()
		app.Close()
		return nil, fmt.Errorf("chainnode: start node: %w", err)
	}
	n := &Node{cfg: cfg, app: app, node: node, client: local.New(node), dbs: dbs}
	if cfg.RPCListen != RPCOff {
		n.rpc, err = startRPC(node, cfg.RPCListen, cfg.SubscriptionBuffer, NewCometLogger(logger.With("component", "cometbft")))
		if err != nil {
			n.Close()
			return nil, err
		}
	}
	if cfg.PprofListen != "" {
		if n.pprof, err = startPprof(cfg.PprofListen); err != nil {
			n.Close()
			return nil, err
		}
		logger.Info("chainnode: serving runtime profiles", "pprof", n.pprof.addr())
	}
	logger.Info("chainnode: validator started", "home", cfg.Home, "node_id", nodeKey.ID(), "p2p", cfg.P2PListen, "rpc", n.RPCAddr())
	return n, nil
}

// RPCAddr returns the address of the JSON-RPC server ("" if it is off).
func (n *Node) RPCAddr() string {
	if n.rpc == nil {
		return ""
	}
	return n.rpc.Addr().String()
}

// PprofAddr returns the address of the runtime profile listener ("" if it is off).
func (n *Node) PprofAddr() string {
	if n.pprof == nil {
		return ""
	}
	return n.pprof.addr()
}

// Client returns an RPC client that calls the node in-process (CometBFT's local client,
// with the same interface as the HTTP client).
func (n *Node) Client() rpcclient.Client { return n.client }

// App returns the application, for reading the committed state in-process.
func (n *Node) App() *abciapp.App { return n.app }

// Config returns the node's configuration with defaults filled in.
func (n *Node) Config() Config { return n.cfg }

// NodeID returns the node's P2P ID.
func (n *Node) NodeID() string { return string(n.node.NodeInfo().ID()) }

// Done is closed when the node stops (by Close, or by CometBFT itself).
func (n *Node) Done() <-chan struct{} { return n.node.Quit() }

// Close stops the node, waits for it and closes the application state. It is idempotent:
// later calls return the first call's result.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		if n.rpc != nil {
			n.rpc.close()
		}
		if n.pprof != nil {
			n.pprof.close()
		}
		if n.node.IsRunning() {
			if err := n.node.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("chainnode: stop: %w", err))
			}
		}
		n.node.Wait()
		n.dbs.closeAll()
		if err := n.app.Close(); err != nil {
			errs = append(errs, err)
		}
		n.closeErr = errors.Join(errs...)
		n.cfg.Logger.Info("chainnode: validator stopped", "home", n.cfg.Home)
	})
	return n.closeErr
}

// dbTracker opens CometBFT's databases through the default provider and remembers them, so
// that a node that fails to start does not leak them (NewNode does not close what it opened
// before failing). Closing a database twice is harmless.
type dbTracker struct {
	mu  sync.Mutex
	dbs []dbm.DB
}

func (t *dbTracker) provider(ctx *cmtcfg.DBContext) (dbm.DB, error) {
	inner, err := cmtcfg.DefaultDBProvider(ctx)
	if err != nil {
		return nil, err
	}
	db := &closingDB{DB: inner}
	t.mu.Lock()
	t.dbs = append(t.dbs, db)
	t.mu.Unlock()
	return db, nil
}

// closingDB is a database that, once closed, answers reads as if the key were absent
// instead of failing. CometBFT's consensus reactor keeps a goroutine per peer that may
// still read a commit from the block store for a few seconds after the node has stopped,
// and the block store panics on a read error ("leveldb: closed"); an absent commit it
// takes in stride. Writes after Close still fail.
type closingDB struct {
	dbm.DB
	closed atomic.Bool
}

func (d *closingDB) Get(key []byte) ([]byte, error) {
	v, err := d.DB.Get(key)
	if err != nil && d.closed.Load() {
		return nil, nil
	}
	return v, err
}

func (d *closingDB) Has(key []byte) (bool, error) {
	ok, err := d.DB.Has(key)
	if err != nil && d.closed.Load() {
		return false, nil
	}
	return ok, err
}

func (d *closingDB) Close() error {
	d.closed.Store(true)
	return d.DB.Close()
}

func (t *dbTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, db := range t.dbs {
		db.Close() // an already closed database returns an error, which is expected
	}
	t.dbs = nil
}
