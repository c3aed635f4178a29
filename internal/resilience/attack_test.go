package resilience

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
)

// attackReport is what the attacker process prints, one JSON object per phase.
type attackReport struct {
	Phase string `json:"phase"` // "holding", "flash" or "done"

	// holding: connections the attacker opened and keeps stalled.
	IdleConns int `json:"idle_conns,omitempty"`
	SlowConns int `json:"slow_conns,omitempty"`
	// OversizedRefused counts oversized uploads the servers refused or cut off before
	// taking the whole body; Oversized is how many were tried.
	Oversized        int `json:"oversized,omitempty"`
	OversizedRefused int `json:"oversized_refused,omitempty"`
	// CORS: what the publisher answered a foreign page's preflight for PUT, and its
	// cross-origin store.
	PreflightAllowOrigin  string `json:"preflight_allow_origin,omitempty"`
	PreflightAllowMethods string `json:"preflight_allow_methods,omitempty"`
	CrossOriginStatus     int    `json:"cross_origin_status,omitempty"`

	// flash: the stake made before the committee selection and the withdrawal tried
	// right after it.
	Staked         uint64 `json:"staked,omitempty"`
	Activation     uint32 `json:"activation,omitempty"`
	ReturnedEarly  int64  `json:"returned_early"` // balance change from the early withdrawal
	EarlyError     string `json:"early_error,omitempty"`
	WithdrawnLater uint64 `json:"withdrawn_later,omitempty"`
	LaterEpoch     uint32 `json:"later_epoch,omitempty"`

	// done: how many stalled connections the servers had cut by the end.
	Cut int `json:"cut,omitempty"`
}

// attack runs scenario 9 on its own network (4 nodes, 10 shards, 10 s epochs) with a
// publisher/aggregator daemon: an attacker process stalls connections to every node and
// to the publisher (idle uploads and shard syncs, bodies that trickle, bodies far over the
// limit), asks the publisher to store for a foreign web page, and stakes just before a
// committee selection to withdraw right after it (flash stake). Meanwhile one writer and
// two readers run through the SDK, and stores go through the publisher: none may fail.
func attack(t *testing.T, ctx context.Context, sz size, r *row) {
	const epoch = 10 * time.Second
	c := newCluster(t, clusterOptions{nodes: 4, shards: 10, epoch: epoch})
	daemonAddr, _ := c.startDaemon(ctx)
	for i := range 3 {
		if _, err := c.store(ctx, c.randomBlob(sz.blobs[i%len(sz.blobs)]+i)); err != nil {
			t.Fatal(err)
		}
		r.written++
	}

	dir := t.TempDir()
	walletPath := filepath.Join(dir, "attacker.json")
	if err := c.fundedSigner(ctx).SaveNew(walletPath); err != nil {
		t.Fatal(err)
	}
	var listens []string
	for _, nd := range c.net.Nodes {
		listens = append(listens, nd.Config.Listen)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RESILIENCE_CLIENT=attacker", "RESILIENCE_RPC=http://"+c.net.RPCAddr,
		"RESILIENCE_WALLET="+walletPath, "RESILIENCE_NODES="+strings.Join(listens, ","),
		"RESILIENCE_DAEMON="+daemonAddr)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reports := make(chan attackReport, 4)
	go func() {
		defer close(reports)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var rep attackReport
			if json.Unmarshal(sc.Bytes(), &rep) == nil && rep.Phase != "" {
				reports <- rep
			}
		}
	}()
	next := func(phase string) attackReport {
		t.Helper()
		select {
		case rep, ok := <-reports:
			if !ok {
				cmd.Wait()
				t.Fatalf("the attacker process ended before %q: %s", phase, stderr.String())
			}
			if rep.Phase != phase {
				t.Fatalf("attacker reported %q, want %q", rep.Phase, phase)
			}
			return rep
		case <-time.After(5 * time.Minute):
			t.Fatalf("no %q report from the attacker in 5 minutes", phase)
		}
		return attackReport{}
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	holding := next("holding")
	// Every attack on the connections is in place: honest work must go on regardless.
	w := &workload{c: c}
	w.start(ctx)
	defer w.stop()
	var httpStores, httpFailed atomic.Int64
	httpDone := make(chan struct{})
	hctx, hcancel := context.WithCancel(ctx)
	go func() {
		defer close(httpDone)
		hc := &http.Client{Timeout: time.Minute}
		for k := 0; hctx.Err() == nil; k++ {
			data := c.randomBlob(3000 + k)
			err := storeHTTP(hctx, hc, daemonAddr, data)
			if hctx.Err() != nil {
				return
			}
			if err != nil {
				httpFailed.Add(1)
				w.fail(fmt.Errorf("store through the publisher: %w", err))
				continue
			}
			httpStores.Add(1)
		}
	}()
	flash := next("flash")
	// Keep the honest load on until a few more stores have certified with the attack in
	// place.
	writes, hs := w.writes.Load(), httpStores.Load()
	testnet.WaitFor(t, 2*time.Minute, "honest stores under attack", func() (bool, error) {
		return w.writes.Load() >= writes+3 && httpStores.Load() >= hs+2, nil
	})
	stdin.Close()
	done := next("done")
	cmd.Wait()
	killed = true
	hcancel()
	<-httpDone
	w.stop()

	r.written += int(w.writes.Load() + httpStores.Load())
	r.reads += int(w.reads.Load() + httpStores.Load())
	r.failed += int(w.failed.Load())
	for _, err := range w.errors() {
		t.Errorf("honest operation under attack: %v", err)
	}
	if flash.ReturnedEarly > 0 {
		t.Errorf("flash stake: the attacker withdrew %d FROST right after the selection that counted its stake", flash.ReturnedEarly)
	}
	if flash.WithdrawnLater < flash.Staked*99/100 {
		t.Errorf("flash stake: after serving epoch %d the stake paid back only %d of %d FROST", flash.Activation, flash.WithdrawnLater, flash.Staked)
	}
	if holding.PreflightAllowOrigin != "" && strings.Contains(holding.PreflightAllowMethods, "PUT") {
		t.Errorf("the publisher allows PUT from any web page: Access-Control-Allow-Origin %q, methods %q",
			holding.PreflightAllowOrigin, holding.PreflightAllowMethods)
	}
	if holding.CrossOriginStatus == http.StatusOK {
		t.Errorf("the publisher stored a blob for 53 epochs for an anonymous foreign page")
	}
	if holding.OversizedRefused != holding.Oversized {
		t.Errorf("%d of %d oversized uploads were not refused", holding.Oversized-holding.OversizedRefused, holding.Oversized)
	}
	c.readAll(ctx, r)
	r.note = fmt.Sprintf("%d idle and %d slow connections (%d cut by the servers), %d oversized bodies refused, cross-origin store answered %d; "+
		"flash stake of %d WAL: %d FROST back right after the selection, %d WAL after epoch %d; %d stores through the publisher, 0 failed honest operations",
		holding.IdleConns, holding.SlowConns, done.Cut, holding.OversizedRefused, holding.CrossOriginStatus,
		flash.Staked/chain.FrostPerWAL, max(flash.ReturnedEarly, 0), flash.WithdrawnLater/chain.FrostPerWAL, flash.Activation, httpStores.Load())
	if t.Failed() {
		t.Logf("attacker stderr: %s", stderr.String())
	}
}

