package gateway

import (
	"bytes"
	"testing"
)

// A body of declared length n is read into a buffer of exactly n+1 bytes, after
// allocations that add up to less than 2(n+1) besides the first buffer, with its bytes intact.
func TestGrowBodyDeclaredLength(t *testing.T) {
	for _, n := range []int64{0, 1, maxPrealloc - 1, maxPrealloc, maxPrealloc + 1, 1 << 20, 64<<20 + 12345} {
		want := n + 1
		buf := make([]byte, 0, min(want, maxPrealloc))
		allocated := int64(cap(buf))
		for int64(len(buf)) < want {
			if len(buf) == cap(buf) {
				buf = growBody(buf, want)
				allocated += int64(cap(buf))
			}
			// Fill what arrived with a pattern the copies must keep.
			for i := len(buf); i < cap(buf) && int64(i) < want; i++ {
				buf = append(buf, byte(i*7))
			}
		}
		if int64(cap(buf)) != want {
			t.Errorf("n=%d: final capacity %d, want %d", n, cap(buf), want)
		}
		if first := min(want, maxPrealloc); allocated-first >= 2*want {
			t.Errorf("n=%d: allocated %d bytes after the first %d, want less than %d", n, allocated-first, first, 2*want)
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
