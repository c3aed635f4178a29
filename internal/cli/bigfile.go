package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// openChunked opens path if it is a regular file larger than the default chunk size of
// a network whose maximum blob size is maxBlob: such a file is stored as chunks plus a
// manifest (client.StoreFile), read as it is uploaded, never whole. It returns nil for
// anything else (which is read whole, as before).
func openChunked(path string, maxBlob uint64) *os.File {
	if path == "-" {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() || st.Size() <= client.DefaultChunkSize(maxBlob) {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil // readInput reports it
	}
	return f
}

// storeChunked stores an open large file with client.StoreFile.
func storeChunked(ce *clientEnv, s *session, f *os.File, path string, opts client.StoreOptions) (*client.StoreResult, error) {
	defer f.Close()
	bar := ce.newProgressBar(path)
	opts.Progress = bar.callback()
	res, err := s.client.StoreFile(ce.ctx, f, opts)
	bar.finish()
	return res, err
}

// streamRead reads a blob, or the file a manifest describes, to out (atomically: a
// temporary file renamed into place) or to standard output, as its rows arrive: memory
// holds one window of rows, not the blob. A failure before the first byte writes
// nothing; a failure later leaves what was written on standard output (and no file),
// and the command fails.
func streamRead(ce *clientEnv, s *session, id redstuff.BlobID, out string, check redstuff.Consistency) error {
	f, err := s.client.OpenFile(ce.ctx, id, client.ReadOptions{Consistency: check})
	if err != nil {
		return explain(err, s)
	}
	defer f.Close()
	bar := ce.newProgressBar(id.String())
	defer bar.finish()
	progress := bar.callback()
	if out == "" {
		if _, err := f.WriteTo(&countingWriter{w: ce.stdout, total: f.Size(), progress: progress}); err != nil {
			return explain(err, s)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".walrus-read-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", out, unwrapPathError(err))
	}
	_, err = f.WriteTo(&countingWriter{w: tmp, total: f.Size(), progress: progress})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), out)
	}
	if err != nil {
		os.Remove(tmp.Name())
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("cannot write %s: %w", out, unwrapPathError(err))
		}
		return explain(err, s)
	}
	fmt.Fprintf(ce.stderr, "Blob %s (%s) written to %s\n", id, humanBytes(uint64(f.Size())), out)
	return nil
}

// countingWriter reports the bytes written to a progress callback.
type countingWriter struct {
	w        io.Writer
	n, total int64
	progress func(client.Progress)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if c.progress != nil {
		c.progress(client.Progress{Phase: "reading", Done: c.n, Total: c.total})
	}
	return n, err
}
