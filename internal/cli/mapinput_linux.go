package cli

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapInput maps a regular file of size bytes read-only into memory, with its pages
// populated up front (they are the page cache's own: no copy and no fresh memory to fault
// in, which a read into a new buffer costs). The returned function unmaps it. Like every
// mapping of a file, it assumes that nobody truncates the file while it is mapped.
func mapInput(f *os.File, size int64) ([]byte, func(), error) {
	b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, nil, err
	}
	return b, func() { _ = unix.Munmap(b) }, nil
}
