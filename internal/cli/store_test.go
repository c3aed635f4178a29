package cli

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/testnet"
)

// cliNet is a test network with a client configuration for the CLI.
type cliNet struct {
	*testnet.Network
	config string
}

func newCLINet(t *testing.T, o testnet.Options) *cliNet {
	t.Helper()
	o.RPC = true
	net := testnet.New(t, o)
	dir := t.TempDir()
	if err := net.WriteWallet(filepath.Join(dir, "wallet.key")); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "client.yaml")
	if err := writeClientConfig(cfg, net.RPCURL(), "walrus-testnet", "wallet.key"); err != nil {
		t.Fatal(err)
	}
	return &cliNet{Network: net, config: cfg}
}

// walrus runs the CLI with the network's configuration.
func (n *cliNet) walrus(t *testing.T, args ...string) (stdout []byte, stderr string, code int) {
	t.Helper()
	return runCLI(t, "", append([]string{"--config", n.config}, args...)...)
}

func runCLI(t *testing.T, stdin string, args ...string) (stdout []byte, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code = Main(ctx, args, strings.NewReader(stdin), &out, &errb)
	return out.Bytes(), errb.String(), code
}

func writeRandom(t *testing.T, dir, name string, size int) (string, []byte) {
	t.Helper()
	var seed uint64
	for _, c := range name {
		seed = seed*31 + uint64(c)
	}
	r := rand.New(rand.NewPCG(uint64(size), seed))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, data
}

