package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
	"github.com/walrus-go/walrus/internal/testvec"
)

func writeNodeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNodeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	base := "data_dir: db\nchain_rpc: http://127.0.0.1:1\nbls_key_file: bls.key\nnetwork_key_file: network.key\nwallet_key_file: w.json\n"
	cfg, err := loadNodeConfig(writeNodeFile(t, dir, "ok.yaml", base+"retry_min: 2s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != filepath.Join(dir, "db") || cfg.BLSKeyFile != filepath.Join(dir, "bls.key") || cfg.RetryMin != 2*time.Second {
		t.Fatalf("loaded %+v", cfg)
	}
	for _, c := range []struct{ file, want string }{
		{base + "listne: 127.0.0.1:1\n", `unknown field "listne"`},
		{"chain_rpc: http://127.0.0.1:1\nbls_key_file: b\nwallet_key_file: w\n", "data_dir: required"},
		{base + "event_page_size: 0\nretry_min: 1m\nretry_max: 1s\n", "retry_max:"},
		{base + "peer_timeout: soon\n", "peer_timeout"},
		{base + "public_url: 127.0.0.1:9185\n", "public_url:"},
		{base + "public_url: http://127.0.0.1:9185\n", "public_url:"},
		{"data_dir: db\nchain_rpc: http://127.0.0.1:1\nbls_key_file: b\nwallet_key_file: w\n", "network_key_file: required"},
	} {
		_, err := loadNodeConfig(writeNodeFile(t, dir, "bad.yaml", c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %q: %v, want an error with %q", c.file, err, c.want)
		}
	}
	_, errs, code := run(t, "node", "--config", filepath.Join(dir, "missing.yaml"))
	if code != 1 || !strings.Contains(errs, "not found") || !strings.Contains(errs, "hint:") {
		t.Fatalf("missing config: code %d, %q", code, errs)
	}
	if _, _, code := run(t, "node"); code != 2 {
		t.Fatalf("no --config: code %d", code)
	}
}

// TestNodeRegisterAndRun registers a storage node candidate with 'walrus node register'
// against a validator's JSON-RPC, then runs it with 'walrus node --config' until the
// context ends.
func TestNodeRegisterAndRun(t *testing.T) {
	dir := t.TempDir()
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 3
	op := chainclient.NewSigner(ed25519.NewKeyFromSeed(seed))
	g, _, err := chainnode.DevnetGenesis(chainnode.DevnetOptions{
		ChainID: "node-cli", GenesisTime: time.Now(), EpochDuration: 24 * time.Hour,
		Accounts: []chain.GenesisAccount{{Address: op.Address(), Balance: 5000 * chain.FrostPerWAL}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rpc := testvec.FreeAddr(t)
	vcfg, err := chainnode.GenerateSingle(chainnode.Config{Home: filepath.Join(dir, "validator"), P2PListen: "127.0.0.1:0", RPCListen: rpc, Heartbeat: -1}, g)
	if err != nil {
		t.Fatal(err)
	}
	v, err := chainnode.Start(vcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()

	// No bls.key: 'walrus node register' creates it.
	if err := op.SaveNew(filepath.Join(dir, "operator.json")); err != nil {
		t.Fatal(err)
	}
	listen := testvec.FreeAddr(t)
	config := writeNodeFile(t, dir, "node.yaml", fmt.Sprintf(
		"data_dir: data\nchain_rpc: http://%s\nbls_key_file: bls.key\nnetwork_key_file: network.key\nwallet_key_file: operator.json\nlisten: %s\nmetrics_listen: off\nname: cli-node\n", rpc, listen))

	out, errs, code := run(t, "node", "register", "--config", config, "--stake", "100", "--json")
	if code != 0 {
		t.Fatalf("register: code %d, %s", code, errs)
	}
	var res nodeRegisterResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.Registered || res.NetworkAddress != listen || res.Stake != 100*chain.FrostPerWAL {
		t.Fatalf("register output %q: %v", out, err)
	}
	// Again: the key is known, so it only stakes.
	out, _, code = run(t, "node", "register", "--config", config, "--stake", "1")
	if code != 0 || !strings.Contains(out, "already registered") || !strings.Contains(out, "Staked 1 WAL") {
		t.Fatalf("second register: code %d, %q", code, out)
	}
	c, err := chainclient.New(v.Client(), chainclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id, err := chain.ParseObjectID(res.NodeID)
	if err != nil {
		t.Fatal(err)
	}
	key, err := daemon.LoadBLSKey(filepath.Join(dir, "bls.key"))
	if err != nil {
		t.Fatalf("register did not create the BLS key: %v", err)
	}
	pool, err := c.Pool(context.Background(), id)
	if err != nil || pool.Name != "cli-node" || pool.PublicKey != key.PublicKey().Bytes() {
		t.Fatalf("pool %+v, %v", pool, err)
	}

	// Run the node until the context ends.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- Main(ctx, []string{"node", "--config", config, "--log-level", "error"}, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	}()
	// 'walrus node register' created the network key; the node serves TLS with it, and
	// the chain announces it.
	netKey, err := nodetls.LoadKey(filepath.Join(dir, "network.key"))
	if err != nil {
		t.Fatal(err)
	}
	if pool.NetworkPublicKey != nodetls.PublicKey(netKey) {
		t.Fatalf("pool network key %x, want the key file's", pool.NetworkPublicKey)
	}
	nc, err := nodeclient.New(nodeclient.URL(listen), nodeclient.Options{NetworkKey: pool.NetworkPublicKey, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		h, err := nc.Health(context.Background(), false)
		if err == nil && h.EventProgress.Persisted > 0 {
			if h.NodeStatus != "Standby" {
				t.Fatalf("a candidate outside the committee has status %s", h.NodeStatus)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node did not come up: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("node exited with %d: %s", code, stderr.String())
	}
}