// storeHTTP stores data through the publisher (for 10 epochs, the most an anonymous
// store may ask for) and reads it back through the aggregator. The blob is not added to
// the cluster's list: with 10 s epochs it may expire before the suite reads everything.
func storeHTTP(ctx context.Context, hc *http.Client, addr string, data []byte) error {
	req, err := http.NewRequestWithContext(ctx, "PUT", "http://"+addr+"/v1/blobs?epochs=10", bytes.NewReader(data))
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	var res client.StoreResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return err
	}
	get, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/v1/blobs/"+res.BlobID(), nil)
	if err != nil {
		return err
	}
	gresp, err := hc.Do(get)
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	defer gresp.Body.Close()
	got, err := io.ReadAll(gresp.Body)
	if err != nil || gresp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		return fmt.Errorf("read back of %s: status %d, %d bytes, %v", res.BlobID(), gresp.StatusCode, len(got), err)
	}
	return nil
}

// attackerProcess is the attacker of scenario 9, run as its own process (the test binary
// with RESILIENCE_CLIENT=attacker). It prints one attackReport per phase on stdout and
// keeps its stalled connections open until its stdin closes.
func attackerProcess() error {
	nodes, daemon := strings.Split(os.Getenv("RESILIENCE_NODES"), ","), os.Getenv("RESILIENCE_DAEMON")
	wallet, chainc, err := processChain()
	if err != nil {
		return err
	}
	defer chainc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out := json.NewEncoder(os.Stdout)

	// Phase 1: stall connections everywhere.
	var conns []net.Conn
	var mu sync.Mutex
	hold := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	rep := attackReport{Phase: "holding"}
	fakeID := make([]byte, 32)
	rand.Read(fakeID)
	id := redstuff.BlobID(fakeID).String()
	stalled := func(addr, head string) {
		c, err := dialTarget(addr)
		if err != nil {
			return
		}
		if _, err := io.WriteString(c, head); err != nil {
			c.Close()
			return
		}
		hold(c)
		rep.IdleConns++
	}
	for _, addr := range nodes {
		for range 12 {
			stalled(addr, "PUT /v1/blobs/"+id+"/slivers HTTP/1.1\r\nHost: node\r\nContent-Length: 104857600\r\n\r\n")
		}
		for range 12 {
			stalled(addr, "POST /v1/migrate/sync_shard HTTP/1.1\r\nHost: node\r\nContent-Length: 1048576\r\n\r\n")
		}
		for range 4 {
			stalled(addr, "PUT /v1/blobs/"+id+"/metadata HTTP/1.1\r\nHost: node\r\nContent-") // headers never end
		}
	}
	for range 12 {
		stalled(daemon, "PUT /v1/blobs?epochs=1 HTTP/1.1\r\nHost: publisher\r\nContent-Length: 1048576\r\n\r\n")
	}
	// Slow bodies: a byte every half second, until the server gives up on them.
	slowCtx, slowStop := context.WithCancel(ctx)
	defer slowStop()
	var slowWG sync.WaitGroup
	for _, addr := range append(append([]string{}, nodes...), daemon) {
		path := "/v1/blobs/" + id + "/slivers"
		if addr == daemon {
			path = "/v1/blobs?epochs=1"
		}
		for range 3 {
			c, err := dialTarget(addr)
			if err != nil {
				continue
			}
			if _, err := io.WriteString(c, "PUT "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"); err != nil {
				c.Close()
				continue
			}
			hold(c)
			rep.SlowConns++
			slowWG.Add(1)
			go func() {
				defer slowWG.Done()
				tick := time.NewTicker(500 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-slowCtx.Done():
						return
					case <-tick.C:
						if _, err := c.Write([]byte{'x'}); err != nil {
							return
						}
					}
				}
			}()
		}
	}
	// Oversized bodies: a declared and an undeclared (chunked) body far over any limit,
	// sent as fast as the server takes them. Refused means an error status, or the
	// connection cut before the whole body went through.
	for _, addr := range append(append([]string{}, nodes...), daemon) {
		path := "/v1/blobs/" + id + "/slivers"
		if addr == daemon {
			path = "/v1/blobs?epochs=1"
		}
		for _, chunked := range []bool{false, true} {
			rep.Oversized++
			if oversized(addr, path, chunked) {
				rep.OversizedRefused++
			}
		}
	}
	// A foreign page's preflight and store.
	hc := &http.Client{Timeout: 30 * time.Second}
	if req, err := http.NewRequestWithContext(ctx, "OPTIONS", "http://"+daemon+"/v1/blobs", nil); err == nil {
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Access-Control-Request-Method", "PUT")
		if resp, err := hc.Do(req); err == nil {
			rep.PreflightAllowOrigin = resp.Header.Get("Access-Control-Allow-Origin")
			rep.PreflightAllowMethods = resp.Header.Get("Access-Control-Allow-Methods")
			resp.Body.Close()
		}
	}
	if req, err := http.NewRequestWithContext(ctx, "PUT", "http://"+daemon+"/v1/blobs?epochs=53&force=true", bytes.NewReader(make([]byte, 100_000))); err == nil {
		req.Header.Set("Origin", "https://evil.example")
		if resp, err := hc.Do(req); err == nil {
			rep.CrossOriginStatus = resp.StatusCode
			resp.Body.Close()
		}
	}
	if err := out.Encode(rep); err != nil {
		return err
	}

	// Phase 2: flash stake on the first honest pool.
	flash, err := flashStake(ctx, chainc, wallet)
	if err != nil {
		return fmt.Errorf("flash stake: %w", err)
	}
	if err := out.Encode(flash); err != nil {
		return err
	}

	// Phase 3: hold until told to stop, then count what the servers cut.
	io.Copy(io.Discard, os.Stdin)
	slowStop()
	slowWG.Wait()
	cut := 0
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		var b [1]byte
		_, err := c.Read(b[:])
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			cut++ // closed by the server (or answered and closed)
		} else if err == nil {
			cut++ // the server answered (an error status) instead of waiting
		}
		c.Close()
	}
	return out.Encode(attackReport{Phase: "done", Cut: cut})
}

