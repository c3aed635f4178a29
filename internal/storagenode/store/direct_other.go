//go:build !linux

package store

import "github.com/cockroachdb/pebble/v2/vfs"

// setDirect reports that direct I/O is not used: elsewhere than on Linux segments are
// read and written through the page cache.
func setDirect(vfs.File) bool { return false }

func clearDirect(vfs.File) error { return nil }

func refusedDirect(error) bool { return false }
