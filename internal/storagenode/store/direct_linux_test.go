//go:build linux

package store

import (
	"bytes"
	"os"
	"testing"
	"unsafe"

	"github.com/cockroachdb/pebble/v2/vfs"
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
	var st unix.Statfs_t
	if err := unix.Statfs(t.TempDir(), &st); err != nil {
		t.Fatal(err)
	}
	if st.Type == unix.TMPFS_MAGIC {
		t.Skip("the temporary directory is on tmpfs, whose files live in the page cache")
	}
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

// refusingFS is the operating system's filesystem with files that take O_DIRECT but refuse
// direct writes with EINVAL, as some file systems do.
type refusingFS struct{ vfs.FS }

func (fs refusingFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	return refusingFile{f}, err
}

type refusingFile struct{ vfs.File }

func (f refusingFile) Write(p []byte) (int, error) {
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		return 0, err
	}
	if flags&unix.O_DIRECT != 0 {
		return 0, &os.PathError{Op: "write", Path: "segment", Err: unix.EINVAL}
	}
	return f.File.Write(p)
}

// TestDirectRefused stores on a file system that accepts O_DIRECT but refuses direct
// writes: the store falls back to the page cache for that segment and the next ones, and
// every sliver reads back, before and after reopening.
func TestDirectRefused(t *testing.T) {
	if !directSupported(t) {
		t.Skip("no direct I/O for the temporary directory")
	}
	t.Chdir(t.TempDir())
	fs := refusingFS{vfs.Default}
	s, err := Open("db", Options{FS: fs, SegmentBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	if !s.segs.direct.Load() {
		t.Fatal("the probe found no direct I/O")
	}
	put := func(from, to int) {
		b := s.NewBatch()
		for i := from; i < to; i++ {
			b.PutSliver(1, redstuff.Primary, blobID(i), fill(200<<10+i, byte(i), blobID(i)))
		}
		commit(t, b)
	}
	check := func(to int) {
		t.Helper()
		for i := range to {
			if got, err := s.Sliver(1, redstuff.Primary, blobID(i)); err != nil || !bytes.Equal(got, fill(200<<10+i, byte(i), blobID(i))) {
				t.Fatalf("sliver %d: %v", i, err)
			}
		}
	}
	put(0, 4)
	if s.segs.direct.Load() {
		t.Fatal("the store still opens segments for direct I/O after a refused write")
	}
	put(4, 12) // past a rotation: the new segment is buffered from the start
	check(12)
	s.Close()
	if s, err = Open("db", Options{FS: fs, SegmentBytes: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	check(12)
}
