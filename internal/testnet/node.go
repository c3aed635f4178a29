package testnet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
	"github.com/walrus-go/walrus/internal/nodetls"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// StorageNode is one storage node of a Network: a storagenode.Node over a pebble store in
// Dir, its REST API on Addr and a chain follower.
type StorageNode struct {
	Index  int
	Name   string
	Addr   string // host:port of the REST API (the node's network address on chain)
	Dir    string // the node's store
	Keys   chainnode.StorageNodeKeys
	NodeID chain.ObjectID

	// HoldSync, while set, keeps the node from signalling EpochSyncDone, so that tests can
	// hold the chain in an epoch change.
	HoldSync atomic.Bool

	net *Network
	log *slog.Logger

	mu      sync.Mutex
	running *running
	daemon  *daemon.Daemon // with Options.Daemon
}

// running is a started node.
type running struct {
	store  *store.Store
	node   *sn.Node
	srv    *http.Server
	cancel context.CancelFunc
	done   chan struct{} // closed when the follower and the server stopped
}

// Node returns the storage node core, or nil while the node is stopped.
func (s *StorageNode) Node() *sn.Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.daemon != nil:
		return s.daemon.Node()
	case s.running != nil:
		return s.running.node
	}
	return nil
}

// Daemon returns the storage node daemon (with Options.Daemon), or nil.
func (s *StorageNode) Daemon() *daemon.Daemon {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.daemon
}

// Running reports whether the node is started.
func (s *StorageNode) Running() bool { return s.Node() != nil }

// URL returns the base URL of the node's API (TLS with a certificate over Keys.Network).
func (s *StorageNode) URL() string { return "https://" + s.Addr }

