package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/walrus-go/walrus/internal/manifest"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// ChunkError is the error of a file read that failed on one of its chunks; it names the
// chunk and wraps ErrUnavailable only (the cause is in Err), so that a missing chunk is
// never mistaken for a missing file (ErrNotFound). Context errors are not wrapped in it.
type ChunkError struct {
	File   redstuff.BlobID // the manifest
	Index  int             // the chunk's position, from 0
	Count  int             // the file's chunks
	BlobID redstuff.BlobID // the chunk's blob
	Err    error           // the cause
}

func (e *ChunkError) Error() string {
	return fmt.Sprintf("%v: file %s: chunk %d of %d (blob %s): %v", ErrUnavailable, e.File, e.Index, e.Count, e.BlobID, e.Err)
}

// Unwrap returns ErrUnavailable.
func (e *ChunkError) Unwrap() error { return ErrUnavailable }

// DefaultStreamWindow is the bytes FileReader.WriteTo fetches at once (rounded to whole
// rows).
const DefaultStreamWindow = 16 << 20

// FileReader reads a blob, or the file a chunk manifest describes, in parts: it is what
// the gateway and `walrus read` stream from. For a plain blob it is its BlobReader. For a
// manifest it reads the chunks in order, holding one chunk's BlobReader (and so at most
// the rows of its last Prefetch) at a time; reads that start at offset 0 and go on
// sequentially feed a SHA-256, and the read that would deliver the last byte fails with
// ErrHashMismatch instead if the file does not hash to the manifest's hash, so that a
// sequential reader never receives a complete file that is wrong. Reads that do not
// start at 0 rely on each chunk's own verification against its blob ID.
//
// A FileReader is for one goroutine at a time (as a BlobReader); it implements
// io.ReaderAt, io.Reader, io.Seeker and io.WriterTo.
type FileReader struct {
	c    *Client
	ctx  context.Context
	id   redstuff.BlobID
	opts ReadOptions
	m    *manifest.Manifest // nil for a plain blob
	pos  int64

	br      *BlobReader // the open chunk (or the blob)
	cur     int         // index of the open chunk
	rowSize int64
	lastN   int64 // length of the last Prefetch, applied to a chunk opened by ReadAt

	sum    hash.Hash
	hashed int64 // bytes fed to sum; -1 once reads went out of order
	closed bool
}

// OpenFile opens a certified blob for reading. If the blob is a chunk manifest (and
// opts.Raw is not set) it checks that every chunk is certified and not expired, and
// opens the first one, before returning: a caller that must commit to success before
// sending anything (an HTTP status line) knows then that every chunk was available a
// moment ago. A blob that starts with the manifest magic but does not decode fails with
// ErrInvalidManifest. A chunk that fails (before or during reading) fails with a
// *ChunkError.
func (c *Client) OpenFile(ctx context.Context, id redstuff.BlobID, opts ReadOptions) (*FileReader, error) {
	br, err := c.OpenBlob(ctx, id, opts)
	if err != nil {
		return nil, err
	}
	f := &FileReader{c: c, ctx: ctx, id: id, opts: opts, br: br, rowSize: br.RowSize()}
	size := br.Size()
	if opts.Raw || size < int64(len(manifest.Magic)) || size > manifest.MaxSize {
		return f, nil
	}
	var prefix [len(manifest.Magic)]byte
	if _, err := br.ReadAt(prefix[:], 0); err != nil {
		br.Close()
		return nil, err
	}
	if !manifest.HasMagic(prefix[:]) {
		return f, nil
	}
	raw := make([]byte, size)
	if _, err := br.ReadAt(raw, 0); err != nil && !errors.Is(err, io.EOF) {
		br.Close()
		return nil, err
	}
	br.Close()
	f.br = nil
	if err := f.initManifest(raw); err != nil {
		return nil, err
	}
	return f, nil
}

