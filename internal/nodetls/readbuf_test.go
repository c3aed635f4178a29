package nodetls

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// askingConn records the sizes of the reads asked of a connection.
type askingConn struct {
	net.Conn
	mu    sync.Mutex
	asked []int
}

func (c *askingConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	c.asked = append(c.asked, len(p))
	c.mu.Unlock()
	return c.Conn.Read(p)
}

func (c *askingConn) sizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.asked...)
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestReadBufferedConnReadsLarge reads a stream through a readBufferedConn in reads of
// TLS's size and of other sizes: the bytes are the stream's, every read of the socket
// asks for connReadSize bytes or more, and a drained connection holds no buffer.
func TestReadBufferedConnReadsLarge(t *testing.T) {
	raw, server := tcpPair(t)
	data := make([]byte, 3<<20+12345)
	rand.Read(data)
	go func() {
		server.Write(data) //nolint:errcheck // the reader checks what arrives
		server.Close()
	}()
	asking := &askingConn{Conn: raw}
	c := &readBufferedConn{Conn: asking}
	var got []byte
	sizes := []int{16 << 10, 1, 5, 17 << 10, 0, connReadSize, connReadSize + 1, 100}
	for i := 0; ; i++ {
		p := make([]byte, sizes[i%len(sizes)])
		n, err := c.Read(p)
		got = append(got, p[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 0 && n != 0 {
			t.Fatalf("a read of 0 bytes returned %d", n)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, not the %d sent", len(got), len(data))
	}
	if c.buf != nil {
		t.Fatal("the drained connection still holds a read buffer")
	}
	if len(asking.sizes()) == 0 {
		t.Fatal("the socket was never read")
	}
}

// scriptedConn is a socket holding avail bytes: a read returns as many as it can and
// records what it was asked for; with none left it returns io.EOF (where a socket would
// wait).
type scriptedConn struct {
	net.Conn
	avail int
	asked []int
}

func (c *scriptedConn) Read(p []byte) (int, error) {
	c.asked = append(c.asked, len(p))
	if c.avail == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.avail)
	c.avail -= n
	return n, nil
}

// TestReadBufferedConnWaitsWithoutBuffer: a read that filled what it asked for makes the
// next one read connReadSize bytes into a buffer; once a read comes back short (the
// socket drained, as at the end of an answer), the next read of the socket asks for the
// caller's length only, so that a connection waiting for its next answer holds no
// buffer.
func TestReadBufferedConnWaitsWithoutBuffer(t *testing.T) {
	const rec = 16 << 10
	s := &scriptedConn{avail: 100 << 10}
	c := &readBufferedConn{Conn: s}
	p := make([]byte, rec)
	read := func() int {
		n, err := c.Read(p)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return n
	}
	got := read() + read()
	if want := []int{rec, connReadSize}; !slices.Equal(s.asked, want) {
		t.Fatalf("the socket was asked for %v, want %v", s.asked, want)
	}
	for c.buf != nil {
		got += read()
	}
	if got != 100<<10 || len(s.asked) != 2 {
		t.Fatalf("read %d bytes in %d socket reads, want %d in 2", got, len(s.asked), 100<<10)
	}
	if _, err := c.Read(p); err != io.EOF {
		t.Fatalf("read of the drained socket: %v, want io.EOF", err)
	}
	if last := s.asked[len(s.asked)-1]; last != rec {
		t.Fatalf("the drained connection asked the socket for %d bytes, want the caller's %d", last, rec)
	}

	// A buffer's worth waiting, exactly: the read after a full buffer takes one again.
	s = &scriptedConn{avail: rec + connReadSize}
	c = &readBufferedConn{Conn: s}
	got = read() + read()
	for c.buf != nil {
		got += read()
	}
	if _, err := c.Read(p); err != io.EOF {
		t.Fatalf("read of the drained socket: %v, want io.EOF", err)
	}
	if want := []int{rec, connReadSize, connReadSize}; got != rec+connReadSize || !slices.Equal(s.asked, want) {
		t.Fatalf("read %d bytes, the socket asked for %v, want %d and %v", got, s.asked, rec+connReadSize, want)
	}
}

// TestReadBufferedConnKeepsDeadline: a read deadline set on the connection still ends a
// read that waits for the socket.
func TestReadBufferedConnKeepsDeadline(t *testing.T) {
	raw, _ := tcpPair(t)
	c := &readBufferedConn{Conn: raw}
	if err := c.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	_, err := c.Read(make([]byte, 100))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
}

// TestTransportReadsLarge sends an answer of 96 KiB over a pinned TLS connection of a
// Transport and reads it only once all of it has been written to the socket (it fits in
// loopback's socket buffers, so the server's write does not wait for the reader): the body
// arrives whole, and with the bytes waiting the socket is read connReadSize bytes at a
// time, not a TLS record at a time.
func TestTransportReadsLarge(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	cfg, err := ServerConfig(key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 96<<10)
	rand.Read(body)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	written := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(body)                         //nolint:errcheck // the client checks what arrives
		http.NewResponseController(w).Flush() //nolint:errcheck // as for Write
		close(written)
	}), ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(tls.NewListener(ln, cfg)) //nolint:errcheck // closed by the test
	t.Cleanup(func() { srv.Close() })

	var mu sync.Mutex
	var conns []*askingConn
	base := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		a := &askingConn{Conn: c}
		mu.Lock()
		conns = append(conns, a)
		mu.Unlock()
		return a, nil
	}}
	tr := NewTransport(base)
	defer tr.CloseIdleConnections()
	var want [KeySize]byte
	copy(want[:], key.Public().(ed25519.PublicKey))
	req, err := http.NewRequestWithContext(WithPeerKey(context.Background(), want), http.MethodGet, "https://"+ln.Addr().String()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: tr, Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-written:
	case <-time.After(time.Minute):
		t.Fatal("the server's write of the answer did not return while the client did not read")
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read %d bytes (%v), want the %d sent", len(got), err, len(body))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(conns) != 1 {
		t.Fatalf("%d connections dialled, want 1", len(conns))
	}
	if !slices.Contains(conns[0].sizes(), connReadSize) {
		t.Fatalf("the socket was asked for %v bytes, never %d", conns[0].sizes(), connReadSize)
	}
}
