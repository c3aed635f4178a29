package chainnode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	cmtpubsub "github.com/cometbft/cometbft/libs/pubsub"
	nm "github.com/cometbft/cometbft/node"
	rpcserver "github.com/cometbft/cometbft/rpc/jsonrpc/server"
)

// rpcServer is CometBFT's JSON-RPC server (HTTP and websocket, the routes of its own
// server), run by this package rather than by the node: CometBFT's server only closes its
// listener when the node stops, so connections kept alive by clients go on talking to the
// stopped node. This one closes every connection when it stops.
type rpcServer struct {
	ln   *trackingListener
	done chan struct{}
}

func startRPC(node *nm.Node, addr string, writeBuffer int, logger cmtlog.Logger) (*rpcServer, error) {
	env, err := node.ConfigureRPC()
	if err != nil {
		return nil, fmt.Errorf("chainnode: rpc: %w", err)
	}
	routes := env.GetRoutes()
	cfg := rpcserver.DefaultConfig()
	cmt := node.Config().RPC
	cfg.MaxRequestBatchSize = cmt.MaxRequestBatchSize
	cfg.MaxBodyBytes = cmt.MaxBodyBytes
	cfg.MaxHeaderBytes = cmt.MaxHeaderBytes
	cfg.WriteTimeout = max(cfg.WriteTimeout, cmt.TimeoutBroadcastTxCommit+time.Second)
	rpcLogger := logger.With("module", "rpc-server")
	wmLogger := rpcLogger.With("protocol", "websocket")
	wm := rpcserver.NewWebsocketManager(routes,
		rpcserver.OnDisconnect(func(remoteAddr string) {
			err := node.EventBus().UnsubscribeAll(context.Background(), remoteAddr)
			if err != nil && !errors.Is(err, cmtpubsub.ErrSubscriptionNotFound) {
				wmLogger.Error("Failed to unsubscribe addr from events", "addr", remoteAddr, "err", err)
			}
		}),
		rpcserver.ReadLimit(cfg.MaxBodyBytes),
		rpcserver.WriteChanCapacity(writeBuffer),
	)
	wm.SetLogger(wmLogger)
	mux := http.NewServeMux()
	mux.HandleFunc("/websocket", wm.WebsocketHandler)
	rpcserver.RegisterRPCFuncs(mux, routes, rpcLogger)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("chainnode: rpc: %w", err)
	}
	s := &rpcServer{ln: &trackingListener{Listener: l, conns: make(map[net.Conn]struct{})}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		rpcserver.Serve(s.ln, mux, rpcLogger, cfg) //nolint:errcheck // returns when the listener closes
	}()
	return s, nil
}

// Addr returns the address the server listens on.
func (s *rpcServer) Addr() net.Addr { return s.ln.Addr() }

// close closes the listener and every connection, and waits for the server to return.
func (s *rpcServer) close() {
	s.ln.closeAll()
	<-s.done
}

// trackingListener remembers its open connections so that they can all be closed,
// including hijacked (websocket) ones that http.Server forgets.
type trackingListener struct {
	net.Listener
	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: c, l: l}
	l.conns[tc] = struct{}{}
	return tc, nil
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	l.closed = true
	conns := l.conns
	l.conns = map[net.Conn]struct{}{}
	l.mu.Unlock()
	l.Listener.Close()
	for c := range conns {
		c.(*trackedConn).Conn.Close()
	}
}

type trackedConn struct {
	net.Conn
	l    *trackingListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