// readFile reads the whole file of manifest blob id, whose bytes are raw.
func (c *Client) readFile(ctx context.Context, id redstuff.BlobID, raw []byte, opts ReadOptions) ([]byte, error) {
	f := &FileReader{c: c, ctx: ctx, id: id, opts: opts}
	if err := f.initManifest(raw); err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	buf.Grow(int(f.Size()))
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// initManifest decodes raw, checks the chunks and opens the first.
func (f *FileReader) initManifest(raw []byte) error {
	m, err := manifest.Decode(raw)
	if err != nil {
		return fmt.Errorf("%w: blob %s: %w", ErrInvalidManifest, f.id, err)
	}
	f.m, f.sum, f.cur = m, sha256.New(), -1
	if err := f.checkChunks(); err != nil {
		return err
	}
	if err := f.open(0); err != nil {
		return err
	}
	f.rowSize = f.br.RowSize()
	return nil
}

// checkChunks checks, a few at a time, that every chunk is certified and not expired.
func (f *FileReader) checkChunks() error {
	sys, err := f.c.chain.System(f.ctx)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	errs := make([]error, len(f.m.Chunks))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i, ch := range f.m.Chunks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := f.c.readEpochsAt(f.ctx, sys, redstuff.BlobID(ch.BlobID)); err != nil {
				errs[i] = f.chunkError(i, err)
			}
		}()
	}
	wg.Wait()
	if err := f.ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err // the first chunk that fails
		}
	}
	return nil
}

func (f *FileReader) chunkError(i int, err error) error {
	if ce := (*ChunkError)(nil); errors.As(err, &ce) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &ChunkError{File: f.id, Index: i, Count: len(f.m.Chunks), BlobID: redstuff.BlobID(f.m.Chunks[i].BlobID), Err: err}
}

// open makes chunk i the open chunk.
func (f *FileReader) open(i int) error {
	if f.cur == i && f.br != nil {
		return nil
	}
	if f.br != nil {
		f.br.Close()
		f.br = nil
	}
	opts := f.opts
	opts.Progress = nil
	br, err := f.c.OpenBlob(f.ctx, redstuff.BlobID(f.m.Chunks[i].BlobID), opts)
	if err != nil {
		return f.chunkError(i, err)
	}
	if want := int64(f.m.Chunks[i].Size); br.Size() != want {
		br.Close()
		return f.chunkError(i, fmt.Errorf("%w: the blob is %d bytes, the manifest says %d", ErrInvalidManifest, br.Size(), want))
	}
	f.br, f.cur = br, i
	return nil
}

// Manifest returns the manifest of a file stored as chunks, nil for a plain blob.
func (f *FileReader) Manifest() *manifest.Manifest { return f.m }

// Size returns the length of the file (or blob).
func (f *FileReader) Size() int64 {
	if f.m != nil {
		return int64(f.m.Size)
	}
	return f.br.Size()
}

// RowSize returns the row length of the blob (of the first chunk for a file); 0 when
// rows are not fetched separately (ConsistencyStrict).
func (f *FileReader) RowSize() int64 { return f.rowSize }

// Close releases what the reader holds. It is idempotent and returns nil.
func (f *FileReader) Close() error {
	f.closed = true
	if f.br != nil {
		f.br.Close()
	}
	return nil
}

// Prefetch fetches the rows holding [off, off+n) of the file, within the chunk holding
// off (the rest of the range is fetched when a read enters the next chunk), and drops
// what earlier calls held.
func (f *FileReader) Prefetch(off, n int64) error {
	if f.closed {
		return ErrReaderClosed
	}
	if f.m == nil {
		return f.br.Prefetch(off, n)
	}
	if off < 0 || n <= 0 || off >= f.Size() {
		return nil
	}
	f.lastN = n
	i := int(uint64(off) / f.m.ChunkSize)
	if err := f.open(i); err != nil {
		return err
	}
	base := int64(f.m.Offset(i))
	end := base + int64(f.m.Chunks[i].Size)
	if err := f.br.Prefetch(off-base, min(n, end-off)); err != nil {
		return f.chunkError(i, err)
	}
	return nil
}

