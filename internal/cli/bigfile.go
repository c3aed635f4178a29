package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"filippo.io/age"

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
		cw := &countingWriter{w: ce.stdout, total: f.Size(), progress: progress}
		if _, err := f.WriteTo(cw); err != nil {
			return explain(err, s)
		}
		hintIfEncrypted(ce, id, cw.head)
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".walrus-read-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", out, unwrapPathError(err))
	}
	cw := &countingWriter{w: tmp, total: f.Size(), progress: progress}
	_, err = f.WriteTo(cw)
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
	hintIfEncrypted(ce, id, cw.head)
	return nil
}

// countingWriter reports the bytes written to a progress callback, and keeps the first
// 64 KiB written (enough for an age header) in head.
type countingWriter struct {
	w        io.Writer
	n, total int64
	progress func(client.Progress)
	head     []byte
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if k := min(n, 64<<10-len(c.head)); k > 0 {
		c.head = append(c.head, p[:k]...)
	}
	c.n += int64(n)
	if c.progress != nil {
		c.progress(client.Progress{Phase: "reading", Done: c.n, Total: c.total})
	}
	return n, err
}

// streamedInput reports whether path is stored through client.StoreFile as it is read:
// standard input ("-"), whose size is unknown, and a regular file larger than one chunk (of
// a network whose maximum blob size is max) that is encrypted on the way.
func streamedInput(path string, max uint64, encrypted bool) bool {
	if path == "-" {
		return true
	}
	if !encrypted {
		return false // a large plain file goes through openChunked
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Size() > client.DefaultChunkSize(max)
}

// storeStreamed stores the file at path (standard input for "-") with client.StoreFile, as
// one blob if it fits in a chunk and as chunks plus a manifest otherwise. With recipients,
// the age stream is produced as the chunks are read, so neither the plaintext nor the
// ciphertext is held whole; the stored file (the chunks in order) is one age file.
func storeStreamed(ce *clientEnv, s *session, path string, recipients []age.Recipient, opts client.StoreOptions) (*client.StoreResult, error) {
	var src io.Reader = ce.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
		}
		defer f.Close()
		src = f
	}
	if recipients != nil {
		pr, pw := io.Pipe()
		go func(plain io.Reader) {
			w, err := age.Encrypt(pw, recipients...)
			if err == nil {
				_, err = io.Copy(w, plain)
				if err == nil {
					err = w.Close()
				}
			}
			pw.CloseWithError(err)
		}(src)
		defer pr.Close() // ends the encrypting goroutine if the store stops early
		src = pr
	}
	bar := ce.newProgressBar(path)
	opts.Progress = bar.callback()
	res, err := s.client.StoreFile(ce.ctx, src, opts)
	bar.finish()
	return res, err
}

// hintIfEncrypted prints on stderr how to decrypt a blob that was read as an age file
// (head is its beginning) without decrypting it.
func hintIfEncrypted(ce *clientEnv, id redstuff.BlobID, head []byte) {
	if isAgeFile(head) {
		fmt.Fprintf(ce.stderr, "hint: %s\n", encryptedHint(id.String(), head))
	}
}
