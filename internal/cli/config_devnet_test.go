package cli

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/testnet"
)

// deadAddr returns a local address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestCLIConfigEverywhere: info, wallet, faucet and blob-id read the configuration as
// store does ($WALRUS_CONFIG, --config, --context, flags over it), and blob-id without
// --n-shards gives store's blob ID.
func TestCLIConfigEverywhere(t *testing.T) {
	n := newCLINet(t, testnet.Options{})
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "xdg"))
	t.Setenv("HOME", filepath.Join(dir, "home"))
	wallet := filepath.Join(filepath.Dir(n.config), "wallet.key")
	dead := "http://" + deadAddr(t)
	deadCfg := filepath.Join(dir, "dead.yaml")
	if err := writeClientConfig(deadCfg, dead, "", wallet); err != nil {
		t.Fatal(err)
	}
	ctxCfg := filepath.Join(dir, "contexts.yaml")
	if err := os.WriteFile(ctxCfg, []byte("contexts:\n  live:\n    rpc_url: "+n.RPCURL()+"\n    chain_id: walrus-testnet\n    wallet: "+wallet+
		"\n  dead:\n    rpc_url: "+dead+"\n    wallet: "+wallet+"\ndefault_context: dead\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file, _ := writeRandom(t, dir, "blob", 3000)

	walrus := func(t *testing.T, args ...string) ([]byte, string, int) {
		t.Helper()
		return runCLI(t, "", args...)
	}
	// The configured chain answers, and its answers are this network's.
	t.Setenv(clientConfigEnv, n.config)
	out, errs, code := walrus(t, "info", "--json")
	var info infoOutput
	if code != 0 || json.Unmarshal(out, &info) != nil {
		t.Fatalf("info: code %d, %s, %s", code, out, errs)
	}
	if info.ChainInfo.ChainID != "walrus-testnet" || info.StorageInfo.NShards != testnet.DefaultShards || info.CommitteeInfo == nil || info.BftInfo == nil {
		t.Fatalf("info: %s", out)
	}
	start, err := time.Parse(time.RFC3339, info.EpochInfo.StartOfCurrentEpoch.DateTime)
	end, err2 := time.Parse(time.RFC3339, info.EpochInfo.ExpectedEndOfEpoch)
	if err != nil || err2 != nil || !end.After(start) || info.EpochInfo.EpochDuration.Secs == 0 {
		t.Fatalf("epoch times %+v", info.EpochInfo)
	}
	for _, sec := range []struct{ name, field string }{
		{"epoch", `"currentEpoch"`}, {"storage", `"nNodes"`}, {"size", `"maxBlobSize"`},
		{"price", `"encodingDependentPriceInfo"`}, {"bft", `"quorumThreshold"`}, {"committee", `"currentStorageNodes"`},
	} {
		out, errs, code := walrus(t, "info", sec.name, "--json")
		if code != 0 || !strings.Contains(string(out), sec.field) {
			t.Errorf("info %s: code %d, %s, %s", sec.name, code, out, errs)
		}
		if out, _, code := walrus(t, "info", sec.name); code != 0 || len(out) == 0 {
			t.Errorf("info %s (human): code %d", sec.name, code)
		}
	}
	out, errs, code = walrus(t, "wallet", "balance", "--json")
	var bal walletBalanceResult
	if code != 0 || json.Unmarshal(out, &bal) != nil || bal.ChainID != "walrus-testnet" || bal.Balance == 0 {
		t.Fatalf("wallet balance: code %d, %s, %s", code, out, errs)
	}
	if _, errs, code := walrus(t, "faucet"); code != 1 || !strings.Contains(errs, "chain walrus-testnet has no faucet") {
		t.Fatalf("faucet: code %d, %s", code, errs)
	}
	// blob-id asks the configured chain for the shard count: the ID is store's.
	out, errs, code = walrus(t, "blob-id", "--json", file)
	var bid blobIDResult
	if code != 0 || json.Unmarshal(out, &bid) != nil || bid.NShards != testnet.DefaultShards {
		t.Fatalf("blob-id: code %d, %s, %s", code, out, errs)
	}
	out, errs, code = walrus(t, "store", "--json", "--epochs", "1", file)
	var stored []storeOutput
	if code != 0 || json.Unmarshal(out, &stored) != nil || len(stored) != 1 || stored[0].BlobStoreResult.NewlyCreated == nil {
		t.Fatalf("store: code %d, %s, %s", code, out, errs)
	}
	if got := stored[0].BlobStoreResult.NewlyCreated.BlobObject.BlobID; got != bid.BlobID {
		t.Fatalf("blob-id says %s, store says %s", bid.BlobID, got)
	}
	// Not usage errors: an offset past the end and a chain rejection exit with 1 and no
	// help hint, and the rejection reads well.
	if _, errs, code := walrus(t, "read", "--offset", "5000", bid.BlobID); code != 1 || !strings.Contains(errs, "beyond the end of the blob") || strings.Contains(errs, "walrus help") {
		t.Errorf("offset past the end: code %d, %s", code, errs)
	}
	_, errs, code = walrus(t, "extend", "--blob-obj-id", "0x"+strings.Repeat("ab", 32), "--epochs-extended", "1")
	if code != 1 || strings.Contains(errs, "walrus help") || strings.Contains(errs, "chaintransaction") || !strings.Contains(errs, "not found") {
		t.Errorf("unknown object: code %d, %s", code, errs)
	}
	// A refused delete (no --yes, no terminal to ask) is not a usage error either.
	_, errs, code = walrus(t, "delete", "--blob-id", bid.BlobID)
	if code != 1 || strings.Contains(errs, "walrus help") || !strings.Contains(errs, "without confirmation") {
		t.Errorf("refused delete: code %d, %s", code, errs)
	}

	// A configuration pointing nowhere: every command says so, none falls back elsewhere.
	t.Setenv(clientConfigEnv, deadCfg)
	for _, args := range [][]string{{"info"}, {"info", "epoch"}, {"wallet", "balance"}, {"faucet"}, {"store", "--epochs", "1", file}} {
		out, errs, code := walrus(t, args...)
		if code != 1 || len(out) != 0 || !strings.Contains(errs, "cannot reach the chain at "+dead) {
			t.Errorf("%v with a dead configuration: code %d, %s, %s", args, code, out, errs)
		}
	}
	if _, errs, code := walrus(t, "blob-id", file); code != 1 || !strings.Contains(errs, "cannot reach the chain at "+dead) || !strings.Contains(errs, "--n-shards") {
		t.Errorf("blob-id with a dead configuration: code %d, %s", code, errs)
	}
	// The wallet comes from the configuration even when the chain is down.
	if out, errs, code := walrus(t, "wallet", "address"); code != 0 || strings.TrimSpace(string(out)) != bal.Address {
		t.Errorf("wallet address: code %d, %s, %s", code, out, errs)
	}
	// --rpc overrides the configuration's rpc_url; --config overrides $WALRUS_CONFIG.
	if out, errs, code := walrus(t, "--rpc", n.RPCURL(), "info", "storage", "--json"); code != 0 || !strings.Contains(string(out), `"nNodes"`) {
		t.Errorf("--rpc over the configuration: code %d, %s, %s", code, out, errs)
	}
	if out, errs, code := walrus(t, "--config", n.config, "wallet", "balance"); code != 0 || !strings.Contains(string(out), "WAL on walrus-testnet") {
		t.Errorf("--config over $WALRUS_CONFIG: code %d, %s, %s", code, out, errs)
	}

	// Contexts: the default one is dead, --context selects the live one.
	t.Setenv(clientConfigEnv, ctxCfg)
	if _, errs, code := walrus(t, "info"); code != 1 || !strings.Contains(errs, "cannot reach the chain at "+dead) || !strings.Contains(errs, "contexts.dead.rpc_url in "+ctxCfg) {
		t.Errorf("default context: code %d, %s", code, errs)
	}
	if out, errs, code := walrus(t, "--context", "live", "wallet", "balance", "--json"); code != 0 || !strings.Contains(string(out), `"chainId": "walrus-testnet"`) {
		t.Errorf("--context live: code %d, %s, %s", code, out, errs)
	}
	out, errs, code = walrus(t, "--context", "live", "blob-id", file)
	if code != 0 || !strings.Contains(string(out), bid.BlobID) {
		t.Errorf("blob-id --context live: code %d, %s, %s", code, out, errs)
	}
	if _, errs, code := walrus(t, "--context", "staging", "info"); code != 2 || !strings.Contains(errs, `--context "staging": no such context`) {
		t.Errorf("unknown context: code %d, %s", code, errs)
	}
}
