//go:build linux

package store

import (
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// residentPages returns how many of a file's pages are in the page cache, and how many
// pages it has.
func residentPages(t *testing.T, path string) (resident, pages int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(m))), uintptr(len(m)), uintptr(unsafe.Pointer(unsafe.SliceData(vec))))
	if errno != 0 {
		t.Fatal(errno)
	}
	for _, v := range vec {
		resident += int(v & 1)
	}
	return resident, len(vec)
}

// TestDirectBypassesPageCache writes and reads back slivers and checks, with mincore,
// that a store with direct I/O leaves none of its segment's pages in the page cache, and
// that one without leaves them there (so that the check can tell the two apart).
func TestDirectBypassesPageCache(t *testing.T) {
	diskModes(t, func(t *testing.T, direct bool) {
		fs := newFS(t)
		s := openMem(t, fs)
		defer s.Close()
		b := s.NewBatch()
		for i := range 8 {
			b.PutSliver(uint16(i), redstuff.Primary, blobID(1), fill(300<<10+i, byte(i), blobID(1)))
		}
		commit(t, b)
		for i := range 8 {
			if _, err := s.Sliver(uint16(i), redstuff.Primary, blobID(1)); err != nil {
				t.Fatal(err)
			}
		}
		for name := range segmentFiles(t, fs) {
			resident, pages := residentPages(t, fs.PathJoin("db", segmentDir, name))
			t.Logf("segment %s: %d of %d pages in the page cache", name, resident, pages)
			if direct && resident != 0 || !direct && resident == 0 {
				t.Fatalf("segment %s with direct I/O %v: %d of %d pages in the page cache", name, direct, resident, pages)
			}
		}
	})
}