func TestCLIStoreRead(t *testing.T) {
	n := newCLINet(t, testnet.Options{})
	dir := t.TempDir()
	sizes := []int{0, 1, 1 << 20}
	var paths []string
	var datas [][]byte
	for _, size := range sizes {
		p, d := writeRandom(t, dir, fmt.Sprint("blob-", size), size)
		paths, datas = append(paths, p), append(datas, d)
	}
	out, errs, code := n.walrus(t, append([]string{"store", "--json", "--epochs", "2"}, paths...)...)
	if code != 0 {
		t.Fatalf("store: code %d, stderr %q", code, errs)
	}
	var results []storeOutput
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(paths) {
		t.Fatalf("store output %q: %v", out, err)
	}
	ids := make([]string, len(results))
	for i, r := range results {
		nc := r.BlobStoreResult.NewlyCreated
		if r.Path != paths[i] || nc == nil || !nc.BlobObject.Deletable || nc.BlobObject.Size != uint64(sizes[i]) || nc.BlobObject.EncodingType != "RS2" {
			t.Fatalf("result %d: %s", i, out)
		}
		ids[i] = nc.BlobObject.BlobID
	}
	// Walrus's JSON field names.
	for _, field := range []string{`"blobStoreResult"`, `"newlyCreated"`, `"blobObject"`, `"registeredEpoch"`, `"certifiedEpoch"`,
		`"storageSize"`, `"resourceOperation"`, `"registerFromScratch"`, `"encodedLength"`, `"epochsAhead"`, `"cost"`} {
		if !bytes.Contains(out, []byte(field)) {
			t.Errorf("store --json output lacks %s", field)
		}
	}
	for i, id := range ids {
		got, errs, code := n.walrus(t, "read", "--", id)
		if code != 0 || !bytes.Equal(got, datas[i]) {
			t.Fatalf("read %s to stdout: code %d, %d bytes (want %d), stderr %q", id, code, len(got), len(datas[i]), errs)
		}
		outFile := filepath.Join(dir, "out-"+fmt.Sprint(i))
		if _, errs, code := n.walrus(t, "read", "--out", outFile, "--", id); code != 0 {
			t.Fatalf("read --out: code %d, %q", code, errs)
		}
		if got, _ := os.ReadFile(outFile); !bytes.Equal(got, datas[i]) {
			t.Fatalf("read --out %s: contents differ", id)
		}
		// Ranges: from an offset, of a length, clipped at the end, and past the end.
		size := int64(len(datas[i]))
		for _, rg := range [][2]int64{{0, 1}, {size / 2, 100}, {size / 3, 0}, {size - 1, 50}, {size, 0}} {
			off, l := rg[0], rg[1]
			if off < 0 {
				continue // an empty blob
			}
			got, errs, code := n.walrus(t, "read", "--offset", fmt.Sprint(off), "--length", fmt.Sprint(l), "--", id)
			end := size
			if l > 0 {
				end = min(off+l, size)
			}
			if code != 0 || !bytes.Equal(got, datas[i][off:end]) {
				t.Fatalf("read --offset %d --length %d of %d bytes: code %d, %d bytes, stderr %q", off, l, size, code, len(got), errs)
			}
		}
		if _, errs, code := n.walrus(t, "read", "--offset", fmt.Sprint(size+1), "--", id); code != 1 || !strings.Contains(errs, "beyond the end") || strings.Contains(errs, "walrus help") {
			t.Fatalf("read past the end: code %d, %q", code, errs)
		}
	}
	// Human output.
	out, errs, code = n.walrus(t, "store", "--permanent", "--epochs", "3", paths[1])
	if code != 0 || !strings.Contains(string(out), "Success: Permanent blob stored successfully.") || !strings.Contains(string(out), "Blob ID: "+ids[1]) {
		t.Fatalf("human store: code %d, %q, %q", code, out, errs)
	}
	// Stored again: already certified, nothing uploaded.
	out, errs, code = n.walrus(t, "store", "--json", "--epochs", "2", paths[1])
	if code != 0 || !bytes.Contains(out, []byte(`"alreadyCertified"`)) {
		t.Fatalf("store again: code %d, %q, %q", code, out, errs)
	}
	// Dry run.
	out, _, code = n.walrus(t, "store", "--json", "--dry-run", "--epochs", "1", paths[2])
	if code != 0 || !bytes.Contains(out, []byte(`"encodedSize"`)) || !bytes.Contains(out, []byte(ids[2])) {
		t.Fatalf("dry run: %d %q", code, out)
	}
	// Status.
	out, errs, code = n.walrus(t, "blob-status", "--file", paths[1])
	if code != 0 || !strings.Contains(string(out), "certified and permanent") {
		t.Fatalf("blob-status: %d %q %q", code, out, errs)
	}
	out, _, code = n.walrus(t, "blob-status", "--json", "--blob-id", ids[0])
	if code != 0 || !bytes.Contains(out, []byte(`"deletable"`)) {
		t.Fatalf("blob-status --json: %d %q", code, out)
	}
	// List, extend, delete.
	out, _, code = n.walrus(t, "list-blobs", "--json")
	var listed []client.BlobObject
	if code != 0 || json.Unmarshal(out, &listed) != nil || len(listed) != 4 {
		t.Fatalf("list-blobs: %d %q", code, out)
	}
	var obj client.BlobObject
	for _, b := range listed {
		if b.BlobID == ids[2] {
			obj = b
		}
	}
	out, errs, code = n.walrus(t, "extend", "--json", "--blob-obj-id", obj.ID, "--epochs-extended", "4")
	var extended extendOutput
	if code != 0 || json.Unmarshal(out, &extended) != nil || extended.BlobObject.Storage.EndEpoch != obj.Storage.EndEpoch+4 || extended.EpochsExtended != 4 {
		t.Fatalf("extend: %d %q %q", code, out, errs)
	}
	if _, errs, code = n.walrus(t, "delete", "--blob-id", ids[2]); code != 1 || !strings.Contains(errs, "--yes") || strings.Contains(errs, "walrus help") {
		t.Fatalf("delete without --yes: %d %q", code, errs)
	}
	out, errs, code = n.walrus(t, "delete", "--yes", "--blob-id", ids[2])
	if code != 0 || !strings.Contains(string(out), obj.ID) {
		t.Fatalf("delete: %d %q %q", code, out, errs)
	}
	if _, errs, code = n.walrus(t, "read", "--", ids[2]); code != 1 || !strings.Contains(errs, "walrus: error: blob not found") {
		t.Fatalf("read after delete: %d %q", code, errs)
	}
	// Health and stake.
	out, errs, code = n.walrus(t, "health", "--json")
	var health healthOutput
	if code != 0 || json.Unmarshal(out, &health) != nil || len(health.HealthInfo) != 4 || health.HealthInfo[0].HealthInfo.Ok == nil {
		t.Fatalf("health: %d %q %q", code, out, errs)
	}
	out, errs, code = n.walrus(t, "stake", "--json", "--node-ids", health.HealthInfo[0].NodeID, "--amounts", "5000000000")
	if code != 0 || !bytes.Contains(out, []byte(`"stakedWalId"`)) {
		t.Fatalf("stake: %d %q %q", code, out, errs)
	}

	// Bench.
	prof := filepath.Join(dir, "bench.pprof")
	out, errs, code = n.walrus(t, "bench", "--json", "--sizes", "1KiB,0", "--count", "2", "--cpuprofile", prof)
	var rows []benchRow
	if code != 0 || json.Unmarshal(out, &rows) != nil || len(rows) != 4 || rows[0].RequestsPer < 4 || rows[0].Op != "store" ||
		rows[0].Phases == nil || rows[0].Phases.Register <= 0 || rows[1].Phases != nil ||
		rows[0].StartUnixMs <= 0 || rows[0].EndUnixMs < rows[0].StartUnixMs || rows[1].StartUnixMs < rows[0].EndUnixMs {
		t.Fatalf("bench: %d %q %q", code, out, errs)
	}
	// A CPU profile: gzipped protocol buffers.
	if b, err := os.ReadFile(prof); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("bench --cpuprofile: %v, %d bytes", err, len(b))
	}

	// One node stopped: stores and reads still work.
	if err := n.Nodes[3].Stop(); err != nil {
		t.Fatal(err)
	}
	for i, size := range sizes {
		p, d := writeRandom(t, dir, fmt.Sprint("down-", size), size+1)
		out, errs, code := n.walrus(t, "store", "--json", "--epochs", "1", p)
		var res []storeOutput
		if code != 0 || json.Unmarshal(out, &res) != nil || res[0].BlobStoreResult.NewlyCreated == nil {
			t.Fatalf("store %d with a node down: %d %q %q", i, code, out, errs)
		}
		got, errs, code := n.walrus(t, "read", "--", res[0].BlobStoreResult.NewlyCreated.BlobObject.BlobID)
		if code != 0 || !bytes.Equal(got, d) {
			t.Fatalf("read with a node down: %d %q", code, errs)
		}
		got, _, code = n.walrus(t, "read", "--", ids[i])
		if i != 2 && (code != 0 || !bytes.Equal(got, datas[i])) {
			t.Fatalf("read of an earlier blob with a node down: %d", code)
		}
	}
}

