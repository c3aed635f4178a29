package testvec

import (
	"log/slog"
	"net"
	"os"
	"testing"
	"time"
)

// Logger returns a logger for test components: discarded unless WALRUS_TEST_LOG is set
// (background goroutines may log after a test ends, so t.Log cannot be used).
func Logger() *slog.Logger {
	if os.Getenv("WALRUS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// FreeAddr returns a loopback host:port that was free a moment ago.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// WaitFor polls cond until it holds or timeout passes, failing the test then (or at once
// when cond returns an error). The polling interval is not synchronization: cond decides.
func WaitFor(tb testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			tb.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
}
