package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
)

// writeCounter counts the writes to the connections it accepts.
type writeCounter struct {
	net.Listener
	writes atomic.Int64
}

func (l *writeCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countedConn{Conn: c, n: &l.writes}, nil
}

type countedConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countedConn) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}

// TestSliverAnswerCorked serves the API over TLS as the daemon does
// (nodetls.NewListener): a sliver of about 450 KB arrives whole, in socket writes of up to
// 256 KiB instead of one per 16 KiB TLS record.
func TestSliverAnswerCorked(t *testing.T) {
	a := newAPI(t, 10, []uint16{0, 1, 2, 3})
	b := a.Blob(1800000, 4) // near the largest blob of 10 shards: a primary sliver of about 450 KB
	id := b.Metadata.BlobID
	p := a.OwnedPairs(b)[0]
	a.Register(b, nodetest.ObjectID(1), 5, false)
	successData[string](t, a.do("PUT", metaPath(id), sn.MetadataBody(b.Metadata)), http.StatusCreated)
	successData[string](t, a.do("PUT", sliverURL(id, p.Index, redstuff.Primary), p.Primary.Bytes()), http.StatusCreated)
	want := p.Primary.Bytes()
	if len(want) < 256<<10 {
		t.Fatalf("a sliver of %d bytes: too small for the test", len(want))
	}

	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, ed25519.SeedSize))
	cfg, err := nodetls.ServerConfig(key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	counted := &writeCounter{Listener: ln}
	srv := NewServer(ln.Addr().String(), a.Node, Options{})
	go srv.Serve(nodetls.NewListener(counted, cfg)) //nolint:errcheck // closed by the test
	t.Cleanup(func() { srv.Close() })

	var pub [nodetls.KeySize]byte
	copy(pub[:], key.Public().(ed25519.PublicKey))
	tr := nodetls.NewTransport(nil)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	get := func() []byte {
		req, err := http.NewRequestWithContext(nodetls.WithPeerKey(context.Background(), pub), http.MethodGet,
			"https://"+ln.Addr().String()+sliverURL(id, p.Index, redstuff.Primary), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET sliver: HTTP %d, %v", resp.StatusCode, err)
		}
		return body
	}
	get() // the handshake's writes
	before := counted.writes.Load()
	if got := get(); !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes, not the sliver's %d", len(got), len(want))
	}
	writes := counted.writes.Load() - before
	if max := int64(len(want)/(256<<10) + 3); writes > max {
		t.Fatalf("a sliver of %d bytes left in %d writes, want at most %d (a TLS record is 16 KiB)", len(want), writes, max)
	}
}
