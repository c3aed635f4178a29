//go:build linux

package store

import (
	"errors"

	"github.com/cockroachdb/pebble/v2/vfs"
	"golang.org/x/sys/unix"
)

// setDirect turns on direct I/O (O_DIRECT) for an open file and reports whether it did. It
// fails on files without a descriptor (in-memory filesystems) and on file systems that do
// not support direct I/O (the kernel refuses the flag with EINVAL, as tmpfs did before
// Linux 6.6).
func setDirect(f vfs.File) bool {
	fd := f.Fd()
	if fd == vfs.InvalidFd {
		return false
	}
	flags, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
	if err != nil {
		return false
	}
	_, err = unix.FcntlInt(fd, unix.F_SETFL, flags|unix.O_DIRECT)
	return err == nil
}

// clearDirect turns direct I/O off again, for a file system that accepted the flag but
// refuses the I/O.
func clearDirect(f vfs.File) error {
	fd := f.Fd()
	flags, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	_, err = unix.FcntlInt(fd, unix.F_SETFL, flags&^unix.O_DIRECT)
	return err
}

// refusedDirect reports an error with which a file system refuses a direct I/O it
// accepted the flag for.
func refusedDirect(err error) bool { return errors.Is(err, unix.EINVAL) }
