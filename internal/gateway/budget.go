package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// budget is a token bucket of "byte-epochs" (bytes stored times epochs): it holds at most
// capacity, refilled at capacity per window, kept as the time at which it will be full
// again (the generic cell rate algorithm), so that a key at rest costs no memory. One
// bucket is global; the others are per client, at most maxClients of them. It is safe for
// concurrent use.
type budget struct {
	window     time.Duration
	global     float64 // capacity of the global bucket
	perClient  float64 // capacity of each client's bucket
	maxClients int

	mu      sync.Mutex
	full    time.Time            // when the global bucket is full again
	clients map[string]time.Time // when each client's bucket is full again
}

func newBudget(window time.Duration, global, perClient int64, maxClients int) *budget {
	return &budget{window: window, global: float64(global), perClient: float64(perClient), maxClients: maxClients,
		clients: make(map[string]time.Time)}
}

// take spends cost from the global bucket and from client's, both or neither; it
// reports false when either holds less than cost.
func (b *budget) take(client string, cost int64, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	g, ok := b.after(b.full, b.global, cost, now)
	if !ok {
		return false
	}
	prev, known := b.clients[client]
	c, ok := b.after(prev, b.perClient, cost, now)
	if !ok {
		return false
	}
	if !known && len(b.clients) >= b.maxClients {
		for k, t := range b.clients {
			if !t.After(now) {
				delete(b.clients, k)
			}
		}
		if len(b.clients) >= b.maxClients {
			return false
		}
	}
	b.full, b.clients[client] = g, c
	return true
}

// refund gives cost back to both buckets (a store that spent nothing).
func (b *budget) refund(client string, cost int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.full = b.full.Add(-b.interval(b.global, cost))
	if t, ok := b.clients[client]; ok {
		b.clients[client] = t.Add(-b.interval(b.perClient, cost))
	}
}

// after returns when a bucket of capacity that is full at full will be full again once
// cost is spent, and whether it holds cost now.
func (b *budget) after(full time.Time, capacity float64, cost int64, now time.Time) (time.Time, bool) {
	if full.Before(now) {
		full = now
	}
	next := full.Add(b.interval(capacity, cost))
	return next, next.Sub(now) <= b.window
}

// interval is the time the bucket takes to refill cost.
func (b *budget) interval(capacity float64, cost int64) time.Duration {
	if capacity <= 0 {
		return b.window + 1
	}
	d := float64(b.window) * (float64(cost) / capacity)
	if d > float64(2*b.window) {
		return 2 * b.window
	}
	return time.Duration(d)
}

// clientKey identifies the client of a request for its budget: its IP address, or the
// /64 prefix of an IPv6 address (one host commonly holds a whole /64). Forwarded headers
// are not trusted: behind a proxy, every client shares the proxy's budget.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