var errLine = regexp.MustCompile(`^walrus: error: `)

func TestCLIBadInput(t *testing.T) {
	n := newCLINet(t, testnet.Options{MaxEpochsAhead: 20})
	dir := t.TempDir()
	file, _ := writeRandom(t, dir, "f", 100)
	unknown := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

	// A wallet with too little to pay: a second configuration.
	poor, err := n.FundedSigner(context.Background(), "poor", 3000)
	if err != nil {
		t.Fatal(err)
	}
	if err := poor.SaveNew(filepath.Join(dir, "poor.key")); err != nil {
		t.Fatal(err)
	}
	poorCfg := filepath.Join(dir, "poor.yaml")
	if err := writeClientConfig(poorCfg, n.RPCURL(), "", "poor.key"); err != nil {
		t.Fatal(err)
	}
	// A wallet configured for another chain: the client must not sign for this one.
	otherCfg := filepath.Join(dir, "other.yaml")
	if err := writeClientConfig(otherCfg, n.RPCURL(), "walrus-devnet-0badc0de", "poor.key"); err != nil {
		t.Fatal(err)
	}
	// A chain that does not answer.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := l.Addr().String()
	l.Close()
	deadCfg := filepath.Join(dir, "dead.yaml")
	if err := writeClientConfig(deadCfg, "http://"+deadAddr, "", "wallet.key"); err != nil {
		t.Fatal(err)
	}
	badYAML := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badYAML, []byte("rpc_url: http://127.0.0.1:1\nwalet: x\n"), 0o600)

	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"malformed blob ID", []string{"--config", n.config, "read", "not-a-blob-id"}, 2, `invalid blob ID "not-a-blob-id"`},
		{"unknown blob ID", []string{"--config", n.config, "read", unknown}, 1, "blob not found"},
		{"zero epochs", []string{"--config", n.config, "store", "--epochs", "0", file}, 2, "--epochs 0: must be at least 1"},
		{"negative epochs", []string{"--config", n.config, "store", "--epochs=-3", file}, 2, "--epochs -3: must be at least 1"},
		{"too many epochs", []string{"--config", n.config, "store", "--epochs", "21", file}, 2, "more than the maximum of 20 epochs ahead"},
		{"end epoch in the past", []string{"--config", n.config, "store", "--end-epoch", "0", file}, 2, "--end-epoch 0"},
		{"epochs and end epoch", []string{"--config", n.config, "store", "--epochs", "1", "--end-epoch", "3", file}, 2, "give only one of --epochs, --earliest-expiry-time and --end-epoch"},
		{"missing file", []string{"--config", n.config, "store", "--epochs", "1", filepath.Join(dir, "nope")}, 1, "cannot read"},
		{"missing config", []string{"--config", filepath.Join(dir, "none.yaml"), "read", unknown}, 1, "no client configuration"},
		{"bad config", []string{"--config", badYAML, "read", unknown}, 1, "walet"},
		{"unreachable chain", []string{"--config", deadCfg, "read", unknown}, 1, "cannot reach the chain at http://" + deadAddr},
		{"insufficient funds", []string{"--config", poorCfg, "store", "--epochs", "1", file}, 1, "insufficient funds"},
		{"other chain", []string{"--config", otherCfg, "store", "--epochs", "1", file}, 1, `is not the configured chain walrus-devnet-0badc0de`},
		{"extend zero", []string{"--config", n.config, "extend", "--blob-obj-id", "0x" + strings.Repeat("ab", 32), "--epochs-extended", "0"}, 2, "must be at least 1"},
		{"bad object ID", []string{"--config", n.config, "extend", "--blob-obj-id", "xyz", "--epochs-extended", "1"}, 2, `--blob-obj-id: invalid object ID "xyz"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := runCLI(t, "", c.args...)
			if code != c.code || !strings.Contains(errs, c.want) || !errLine.MatchString(errs) || len(out) != 0 {
				t.Fatalf("code %d (want %d), stdout %q, stderr %q (want %q)", code, c.code, out, errs, c.want)
			}
		})
	}
	// Nothing was stored by any of them.
	out, _, code := n.walrus(t, "list-blobs", "--json")
	if code != 0 || strings.TrimSpace(string(out)) != "[]" {
		t.Fatalf("list-blobs after bad input: %q", out)
	}
	t.Setenv(clientConfigEnv, n.config)
	if out, errs, code := runCLI(t, "", "read", unknown); code != 1 || !strings.Contains(errs, "blob not found") || len(out) != 0 {
		t.Fatalf("$WALRUS_CONFIG: %d %q", code, errs)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCLIDaemon(t *testing.T) {
	n := newCLINet(t, testnet.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"--config", n.config, "daemon", "--bind-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0"},
			strings.NewReader(""), io.Discard, &stderr)
	}()
	addrRe := regexp.MustCompile(`API on (http://[0-9.:]+)\n[^\n]*metrics on (http://[0-9.:]+/metrics)`)
	var m []string
	deadline := time.Now().Add(time.Minute)
	for m == nil {
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not start: %q", stderr.String())
		}
		time.Sleep(5 * time.Millisecond) // polling the daemon's output, not synchronization
		m = addrRe.FindStringSubmatch(stderr.String())
	}
	api, metrics := m[1], m[2]
	data := []byte("hello from the publisher")
	req, _ := http.NewRequest(http.MethodPut, api+"/v1/blobs?epochs=2&permanent=true", bytes.NewReader(data))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var res client.StoreResult
	json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if resp.StatusCode != 200 || res.NewlyCreated == nil || res.NewlyCreated.BlobObject.Deletable {
		t.Fatalf("PUT: %d %+v", resp.StatusCode, res)
	}
	resp, err = http.Get(api + "/v1/blobs/" + res.NewlyCreated.BlobObject.BlobID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, data) {
		t.Fatalf("GET: %d %q", resp.StatusCode, got)
	}
	resp, err = http.Get(metrics)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(body, []byte(`walrus_gateway_requests_total{code="200",route="store"} 1`)) {
		t.Fatalf("metrics: %s", body)
	}

	// A publisher with --jwt-decode-secret stores only with a valid, unused token.
	var stderr2 syncBuffer
	done2 := make(chan int, 1)
	secret := []byte("0123456789abcdef0123456789abcdef")
	go func() {
		done2 <- Main(ctx, []string{"--config", n.config, "publisher", "--bind-address", "127.0.0.1:0", "--metrics-address", "off",
			"--jwt-decode-secret", fmt.Sprintf("0x%x", secret)}, strings.NewReader(""), io.Discard, &stderr2)
	}()
	apiRe := regexp.MustCompile(`API on (http://[0-9.:]+)\n`)
	m = nil
	for m == nil {
		if time.Now().After(deadline) {
			t.Fatalf("publisher did not start: %q", stderr2.String())
		}
		time.Sleep(5 * time.Millisecond) // polling the daemon's output, not synchronization
		m = apiRe.FindStringSubmatch(stderr2.String())
	}
	authPut := func(tok string) int {
		req, _ := http.NewRequest(http.MethodPut, m[1]+"/v1/blobs?epochs=1", bytes.NewReader([]byte("with a token")))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tok := hs256(secret, fmt.Sprintf(`{"exp":%d,"jti":"cli-test","max_epochs":1}`, time.Now().Add(time.Hour).Unix()))
	if code := authPut(""); code != 401 {
		t.Fatalf("PUT without a token: %d", code)
	}
	if code := authPut(tok); code != 200 {
		t.Fatalf("PUT with a token: %d", code)
	}
	if code := authPut(tok); code != 429 {
		t.Fatalf("PUT with a used token: %d", code)
	}
	cancel()
	<-done2
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("daemon exited with %d: %s", code, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("daemon did not stop")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "17": 17, "5B": 5, "1KiB": 1024, "64MiB": 64 << 20, "1GiB": 1 << 30} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "1KB", "MiB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

// hs256 returns a JWT of claims signed with HS256.
func hs256(secret []byte, claims string) string {
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(claims))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(mac.Sum(nil))
}
