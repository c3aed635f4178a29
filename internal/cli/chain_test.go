package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
	"github.com/walrus-go/walrus/internal/testvec"
)

// chainWaitFor polls cond until it holds or the deadline passes.
func chainWaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not synchronization
	}
}

// chainSyncBuffer is a bytes.Buffer safe for a command running in another goroutine.
type chainSyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *chainSyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *chainSyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startTestValidator runs 'walrus chain start' in-process until the test ends, and waits until
// 'walrus info' answers.
func startTestValidator(t *testing.T, home, rpc string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr chainSyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"chain", "start", "--home", home, "--log-level", "error"}, strings.NewReader(""), &chainSyncBuffer{}, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("chain start exited with %d: %s", code, stderr.String())
		}
	})
	chainWaitFor(t, 2*time.Minute, "the validator to answer", func() bool {
		select {
		case code := <-done:
			t.Fatalf("chain start exited with %d: %s", code, stderr.String())
		default:
		}
		_, _, code := run(t, "info", "--rpc", rpc)
		return code == 0
	})
}

func TestChainCommands(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "chain")
	rpc := testvec.FreeAddr(t)
	out, errs, code := run(t, "chain", "init", "--home", home, "--faucet", "--faucet-max", "50", "--addresses", testvec.FreeAddr(t), "--rpc-addresses", rpc)
	if code != 0 || !regexp.MustCompile(`Chain walrus-devnet-[0-9a-f]{8} created`).MatchString(out) || !strings.Contains(out, "faucet up to 50 WAL") {
		t.Fatalf("chain init: code %d, %q, %q", code, out, errs)
	}
	for _, f := range []string{"chain.yaml", "config/genesis.json", "storage-nodes/storage-node-0/bls.key", "storage-nodes/storage-node-0/network.key", "storage-nodes/storage-node-3/operator.json"} {
		if _, err := os.Stat(filepath.Join(home, f)); err != nil {
			t.Errorf("chain init did not write %s: %v", f, err)
		}
	}
	if _, errs, code := run(t, "chain", "init", "--home", home); code != 1 || !strings.Contains(errs, "not empty") {
		t.Errorf("second init: code %d, %q", code, errs)
	}
	startTestValidator(t, home, rpc)

	wallet := filepath.Join(dir, "wallet.json")
	out, errs, code = run(t, "wallet", "new", "--wallet", wallet)
	if code != 0 || !strings.Contains(out, "Address: 0x") {
		t.Fatalf("wallet new: code %d, %q, %q", code, out, errs)
	}
	if _, errs, code := run(t, "wallet", "new", "--wallet", wallet); code != 1 || !strings.Contains(errs, "already exists") {
		t.Errorf("wallet new over a wallet: code %d, %q", code, errs)
	}
	addr, _, code := run(t, "wallet", "address", "--wallet", wallet)
	if code != 0 || !strings.HasPrefix(addr, "0x") {
		t.Fatalf("wallet address: %d %q", code, addr)
	}
	if _, errs, code := run(t, "faucet", "--wallet", wallet, "--rpc", rpc, "--amount", "60"); code != 2 || !strings.Contains(errs, "above the faucet's limit") {
		t.Errorf("faucet above the limit: code %d, %q", code, errs)
	}
	out, errs, code = run(t, "faucet", "--wallet", wallet, "--rpc", rpc, "--amount", "10")
	if code != 0 || !strings.Contains(out, "Received 10 WAL") {
		t.Fatalf("faucet: code %d, %q, %q", code, out, errs)
	}
	out, _, code = run(t, "wallet", "balance", "--wallet", wallet, "--rpc", rpc, "--json")
	var bal walletBalanceResult
	if code != 0 || json.Unmarshal([]byte(out), &bal) != nil || bal.Balance != 10*chain.FrostPerWAL-chainnode.DefaultMinFee || bal.Nonce != 1 {
		t.Fatalf("balance: code %d, %q", code, out)
	}
	if out, _, code = run(t, "wallet", "balance", strings.TrimSpace(addr), "--rpc", rpc); code != 0 || !strings.Contains(out, "9.999999 WAL") {
		t.Fatalf("balance of an address: code %d, %q", code, out)
	}
	out, _, code = run(t, "info", "--rpc", rpc, "--json")
	var info infoOutput
	if code != 0 || json.Unmarshal([]byte(out), &info) != nil || info.CommitteeInfo == nil {
		t.Fatalf("info: code %d, %q", code, out)
	}
	shards := 0
	for _, m := range info.CommitteeInfo.CurrentStorageNodes {
		shards += len(m.ShardIDs)
	}
	if info.EpochInfo.CurrentEpoch != 0 || len(info.CommitteeInfo.CurrentStorageNodes) != 4 || shards != 10 || info.StorageInfo.NShards != 10 ||
		info.ChainInfo.FaucetMax != 50*chain.FrostPerWAL || info.PriceInfo.StoragePricePerUnitSize == 0 {
		t.Fatalf("info %+v", info)
	}
	out, _, _ = run(t, "info", "--rpc", rpc)
	if !strings.Contains(out, "Current committee: 4 storage nodes, 10 shards") || !strings.Contains(out, "Expected end time: ") {
		t.Errorf("info output:\n%s", out)
	}

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"info", "--rpc", "127.0.0.1:1"}, 1, "hint: is a validator running"},
		{[]string{"wallet", "address", "--wallet", filepath.Join(dir, "none.json")}, 1, "hint: create one with 'walrus wallet new'"},
		{[]string{"chain", "start", "--home", dir}, 1, "chain.yaml not found"},
		{[]string{"chain", "init", "--home", filepath.Join(dir, "x"), "--fund", "nope"}, 2, "ADDRESS=WAL"},
		{[]string{"chain", "init"}, 2, "required flag"},
	} {
		_, errs, code := run(t, tc.args...)
		if code != tc.code || !strings.HasPrefix(errs, "walrus: error: ") || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: code %d, stderr %q; want code %d and %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
	// A key file readable by others is refused.
	if err := os.Chmod(wallet, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := run(t, "wallet", "address", "--wallet", wallet); code != 1 || !strings.Contains(errs, "accessible by other users") {
		t.Errorf("world-readable wallet: code %d, %q", code, errs)
	}
}

func TestFaucetDisabled(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "chain")
	rpc := testvec.FreeAddr(t)
	if _, errs, code := run(t, "chain", "init", "--home", home, "--addresses", testvec.FreeAddr(t), "--rpc-addresses", rpc, "--storage-nodes", "1"); code != 0 {
		t.Fatalf("chain init: %s", errs)
	}
	startTestValidator(t, home, rpc)
	wallet := filepath.Join(dir, "wallet.json")
	if _, errs, code := run(t, "wallet", "new", "--wallet", wallet); code != 0 {
		t.Fatal(errs)
	}
	_, errs, code := run(t, "faucet", "--wallet", wallet, "--rpc", rpc)
	if code != 1 || !regexp.MustCompile(`walrus: error: chain walrus-devnet-[0-9a-f]{8} has no faucet`).MatchString(errs) || !strings.Contains(errs, "hint:") {
		t.Fatalf("faucet on a chain without one: code %d, %q", code, errs)
	}
}

