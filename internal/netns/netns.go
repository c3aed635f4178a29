// Package netns builds an emulated wide-area network on one Linux machine out of network
// namespaces, one per host, with the delay, jitter and loss of a latency matrix (Matrix)
// between the hosts' regions. Nothing the hosts send reaches the machine's own network.
// It has two emulators (Network.Emulator):
//
//   - EmulatorNetem, where the kernel has the netem queueing discipline: each host has one
//     interface (eth0) on a bridge that lives in a namespace of its own (the hub), and its
//     egress is delayed per destination region by netem;
//   - EmulatorTUN otherwise: each host's eth0 is a TUN device whose other end is a router
//     in this process (Scheduler and its driver), which delivers every packet to the
//     destination host's TUN device after the matrix's delay. It lives as long as the
//     Network: the process that made it must stay up while the hosts talk.
//
// It runs the ip and tc commands and needs CAP_NET_ADMIN (root); Probe says whether the
// machine allows it. Namespaces are named PREFIX-NAME, with a prefix holding the creating
// process's ID (NewPrefix), so that CleanStale removes those of processes that died
// without cleaning up (killed). A Network is not safe for concurrent use; Close is
// idempotent.
package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// PrefixBase starts the name of every namespace this package creates.
const PrefixBase = "wtb"

// ErrUnavailable is wrapped by Probe's error when the machine cannot make namespaces.
var ErrUnavailable = errors.New("netns: network namespaces unavailable")

// NewPrefix returns a prefix unique to this process: PrefixBase, the process ID and a
// run counter.
func NewPrefix(run int) string { return fmt.Sprintf("%s%d-%d", PrefixBase, os.Getpid(), run) }

// Probe checks that ip and tc exist and that a namespace can be created and deleted. It
// returns nil or an error wrapping ErrUnavailable that says what is missing.
func Probe(ctx context.Context) error {
	for _, bin := range []string{"ip", "tc"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%w: no %s command (install iproute2)", ErrUnavailable, bin)
		}
	}
	name := NewPrefix(0) + "-probe"
	if out, err := run(ctx, "ip", "netns", "add", name); err != nil {
		return fmt.Errorf("%w: ip netns add: %v: %s (needs CAP_NET_ADMIN)", ErrUnavailable, err, out)
	}
	run(ctx, "ip", "netns", "del", name) //nolint:errcheck // just created
	return nil
}

// HostSpec names a host and its region (a name of the Matrix).
type HostSpec struct {
	Name   string
	Region string
}

// Host is a host of a Network.
type Host struct {
	Name      string
	Region    int    // index into the Matrix's regions
	Namespace string // the namespace's name
	IP        string // its address on the emulated network
}

// Emulators of a Network.
const (
	EmulatorNetem = "netem" // veth links on a bridge, netem queueing disciplines
	EmulatorTUN   = "tun"   // TUN devices and a userspace router in this process
)

// Network is a set of host namespaces linked by an emulated wide-area network.
type Network struct {
	Prefix string
	Matrix *Matrix
	Hosts  []Host
	// Emulator is EmulatorNetem or EmulatorTUN; NetemErr says why netem was not used.
	Emulator string
	NetemErr error
	// Delay reports whether the matrix's delays are applied; when not, DelayErr says why,
	// and the hosts talk at bridge speed.
	Delay    bool
	DelayErr error

	hub    string
	log    *slog.Logger
	router *router
	closed bool
}

// Stats returns the userspace router's counters (zero with EmulatorNetem).
func (n *Network) Stats() RouterStats {
	if n.router == nil {
		return RouterStats{}
	}
	return n.router.Stats()
}

