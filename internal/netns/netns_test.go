package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a helper run inside the namespaces: NETNS_HELPER=listen ADDR
// accepts one connection and echoes a byte; NETNS_HELPER=dial ADDR connects, exchanges a
// byte and prints the round trip.
func TestMain(m *testing.M) {
	switch os.Getenv("NETNS_HELPER") {
	case "listen":
		l, err := net.Listen("tcp", os.Getenv("NETNS_ADDR"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("listening")
		c, err := l.Accept()
		if err == nil {
			b := make([]byte, 1)
			c.Read(b)
			c.Write(b)
			c.Close()
		}
		os.Exit(0)
	case "dial":
		var c net.Conn
		var err error
		for range 100 {
			if c, err = net.DialTimeout("tcp", os.Getenv("NETNS_ADDR"), 5*time.Second); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond) // the listener may not be up yet
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		start := time.Now()
		c.Write([]byte{1})
		b := make([]byte, 1)
		if _, err := c.Read(b); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(time.Since(start).Microseconds())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestNetwork builds three hosts in two regions, exchanges a byte between regions, checks
// the round trip against the matrix when netem is available, and checks that Close and
// CleanStale leave no namespace behind.
func TestNetwork(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := Probe(ctx); err != nil {
		t.Skipf("this machine cannot make network namespaces: %v", err)
	}
	m, err := ParseMatrix(strings.NewReader("regions a b\na a 2ms\nb b 2ms\na b 60ms\n"))
	if err != nil {
		t.Fatal(err)
	}
	prefix := NewPrefix(1)
	n, err := Create(ctx, prefix, m, []HostSpec{{"x", "a"}, {"y", "a"}, {"z", "b"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.Host("z").IP != "10.77.1.1" || n.Host("y").IP != "10.77.0.2" {
		t.Fatalf("addresses %+v", n.Hosts)
	}
	t.Logf("delay applied: %v (%v)", n.Delay, n.DelayErr)

	addr := n.Host("x").IP + ":7000"
	listen := n.Command(ctx, n.Host("x"), os.Args[0], "-test.run=^$")
	listen.Env = append(os.Environ(), "NETNS_HELPER=listen", "NETNS_ADDR="+addr)
	if err := listen.Start(); err != nil {
		t.Fatal(err)
	}
	defer listen.Wait() //nolint:errcheck // it exits after one connection
	dial := n.Command(ctx, n.Host("z"), os.Args[0], "-test.run=^$")
	dial.Env = append(os.Environ(), "NETNS_HELPER=dial", "NETNS_ADDR="+addr)
	out, err := dial.Output()
	if err != nil {
		t.Fatalf("dial from z to x: %v", err)
	}
	var us int64
	fmt.Sscan(string(out), &us)
	rtt := time.Duration(us) * time.Microsecond
	t.Logf("round trip z->x %v", rtt)
	if n.Delay && rtt < 55*time.Millisecond {
		t.Errorf("round trip %v across a 60 ms link", rtt)
	}
	// DialContext reaches a host from this namespace.
	l2 := n.Command(ctx, n.Host("y"), os.Args[0], "-test.run=^$")
	l2.Env = append(os.Environ(), "NETNS_HELPER=listen", "NETNS_ADDR="+n.Host("y").IP+":7001")
	ready, _ := l2.StdoutPipe()
	if err := l2.Start(); err != nil {
		t.Fatal(err)
	}
	ready.Read(make([]byte, 9)) // "listening"
	c, err := n.Host("y").DialContext(ctx, "tcp", n.Host("y").IP+":7001")
	if err != nil {
		t.Fatalf("DialContext: %v", err)
	}
	c.Write([]byte{7})
	b := make([]byte, 1)
	if _, err := c.Read(b); err != nil || b[0] != 7 {
		t.Fatalf("echo through DialContext: %v %v", b, err)
	}
	c.Close()
	l2.Wait() //nolint:errcheck // exits after one connection

	// The root namespace's loopback is not reachable from a host: a listener there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	probe := n.Command(ctx, n.Host("y"), os.Args[0], "-test.run=^$")
	probe.Env = append(os.Environ(), "NETNS_HELPER=dial", "NETNS_ADDR="+l.Addr().String())
	if err := probe.Run(); err == nil {
		t.Error("a host reached the machine's own loopback")
	}

	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if list, _ := run(ctx, "ip", "netns", "list"); strings.Contains(list, prefix) {
		t.Fatalf("namespaces left after Close:\n%s", list)
	}

	// A namespace of a dead process is stale.
	dead := 1 << 22
	for syscall.Kill(dead, 0) == nil || !errors.Is(syscall.Kill(dead, 0), syscall.ESRCH) {
		dead--
	}
	stale := fmt.Sprintf("%s%d-0-x", PrefixBase, dead)
	if out, err := run(ctx, "ip", "netns", "add", stale); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	removed, err := CleanStale(ctx)
	if err != nil || !strings.Contains(strings.Join(removed, " "), stale) {
		t.Fatalf("CleanStale removed %v, %v; want %s", removed, err, stale)
	}
}
