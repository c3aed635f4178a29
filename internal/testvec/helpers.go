package testvec

import (
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
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

// FreeAddr returns a loopback host:port that was free a moment ago. It is taken below the
// kernel's ephemeral port range (listenPorts), so that an outgoing connection, which takes
// its local port from that range, cannot occupy it before the test's server binds it.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	return "127.0.0.1:" + strconv.Itoa(FreePortBlock(tb, 1))
}

// FreePortBlock returns a port p such that p .. p+span-1 and p+100 .. p+100+span-1 on
// loopback were all free a moment ago: the layout of `walrus devnet --node-port p` (node
// APIs from p, their metrics from p+100). The ports lie below the kernel's ephemeral
// range, like FreeAddr's, and are never handed out twice by one process.
func FreePortBlock(tb testing.TB, span int) int {
	tb.Helper()
	lo, hi := listenPorts()
	for try := 0; try < 200; try++ {
		base := lo + rand.IntN(hi-lo-100-span)
		if !claimPorts(base, span) {
			continue
		}
		if portsFree(base, span) && portsFree(base+100, span) {
			return base
		}
	}
	tb.Fatal("no free port block")
	return 0
}

var (
	claimedMu sync.Mutex
	claimed   = map[int]bool{}
)

// claimPorts records base .. base+span-1 and base+100 .. base+100+span-1 as handed out by
// this process, unless one of them was already.
func claimPorts(base, span int) bool {
	claimedMu.Lock()
	defer claimedMu.Unlock()
	for p := base; p < base+span; p++ {
		if claimed[p] || claimed[p+100] {
			return false
		}
	}
	for p := base; p < base+span; p++ {
		claimed[p], claimed[p+100] = true, true
	}
	return true
}

// listenPorts returns the range [lo, hi) that test servers take their ports from: the
// 20,000 ports below the kernel's ephemeral range (Linux: ip_local_port_range, 32768 by
// default), at least from 1024.
func listenPorts() (lo, hi int) {
	hi = 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil && v > 2048 {
				hi = v
			}
		}
	}
	return max(1024, hi-20000), hi
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
