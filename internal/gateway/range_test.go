package gateway

import "testing"

func TestSingleRange(t *testing.T) {
	cases := []struct {
		h      string
		size   int64
		off, n int64
		ok     bool
	}{
		{"bytes=0-9", 100, 0, 10, true},
		{"bytes=10-", 100, 10, 90, true},
		{"bytes=-5", 100, 95, 5, true},
		{"bytes=-500", 100, 0, 100, true},
		{"bytes=90-200", 100, 90, 10, true},
		{"bytes=99-99", 100, 99, 1, true},
		{"bytes=100-", 100, 0, 0, false}, // unsatisfiable: ServeContent answers 416
		{"bytes=5-4", 100, 0, 0, false},
		{"bytes=-0", 100, 0, 0, false},
		{"bytes=0-1,5-6", 100, 0, 0, false},
		{"bytes=a-b", 100, 0, 0, false},
		{"items=0-1", 100, 0, 0, false},
		{"bytes=0-0", 0, 0, 0, false},
		{"bytes=-1-2", 100, 0, 0, false},
	}
	for _, c := range cases {
		off, n, ok := singleRange(c.h, c.size)
		if off != c.off || n != c.n || ok != c.ok {
			t.Errorf("singleRange(%q, %d) = %d, %d, %v; want %d, %d, %v", c.h, c.size, off, n, ok, c.off, c.n, c.ok)
		}
	}
}

// FuzzSingleRange: whatever the header, an accepted range lies inside the blob.
func FuzzSingleRange(f *testing.F) {
	for _, h := range []string{"bytes=0-9", "bytes=-5", "bytes=7-", "bytes=9223372036854775807-", "bytes=-9223372036854775808"} {
		f.Add(h, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		off, n, ok := singleRange(h, size)
		if ok && (off < 0 || n <= 0 || off >= size || n > size-off) {
			t.Fatalf("singleRange(%q, %d) = %d, %d: outside the blob", h, size, off, n)
		}
	})
}
