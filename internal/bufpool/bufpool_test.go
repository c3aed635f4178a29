package bufpool

import (
	"runtime"
	"testing"
)

func TestReuse(t *testing.T) {
	p := New(2)
	a := p.Get(100)
	if len(*a) != 0 || cap(*a) < 100 {
		t.Fatalf("Get(100): len %d cap %d", len(*a), cap(*a))
	}
	*a = append(*a, 1, 2, 3)
	p.Put(a)
	runtime.GC() // a sync.Pool would drop it here
	b := p.Get(50)
	if b != a || len(*b) != 0 {
		t.Fatalf("Get after Put: got a different buffer (or length %d), want the released one", len(*b))
	}
}

func TestTooSmallIsDropped(t *testing.T) {
	p := New(1)
	small := p.Get(10)
	p.Put(small)
	big := p.Get(1000)
	if big == small || cap(*big) < 1000 {
		t.Fatalf("Get(1000) returned the 10-byte buffer or cap %d", cap(*big))
	}
}

func TestBounded(t *testing.T) {
	p := New(2)
	bufs := []*[]byte{p.Get(1), p.Get(1), p.Get(1)}
	for _, b := range bufs {
		p.Put(b)
	}
	p.Put(nil) // ignored
	if got := len(p.free); got != 2 {
		t.Fatalf("pool holds %d buffers, want its capacity 2", got)
	}
}

func TestAllocs(t *testing.T) {
	p := New(4)
	p.Put(p.Get(1 << 20))
	allocs := testing.AllocsPerRun(100, func() {
		b := p.Get(1 << 20)
		p.Put(b)
	})
	if allocs != 0 {
		t.Fatalf("Get/Put of a released buffer allocates %.1f times, want 0", allocs)
	}
}
