package netns

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// TUNMTU is the MTU of the hosts' TUN interfaces in the userspace emulator: large, so that
// a bulk TCP transfer moves about 64 KB per packet and the router's cost per packet does
// not bound the throughput.
const TUNMTU = 65000

// maxPacket bounds a packet read from a TUN device (an IPv4 packet is at most 64 KiB).
const maxPacket = 1 << 16

// inNamespace runs f on an OS thread moved into namespace ns, then moves the thread back.
// A thread that cannot be moved back is discarded (it stays locked and ends with its
// goroutine); threads are never discarded otherwise, as a child process started with a
// parent-death signal would die with the thread that started it. File descriptors made by
// f (sockets, TUN devices) stay bound to ns.
func inNamespace(ns string, f func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		home, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- fmt.Errorf("netns: own namespace: %w", err)
			return
		}
		defer unix.Close(home)
		fd, err := unix.Open("/var/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- fmt.Errorf("netns: open %s: %w", ns, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- fmt.Errorf("netns: setns %s: %w", ns, err)
			return
		}
		err = f()
		if unix.Setns(home, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		} // else the thread stays locked, and ends with this goroutine
		ch <- err
	}()
	return <-ch
}

// openTUN makes a TUN interface named ifname (IPv4 packets, no packet information header)
// in namespace ns and returns its file, in non-blocking mode so that Close interrupts a
// Read. The interface exists while the file is open.
func openTUN(ns, ifname string) (*os.File, error) {
	var file *os.File
	err := inNamespace(ns, func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err != nil {
			return fmt.Errorf("netns: open /dev/net/tun: %w", err)
		}
		ifr, err := unix.NewIfreq(ifname)
		if err == nil {
			ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
			err = unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
		}
		if err != nil {
			unix.Close(fd)
			return fmt.Errorf("netns: TUNSETIFF %s in %s: %w", ifname, ns, err)
		}
		file = os.NewFile(uintptr(fd), "tun:"+ns)
		return nil
	})
	return file, err
}

// RouterStats counts what the userspace emulator's router did.
type RouterStats struct {
	// Delivered packets and bytes; Lost to the links' loss rates; Overflow dropped on a
	// full queue; Unroutable packets were not IPv4 to a known host.
	Delivered, DeliveredBytes, Lost, Overflow, Unroutable uint64
}

// router is the userspace WAN emulator's driver: one goroutine per host reads the packets
// its TUN device sends, a Scheduler decides when each is delivered, and one goroutine
// writes them, when due, to the destination host's TUN device.
type router struct {
	tuns []*os.File
	addr map[[4]byte]int // host IPv4 address → index

	mu         sync.Mutex
	sched      *Scheduler
	unroutable uint64

	wake chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// newRouter starts routing between tuns, host i having address addrs[i].
func newRouter(sched *Scheduler, tuns []*os.File, addrs [][4]byte) *router {
	r := &router{tuns: tuns, addr: map[[4]byte]int{}, sched: sched,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	for i, a := range addrs {
		r.addr[a] = i
	}
	r.wg.Add(len(tuns) + 1)
	for i := range tuns {
		go r.read(i)
	}
	go r.deliver()
	return r
}

// smallPacket: a packet shorter than this is copied out of its read buffer.
const smallPacket = 4096

// packets recycles packet buffers: a packet is read into one, held by the Scheduler and
// returned once written, so that moving a packet costs no allocation and no copy.
var packets = sync.Pool{New: func() any { b := make([]byte, maxPacket); return &b }}

// read forwards the packets host src sends until its device is closed.
func (r *router) read(src int) {
	defer r.wg.Done()
	for {
		bp := packets.Get().(*[]byte)
		buf := *bp
		n, err := r.tuns[src].Read(buf)
		if err != nil {
			packets.Put(bp)
			if errors.Is(err, os.ErrClosed) {
				return
			}
			select {
			case <-r.done:
				return
			default:
				continue // a transient error of one read
			}
		}
		dst, ok := r.destination(buf[:n])
		if !ok {
			packets.Put(bp)
			r.mu.Lock()
			r.unroutable++
			r.mu.Unlock()
			continue
		}
		pkt := buf[:n]
		if n < smallPacket { // an ACK, say: copied, so that it holds no large buffer in flight
			pkt = append([]byte(nil), pkt...)
			packets.Put(bp)
		}
		r.mu.Lock()
		_, kept := r.sched.Push(time.Now(), src, dst, pkt)
		r.mu.Unlock()
		if !kept && n >= smallPacket {
			packets.Put(bp)
			continue
		}
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// destination returns the host an IPv4 packet is addressed to.
func (r *router) destination(pkt []byte) (int, bool) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return 0, false
	}
	i, ok := r.addr[[4]byte(pkt[16:20])]
	return i, ok
}

// deliver writes due packets to their destinations until the router is closed.
func (r *router) deliver() {
	defer r.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	type out struct {
		dst int
		pkt []byte
	}
	var due []out
	for {
		r.mu.Lock()
		now := time.Now()
		for {
			dst, pkt, ok := r.sched.Pop(now)
			if !ok {
				break
			}
			due = append(due, out{dst, pkt})
		}
		next, pending := r.sched.Next()
		r.mu.Unlock()
		for i, o := range due {
			r.tuns[o.dst].Write(o.pkt) //nolint:errcheck // a packet the destination refuses is lost, as on a wire
			if cap(o.pkt) == maxPacket {
				b := o.pkt[:maxPacket]
				packets.Put(&b)
			}
			due[i] = out{}
		}
		due = due[:0]
		var wait <-chan time.Time
		if pending {
			timer.Reset(time.Until(next))
			wait = timer.C
		}
		select {
		case <-r.done:
			return
		case <-r.wake:
		case <-wait:
		}
	}
}

// Stats returns the router's counters.
func (r *router) Stats() RouterStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return RouterStats{Delivered: r.sched.Delivered, DeliveredBytes: r.sched.DeliveredBytes,
		Lost: r.sched.Lost, Overflow: r.sched.Overflow, Unroutable: r.unroutable}
}

// Close stops the router and closes the TUN devices, which removes their interfaces.
func (r *router) Close() {
	r.once.Do(func() {
		close(r.done)
		for _, f := range r.tuns {
			f.Close()
		}
		r.wg.Wait()
	})
}