func TestChainInitNetwork(t *testing.T) {
	dir := t.TempDir()
	addrs := []string{"127.0.0.1:30001", "127.0.0.1:30011", "127.0.0.1:30021"}
	rpcs := []string{"127.0.0.1:30002", "127.0.0.1:30012", "127.0.0.1:30022"}
	out, errs, code := run(t, "chain", "init", "--home", dir, "--validators", "3", "--addresses", strings.Join(addrs, ","), "--n-shards", "20", "--json")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	var res chainInitResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Validators) != 3 || res.NShards != 20 {
		t.Fatalf("%v: %s", err, out)
	}
	for i, v := range res.Validators {
		cfg, _, err := loadValidatorConfig(v.Home)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.P2PListen != addrs[i] || cfg.RPCListen != rpcs[i] || len(cfg.PersistentPeers) != 2 {
			t.Errorf("validator %d: %+v", i, cfg)
		}
		for _, p := range cfg.PersistentPeers {
			if strings.HasSuffix(p, addrs[i]) {
				t.Errorf("validator %d lists itself as a peer", i)
			}
		}
	}
	g0, err := chainnode.ReadGenesis(res.Validators[0].Home)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := chainnode.ReadGenesis(res.Validators[2].Home)
	if err != nil || g0.Digest() != g2.Digest() {
		t.Fatalf("validators have different genesis files: %v", err)
	}
	if _, errs, code := run(t, "chain", "init", "--home", t.TempDir(), "--validators", "2", "--addresses", "127.0.0.1:1"); code != 2 || !strings.Contains(errs, "1 addresses for 2 validators") {
		t.Errorf("too few addresses: %d %q", code, errs)
	}
	// The configuration is read strictly.
	home := res.Validators[0].Home
	path := filepath.Join(home, validatorConfigFile)
	raw, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append(raw, []byte("unknown_key: 1\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadValidatorConfig(home); err == nil || !strings.Contains(err.Error(), "unknown_key") {
		t.Errorf("unknown key: %v", err)
	}
	if err := os.WriteFile(path, []byte("heartbeat: soon\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadValidatorConfig(home); err == nil || !strings.Contains(err.Error(), "heartbeat") {
		t.Errorf("bad duration: %v", err)
	}
}

func TestWALAmounts(t *testing.T) {
	for _, tc := range []struct {
		in    string
		frost uint64
		ok    bool
	}{
		{"1", chain.FrostPerWAL, true},
		{"0.000000001", 1, true},
		{"12.5", 12_500_000_000, true},
		{"18446744073.709551615", 18446744073709551615, true},
		{"18446744073.709551616", 0, false},
		{"0.0000000001", 0, false},
		{"-1", 0, false},
		{"1/2", 0, false},
		{"1e3", 0, false},
		{"x", 0, false},
	} {
		got, err := parseWAL(tc.in)
		if (err == nil) != tc.ok || got != tc.frost {
			t.Errorf("parseWAL(%q) = %d, %v", tc.in, got, err)
		}
		if back, err := parseWAL(formatWAL(got)); tc.ok && (err != nil || back != got) {
			t.Errorf("formatWAL(%d) = %q does not parse back", got, formatWAL(got))
		}
	}
	if s := formatWAL(12_500_000_000); s != "12.5" {
		t.Errorf("formatWAL = %q", s)
	}
	if s := formatShards([]uint16{0, 1, 2, 5, 7, 8}); s != "[0-2,5,7-8]" {
		t.Errorf("formatShards = %q", s)
	}
}
