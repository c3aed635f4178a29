package nodetls

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// writeRecorder records the sizes of the writes to the connections it accepts.
type writeRecorder struct {
	net.Listener
	mu     sync.Mutex
	writes []int
}

func (l *writeRecorder) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: c, l: l}, nil
}

func (l *writeRecorder) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.writes)
}

type recordingConn struct {
	net.Conn
	l *writeRecorder
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.l.mu.Lock()
	c.l.writes = append(c.l.writes, len(p))
	c.l.mu.Unlock()
	return c.Conn.Write(p)
}

type connCtxKey struct{}

// corkServer serves body over a NewListener listener, the answer written corked (as the
// node API writes slivers) if cork is set. It returns the server's address, key and
// write recorder.
func corkServer(t *testing.T, body []byte, cork bool) (string, [KeySize]byte, *writeRecorder) {
	t.Helper()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	cfg, err := ServerConfig(key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &writeRecorder{Listener: ln}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if cork {
				uncork := Cork(r.Context().Value(connCtxKey{}).(net.Conn), len(body))
				defer func() {
					if err := uncork(); err != nil {
						t.Errorf("uncork: %v", err)
					}
					uncork() //nolint:errcheck // a second call does nothing
				}()
			}
			w.Write(body) //nolint:errcheck // the client checks what arrives
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("flush: %v", err)
			}
		}),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connCtxKey{}, c) },
		ErrorLog:    log.New(io.Discard, "", 0),
	}
	go srv.Serve(NewListener(rec, cfg)) //nolint:errcheck // closed by the test
	t.Cleanup(func() { srv.Close() })
	var want [KeySize]byte
	copy(want[:], key.Public().(ed25519.PublicKey))
	return ln.Addr().String(), want, rec
}

// get fetches the answer of the server at addr twice over one connection.
func get(t *testing.T, addr string, key [KeySize]byte, body []byte) {
	t.Helper()
	tr := NewTransport(nil)
	defer tr.CloseIdleConnections()
	for range 2 {
		req, err := http.NewRequestWithContext(WithPeerKey(context.Background(), key), http.MethodGet, "https://"+addr+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := (&http.Client{Transport: tr, Timeout: time.Minute}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("read %d bytes (%v), want the %d sent", len(got), err, len(body))
		}
	}
}

// TestCorkGathersWrites: an answer of 4 MiB written corked leaves in writes of about
// corkSize, not one per TLS record, arrives whole (nothing stays held once the handler
// uncorks), and the connection serves the next request as before.
func TestCorkGathersWrites(t *testing.T) {
	body := make([]byte, 4<<20+777)
	rand.Read(body)

	addr, key, rec := corkServer(t, body, false)
	get(t, addr, key, body)
	plain := rec.count()

	addr, key, rec = corkServer(t, body, true)
	get(t, addr, key, body)
	corked := rec.count()
	// Two answers of 17 corkSize-sized writes each at most, and the handshake's few.
	if max := 2*(len(body)/corkSize+2) + 8; corked > max {
		t.Fatalf("%d writes for two corked answers, want at most %d (uncorked: %d)", corked, max, plain)
	}
	if plain < 2*len(body)/(16<<10) {
		t.Fatalf("%d writes for two answers uncorked: the test does not see TLS's per-record writes", plain)
	}
}

// TestCorkOtherConn: Cork of a connection that NewListener did not make does nothing.
func TestCorkOtherConn(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	uncork := Cork(a, 1<<20)
	if err := uncork(); err != nil {
		t.Fatal(err)
	}
}

// TestCorkSmallAnswer: an answer shorter than corkSize is written as it comes, without
// a buffer: writes of a small answer are not gathered.
func TestCorkSmallAnswer(t *testing.T) {
	body := make([]byte, corkSize-1)
	rand.Read(body)
	addr, key, rec := corkServer(t, body, true)
	get(t, addr, key, body)
	// Each answer is 16 TLS records, a write each, beside the handshake's.
	if min := 2 * (len(body) / (16 << 10)); rec.count() < min {
		t.Fatalf("%d writes for two answers of %d bytes: corked, want at least %d", rec.count(), len(body), min)
	}
}
