package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/internal/testvec"
)

// TestLocalChainBypassesRPCListener: a client environment given the validator's in-process
// client (walrus devnet's publisher, gateway and portal) calls it directly, so it works
// with nothing listening at the configuration's rpc_url, while the same configuration
// without it cannot reach the chain.
func TestLocalChainBypassesRPCListener(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "client.yaml")
	nothing := "http://" + testvec.FreeAddr(t) // free: nothing listens there
	if err := writeClientConfig(cfg, nothing, net.Genesis.Params.ChainID, ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	local := &clientEnv{env: &env{ctx: ctx, stderr: &stderr}, configPath: cfg, localChain: net.Validator.Client()}
	cc, err := local.dialChain(ctx)
	if err != nil {
		t.Fatalf("with the in-process client: %v", err)
	}
	defer cc.chain.Close()
	if cc.params.ChainID != net.Genesis.Params.ChainID {
		t.Fatalf("chain ID %q, want %q", cc.params.ChainID, net.Genesis.Params.ChainID)
	}
	if _, err := cc.chain.System(ctx); err != nil {
		t.Fatalf("system object through the in-process client: %v", err)
	}
	remote := &clientEnv{env: &env{ctx: ctx, stderr: &stderr}, configPath: cfg}
	if cc, err := remote.dialChain(ctx); err == nil || !strings.Contains(err.Error(), "cannot reach the chain") {
		if err == nil {
			cc.chain.Close()
		}
		t.Fatalf("without the in-process client: %v, want the chain unreachable at %s", err, nothing)
	}
}
