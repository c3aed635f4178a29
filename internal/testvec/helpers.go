package testvec

import (
	"log/slog"
	"net"
	"os"
	"strconv"
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

// FreePortBlock returns a port p such that p .. p+span-1 and p+100 .. p+100+span-1 on
// loopback were all free a moment ago: the layout of `walrus devnet --node-port p` (node
// APIs from p, their metrics from p+100).
func FreePortBlock(tb testing.TB, span int) int {
	tb.Helper()
	for try := 0; try < 50; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		base := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if base+100+span > 65000 {
			continue
		}
		if portsFree(base, span) && portsFree(base+100, span) {
			return base
		}
	}
	tb.Fatal("no free port block")
	return 0
}

func portsFree(from, span int) bool {
	for p := from; p < from+span; p++ {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
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