// flashStake stakes 10 WAL (little enough to move no shard) on a committee member's pool before a committee
// selection, tries to take it all back right after the selection that counted it, and
// finally withdraws it the regular way once the epoch it served is over.
func flashStake(ctx context.Context, chainc *chainclient.Client, wallet *chainclient.Signer) (attackReport, error) {
	rep := attackReport{Phase: "flash"}
	cmt, err := chainc.Committee(ctx)
	if err != nil {
		return rep, err
	}
	if len(cmt.Members) == 0 {
		return rep, errors.New("empty committee")
	}
	node := cmt.Members[0].NodeID
	poll := func(what string, cond func(chain.SystemState) bool) (chain.SystemState, error) {
		for {
			sys, err := chainc.System(ctx)
			if err == nil && cond(sys) {
				return sys, nil
			}
			select {
			case <-ctx.Done():
				return sys, fmt.Errorf("waiting for %s: %w", what, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	// Stake in the first half of an epoch, before its selection.
	if _, err := poll("the first half of an epoch", func(s chain.SystemState) bool { return s.EpochState == chain.StateEpochChangeDone }); err != nil {
		return rep, err
	}
	acct, err := chainc.Account(ctx, wallet.Address())
	if err != nil {
		return rep, err
	}
	rep.Staked = min(10*chain.FrostPerWAL, acct.Balance/2)
	res, err := chainc.Submit(ctx, wallet, &chain.Stake{Node: node, Amount: rep.Staked})
	if err != nil {
		return rep, err
	}
	var staked chain.ObjectID
	for _, ev := range res.Events {
		if d, ok := ev.Body.(*chain.StakeDeposited); ok {
			staked, rep.Activation = d.StakedWal, d.ActivationEpoch
		}
	}
	if rep.Activation == 0 {
		return rep, errors.New("no StakeDeposited event")
	}
	// Right after the selection that counted the stake, try to take it all back.
	if _, err := poll("the selection of the committee of the stake's activation epoch", func(s chain.SystemState) bool {
		return s.Epoch+1 == rep.Activation && s.EpochState == chain.StateNextParamsSelected
	}); err != nil {
		return rep, err
	}
	before, err := chainc.Account(ctx, wallet.Address())
	if err != nil {
		return rep, err
	}
	var errs []string
	if _, err := chainc.Submit(ctx, wallet, &chain.RequestWithdrawStake{StakedWal: staked}); err != nil {
		errs = append(errs, err.Error())
	}
	if _, err := chainc.Submit(ctx, wallet, &chain.WithdrawStake{StakedWal: staked}); err != nil {
		errs = append(errs, err.Error())
	}
	rep.EarlyError = strings.Join(errs, "; ")
	after, err := chainc.Account(ctx, wallet.Address())
	if err != nil {
		return rep, err
	}
	rep.ReturnedEarly = int64(after.Balance) - int64(before.Balance)
	if rep.ReturnedEarly > 0 {
		return rep, nil // the attack worked; nothing left to withdraw
	}
	// The regular way: once the epoch the stake served is over.
	for {
		sys, err := poll("the end of the epoch the stake served", func(s chain.SystemState) bool { return s.Epoch > rep.Activation })
		if err != nil {
			return rep, err
		}
		before, err := chainc.Account(ctx, wallet.Address())
		if err != nil {
			return rep, err
		}
		if _, err := chainc.Submit(ctx, wallet, &chain.WithdrawStake{StakedWal: staked}); err != nil {
			if errors.Is(err, chain.ErrNotWithdrawable) {
				rep.Activation = sys.Epoch // not yet: wait one more epoch
				continue
			}
			return rep, err
		}
		after, err := chainc.Account(ctx, wallet.Address())
		if err != nil {
			return rep, err
		}
		rep.WithdrawnLater = after.Balance - before.Balance
		rep.LaterEpoch = sys.Epoch
		return rep, nil
	}
}

// oversized sends a body far over the servers' limits and reports whether the server
// refused it: an error status, or the connection cut before 64 MiB went through.
func oversized(addr, path string, chunked bool) bool {
	c, err := dialTarget(addr)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	head := "PUT " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1099511627776\r\n\r\n"
	if chunked {
		head = "PUT " + path + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	}
	if _, err := io.WriteString(c, head); err != nil {
		return true
	}
	answered := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	chunk := make([]byte, 64<<10)
	rand.Read(chunk)
	frame := chunk
	if chunked {
		frame = append([]byte(fmt.Sprintf("%x\r\n", len(chunk))), append(chunk, '\r', '\n')...)
	}
	for sent := 0; sent < 64<<20; sent += len(chunk) {
		select {
		case code := <-answered:
			return code == 0 || code >= 400
		default:
		}
		if _, err := c.Write(frame); err != nil {
			return true
		}
	}
	code := <-answered
	return code == 0 || code >= 400
}

// dialTarget connects to a node or the publisher. The suite's nodes serve their API in
// plain HTTP on a private address (the fault proxies in front of them terminate TLS with
// the node's network key); the attacker goes to that address directly, so its stalled
// connections reach the node's own server.
func dialTarget(addr string) (net.Conn, error) {
	return net.DialTimeout("tcp", addr, 10*time.Second)
}