// Create builds the namespaces of hosts (with names unique among them; at most 254 per
// region) under prefix, with addresses 10.77.REGION.K/16 on their eth0, and a hub
// namespace PREFIX-hub. Where the kernel has netem, the hosts are on a bridge in the hub
// and m's links are applied by netem; else eth0 is a TUN device and a router in this
// process applies them (Emulator says which; WALRUS_NETNS_EMULATOR=tun forces the TUN
// router). On error it removes what it made.
func Create(ctx context.Context, prefix string, m *Matrix, hosts []HostSpec, log *slog.Logger) (n *Network, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n = &Network{Prefix: prefix, Matrix: m, hub: prefix + "-hub", log: log}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	if err := n.ip(ctx, "netns", "add", n.hub); err != nil {
		return nil, err
	}
	if err := n.ip(ctx, "-n", n.hub, "link", "add", "br0", "type", "bridge"); err != nil {
		return nil, err
	}
	if err := n.ip(ctx, "-n", n.hub, "link", "set", "br0", "up"); err != nil {
		return nil, err
	}
	n.Emulator = EmulatorNetem
	if n.NetemErr = n.probeNetem(ctx); n.NetemErr != nil {
		n.Emulator = EmulatorTUN
		log.Info("netns: no netem; the latency matrix is applied by a userspace router over TUN devices", "err", n.NetemErr)
	}
	perRegion := make([]int, len(m.Regions))
	seen := map[string]bool{}
	for i, h := range hosts {
		r := m.Region(h.Region)
		if r < 0 {
			return nil, fmt.Errorf("netns: host %s: unknown region %q", h.Name, h.Region)
		}
		if seen[h.Name] || h.Name == "hub" || h.Name == "" {
			return nil, fmt.Errorf("netns: host name %q empty, reserved or repeated", h.Name)
		}
		seen[h.Name] = true
		perRegion[r]++
		if perRegion[r] > 254 {
			return nil, fmt.Errorf("netns: more than 254 hosts in region %s", h.Region)
		}
		host := Host{Name: h.Name, Region: r, Namespace: prefix + "-" + h.Name, IP: fmt.Sprintf("10.77.%d.%d", r, perRegion[r])}
		n.Hosts = append(n.Hosts, host)
		if n.Emulator == EmulatorTUN {
			if err := n.ip(ctx, "netns", "add", host.Namespace); err != nil {
				return nil, err
			}
			continue
		}
		port := "h" + strconv.Itoa(i)
		for _, args := range [][]string{
			{"netns", "add", host.Namespace},
			{"-n", n.hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", host.Namespace},
			{"-n", n.hub, "link", "set", port, "master", "br0", "up"},
			{"-n", host.Namespace, "addr", "add", host.IP + "/16", "dev", "eth0"},
			{"-n", host.Namespace, "link", "set", "eth0", "up"},
			{"-n", host.Namespace, "link", "set", "lo", "up"},
		} {
			if err := n.ip(ctx, args...); err != nil {
				return nil, err
			}
		}
	}
	if n.Emulator == EmulatorTUN {
		if err := n.startRouter(ctx); err != nil {
			return nil, err
		}
	} else {
		n.DelayErr = n.applyDelays(ctx)
	}
	n.Delay = n.DelayErr == nil
	if !n.Delay {
		log.Warn("netns: latency matrix not applied; hosts talk at bridge speed", "err", n.DelayErr)
	}
	return n, nil
}

// probeNetem checks that the kernel has netem, on the hub's bridge, unless
// WALRUS_NETNS_EMULATOR=tun.
func (n *Network) probeNetem(ctx context.Context) error {
	if os.Getenv("WALRUS_NETNS_EMULATOR") == EmulatorTUN {
		return errors.New("netns: WALRUS_NETNS_EMULATOR=tun")
	}
	if out, err := run(ctx, "tc", "-n", n.hub, "qdisc", "add", "dev", "br0", "root", "netem", "delay", "1ms"); err != nil {
		return fmt.Errorf("netns: tc qdisc add netem: %v: %s", err, out)
	}
	run(ctx, "tc", "-n", n.hub, "qdisc", "del", "dev", "br0", "root") //nolint:errcheck // just added
	return nil
}

// startRouter gives every host a TUN device eth0 with its address and a large MTU, and
// starts the router between them.
func (n *Network) startRouter(ctx context.Context) error {
	var tuns []*os.File
	var addrs [][4]byte
	regions := make([]int, len(n.Hosts))
	for i, h := range n.Hosts {
		f, err := openTUN(h.Namespace, "eth0")
		if err != nil {
			for _, t := range tuns {
				t.Close()
			}
			return err
		}
		tuns = append(tuns, f)
		addrs = append(addrs, [4]byte(net.ParseIP(h.IP).To4()))
		regions[i] = h.Region
	}
	n.router = newRouter(NewScheduler(n.Matrix, regions, uint64(time.Now().UnixNano()), 0), tuns, addrs)
	for _, h := range n.Hosts {
		for _, args := range [][]string{
			{"-n", h.Namespace, "link", "set", "eth0", "mtu", strconv.Itoa(TUNMTU)},
			{"-n", h.Namespace, "addr", "add", h.IP + "/16", "dev", "eth0"},
			{"-n", h.Namespace, "link", "set", "eth0", "up"},
			{"-n", h.Namespace, "link", "set", "lo", "up"},
		} {
			if err := n.ip(ctx, args...); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyDelays shapes each host's egress: an htb class per destination region, each with a
// netem child of half the link's RTT, chosen by destination address.
func (n *Network) applyDelays(ctx context.Context) error {
	for _, h := range n.Hosts {
		tc := func(args ...string) error {
			out, err := run(ctx, "tc", append([]string{"-n", h.Namespace}, args...)...)
			if err != nil {
				return fmt.Errorf("netns: tc %s: %v: %s", strings.Join(args, " "), err, out)
			}
			return nil
		}
		if err := tc("qdisc", "add", "dev", "eth0", "root", "handle", "1:", "htb", "default", strconv.Itoa(h.Region+1)); err != nil {
			return err
		}
		for r := range n.Matrix.Regions {
			l := n.Matrix.Link(h.Region, r)
			class := "1:" + strconv.Itoa(r+1)
			netem := []string{"qdisc", "add", "dev", "eth0", "parent", class, "handle", strconv.Itoa(r+10) + ":", "netem",
				"delay", usec(l.RTT / 2)}
			if l.Jitter > 0 {
				netem = append(netem, usec(l.Jitter))
			}
			if l.LossPercent > 0 {
				netem = append(netem, "loss", strconv.FormatFloat(l.LossPercent, 'f', -1, 64)+"%")
			}
			netem = append(netem, "limit", "100000")
			for _, args := range [][]string{
				{"class", "add", "dev", "eth0", "parent", "1:", "classid", class, "htb", "rate", "10gbit"},
				netem,
				{"filter", "add", "dev", "eth0", "parent", "1:", "protocol", "ip", "prio", "1", "u32",
					"match", "ip", "dst", fmt.Sprintf("10.77.%d.0/24", r), "flowid", class},
			} {
				if err := tc(args...); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func usec(d time.Duration) string { return strconv.FormatInt(d.Microseconds(), 10) + "us" }

// Host returns the named host, or nil.
func (n *Network) Host(name string) *Host {
	for i := range n.Hosts {
		if n.Hosts[i].Name == name {
			return &n.Hosts[i]
		}
	}
	return nil
}

// Command returns a command that runs name with args in host's namespace.
func (n *Network) Command(ctx context.Context, host *Host, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", host.Namespace, name}, args...)...)
}

// Close kills every process left in the namespaces and deletes them. It is idempotent.
func (n *Network) Close() error {
	if n.closed {
		return nil
	}
	n.closed = true
	if n.router != nil {
		n.router.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	for _, h := range n.Hosts {
		errs = append(errs, remove(ctx, h.Namespace))
	}
	errs = append(errs, remove(ctx, n.hub))
	return errors.Join(errs...)
}

// remove kills the processes of namespace name and deletes it; a missing namespace is not
// an error.
func remove(ctx context.Context, name string) error {
	out, _ := run(ctx, "ip", "netns", "pids", name)
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			syscall.Kill(pid, syscall.SIGKILL) //nolint:errcheck // it may have exited
		}
	}
	if out, err := run(ctx, "ip", "netns", "del", name); err != nil && !strings.Contains(out, "No such file") {
		return fmt.Errorf("netns: ip netns del %s: %v: %s", name, err, out)
	}
	return nil
}

// CleanStale deletes the namespaces named by this package for processes that no longer
// exist (a run that was killed), with the processes left in them. It returns their names.
func CleanStale(ctx context.Context) ([]string, error) {
	out, err := run(ctx, "ip", "netns", "list")
	if err != nil {
		return nil, fmt.Errorf("netns: ip netns list: %v: %s", err, out)
	}
	var removed []string
	var errs []error
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], PrefixBase) {
			continue
		}
		pidText, _, ok := strings.Cut(strings.TrimPrefix(f[0], PrefixBase), "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 {
			continue
		}
		if pid == os.Getpid() || syscall.Kill(pid, 0) == nil {
			continue // its owner runs
		}
		if err := remove(ctx, f[0]); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, f[0])
	}
	return removed, errors.Join(errs...)
}

func (n *Network) ip(ctx context.Context, args ...string) error {
	out, err := run(ctx, "ip", args...)
	if err != nil {
		return fmt.Errorf("netns: ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

func run(ctx context.Context, name string, args ...string) (string, error) {
	var b bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	return strings.TrimSpace(b.String()), err
}

// DialContext connects from inside host h's namespace, as a process there would: the
// socket is made by an OS thread moved into the namespace and back. It lets a program in
// the machine's own namespace reach the hosts (for their metrics) without giving them a
// route out. A thread that cannot be moved back is discarded; threads are never discarded
// otherwise, as a child process started with a parent-death signal would die with the
// thread that started it.
func (h *Host) DialContext(ctx context.Context, network, addr string) (c net.Conn, err error) {
	err = inNamespace(h.Namespace, func() error {
		var d net.Dialer
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// Listen listens on addr inside host h's namespace, as a process there would.
func (h *Host) Listen(network, addr string) (l net.Listener, err error) {
	err = inNamespace(h.Namespace, func() error {
		l, err = net.Listen(network, addr)
		return err
	})
	return l, err
}
