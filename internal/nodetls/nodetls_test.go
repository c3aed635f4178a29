package nodetls_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/nodetls"
)

// testKey returns a deterministic network key.
func testKey(t *testing.T, b byte) ed25519.PrivateKey {
	t.Helper()
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

// server is a TLS server with a certificate over key; hits counts the requests it
// received.
type server struct {
	addr string
	hits atomic.Int64
	srv  *http.Server
}

func startServer(t *testing.T, key ed25519.PrivateKey, h http.Handler) *server {
	t.Helper()
	cfg, err := nodetls.ServerConfig(key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{addr: ln.Addr().String()}
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)        //nolint:errcheck // test server
			io.WriteString(w, "secret sliver") //nolint:errcheck // test server
		})
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h.ServeHTTP(w, r)
	}), ErrorLog: log.New(io.Discard, "", 0)}
	go s.srv.Serve(tls.NewListener(ln, cfg)) //nolint:errcheck // closed by the test
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// put sends a body to url through tr, expecting the node with network key want.
func put(tr http.RoundTripper, u string, want [nodetls.KeySize]byte) (string, error) {
	req, err := http.NewRequestWithContext(nodetls.WithPeerKey(context.Background(), want), http.MethodPut, u, strings.NewReader("sliver data"))
	if err != nil {
		return "", err
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestPinnedNodeAnswers(t *testing.T) {
	key := testKey(t, 1)
	s := startServer(t, key, nil)
	tr := nodetls.NewTransport(nil)
	defer tr.CloseIdleConnections()
	got, err := put(tr, "https://"+s.addr+"/v1/x", nodetls.PublicKey(key))
	if err != nil || got != "secret sliver" {
		t.Fatalf("pinned request: %q, %v", got, err)
	}
}

// TestManInTheMiddleRefused is the attack: a server at the node's address with a key of
// its own. The client refuses the connection with ErrKeyMismatch before it sends a
// request, so the attacker sees neither the request nor its body.
func TestManInTheMiddleRefused(t *testing.T) {
	node, attacker := testKey(t, 1), testKey(t, 2)
	mitm := startServer(t, attacker, nil)
	tr := nodetls.NewTransport(nil)
	defer tr.CloseIdleConnections()
	_, err := put(tr, "https://"+mitm.addr+"/v1/x", nodetls.PublicKey(node))
	if !errors.Is(err, nodetls.ErrKeyMismatch) {
		t.Fatalf("request to a man in the middle: %v, want ErrKeyMismatch", err)
	}
	if n := mitm.hits.Load(); n != 0 {
		t.Fatalf("the man in the middle received %d requests", n)
	}
}

// TestTerminatingProxyRefused is the attack of a proxy that terminates TLS with its own
// certificate and forwards to the real node: refused, the node never sees the request.
func TestTerminatingProxyRefused(t *testing.T) {
	nodeKey, proxyKey := testKey(t, 1), testKey(t, 3)
	node := startServer(t, nodeKey, nil)
	backend := &url.URL{Scheme: "https", Host: node.addr}
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(backend) },
		Transport: &http.Transport{TLSClientConfig: nodetls.ClientConfig(nodetls.PublicKey(nodeKey))},
	}
	proxy := startServer(t, proxyKey, rp)
	tr := nodetls.NewTransport(nil)
	defer tr.CloseIdleConnections()
	_, err := put(tr, "https://"+proxy.addr+"/v1/x", nodetls.PublicKey(nodeKey))
	if !errors.Is(err, nodetls.ErrKeyMismatch) {
		t.Fatalf("request through a terminating proxy: %v, want ErrKeyMismatch", err)
	}
	if proxy.hits.Load() != 0 || node.hits.Load() != 0 {
		t.Fatalf("requests reached the proxy (%d) or the node (%d)", proxy.hits.Load(), node.hits.Load())
	}
}

// TestPoolIsPerKey: a connection made to an address for one key is not reused for a
// request that expects another key at the same address (two pools registered with one
// address must not share an authenticated connection).
func TestPoolIsPerKey(t *testing.T) {
	key, other := testKey(t, 1), testKey(t, 4)
	s := startServer(t, key, nil)
	tr := nodetls.NewTransport(nil)
	defer tr.CloseIdleConnections()
	if _, err := put(tr, "https://"+s.addr+"/a", nodetls.PublicKey(key)); err != nil {
		t.Fatal(err)
	}
	if _, err := put(tr, "https://"+s.addr+"/b", nodetls.PublicKey(other)); !errors.Is(err, nodetls.ErrKeyMismatch) {
		t.Fatalf("request for another key over a pooled connection: %v, want ErrKeyMismatch", err)
	}
	if n := s.hits.Load(); n != 1 {
		t.Fatalf("server saw %d requests, want 1", n)
	}
}

// TestNoPeerKey: an https request that names no key is refused, not sent unauthenticated.
func TestNoPeerKey(t *testing.T) {
	s := startServer(t, testKey(t, 1), nil)
	req, _ := http.NewRequest(http.MethodGet, "https://"+s.addr+"/", nil)
	if _, err := nodetls.NewTransport(nil).RoundTrip(req); !errors.Is(err, nodetls.ErrNoPeerKey) {
		t.Fatalf("request without a key: %v, want ErrNoPeerKey", err)
	}
	if s.hits.Load() != 0 {
		t.Fatal("the request reached the server")
	}
}

// TestPlainHTTPClientRefused: a plain-HTTP client cannot talk to a TLS node.
func TestPlainHTTPClientRefused(t *testing.T) {
	s := startServer(t, testKey(t, 1), nil)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get("http://" + s.addr + "/v1/x")
	if err == nil {
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("a plain HTTP request was served")
		}
	}
	if s.hits.Load() != 0 {
		t.Fatal("the plain request reached the handler")
	}
}

// TestCheckPeer covers the checks a caller with its own transport makes.
func TestCheckPeer(t *testing.T) {
	key := testKey(t, 1)
	cert, err := nodetls.Certificate(key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
		t.Fatalf("certificate is not self-signed: %v", err)
	}
	cs := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}}
	if err := nodetls.CheckPeer(cs, nodetls.PublicKey(key)); err != nil {
		t.Fatal(err)
	}
	if err := nodetls.CheckPeer(cs, nodetls.PublicKey(testKey(t, 2))); !errors.Is(err, nodetls.ErrKeyMismatch) {
		t.Fatalf("other key: %v", err)
	}
	if err := nodetls.CheckPeer(&tls.ConnectionState{}, nodetls.PublicKey(key)); !errors.Is(err, nodetls.ErrKeyMismatch) {
		t.Fatalf("no certificate: %v", err)
	}
	if err := nodetls.CheckPeer(nil, nodetls.PublicKey(key)); !errors.Is(err, nodetls.ErrNotTLS) {
		t.Fatalf("no TLS: %v", err)
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "network.key")
	key := testKey(t, 5)
	if err := nodetls.SaveKey(path, key); err != nil {
		t.Fatal(err)
	}
	got, err := nodetls.LoadKey(path)
	if err != nil || !got.Equal(key) {
		t.Fatalf("loaded %v, %v", got, err)
	}
	if err := nodetls.SaveKey(path, testKey(t, 6)); err == nil {
		t.Fatal("SaveKey overwrote a key file")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := nodetls.LoadKey(path); err == nil || !strings.Contains(err.Error(), "mode") {
		t.Fatalf("world-readable key file: %v", err)
	}
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := nodetls.LoadKey(bad); err == nil {
		t.Fatal("a file without a PEM key was loaded")
	}
}
