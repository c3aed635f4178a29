package gateway

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	b := newBudget(time.Hour, 1000, 400, 2)
	steps := []struct {
		client string
		cost   int64
		at     time.Duration
		ok     bool
	}{
		{"a", 300, 0, true},
		{"a", 200, 0, false}, // a holds 100
		{"a", 100, 0, true},
		{"b", 400, 0, true},
		{"c", 1, 0, false},                 // two clients remembered, both not full again
		{"a", 200, 30 * time.Minute, true}, // half a window refills half of a's 400
		{"b", 300, 30 * time.Minute, false},
		{"c", 300, 45 * time.Minute, false}, // still two clients remembered, neither full again
		{"b", 1, 2 * time.Hour, true},
		{"c", 400, 2 * time.Hour, true},  // a is full again and forgotten
		{"d", 401, 3 * time.Hour, false}, // more than a client's whole bucket
	}
	for i, s := range steps {
		if got := b.take(s.client, s.cost, t0.Add(s.at)); got != s.ok {
			t.Fatalf("step %d: take(%s, %d) at %v = %v, want %v", i, s.client, s.cost, s.at, got, s.ok)
		}
	}
	// A refund gives the cost back.
	b2 := newBudget(time.Hour, 100, 100, 10)
	if !b2.take("x", 100, t0) || b2.take("x", 1, t0) {
		t.Fatal("bucket of 100")
	}
	b2.refund("x", 100)
	if !b2.take("x", 100, t0) {
		t.Fatal("the refund was not given back")
	}
}

func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.1:443":         "192.0.2.1",
		"[2001:db8::1]:80":      "2001:db8::/64",
		"[2001:db8::ffff]:80":   "2001:db8::/64",
		"[2001:db8:0:1::1]:80":  "2001:db8:0:1::/64",
		"[::ffff:192.0.2.1]:80": "192.0.2.1",
		"not an address":        "not an address",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		if got := clientKey(r); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", addr, got, want)
		}
	}
}
