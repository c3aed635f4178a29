package gateway

import (
	"bytes"
	"testing"
	"time"
)

// A body of declared length n is read into a buffer of exactly n bytes, with its bytes
// intact, after buffers that add up to less than n/3 besides the first (all that is
// copied), each step at most four times the one before: what a client that declares n
// bytes and sends fewer makes the publisher allocate is at most four times what it sent.
func TestGrowBodyDeclaredLength(t *testing.T) {
	for _, n := range []int64{1, 2, 5, maxPrealloc - 1, maxPrealloc, maxPrealloc + 1, 1 << 20, 64 << 20, 64<<20 + 12345, 100 << 20} {
		buf := make([]byte, 0, min(n, maxPrealloc))
		first := int64(cap(buf))
		copied := int64(0)
		for int64(len(buf)) < n {
			if len(buf) == cap(buf) {
				prev := int64(cap(buf))
				copied += int64(len(buf))
				buf = growBody(buf, n)
				if c := int64(cap(buf)); c > 4*prev || c <= prev {
					t.Fatalf("n=%d: grew from %d to %d bytes, want more and at most 4 times", n, prev, c)
				}
			}
			// Fill what arrived with a pattern the copies must keep.
			for i := len(buf); i < cap(buf) && int64(i) < n; i++ {
				buf = append(buf, byte(i*7))
			}
		}
		if int64(cap(buf)) != n {
			t.Errorf("n=%d: final capacity %d, want %d", n, cap(buf), n)
		}
		if copied-first >= n/3+64 {
			t.Errorf("n=%d: copied %d bytes besides the first buffer's %d, want less than n/3", n, copied-first, first)
		}
		for i, b := range buf {
			if b != byte(i*7) {
				t.Fatalf("n=%d: byte %d changed", n, i)
			}
		}
	}
}

// Past the declared length (a body without one, bounded by the limit instead) the
// buffer keeps doubling and keeps its contents.
func TestGrowBodyPastWant(t *testing.T) {
	buf := append(make([]byte, 0, 8), []byte("abcdefgh")...)
	got := growBody(buf, 4)
	if cap(got) != 16 || !bytes.Equal(got, buf) {
		t.Fatalf("growBody past want: cap %d, contents %q", cap(got), got)
	}
	if got := growBody(nil, 10); cap(got) != 1 {
		t.Fatalf("growBody(nil): cap %d, want 1", cap(got))
	}
}

// The spare body buffer goes to a body it fits and needs at least half of, stays for a
// later one otherwise (the larger of two given back stays), and is dropped once idle.
func TestSpareBody(t *testing.T) {
	var s spareBody
	if b := s.take(100); b != nil {
		t.Fatal("took a buffer from an empty spare")
	}
	s.put(make([]byte, 10, 1000))
	if b := s.take(100); b != nil {
		t.Fatalf("a 100-byte body took a %d-byte buffer", cap(b))
	}
	if b := s.take(0); b != nil {
		t.Fatal("a body of unknown length took the buffer")
	}
	b := s.take(600)
	if cap(b) != 1000 || len(b) != 0 {
		t.Fatalf("a 600-byte body got a buffer of len %d, cap %d; want the kept one, emptied", len(b), cap(b))
	}
	if s.take(600) != nil {
		t.Fatal("the buffer was handed out twice")
	}
	s.put(b)
	s.put(make([]byte, 0, 500))
	if got := s.take(900); cap(got) != 1000 {
		t.Fatalf("after giving back a smaller buffer, a 900-byte body got cap %d, want the larger one kept", cap(got))
	}
	s.put(b)
	s.mu.Lock()
	used := s.used
	s.mu.Unlock()
	s.trim(used.Add(spareBodyIdle - time.Second))
	if s.take(900) == nil {
		t.Fatal("the buffer was dropped before being idle")
	}
	s.put(b)
	s.mu.Lock()
	used = s.used
	s.mu.Unlock()
	s.trim(used.Add(spareBodyIdle))
	if s.take(900) != nil {
		t.Fatal("the buffer was kept after being idle")
	}
	// A body larger than the kept buffer drops it.
	s.put(b)
	if s.take(2000) != nil {
		t.Fatal("a 2000-byte body took a 1000-byte buffer")
	}
	if s.take(900) != nil {
		t.Fatal("the buffer was kept after a larger body")
	}
}
