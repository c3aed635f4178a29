package nodetls

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// peerKey is the context key of the network key a request expects.
type peerKey struct{}

// WithPeerKey returns ctx saying that requests made under it go to the node with network
// key k.
func WithPeerKey(ctx context.Context, k [KeySize]byte) context.Context {
	return context.WithValue(ctx, peerKey{}, k)
}

// PeerKey returns the network key set by WithPeerKey.
func PeerKey(ctx context.Context) ([KeySize]byte, bool) {
	k, ok := ctx.Value(peerKey{}).([KeySize]byte)
	return k, ok
}

// Transport is the http.RoundTripper of every client of storage nodes. An https request is
// sent over a connection to a node whose certificate is over the key the request's context
// carries (WithPeerKey); without one it fails with ErrNoPeerKey, and a node with another
// key fails it with ErrKeyMismatch. Connections are pooled per key. Plain http requests
// (test servers) go through a plain transport. A Transport is safe for concurrent use.
type Transport struct {
	base *http.Transport

	mu    sync.Mutex
	byKey map[[KeySize]byte]*http.Transport
}

// NewTransport returns a Transport whose per-key transports are clones of base with the
// pinned TLS configuration (and HTTP/1.1). A nil base means keep-alive connections with a
// 10 s dial timeout, up to 64 idle per node. The connections read the socket up to
// 256 KiB at a time, not one TLS record at a time (see connReadSize); base's DialContext,
// if any, makes them.
func NewTransport(base *http.Transport) *Transport {
	if base == nil {
		base = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		}
	}
	base = base.Clone()
	base.ForceAttemptHTTP2 = false
	base.TLSClientConfig = nil
	base.DialContext = readBuffered(base.DialContext)
	return &Transport{base: base, byKey: map[[KeySize]byte]*http.Transport{}}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "https" {
		return t.base.RoundTrip(r)
	}
	k, ok := PeerKey(r.Context())
	if !ok {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, ErrNoPeerKey
	}
	return t.forKey(k).RoundTrip(r)
}

func (t *Transport) forKey(k [KeySize]byte) *http.Transport {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr, ok := t.byKey[k]
	if !ok {
		tr = t.base.Clone()
		tr.TLSClientConfig = ClientConfig(k)
		t.byKey[k] = tr
	}
	return tr
}

// CloseIdleConnections closes the idle connections of every pool.
func (t *Transport) CloseIdleConnections() {
	t.base.CloseIdleConnections()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tr := range t.byKey {
		tr.CloseIdleConnections()
	}
}
