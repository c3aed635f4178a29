package api

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
)

// stall opens a connection to srv, sends the request line and headers of a request with a
// body of declared bytes and the first len(prefix) bytes of it, and then sends nothing
// more. The connection is closed at the end of the test.
func stall(t *testing.T, srv *httptest.Server, method, path string, declared int, prefix []byte) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: node\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", method, path, declared)
	if _, err := c.Write(prefix); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitFor polls cond until it holds, failing the test after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestStalledUploadsDoNotBlockUploads is the attack of a client that opens more
// connections than the node has upload slots, sends the headers of uploads and shard
// syncs (unsigned: it is no node) and then nothing: while they are all open, an honest
// batched upload, a single-sliver upload and a signed shard sync complete.
func TestStalledUploadsDoNotBlockUploads(t *testing.T) {
	const slots = 2
	requester := nodetest.Key(t, 40)
	// Bodies may take an hour: the stalled requests stay open for the whole test.
	a := newAPI(t, 7, []uint16{0, 2, 4}, Options{
		MaxConcurrentUploads: slots, MaxConcurrentSyncShard: 1, MaxConcurrentRequests: slots, BodyGrace: time.Hour,
		ShardOwners: &owners{key: requester.PublicKey()},
	})
	srv := httptest.NewServer(a.h)
	t.Cleanup(srv.Close) // after the stalled connections close (cleanups run last first)
	b := a.Blob(3000, 1)
	id := b.Metadata.BlobID
	a.Register(b, nodetest.ObjectID(1), 5, false)
	batch := batchBody(b.Metadata, a.OwnedPairs(b))
	// A second blob whose metadata is stored, so that single slivers of it may be put.
	b2 := a.Blob(3000, 2)
	a.Register(b2, nodetest.ObjectID(2), 5, false)
	if r := a.do("PUT", metaPath(b2.Metadata.BlobID), sn.MetadataBody(b2.Metadata)); r.code != http.StatusCreated {
		t.Fatalf("setup: %d %s", r.code, r.body)
	}
	pair := a.OwnedPairs(b2)[0]
	sliver := pair.Primary.Bytes()

	// Each stalled request sends a few bytes of its body, which the node counts against
	// its upload budget once the handler has read them.
	stalled, sent := 0, int64(0)
	stallWith := func(method, path string, declared int, prefix []byte) {
		stall(t, srv, method, path, declared, prefix)
		stalled++
		sent += int64(len(prefix))
	}
	for range slots + 2 {
		stallWith("PUT", "/v1/blobs/"+id.String()+"/slivers", len(batch), batch[:10])
	}
	stallWith("PUT", metaPath(id), a.Node.MetadataSize(), sn.MetadataBody(b.Metadata)[:1])
	stallWith("PUT", sliverURL(b2.Metadata.BlobID, pair.Index, redstuff.Primary), len(sliver), sliver[:1])
	for range 3 {
		stallWith("POST", syncPath, 200, []byte{0x40})
	}
	budgetUsed := func() int64 {
		a.h.memory.mu.Lock()
		defer a.h.memory.mu.Unlock()
		return a.h.memory.used
	}
	// All of them are inside the handler, reading their bodies.
	waitFor(t, "the stalled requests to reach the handler", func() bool { return budgetUsed() == sent })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	send := func(method, path string, body []byte) (int, string) {
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	if code, body := send("PUT", "/v1/blobs/"+id.String()+"/slivers", batch); code != http.StatusCreated {
		t.Fatalf("honest batched upload: %d %s", code, body)
	}
	if code, body := send("PUT", sliverURL(b2.Metadata.BlobID, pair.Index, redstuff.Primary), sliver); code != http.StatusCreated {
		t.Fatalf("honest sliver upload: %d %s", code, body)
	}
	sync := sn.EncodeSignedMessage(sn.SignSyncShard(requester, sn.SyncShardRequest{Shard: 2, Count: 10, Epoch: 1}))
	if code, body := send("POST", syncPath, sync); code != http.StatusOK {
		t.Fatalf("honest shard sync: %d %s", code, body)
	}
	// The stalled requests are still open (they hold the bytes they sent, no more), and
	// hold no upload or sync slot.
	if used := budgetUsed(); used != sent {
		t.Fatalf("after the honest requests %d bytes of the upload budget are held, want the %d the %d stalled requests sent", used, sent, stalled)
	}
	if len(a.h.uploads) != 0 || len(a.h.syncs) != 0 {
		t.Fatalf("stalled requests hold %d upload and %d sync slots", len(a.h.uploads), len(a.h.syncs))
	}
}

// TestSlowBodyCutOff is the attack of a client that sends part of a body and stalls:
// after the grace period (and the time the declared length takes at the minimum rate)
// the node answers 504 (DEADLINE_EXCEEDED, BODY_TOO_SLOW) and frees what the request held.
func TestSlowBodyCutOff(t *testing.T) {
	requester := nodetest.Key(t, 40)
	a := newAPI(t, 7, []uint16{0, 2, 4}, Options{
		BodyGrace: 50 * time.Millisecond, MinBodyRate: 1 << 30,
		ShardOwners: &owners{key: requester.PublicKey()},
	})
	srv := httptest.NewServer(a.h)
	t.Cleanup(srv.Close) // after the stalled connections close (cleanups run last first)
	b := a.Blob(3000, 1)
	id := b.Metadata.BlobID
	a.Register(b, nodetest.ObjectID(1), 5, false)
	batch := batchBody(b.Metadata, a.OwnedPairs(b))
	meta := sn.MetadataBody(b.Metadata)
	for _, c := range []struct {
		name, method, path string
		body               []byte
	}{
		{"batched upload", "PUT", "/v1/blobs/" + id.String() + "/slivers", batch},
		{"metadata", "PUT", metaPath(id), meta},
		{"shard sync", "POST", syncPath, sn.EncodeSignedMessage(sn.SignSyncShard(requester, sn.SyncShardRequest{Shard: 2, Count: 10, Epoch: 1}))},
	} {
		c.body = c.body[:len(c.body)/2]
		conn := stall(t, srv, c.method, c.path, 2*len(c.body)+1, c.body)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		status, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			t.Fatalf("%s: no answer to a stalled body: %v", c.name, err)
		}
		if !strings.HasPrefix(status, "HTTP/1.1 504 ") {
			t.Fatalf("%s: %q, want 504", c.name, status)
		}
		conn.Close()
	}
	// The cut-off requests give back the budget their bytes held.
	waitFor(t, "the cut-off requests to release the upload budget", func() bool {
		a.h.memory.mu.Lock()
		defer a.h.memory.mu.Unlock()
		return a.h.memory.used == 0
	})
}

// TestStalledHeadersCutOff is the attack of a client that opens a connection and sends
// part of its headers, or finishes a request and then keeps the connection idle: the
// server built by NewServer closes both after its header and idle timeouts.
func TestStalledHeadersCutOff(t *testing.T) {
	e := nodetest.New(t, 4, []uint16{0})
	srv := NewServer("127.0.0.1:0", e.Node, Options{ReadHeaderTimeout: 50 * time.Millisecond, IdleTimeout: 50 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	for _, c := range []struct{ name, send string }{
		{"partial headers", "PUT /v1/blobs/x/metadata HTTP/1.1\r\nHost: node\r\n"},
		{"idle after a request", "GET /v1/health HTTP/1.1\r\nHost: node\r\n\r\n"},
	} {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, c.send); err != nil {
			t.Fatal(err)
		}
		// The server closes the connection: reading ends (after any answer) long before
		// this generous deadline.
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.Copy(io.Discard, conn); err != nil {
			t.Fatalf("%s: the server kept the connection open: %v", c.name, err)
		}
	}
}
