package netns

import (
	"container/heap"
	"math/rand/v2"
	"time"
)

// DefaultQueueLimit bounds the memory a Scheduler holds in flight (the capacity of the
// packets' buffers); a packet that would pass it is dropped, as a full router queue drops
// (TCP backs off).
const DefaultQueueLimit = 128 << 20

// Scheduler is the pure core of the userspace WAN emulator: it decides when each packet
// between two hosts is delivered, from the latency matrix between their regions, the way
// netem does on a link: each direction is delayed by half the round trip, plus a uniform
// jitter of up to the link's jitter either way, and dropped with its loss rate. A packet
// never overtakes an earlier one of the same (source, destination) pair: its delivery is
// held until the previous one's. It takes the time from its caller and draws from its own
// seeded generator, so that it is deterministic. It is not safe for concurrent use.
type Scheduler struct {
	matrix  *Matrix
	regions []int       // region of each host
	last    []time.Time // last delivery time of each pair, src*len(regions)+dst
	rng     *rand.Rand
	queue   flights
	seq     uint64
	bytes   int
	limit   int

	// Counters since creation.
	Delivered, Lost, Overflow uint64
	DeliveredBytes            uint64
}

// NewScheduler returns a Scheduler for hosts whose regions (indexes into m.Regions) are
// regions, holding at most limit bytes in flight (DefaultQueueLimit if limit <= 0), its
// jitter and loss drawn from seed.
func NewScheduler(m *Matrix, regions []int, seed uint64, limit int) *Scheduler {
	if limit <= 0 {
		limit = DefaultQueueLimit
	}
	return &Scheduler{
		matrix:  m,
		regions: regions,
		last:    make([]time.Time, len(regions)*len(regions)),
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		limit:   limit,
	}
}

// Push schedules pkt from host src to host dst, sent at now. It returns the delivery time,
// or false when the packet is dropped (lost on the link, or the queue is full). The
// Scheduler keeps pkt until Pop returns it.
func (s *Scheduler) Push(now time.Time, src, dst int, pkt []byte) (time.Time, bool) {
	l := s.matrix.Link(s.regions[src], s.regions[dst])
	if l.LossPercent > 0 && s.rng.Float64()*100 < l.LossPercent {
		s.Lost++
		return time.Time{}, false
	}
	if s.bytes+cap(pkt) > s.limit {
		s.Overflow++
		return time.Time{}, false
	}
	delay := l.RTT / 2
	if l.Jitter > 0 {
		delay += time.Duration(s.rng.Int64N(int64(2*l.Jitter)+1)) - l.Jitter
	}
	due := now.Add(max(delay, 0))
	pair := src*len(s.regions) + dst
	if due.Before(s.last[pair]) {
		due = s.last[pair] // FIFO per pair
	}
	s.last[pair] = due
	s.seq++
	heap.Push(&s.queue, flight{due: due, seq: s.seq, dst: dst, pkt: pkt})
	s.bytes += cap(pkt)
	return due, true
}

// Pop returns the earliest packet due at or before now and its destination host; ok is
// false when none is due. Packets due at the same time come out in the order pushed.
func (s *Scheduler) Pop(now time.Time) (dst int, pkt []byte, ok bool) {
	if len(s.queue) == 0 || s.queue[0].due.After(now) {
		return 0, nil, false
	}
	f := heap.Pop(&s.queue).(flight)
	s.bytes -= cap(f.pkt)
	s.Delivered++
	s.DeliveredBytes += uint64(len(f.pkt))
	return f.dst, f.pkt, true
}

// Next returns when the earliest packet is due; ok is false when none is in flight.
func (s *Scheduler) Next() (due time.Time, ok bool) {
	if len(s.queue) == 0 {
		return time.Time{}, false
	}
	return s.queue[0].due, true
}

// Len returns the packets in flight and the capacity of their buffers.
func (s *Scheduler) Len() (packets, bytes int) { return len(s.queue), s.bytes }

type flight struct {
	due time.Time
	seq uint64
	dst int
	pkt []byte
}

// flights is a min-heap by (due, seq): as a pair's due times never decrease and seq grows,
// it keeps each pair's order.
type flights []flight

func (f flights) Len() int { return len(f) }
func (f flights) Less(i, j int) bool {
	if f[i].due.Equal(f[j].due) {
		return f[i].seq < f[j].seq
	}
	return f[i].due.Before(f[j].due)
}
func (f flights) Swap(i, j int) { f[i], f[j] = f[j], f[i] }
func (f *flights) Push(x any)   { *f = append(*f, x.(flight)) }
func (f *flights) Pop() any {
	old := *f
	x := old[len(old)-1]
	old[len(old)-1] = flight{}
	*f = old[:len(old)-1]
	return x
}