// Start starts a stopped node again on the same address and store.
func (s *StorageNode) Start() error {
	var l net.Listener
	var err error
	for range 50 {
		if l, err = net.Listen("tcp", s.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // the port may linger briefly after Stop
	}
	if err != nil {
		return fmt.Errorf("testnet: %s: %w", s.Name, err)
	}
	return s.start(l)
}

func (s *StorageNode) start(l net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running != nil || s.daemon != nil {
		l.Close()
		return fmt.Errorf("testnet: %s is running", s.Name)
	}
	if s.net.opts.Daemon {
		return s.startDaemon(l)
	}
	st, err := store.Open(s.Dir, store.Options{Logger: s.log})
	if err != nil {
		l.Close()
		return fmt.Errorf("testnet: %s: %w", s.Name, err)
	}
	node, err := sn.New(sn.Config{NShards: int(s.net.Genesis.Params.NShards), Key: s.Keys.BLS, Store: st, Logger: s.log, Pending: s.net.opts.Pending})
	if err != nil {
		st.Close()
		l.Close()
		return fmt.Errorf("testnet: %s: %w", s.Name, err)
	}
	tlsConfig, err := nodetls.ServerConfig(s.Keys.Network, time.Now())
	if err != nil {
		st.Close()
		l.Close()
		return fmt.Errorf("testnet: %s: %w", s.Name, err)
	}
	l = tls.NewListener(l, tlsConfig)
	apiOpts := api.Options{Logger: s.log}
	if s.net.opts.NodeAPI != nil {
		s.net.opts.NodeAPI(s.Index, &apiOpts)
	}
	srv := api.NewServer(s.Addr, node, apiOpts)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{store: st, node: node, srv: srv, cancel: cancel, done: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("testnet: node API stopped", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := s.follow(ctx, node, &wg); ctx.Err() == nil {
			s.log.Error("testnet: chain follower stopped", "err", err)
		}
	}()
	go func() {
		wg.Wait()
		close(r.done)
	}()
	s.running = r
	return nil
}

// Stop stops the node: its API (open connections are closed), its follower and its store.
// It is idempotent.
func (s *StorageNode) Stop() error {
	s.mu.Lock()
	r, d := s.running, s.daemon
	s.running, s.daemon = nil, nil
	s.mu.Unlock()
	if d != nil {
		return d.Close()
	}
	if r == nil {
		return nil
	}
	r.cancel()
	r.srv.Close()
	<-r.done
	return r.store.Close()
}

// startDaemon runs the node as the storage node daemon over Dir, on Addr. The daemon
// listens itself, so the reserved listener is closed first.
func (s *StorageNode) startDaemon(l net.Listener) error {
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := daemon.Start(ctx, daemon.Config{
		DataDir: s.Dir, Listen: s.Addr, MetricsListen: "off", Name: s.Name,
		RetryMin: 50 * time.Millisecond, RetryMax: time.Second, GCMaxDelay: -1,
	}, daemon.Options{
		Logger: s.log, Chain: s.net.Chain, BLSKey: s.Keys.BLS, NetworkKey: s.Keys.Network,
		Wallet:          chainclient.NewSigner(s.Keys.Operator),
		ShutdownTimeout: -1,
	})
	if err != nil {
		return fmt.Errorf("testnet: %s: %w", s.Name, err)
	}
	s.daemon = d
	return nil
}

// WaitEpoch waits until the node has applied the start of epoch e or a later one.
func (s *StorageNode) WaitEpoch(ctx context.Context, e uint32) error {
	return poll(ctx, func() (bool, error) {
		node := s.Node()
		if node == nil {
			return false, fmt.Errorf("testnet: %s is stopped", s.Name)
		}
		return node.Epoch() >= e && len(node.OwnedShards()) > 0, nil
	})
}

// follow applies the chain's events to the node from its cursor on.
// Epoch sync signals run in goroutines of wg, so that a held signal does not stop the
// follower.
func (s *StorageNode) follow(ctx context.Context, node *sn.Node, wg *sync.WaitGroup) error {
	c := s.net.Chain
	signer := chainclient.NewSigner(s.Keys.Operator)
	pk := s.Keys.BLS.PublicKey().Bytes()
	f := c.Follow(node.Cursor(), 0)
	return f.Run(ctx, func(ctx context.Context, page chain.EventPage) error {
		events := make([]sn.SequencedEvent, 0, len(page.Events))
		var synced []uint32
		for _, ev := range page.Events {
			id := sn.EventID{TxDigest: ev.TxDigest, Seq: ev.Seq}
			var out sn.Event
			switch b := ev.Body.(type) {
			case *chain.BlobRegistered:
				out = sn.BlobRegistered{Epoch: b.Epoch, BlobID: b.BlobID, ObjectID: sn.ObjectID(b.ObjectID), Size: b.Size,
					EncodingType: b.EncodingType, EndEpoch: b.EndEpoch, Deletable: b.Deletable}
			case *chain.BlobCertified:
				out = sn.BlobCertified{Epoch: b.Epoch, BlobID: b.BlobID, ObjectID: sn.ObjectID(b.ObjectID), EndEpoch: b.EndEpoch,
					Deletable: b.Deletable, IsExtension: b.IsExtension}
			case *chain.BlobDeleted:
				out = sn.BlobDeleted{Epoch: b.Epoch, BlobID: b.BlobID, ObjectID: sn.ObjectID(b.ObjectID), EndEpoch: b.EndEpoch, WasCertified: b.WasCertified}
			case *chain.InvalidBlobID:
				out = sn.BlobInvalid{Epoch: b.Epoch, BlobID: b.BlobID}
			case *chain.EpochChangeStart:
				info, err := c.CommitteeAt(ctx, b.Epoch)
				if err != nil {
					return err
				}
				var shards []uint16
				for _, m := range info.Members {
					if m.PublicKey == pk {
						shards = slices.Clone(m.Shards)
					}
				}
				out = sn.EpochChangeStart{Epoch: b.Epoch, Shards: shards, Initial: b.Epoch == 0}
				if b.Epoch > 0 && len(shards) > 0 {
					synced = append(synced, b.Epoch)
				}
			case *chain.EpochChangeDone:
				out = sn.EpochChangeDone{Epoch: b.Epoch}
			}
			events = append(events, sn.SequencedEvent{ID: id, Event: out})
		}
		if err := node.ApplyEvents(events); err != nil {
			return err
		}
		for _, e := range synced {
			// This follower moves no shard data: shards gained are taken over as they are.
			for _, sh := range node.Shards() {
				if sh.Status == store.ShardActiveSync || sh.Status == store.ShardActiveRecover {
					if err := node.SetShardStatus(sh.Shard, store.ShardActive); err != nil {
						return err
					}
				}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.signalSync(ctx, signer, e); err != nil && ctx.Err() == nil {
					s.log.Error("testnet: epoch sync signal failed", "epoch", e, "err", err)
				}
			}()
		}
		return nil
	})
}

// signalSync sends EpochSyncDone for epoch e once HoldSync is cleared, unless the epoch
// moved on meanwhile.
func (s *StorageNode) signalSync(ctx context.Context, signer *chainclient.Signer, e uint32) error {
	c := s.net.Chain
	if err := poll(ctx, func() (bool, error) { return !s.HoldSync.Load(), nil }); err != nil {
		return err
	}
	_, err := c.Submit(ctx, signer, &chain.EpochSyncDone{Node: s.NodeID, Epoch: e})
	if err != nil && (errors.Is(err, chain.ErrAlreadyDone) || errors.Is(err, chain.ErrWrongEpoch) ||
		errors.Is(err, chain.ErrWrongEpochState) || errors.Is(err, chain.ErrInvalidEpochs)) {
		s.log.Info("testnet: epoch sync not needed", "epoch", e, "err", err)
		return nil
	}
	return err
}
