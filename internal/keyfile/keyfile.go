// Package keyfile writes secret key files the one way walrus-go writes them: a new file
// (an existing one is never overwritten), readable by its owner only (0600) in a directory
// created 0700 if needed, synced to disk, and removed again if anything fails, so a failed
// write leaves no half-written key behind.
package keyfile

import (
	"errors"
	"os"
	"path/filepath"
)

// WriteNew writes data to a new file at path. It fails if the file exists; the error
// then matches fs.ErrExist. The caller owns data and may clear it afterwards.
func WriteNew(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.Join(err, os.Remove(path))
	}
	return nil
}
