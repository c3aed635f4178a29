package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/blake2b"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
	"github.com/walrus-go/walrus/internal/testvec"
)

// buildWalrus builds the walrus binary into a temporary directory, with the race detector if
// the test runs with it (so that the build reuses the test's compiled packages).
func buildWalrus(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(t.TempDir(), "walrus")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./cmd/walrus")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// validatorProcess runs 'walrus chain start' as a child process.
type validatorProcess struct {
	t    *testing.T
	bin  string
	home string
	log  *os.File
	cmd  *exec.Cmd
}

func (p *validatorProcess) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, "chain", "start", "--home", p.home, "--log-level", "warn")
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
}

func (p *validatorProcess) kill() {
	p.cmd.Process.Kill()
	p.cmd.Wait() // reports the kill
}

func (p *validatorProcess) logTail() string {
	raw, _ := os.ReadFile(p.log.Name())
	if len(raw) > 4000 {
		raw = raw[len(raw)-4000:]
	}
	return string(raw)
}

// TestValidatorCrashSafety kills a validator process with SIGKILL at random moments while
// clients submit transactions, restarts it, and checks that nothing the clients saw
// committed was lost: every committed transaction's events are in the final event log, the
// balances match the nonces, a follower that ran throughout saw the whole log exactly once,
// and re-executing every block from genesis gives the app hashes the node recorded.
func TestValidatorCrashSafety(t *testing.T) {
	kills := 4
	if testing.Short() {
		kills = 2
	}
	if v := os.Getenv("WALRUS_CRASH_KILLS"); v != "" {
		kills, _ = strconv.Atoi(v)
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("WALRUS_CRASH_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (set WALRUS_CRASH_SEED to repeat), %d kills", seed, kills)
	rng := rand.New(rand.NewPCG(seed, 0))

	bin := buildWalrus(t)
	dir := t.TempDir()
	home := filepath.Join(dir, "chain")
	rpc := testvec.FreeAddr(t)
	const senders = 3
	var signers []*chainclient.Signer
	args := []string{"chain", "init", "--home", home, "--addresses", testvec.FreeAddr(t), "--rpc-addresses", rpc, "--storage-nodes", "2"}
	for i := range senders {
		seed := blake2b.Sum256([]byte(fmt.Sprint("crash-sender-", i)))
		s := chainclient.NewSigner(ed25519.NewKeyFromSeed(seed[:]))
		signers = append(signers, s)
		args = append(args, "--fund", s.Address().String()+"=1000000")
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("chain init: %v\n%s", err, out)
	}
	logFile, err := os.Create(filepath.Join(dir, "validator.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	proc := &validatorProcess{t: t, bin: bin, home: home, log: logFile}
	proc.start()
	defer func() {
		if proc.cmd.ProcessState == nil {
			proc.kill()
		}
		if t.Failed() {
			t.Logf("validator log (tail):\n%s", proc.logTail())
		}
	}()

	opts := chainclient.Options{RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond, CallTimeout: 2 * time.Second, PollMax: 50 * time.Millisecond}
	c, err := chainclient.Dial(rpc, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var pools []chain.Pool
	chainWaitFor(t, time.Minute, "the validator", func() bool {
		pools, err = c.Pools(ctx)
		return err == nil
	})
	initial, err := c.Account(ctx, signers[0].Address())
	if err != nil {
		t.Fatal(err)
	}

	// A follower that runs through the crashes, over its own connection.
	fc, err := chainclient.Dial(rpc, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	var followed []chain.Event
	var followMu sync.Mutex
	fctx, fcancel := context.WithCancel(ctx)
	followDone := make(chan error, 1)
	go func() {
		followDone <- fc.Follow(0, 50).Run(fctx, func(_ context.Context, page chain.EventPage) error {
			followMu.Lock()
			followed = append(followed, page.Events...)
			followMu.Unlock()
			return nil
		})
	}()

	// Submitters: stake 1 WAL per transaction, recording what they saw committed.
	var committed atomic.Int64
	results := make([][]*chainclient.TxResult, senders)
	sctx, scancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; sctx.Err() == nil; n++ {
				tctx, tcancel := context.WithTimeout(sctx, 3*time.Second)
				res, err := c.Submit(tctx, signers[i], &chain.Stake{Node: pools[(i+n)%len(pools)].NodeID, Amount: chain.FrostPerWAL})
				tcancel()
				if err == nil {
					results[i] = append(results[i], res)
					committed.Add(1)
					continue
				}
				var ce *chainclient.Error
				if errors.As(err, &ce) && ce.Code != chain.CodeNonce {
					t.Errorf("sender %d: %v", i, err)
					return
				}
				// The node is down, or the outcome is unknown: try again shortly.
				select {
				case <-sctx.Done():
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
	}

	for k := range kills {
		target := committed.Load() + 1 + rng.Int64N(10)
		chainWaitFor(t, 2*time.Minute, fmt.Sprintf("%d commits before kill %d", target, k), func() bool { return committed.Load() >= target })
		time.Sleep(time.Duration(rng.Int64N(int64(40 * time.Millisecond)))) // an arbitrary moment, not synchronization
		proc.kill()
		t.Logf("kill %d after %d commits", k, committed.Load())
		proc.start()
	}
	target := committed.Load() + 5
	chainWaitFor(t, 2*time.Minute, "commits after the last restart", func() bool { return committed.Load() >= target })
	scancel()
	wg.Wait()

	// Every transaction a client saw committed is in the final state.
	var total int
	for i, rs := range results {
		acct, err := c.Account(ctx, signers[i].Address())
		if err != nil {
			t.Fatal(err)
		}
		if acct.Nonce < uint64(len(rs)) || acct.Balance != initial.Balance-acct.Nonce*(chain.FrostPerWAL+chainnode.DefaultMinFee) {
			t.Errorf("sender %d: nonce %d and balance %d after %d committed stakes", i, acct.Nonce, acct.Balance, len(rs))
		}
		for _, r := range rs {
			if len(r.Events) != 1 {
				t.Fatalf("stake result with %d events", len(r.Events))
			}
			ev := r.Events[0]
			page, _, err := c.Events(ctx, ev.Seq, 1)
			if err != nil || len(page.Events) != 1 || !cmp.Equal(page.Events[0], ev) || ev.TxDigest != r.Digest {
				t.Fatalf("committed event #%d (block %d) is not in the log as seen: %v %v", ev.Seq, r.Height, page.Events, err)
			}
			total++
		}
	}
	// The follower that ran through the crashes saw the whole log, once, in order.
	sys, err := c.System(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chainWaitFor(t, time.Minute, "the follower", func() bool {
		followMu.Lock()
		defer followMu.Unlock()
		return uint64(len(followed)) >= sys.NextEventSeq
	})
	fcancel()
	<-followDone
	var all []chain.Event
	f := c.Follow(0, 0)
	for f.Cursor() < sys.NextEventSeq {
		page, err := f.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Events...)
	}
	if diff := cmp.Diff(all, followed); diff != "" {
		t.Fatalf("the follower's events differ from the log (-log +follower):\n%s", diff)
	}
	// Re-executing every block from genesis gives the node's app hashes.
	n, err := c.VerifyAppHashes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d kills; %d transactions seen committed; %d events; %d blocks verified", kills, total, len(all), n)

	// A graceful stop.
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := proc.cmd.Wait(); err != nil {
		t.Fatalf("validator exit after SIGTERM: %v", err)
	}
}
