package client

import (
	"context"
	"net/http"
	"sync/atomic"
)

// counterKey is the context key of a request counter.
type counterKey struct{}

// withCounter returns ctx carrying n: every request to a storage node made under the
// returned context increments it.
func withCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, counterKey{}, n)
}

// countingTransport counts the requests made under a context that carries a counter.
type countingTransport struct{ base http.RoundTripper }

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if n, ok := r.Context().Value(counterKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	return t.base.RoundTrip(r)
}

// CloseIdleConnections forwards to the wrapped transport.
func (t countingTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
