package devnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"

	"github.com/walrus-go/walrus/internal/chain/chainnode"
	"github.com/walrus-go/walrus/internal/nodetls"
)

// Network is a running devnet: the validator in this process and the storage node
// processes. Close stops all of it; it is safe for concurrent use.
type Network struct {
	layout Layout
	st     state
	log    *slog.Logger
	chain  *chainnode.Node

	mu    sync.Mutex
	procs []*nodeProc
	done  bool
}

type nodeProc struct {
	index  int
	cmd    *exec.Cmd
	exited chan struct{}
}

// Endpoints are the addresses a devnet serves.
type Endpoints struct {
	ChainRPC string   // http URL of the validator's JSON-RPC
	ChainID  string   // the chain's ID, unique to this devnet ("" if not recorded)
	Nodes    []string // http URLs of the storage nodes' REST APIs
	// NodeMetrics are the URLs of the storage nodes' Prometheus metrics.
	NodeMetrics []string
}

// Start starts the devnet in an initialized directory (see Init): the validator, then one
// process per storage node. It returns once the processes are started; WaitReady waits
// until everything answers.
func Start(o Options) (*Network, error) {
	o = o.withDefaults()
	st, err := readState(o.Dir)
	if err != nil {
		return nil, err
	}
	exe := o.Executable
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("devnet: cannot find the walrus executable: %w", err)
		}
	}
	l := Layout{o.Dir}
	n := &Network{layout: l, st: st, log: o.Logger}
	n.chain, err = chainnode.Start(chainnode.Config{
		Home:        l.ChainHome(),
		RPCListen:   st.ChainRPC,
		P2PListen:   st.ChainP2P,
		PprofListen: o.PprofListen,
		Logger:      o.Logger.With("part", "validator"),
	})
	if err != nil {
		return nil, err
	}
	for i := 0; i < st.Nodes; i++ {
		if err := n.startNode(exe, i); err != nil {
			n.Close()
			return nil, err
		}
	}
	return n, nil
}

// startNode runs `walrus node --config DIR/nodes/<i>/node.yaml` with its output appended to
// node.log and its PID in pid.
func (n *Network) startNode(exe string, i int) error {
	dir := n.layout.NodeDir(i)
	logf, err := os.OpenFile(dir+"/node.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("devnet: node %d: %w", i, err)
	}
	cmd := exec.Command(exe, "node", "--config", n.layout.NodeConfig(i))
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: a terminal's Ctrl-C reaches the devnet, which stops the
	// nodes in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("devnet: start node %d: %w", i, err)
	}
	pidFile := dir + "/pid"
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600); err != nil {
		n.log.Warn("cannot write pid file", "node", i, "err", err)
	}
	p := &nodeProc{index: i, cmd: cmd, exited: make(chan struct{})}
	n.mu.Lock()
	n.procs = append(n.procs, p)
	n.mu.Unlock()
	n.log.Info("storage node started", "node", i, "pid", cmd.Process.Pid, "command", cmd.String())
	go func() {
		err := cmd.Wait()
		logf.Close()
		os.Remove(pidFile)
		n.mu.Lock()
		stopping := n.done
		n.mu.Unlock()
		if !stopping {
			n.log.Error("storage node exited; not restarting it", "node", i, "err", err, "log", dir+"/node.log", "restart", cmd.String())
		}
		close(p.exited)
	}()
	return nil
}

// ChainClient returns an RPC client that calls the devnet's validator in this process
// (chainnode.Node.Client): what a publisher in the same process uses instead of the
// JSON-RPC listener, which costs HTTP and JSON on every call.
func (n *Network) ChainClient() rpcclient.Client { return n.chain.Client() }

// Endpoints returns the devnet's addresses.
func (n *Network) Endpoints() Endpoints {
	e := Endpoints{ChainRPC: "http://" + n.st.ChainRPC, ChainID: n.st.ChainID}
	for i := 0; i < n.st.Nodes; i++ {
		e.Nodes = append(e.Nodes, "https://127.0.0.1:"+strconv.Itoa(n.st.NodePort+i))
		e.NodeMetrics = append(e.NodeMetrics, "http://127.0.0.1:"+strconv.Itoa(n.st.NodePort+100+i)+"/metrics")
	}
	return e
}

// WaitReady waits until every storage node answers its health endpoint over TLS with a
// certificate over its network key, or ctx ends.
func (n *Network) WaitReady(ctx context.Context) error {
	for i, u := range n.Endpoints().Nodes {
		key, err := nodetls.LoadKey(n.layout.NodeNetworkKey(i))
		if err != nil {
			return fmt.Errorf("devnet: %w", err)
		}
		hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: nodetls.ClientConfig(nodetls.PublicKey(key))}}
		if err := WaitHTTP(ctx, hc, u+"/v1/health", nil); err != nil {
			return fmt.Errorf("devnet: storage node %s did not become ready: %w", u, err)
		}
	}
	return nil
}

// WaitHTTP polls url until it answers 200, backing off up to a second. It gives up when
// ctx ends or when failed (if not nil) delivers: the server it waits for has stopped.
func WaitHTTP(ctx context.Context, hc *http.Client, url string, failed <-chan error) error {
	delay := 20 * time.Millisecond
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-failed:
			if err == nil {
				err = errors.New("stopped")
			}
			return err
		case <-t.C:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		delay = min(2*delay, time.Second)
		t.Reset(delay)
	}
}

// Close stops the storage nodes (SIGTERM, then SIGKILL after 10 s) and the validator.
// It is idempotent.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.done {
		n.mu.Unlock()
		return nil
	}
	n.done = true
	procs := n.procs
	n.mu.Unlock()
	for _, p := range procs {
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for _, p := range procs {
		select {
		case <-p.exited:
		case <-deadline.C:
			for _, q := range procs {
				q.cmd.Process.Kill()
			}
			<-p.exited
		}
	}
	var err error
	if n.chain != nil {
		err = n.chain.Close()
	}
	return errors.Join(err)
}