// ReadAt implements io.ReaderAt.
func (f *FileReader) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, ErrReaderClosed
	}
	if f.m == nil {
		return f.br.ReadAt(p, off)
	}
	if off < 0 {
		return 0, fmt.Errorf("client: read at %d: negative offset", off)
	}
	size := f.Size()
	if off >= size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), size-off))
	for done := 0; done < n; {
		at := off + int64(done)
		i := int(uint64(at) / f.m.ChunkSize)
		if i != f.cur || f.br == nil {
			if err := f.open(i); err != nil {
				return 0, err
			}
			if f.lastN > 0 {
				if err := f.Prefetch(at, f.lastN); err != nil {
					return 0, err
				}
			}
		}
		base := int64(f.m.Offset(i))
		end := base + int64(f.m.Chunks[i].Size)
		want := int(min(int64(n-done), end-at))
		k, err := f.br.ReadAt(p[done:done+want], at-base)
		if k < want {
			if err == nil || errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w: chunk ended after %d of %d bytes", io.ErrUnexpectedEOF, k, want)
			}
			return 0, f.chunkError(i, err)
		}
		done += k
	}
	if err := f.hash(p[:n], off); err != nil {
		return 0, err
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// hash feeds bytes read in order from offset 0 to the file hash and checks it when they
// reach the end.
func (f *FileReader) hash(b []byte, off int64) error {
	if f.hashed < 0 {
		return nil
	}
	switch {
	case off > f.hashed:
		f.hashed = -1 // out of order: no whole-file check
		return nil
	case off < f.hashed:
		if off+int64(len(b)) <= f.hashed {
			return nil // read again
		}
		b = b[f.hashed-off:]
	}
	f.sum.Write(b)
	f.hashed += int64(len(b))
	if f.hashed == f.Size() {
		if got := f.sum.Sum(nil); !bytes.Equal(got, f.m.Hash[:]) {
			return fmt.Errorf("%w: file %s: its chunks hash to %x, the manifest says %x", ErrHashMismatch, f.id, got, f.m.Hash)
		}
	}
	return nil
}

// Read implements io.Reader.
func (f *FileReader) Read(p []byte) (int, error) {
	n, err := f.ReadAt(p, f.pos)
	f.pos += int64(n)
	return n, err
}

// Seek implements io.Seeker.
func (f *FileReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += f.Size()
	default:
		return f.pos, fmt.Errorf("client: seek: invalid whence %d", whence)
	}
	if offset < 0 {
		return f.pos, fmt.Errorf("client: seek to %d: negative position", offset)
	}
	f.pos = offset
	return offset, nil
}

// WriteTo implements io.WriterTo: it writes the rest of the file from the current
// position to w (WriteRange with a window of DefaultStreamWindow bytes), so that a copy
// holds one window, not the file. On an error nothing more is written; what was written
// stays written (a caller that must not leave partial output writes to a temporary
// file).
func (f *FileReader) WriteTo(w io.Writer) (int64, error) {
	if f.closed {
		return 0, ErrReaderClosed
	}
	n, err := f.WriteRange(w, f.pos, f.Size()-f.pos, DefaultStreamWindow)
	f.pos += n
	return n, err
}

// WriteRange writes bytes [off, off+n) of the file (clipped to its end) to w and returns
// the bytes written, holding at most window bytes of rows (rounded down to whole rows, at
// least one) at a time. For a plain blob it is BlobReader.WriteRange: rows are fetched
// ahead while earlier ones are written, each verified before its first byte goes out.
// A chunked file is read window by window through ReadAt, so that a range from offset 0
// to the end is checked against the manifest's hash before its last byte is written.
// The read position is not moved.
func (f *FileReader) WriteRange(w io.Writer, off, n, window int64) (int64, error) {
	if f.closed {
		return 0, ErrReaderClosed
	}
	if f.m == nil {
		return f.br.WriteRange(w, off, n, window)
	}
	size := f.Size()
	if off < 0 {
		return 0, fmt.Errorf("client: write range at %d: negative offset", off)
	}
	if n <= 0 || off >= size {
		return 0, nil
	}
	end := off + min(n, size-off)
	if row := f.RowSize(); row > 0 {
		window = max(row, window-window%row)
	}
	buf := make([]byte, min(max(window, 1), end-off))
	var written int64
	for at := off; at < end; {
		k := min(int64(len(buf)), end-at)
		if err := f.Prefetch(at, k); err != nil {
			return written, err
		}
		got, err := f.ReadAt(buf[:k], at)
		if err != nil && !(errors.Is(err, io.EOF) && int64(got) == k) {
			return written, err
		}
		at += int64(got)
		m, err := w.Write(buf[:got])
		written += int64(m)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}
