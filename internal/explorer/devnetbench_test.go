//go:build devnetbench

package explorer_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/explorer"
	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// TestDevnetPageLatency seeds a devnet of real processes (validator, storage nodes, the
// daemon serving the explorer) with WALRUS_BENCH_BLOBS register-only blobs (default 10,000)
// spread over 20 faucet-funded accounts, waits for the explorer to count them, then times
// every page server-side (request written to last response byte, from the same host) over
// WALRUS_BENCH_ROUNDS rounds (default 50) and logs p50/p99 per page with the load average.
// Not run in CI: `make bench-explorer-devnet`.
func TestDevnetPageLatency(t *testing.T) {
	nBlobs := envInt("WALRUS_BENCH_BLOBS", 10_000)
	rounds := envInt("WALRUS_BENCH_ROUNDS", 50)
	const accounts = 20
	bin := filepath.Join(t.TempDir(), "walrus")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/walrus-go/walrus/cmd/walrus").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	rpc, httpAddr := freeAddr(t), freeAddr(t)
	base := freePortBlock(t, 4)
	cmd := exec.Command(bin, "devnet", "--dir", filepath.Join(t.TempDir(), "net"), "--nodes", "4", "--node-port", strconv.Itoa(base),
		"--chain-rpc", rpc, "--chain-p2p", freeAddr(t), "--http", httpAddr, "--s3", "off", "--portal", "off")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
			<-done
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "export WALRUS_CONFIG=") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Minute):
		t.Fatal("devnet not ready after 10 minutes")
	}
	daemon := "http://" + httpAddr

	cc, err := chainclient.Dial(rpc, chainclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
	defer cancel()
	params, err := cc.Params(ctx)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := redstuff.NewConfig(int(params.NShards))
	if err != nil {
		t.Fatal(err)
	}

	// Seed: each account gets WAL from the faucet, then reserves and registers its share of
	// blobs in batches of pipelined transactions (reserve a batch, register into it).
	start := time.Now()
	var (
		mu       sync.Mutex
		blobObjs []chain.ObjectID
		owners   []chain.Address
		firstErr error
	)
	var wg sync.WaitGroup
	for a := 0; a < accounts; a++ {
		n := nBlobs/accounts + btoi(a < nBlobs%accounts)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids, owner, err := seedAccount(ctx, cc, enc, params.FaucetMax, n, uint64(a))
			mu.Lock()
			defer mu.Unlock()
			blobObjs = append(blobObjs, ids...)
			owners = append(owners, owner)
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	seeded := time.Since(start)
	t.Logf("seeded %d blobs (%d accounts, register-only, %d shards) in %v: %.0f blobs/s", len(blobObjs), accounts, params.NShards,
		seeded.Round(time.Second), float64(len(blobObjs))/seeded.Seconds())

	var ov explorer.Overview
	caught := time.Now()
	waitFor(t, ctx, "the explorer counts the seeded blobs", func() bool {
		getJSON(t, daemon+"/v1/network/overview", &ov)
		if ov.Stored.Blobs < uint64(nBlobs) || ov.Holders < accounts {
			return false
		}
		// owners are resolved after the events are applied: wait for them too
		for _, h := range ov.LargestHolders {
			if h.Blobs < uint64(nBlobs/accounts) {
				return false
			}
		}
		return true
	})
	t.Logf("explorer caught up %v after seeding: %d blobs, %d holders, largest %+v", time.Since(caught).Round(time.Second),
		ov.Stored.Blobs, ov.Holders, ov.LargestHolders[0])

	// The account with the most blobs, so its page pages through the largest list.
	acct := ov.LargestHolders[0].Address
	for _, h := range ov.LargestHolders {
		if h.Blobs > ov.LargestHolders[0].Blobs {
			acct = h.Address
		}
	}
	pages := []struct{ name, path string }{
		{"overview", "/explorer/"},
		{"nodes", "/explorer/nodes"},
		{"epochs", "/explorer/epochs"},
		{"blob", "/explorer/blobs/" + blobObjs[len(blobObjs)/2].String()},
		{"account", "/explorer/accounts/" + acct},
		{"overview.json", "/v1/network/overview"},
		{"nodes.json", "/v1/network/nodes"},
	}
	times := make(map[string][]time.Duration)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	var loads []string
	for r := 0; r < rounds; r++ {
		for _, p := range pages {
			d, err := lastByte(ctx, client, daemon+p.path)
			if err != nil {
				t.Fatalf("%s: %v", p.name, err)
			}
			times[p.name] = append(times[p.name], d)
		}
		if r%max(rounds/5, 1) == 0 {
			loads = append(loads, loadAvg())
		}
	}
	loads = append(loads, loadAvg())
	t.Logf("%d rounds; load average (1 min) during the rounds: %s", rounds, strings.Join(loads, ", "))
	t.Logf("| page | p50 | p99 | max |")
	t.Logf("|---|---|---|---|")
	for _, p := range pages {
		d := times[p.name]
		slices.Sort(d)
		t.Logf("| %s | %s | %s | %s |", p.name, ms(quantile(d, 0.5)), ms(quantile(d, 0.99)), ms(d[len(d)-1]))
	}
}

// seedAccount funds a new account from the faucet and registers n blobs of random sizes
// (1 B to 64 KiB) owned by it. It returns their object IDs.
func seedAccount(ctx context.Context, cc *chainclient.Client, enc *redstuff.Config, faucet uint64, n int, seed uint64) ([]chain.ObjectID, chain.Address, error) {
	s, err := chainclient.GenerateSigner(rand.Reader)
	if err != nil {
		return nil, chain.Address{}, err
	}
	if _, err := cc.Submit(ctx, s, &chain.Faucet{Amount: faucet}); err != nil {
		return nil, s.Address(), fmt.Errorf("faucet: %w", err)
	}
	rng := mrand.New(mrand.NewPCG(seed, 7))
	const batch = 100
	var ids []chain.ObjectID
	for done := 0; done < n; {
		k := min(batch, n-done)
		sizes := make([]uint64, k)
		reserves := make([]*chainclient.Pending, k)
		for i := range k {
			sizes[i] = 1 + rng.Uint64N(64<<10)
			e, err := enc.EncodedLength(sizes[i])
			if err != nil {
				return ids, s.Address(), err
			}
			if reserves[i], err = cc.SubmitAsync(ctx, s, &chain.ReserveSpace{Size: e, EpochsAhead: 50}, 0); err != nil {
				return ids, s.Address(), fmt.Errorf("reserve: %w", err)
			}
		}
		regs := make([]*chainclient.Pending, k)
		for i, p := range reserves {
			res, err := p.Wait(ctx)
			if err != nil {
				return ids, s.Address(), fmt.Errorf("reserve: %w", err)
			}
			var root [32]byte
			rand.Read(root[:])
			reg := &chain.RegisterBlob{Storage: res.Created[0], RootHash: root, Size: sizes[i], EncodingType: redstuff.EncodingRS2,
				BlobID: redstuff.DeriveBlobID(redstuff.EncodingRS2, sizes[i], merkle.Node(root)), Deletable: i%2 == 0}
			if regs[i], err = cc.SubmitAsync(ctx, s, reg, 0); err != nil {
				return ids, s.Address(), fmt.Errorf("register: %w", err)
			}
		}
		for _, p := range regs {
			res, err := p.Wait(ctx)
			if err != nil {
				return ids, s.Address(), fmt.Errorf("register: %w", err)
			}
			ids = append(ids, res.Created[0])
		}
		done += k
	}
	return ids, s.Address(), nil
}

// ttfb is the time from the request written to the last byte of the response read (the
// server's time, its data reads and rendering, plus loopback transfer).
func lastByte(ctx context.Context, c *http.Client, url string) (time.Duration, error) {
	var wrote time.Time
	tr := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { wrote = time.Now() }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, tr), "GET", url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := bufio.NewReader(resp.Body).WriteTo(discard{}); err != nil {
		return 0, err
	}
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return time.Since(wrote), nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func quantile(sorted []time.Duration, q float64) time.Duration {
	return sorted[min(int(q*float64(len(sorted))), len(sorted)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
