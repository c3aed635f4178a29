package resilience

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
)

// The test binary doubles as a client process: with $RESILIENCE_CLIENT set it stores one
// blob and exits instead of running tests. "stuck" never reaches a storage node (every
// request to one blocks), so it stops after registering the blob; "store" stores normally
// and prints the result as JSON.
func TestMain(m *testing.M) {
	if mode := os.Getenv("RESILIENCE_CLIENT"); mode != "" {
		run := clientProcess
		if mode == "attacker" {
			run = func(string) error { return attackerProcess() }
		}
		if err := run(mode); err != nil {
			fmt.Fprintln(os.Stderr, "client process:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	testnet.RemoveBinary() // once for the whole run: -count=N reuses the built binary
	os.Exit(code)
}

// blockingTransport never answers: each request waits until its context ends.
type blockingTransport struct{}

func (blockingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	<-req.Context().Done()
	return nil, req.Context().Err()
}

// processChain loads the wallet of a client process ($RESILIENCE_WALLET) and dials the
// validator's RPC ($RESILIENCE_RPC); the caller closes the chain client.
func processChain() (*chainclient.Signer, *chainclient.Client, error) {
	wallet, err := chainclient.LoadSigner(os.Getenv("RESILIENCE_WALLET"))
	if err != nil {
		return nil, nil, err
	}
	chainc, err := chainclient.Dial(os.Getenv("RESILIENCE_RPC"), chainclient.Options{})
	if err != nil {
		return nil, nil, err
	}
	return wallet, chainc, nil
}

func clientProcess(mode string) error {
	data, err := os.ReadFile(os.Getenv("RESILIENCE_DATA"))
	if err != nil {
		return err
	}
	wallet, chainc, err := processChain()
	if err != nil {
		return err
	}
	defer chainc.Close()
	cfg := client.Config{Chain: chainc, Signer: wallet}
	if mode == "stuck" {
		cfg.HTTPClient = &http.Client{Transport: blockingTransport{}}
	}
	c, err := client.New(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := c.Store(ctx, data, client.StoreOptions{Epochs: 20})
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// killClient runs a client process that registers a blob and is killed with SIGKILL
// before it can certify it. The same user's retry (a new process) then stores the blob,
// reusing the registration, and the abandoned registration blocks nobody.
func killClient(t *testing.T, ctx context.Context, c *cluster, r *row, _ size) {
	dir := t.TempDir()
	wallet := c.fundedSigner(ctx)
	walletPath, dataPath := filepath.Join(dir, "wallet.json"), filepath.Join(dir, "blob")
	if err := wallet.SaveNew(walletPath); err != nil {
		t.Fatal(err)
	}
	data := c.randomBlob(300_000)
	if err := os.WriteFile(dataPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	eb, err := c.net.Enc.Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	id := eb.Metadata.BlobID
	run := func(mode string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "RESILIENCE_CLIENT="+mode, "RESILIENCE_RPC=http://"+c.net.RPCAddr,
			"RESILIENCE_WALLET="+walletPath, "RESILIENCE_DATA="+dataPath)
		return cmd
	}
	stuck := run("stuck")
	if err := stuck.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- stuck.Wait() }()
	testnet.WaitFor(t, time.Minute, "the client process to register the blob", func() (bool, error) {
		select {
		case err := <-exited:
			return false, fmt.Errorf("the client process exited before registering: %v", err)
		default:
		}
		st, err := c.net.Chain.BlobStatus(ctx, id)
		return err == nil && st.DeletableRegistered > 0, nil
	})
	if err := stuck.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	st, err := c.net.Chain.BlobStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.DeletableCertified > 0 {
		t.Fatalf("the killed client's blob is certified: %+v", st)
	}

	// The same user retries in a new process: the registration is reused.
	retry := run("store")
	out, err := retry.Output()
	if err != nil {
		t.Fatalf("retry after the client was killed: %v\n%s", err, exitStderr(err))
	}
	var res client.StoreResult
	if err := json.Unmarshal(out, &res); err != nil || res.NewlyCreated == nil {
		t.Fatalf("retry result: %v\n%s", err, out)
	}
	reused := res.NewlyCreated.ResourceOperation.ReuseRegistration != nil
	if !reused {
		t.Errorf("the retry did not reuse the abandoned registration: %s", out)
	}
	c.mu.Lock()
	c.blobs = append(c.blobs, &stored{id: id, data: data})
	c.mu.Unlock()
	r.written++
	// Other stores are not blocked either.
	c.writeBlobs(ctx, r, 20_000)
	r.note = fmt.Sprintf("a client process registered a blob and was killed before certifying; its retry reused the registration: %v", reused)
}

func exitStderr(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}

// inconsistentBlob is what a malicious client uploads: it encodes data, replaces the
// primary sliver of the last pair (a repair sliver) with garbage and commits the metadata
// to it, so every sliver verifies against the metadata but the garbage one
// cannot be rebuilt from the others. It returns the encoding and the pair of the bad sliver.
func inconsistentBlob(t *testing.T, enc *redstuff.Config, data []byte) (*redstuff.EncodedBlob, int) {
	t.Helper()
	eb, err := enc.Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	bad := enc.NShards() - 1
	garbage := eb.Pairs[bad].Primary
	garbage.Data = slices.Clone(garbage.Data)
	for i := range garbage.Data {
		garbage.Data[i] = byte(i*7 + 3)
	}
	expanded, err := enc.Expand(eb.Metadata, &garbage)
	if err != nil {
		t.Fatal(err)
	}
	m := *eb.Metadata
	m.Hashes = slices.Clone(m.Hashes)
	m.Hashes[bad].Primary = expanded.Root()
	m.BlobID = m.ComputeBlobID()
	pairs := slices.Clone(eb.Pairs)
	pairs[bad].Primary = garbage
	return &redstuff.EncodedBlob{Metadata: &m, Pairs: pairs}, bad
}
