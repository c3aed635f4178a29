package resilience

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
)

// hostileInput sends malformed and hostile requests to a storage node, to the
// publisher/aggregator daemon (a `walrus daemon` process) and to the validator's RPC:
// lying and huge lengths, truncated bodies, garbage bodies and transactions, bad paths and
// methods, and bytes that are not HTTP at all. Every process must stay up with bounded
// memory, answer health checks, and lose nothing (the suite then reads every blob).
func hostileInput(t *testing.T, ctx context.Context, c *cluster, r *row, _ size) {
	_, nodes := c.committee(ctx)
	node := nodes[0]
	daemonAddr, daemonPID := c.startDaemon(ctx)

	id := c.certified()[0].id.String()
	garbage := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	type req struct {
		method, path string
		body         []byte
	}
	nodeReqs := []req{
		{"PUT", "/v1/blobs/" + id + "/metadata", garbage(5000)},
		{"PUT", "/v1/blobs/" + id + "/slivers", garbage(3 << 20)},
		{"PUT", "/v1/blobs/" + id + "/slivers/0/primary", garbage(100_000)},
		{"PUT", "/v1/blobs/" + id + "/slivers/99999/secondary", garbage(10)},
		{"PUT", "/v1/blobs/" + id + "/slivers/0/tertiary", garbage(10)},
		{"POST", "/v1/migrate/sync_shard", garbage(4096)},
		{"POST", "/v1/blobs/" + id + "/inconsistency/primary", garbage(2048)},
		{"GET", "/v1/blobs/not-a-blob-id/metadata", nil},
		{"GET", "/v1/blobs/" + id + "/slivers/-1/primary", nil},
		{"GET", "/v1/blobs/" + id + "/slivers/18446744073709551616/primary", nil},
		{"GET", "/v1/blobs/" + id + "/recover/0/primary/1", nil},
		{"GET", "/v1/" + strings.Repeat("a/", 20_000), nil},
		{"DELETE", "/v1/blobs/" + id + "/metadata", nil},
		{"PATCH", "/v1/health", garbage(100)},
	}
	daemonReqs := []req{
		{"PUT", "/v1/blobs?epochs=-1", garbage(100)},
		{"PUT", "/v1/blobs?epochs=99999999999999999999", garbage(100)},
		{"PUT", "/v1/blobs?epochs=1&deletable=maybe", garbage(100)},
		{"GET", "/v1/blobs/" + strings.Repeat("z", 5000), nil},
		{"GET", "/v1/blobs/" + id + "?x=" + strings.Repeat("%", 3000), nil},
		{"DELETE", "/v1/blobs/" + id, nil},
		{"POST", "/v1/api", garbage(1000)},
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	sent := 0
	send := func(base string, q req) {
		hreq, err := http.NewRequestWithContext(ctx, q.method, base+q.path, bytes.NewReader(q.body))
		if err != nil {
			return // the client library refuses the request itself
		}
		resp, err := hc.Do(hreq)
		sent++
		if err != nil {
			return // the server may close the connection on garbage
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode < 400 && q.method != "GET" {
			t.Errorf("%s %s with a garbage body answered %d", q.method, q.path, resp.StatusCode)
		}
	}
	nodeBase, daemonBase := "http://"+node.Config.Listen, "http://"+daemonAddr
	for _, q := range nodeReqs {
		send(nodeBase, q)
	}
	for _, q := range daemonReqs {
		send(daemonBase, q)
	}
	// A range header with a request for a real blob.
	if hreq, err := http.NewRequestWithContext(ctx, "GET", daemonBase+"/v1/blobs/"+id, nil); err == nil {
		hreq.Header.Set("Range", "bytes=999999999999-1,-,abc")
		if resp, err := hc.Do(hreq); err == nil {
			resp.Body.Close()
			sent++
		}
	}
	// Raw connections: lying Content-Length, truncated bodies, slow and non-HTTP bytes.
	raw := []string{
		"PUT /v1/blobs/" + id + "/slivers HTTP/1.1\r\nHost: x\r\nContent-Length: 1099511627776\r\n\r\n" + string(garbage(1000)),
		"PUT /v1/blobs/" + id + "/metadata HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + string(garbage(10)),
		"PUT /v1/blobs?epochs=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 9223372036854775807\r\n\r\nabc",
		"PUT /v1/blobs?epochs=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\nabc",
		"GET / HTTP/1.1\r\n" + strings.Repeat("X-Junk: "+strings.Repeat("j", 1000)+"\r\n", 2000) + "\r\n",
		string(garbage(64 << 10)),
	}
	for _, addr := range []string{node.Config.Listen, daemonAddr} {
		for _, payload := range raw {
			sendRaw(addr, payload)
			sent++
		}
	}
	// Garbage transactions to the validator.
	for _, n := range []int{0, 1, 100, 100_000} {
		u := fmt.Sprintf("http://%s/broadcast_tx_sync?tx=0x%s", c.net.RPCAddr, hex.EncodeToString(garbage(n)))
		if resp, err := hc.Get(u); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		sent++
	}

	// Everyone is still up, answers, and kept its memory in bounds.
	c.waitHealthy(node)
	for _, u := range []string{daemonBase + "/status", "http://" + c.net.RPCAddr + "/status"} {
		resp, err := hc.Get(u)
		if err != nil {
			t.Fatalf("%s after hostile input: %v", u, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s after hostile input: %d", u, resp.StatusCode)
		}
	}
	rss, err := rssHighWater(node.Proc.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if rss > 1<<30 {
		t.Errorf("%s peaked at %d MiB of memory under hostile input", node.Name, rss>>20)
	}
	drss, err := rssHighWater(daemonPID)
	if err != nil {
		t.Fatal(err)
	}
	if drss > 1<<30 {
		t.Errorf("the publisher/aggregator peaked at %d MiB of memory under hostile input", drss>>20)
	}
	// Stores still work through the daemon, and directly.
	data := garbage(5000)
	preq, err := http.NewRequestWithContext(ctx, "PUT", daemonBase+"/v1/blobs?epochs=5", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(preq)
	if err != nil {
		t.Fatalf("store through the daemon after hostile input: %v", err)
	}
	var res client.StoreResult
	err = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || res.BlobID() == "" {
		t.Fatalf("store through the daemon after hostile input: %d %v", resp.StatusCode, err)
	}
	bid, err := redstuff.ParseBlobID(res.BlobID())
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.blobs = append(c.blobs, &stored{id: bid, data: data})
	c.mu.Unlock()
	r.written++
	c.writeBlobs(ctx, r, 10_000)
	r.note = fmt.Sprintf("%d malformed requests to a node, the publisher/aggregator and the validator: all stayed up; peak RSS %d MiB (node), %d MiB (publisher/aggregator)", sent, rss>>20, drss>>20)
}

// sendRaw writes payload on a fresh connection and reads whatever comes back for a
// moment.
func sendRaw(addr, payload string) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	conn.Write([]byte(payload))
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	io.Copy(io.Discard, io.LimitReader(conn, 1<<20))
}

// startDaemon runs a `walrus daemon` process (publisher and aggregator) with its own
// funded wallet and returns its address and process ID; it is stopped when the test ends.
func (c *cluster) startDaemon(ctx context.Context) (string, int) {
	t := c.t
	t.Helper()
	dir := t.TempDir()
	if err := c.fundedSigner(ctx).SaveNew(filepath.Join(dir, "wallet.json")); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("rpc_url: http://%s\nwallet: wallet.json\n", c.net.RPCAddr)
	if err := os.WriteFile(filepath.Join(dir, "client.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := testnet.FreeAddr(t)
	log, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(c.bin, "daemon", "--config", filepath.Join(dir, "client.yaml"), "--bind-address", addr, "--metrics-address", "off")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		log.Close()
	})
	hc := &http.Client{Timeout: 2 * time.Second}
	testnet.WaitFor(t, time.Minute, "the publisher/aggregator", func() (bool, error) {
		resp, err := hc.Get("http://" + addr + "/status")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	return addr, cmd.Process.Pid
}
