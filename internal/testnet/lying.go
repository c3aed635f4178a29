package testnet

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// LyingNodes is a transport to the storage nodes that lies as a Byzantine node would: it
// flips a byte in the middle of the answers for one primary sliver row and, when told to,
// one byte in 61 of every recovery symbol answer (enough that no symbol of a multi-symbol
// answer survives intact). Other requests pass unchanged. Readers under test take it as
// their node transport (client.Config.Transport, gateway options) to show that they never
// deliver a byte they have not verified. It is safe for concurrent use.
type LyingNodes struct {
	base http.RoundTripper

	mu      sync.Mutex
	row     int // -1: none
	symbols bool
	hits    int // answers corrupted since the last Set
}

var primarySliverPath = regexp.MustCompile(`/slivers/([0-9]+)/primary$`)

// NewLyingNodes returns a transport over base that lies about nothing until Set.
func NewLyingNodes(base http.RoundTripper) *LyingNodes {
	return &LyingNodes{base: base, row: -1}
}

// Set makes the transport corrupt the answers for primary sliver row (-1: none) and, with
// symbols, every recovery symbol answer; it resets the count of Lies.
func (l *LyingNodes) Set(row int, symbols bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.row, l.symbols, l.hits = row, symbols, 0
}

// Lies returns how many answers were corrupted since the last Set.
func (l *LyingNodes) Lies() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hits
}

// RoundTrip implements http.RoundTripper.
func (l *LyingNodes) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusOK || r.Method != http.MethodGet {
		return resp, err
	}
	symbolAnswer := strings.Contains(r.URL.Path, "/recovery")
	l.mu.Lock()
	hit := l.symbols && symbolAnswer
	if m := primarySliverPath.FindStringSubmatch(r.URL.Path); m != nil && m[1] == strconv.Itoa(l.row) {
		hit = true
	}
	if hit {
		l.hits++
	}
	l.mu.Unlock()
	if !hit {
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if symbolAnswer {
		for i := 0; i < len(body); i += 61 {
			body[i] ^= 0x5a
		}
	} else if len(body) > 0 {
		body[len(body)/2] ^= 0x5a
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// CloseIdleConnections closes the idle connections of the base transport, if it has any.
func (l *LyingNodes) CloseIdleConnections() {
	if c, ok := l.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
