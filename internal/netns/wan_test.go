package netns

import (
	"context"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func testMatrix(t testing.TB, text string) *Matrix {
	t.Helper()
	m, err := ParseMatrix(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSchedulerDelay: with no jitter, each packet is delivered exactly half the link's
// round trip after it is sent, per pair of regions, and not a nanosecond before.
func TestSchedulerDelay(t *testing.T) {
	m := testMatrix(t, "regions a b\na a 10ms\nb b 20ms\na b 100ms\n")
	s := NewScheduler(m, []int{0, 0, 1}, 1, 0)
	t0 := time.Unix(1000, 0)
	for _, c := range []struct {
		src, dst int
		want     time.Duration
	}{{0, 1, 5 * time.Millisecond}, {0, 2, 50 * time.Millisecond}, {2, 0, 50 * time.Millisecond}, {1, 0, 5 * time.Millisecond}} {
		due, ok := s.Push(t0, c.src, c.dst, []byte{byte(c.src), byte(c.dst)})
		if !ok || due.Sub(t0) != c.want {
			t.Errorf("%d->%d: due %v, %v; want %v", c.src, c.dst, due.Sub(t0), ok, c.want)
		}
	}
	if _, _, ok := s.Pop(t0.Add(5*time.Millisecond - 1)); ok {
		t.Fatal("a packet came out before its delay")
	}
	// The two 5 ms packets, in the order pushed, then nothing until 50 ms.
	for _, want := range [][]byte{{0, 1}, {1, 0}} {
		dst, pkt, ok := s.Pop(t0.Add(5 * time.Millisecond))
		if !ok || string(pkt) != string(want) || dst != int(want[1]) {
			t.Fatalf("pop: %v %v %v, want %v", dst, pkt, ok, want)
		}
	}
	if next, ok := s.Next(); !ok || next.Sub(t0) != 50*time.Millisecond {
		t.Fatalf("next %v %v", next.Sub(t0), ok)
	}
	if _, _, ok := s.Pop(t0.Add(49 * time.Millisecond)); ok {
		t.Fatal("a 50 ms packet came out at 49 ms")
	}
	n := 0
	for {
		if _, _, ok := s.Pop(t0.Add(time.Second)); !ok {
			break
		}
		n++
	}
	if p, b := s.Len(); n != 2 || p != 0 || b != 0 || s.Delivered != 4 || s.DeliveredBytes != 8 {
		t.Fatalf("popped %d, left %d packets %d bytes, delivered %d (%d bytes)", n, p, b, s.Delivered, s.DeliveredBytes)
	}
}

// TestSchedulerJitterFIFO: with jitter, delays spread within the bounds either way, yet no
// packet overtakes an earlier one of its pair, while other pairs are independent.
func TestSchedulerJitterFIFO(t *testing.T) {
	m := testMatrix(t, "regions a b\na a 10ms\nb b 10ms\na b 100ms 40ms\n")
	s := NewScheduler(m, []int{0, 1, 1}, 7, 0)
	t0 := time.Unix(0, 0)
	// Packets far apart: the delays spread over RTT/2 ± jitter.
	spread := NewScheduler(m, []int{0, 1}, 7, 0)
	var minD, maxD time.Duration = time.Hour, 0
	for i := range 1000 {
		now := t0.Add(time.Duration(i) * time.Second)
		due, _ := spread.Push(now, 0, 1, []byte{1})
		d := due.Sub(now)
		minD, maxD = min(minD, d), max(maxD, d)
	}
	if minD < 10*time.Millisecond || maxD > 90*time.Millisecond || minD > 15*time.Millisecond || maxD < 85*time.Millisecond {
		t.Errorf("delays from %v to %v: want 10 to 90 ms, spread over the range", minD, maxD)
	}
	// Packets close together: none overtakes an earlier one of its pair.
	const n = 2000
	for i := range n {
		now := t0.Add(time.Duration(i) * 100 * time.Microsecond)
		for _, dst := range []int{1, 2} {
			due, ok := s.Push(now, 0, dst, []byte{byte(dst), byte(i), byte(i >> 8)})
			if !ok {
				t.Fatal("dropped on a lossless link")
			}
			if d := due.Sub(now); d < 10*time.Millisecond {
				t.Fatalf("delay %v below RTT/2 - jitter", d)
			}
		}
	}
	next := map[int]int{1: 0, 2: 0}
	var last time.Time
	for now := t0; ; now = now.Add(time.Millisecond) {
		if p, _ := s.Len(); p == 0 {
			break
		}
		for {
			dst, pkt, ok := s.Pop(now)
			if !ok {
				break
			}
			if seq := int(pkt[1]) | int(pkt[2])<<8; seq != next[dst] || int(pkt[0]) != dst {
				t.Fatalf("to %d: packet %d came out, want %d", dst, seq, next[dst])
			}
			next[dst]++
		}
		last = now
	}
	if next[1] != n || next[2] != n {
		t.Fatalf("delivered %v, want %d each", next, n)
	}
	if last.Sub(t0) > time.Second {
		t.Fatalf("the last packet came out at %v", last.Sub(t0))
	}
}

// TestSchedulerLossAndLimit: the loss rate drops about its share, and a full queue drops
// what does not fit.
func TestSchedulerLossAndLimit(t *testing.T) {
	m := testMatrix(t, "regions a\na a 10ms 0 20\n")
	s := NewScheduler(m, []int{0, 0}, 3, 1<<30)
	t0 := time.Unix(0, 0)
	const n = 10000
	for range n {
		s.Push(t0, 0, 1, []byte{1})
	}
	if s.Lost < n*15/100 || s.Lost > n*25/100 {
		t.Errorf("lost %d of %d at 20%%", s.Lost, n)
	}
	if p, _ := s.Len(); uint64(p)+s.Lost != n {
		t.Errorf("%d in flight + %d lost != %d", p, s.Lost, n)
	}
	full := NewScheduler(testMatrix(t, "regions a\na a 10ms\n"), []int{0, 0}, 3, 100)
	if _, ok := full.Push(t0, 0, 1, make([]byte, 60)); !ok {
		t.Fatal("first packet dropped")
	}
	if _, ok := full.Push(t0, 0, 1, make([]byte, 60)); ok || full.Overflow != 1 {
		t.Fatalf("a packet past the limit was kept (overflow %d)", full.Overflow)
	}
	full.Pop(t0.Add(time.Second))
	if _, ok := full.Push(t0, 0, 1, make([]byte, 60)); !ok {
		t.Fatal("dropped after the queue emptied")
	}
}

// tunNetwork makes two hosts in regions a and b of m with the TUN emulator, or skips.
func tunNetwork(t testing.TB, m *Matrix) *Network {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := Probe(ctx); err != nil {
		t.Skipf("this machine cannot make network namespaces: %v", err)
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skipf("no TUN device: %v", err)
	}
	t.Setenv("WALRUS_NETNS_EMULATOR", EmulatorTUN)
	n, err := Create(ctx, NewPrefix(2), m, []HostSpec{{"x", "a"}, {"y", "b"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if n.Emulator != EmulatorTUN || !n.Delay {
		t.Fatalf("emulator %q, delay %v", n.Emulator, n.Delay)
	}
	return n
}

// TestTUNPingPong: a TCP ping-pong between two namespaces through the userspace router
// takes at least the configured round trip, every time. (No upper bound: the machine may
// be loaded.)
func TestTUNPingPong(t *testing.T) {
	const rtt = 40 * time.Millisecond
	n := tunNetwork(t, testMatrix(t, "regions a b\na a 2ms\nb b 2ms\na b 40ms\n"))
	x, y := n.Host("x"), n.Host("y")
	l, err := x.Listen("tcp", x.IP+":7100")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c) //nolint:errcheck // echo until closed
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := y.DialContext(ctx, "tcp", x.IP+":7100")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute)) //nolint:errcheck // a net.Conn
	b := make([]byte, 1)
	var minRTT time.Duration = time.Hour
	for i := range 10 {
		start := time.Now()
		if _, err := c.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, b); err != nil || b[0] != byte(i) {
			t.Fatalf("echo %d: %v %v", i, b, err)
		}
		minRTT = min(minRTT, time.Since(start))
	}
	t.Logf("minimum round trip %v over a %v link; router %+v", minRTT, rtt, n.Stats())
	if minRTT < rtt {
		t.Fatalf("round trip %v shorter than the link's %v", minRTT, rtt)
	}
	// A packet to an address no host has is dropped by the router (the dial's deadline
	// only ends the attempt; the router's count is the check).
	before := n.Stats().Unroutable
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort()
	if c, err := y.DialContext(short, "tcp", "10.77.9.9:1"); err == nil {
		c.Close()
		t.Fatal("dialed an address no host has")
	}
	if after := n.Stats().Unroutable; after <= before {
		t.Fatalf("unroutable packets %d, then %d: the SYN to nowhere was not counted", before, after)
	}
}

// BenchmarkTUNRouter measures the userspace router's throughput: one TCP stream between
// two namespaces with no delay, so that only the router (and the machine) bounds it.
func BenchmarkTUNRouter(b *testing.B) {
	n := tunNetwork(b, testMatrix(b, "regions a b\na a 0s\nb b 0s\na b 0s\n"))
	x, y := n.Host("x"), n.Host("y")
	l, err := x.Listen("tcp", x.IP+":7200")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- 0
			return
		}
		defer c.Close()
		k, _ := io.Copy(io.Discard, c)
		got <- k
	}()
	c, err := y.DialContext(context.Background(), "tcp", x.IP+":7200")
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.(*net.TCPConn).CloseWrite() //nolint:errcheck // ends the stream
	if k := <-got; k != int64(b.N)*int64(len(buf)) {
		b.Fatalf("received %d bytes of %d", k, int64(b.N)*int64(len(buf)))
	}
	c.Close()
	b.ReportMetric(float64(n.Stats().Delivered)/b.Elapsed().Seconds(), "packets/s")
}

// FuzzDestination: the router's reading of a packet's destination never panics, and finds
// a host only for an IPv4 packet addressed to it.
func FuzzDestination(f *testing.F) {
	f.Add([]byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 77, 0, 1, 10, 77, 1, 1})
	f.Add([]byte{0x60, 0, 0, 0})
	f.Add([]byte{})
	r := &router{addr: map[[4]byte]int{{10, 77, 1, 1}: 3}}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		dst, ok := r.destination(pkt)
		if ok && (dst != 3 || len(pkt) < 20 || pkt[0]>>4 != 4 || [4]byte(pkt[16:20]) != [4]byte{10, 77, 1, 1}) {
			t.Fatalf("packet %x routed to %d", pkt, dst)
		}
	})
}
