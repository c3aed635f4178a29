package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// read serves GET /v1/blobs/{blobId}.
func (h *Handler) read(w http.ResponseWriter, r *http.Request) int {
	raw := r.PathValue("blobId")
	id, err := redstuff.ParseBlobID(raw)
	if err != nil {
		return writeError(w, badRequest(ErrInvalidBlobID, fmt.Sprintf("invalid blob ID %q: want 43 URL-safe base64 characters", raw)))
	}
	check, err := readQuery(r.URL.Query())
	if err != nil {
		return writeError(w, err)
	}
	return h.serveBlob(w, r, id, nil, check)
}

// errBothChecks answers a read with both consistency flags (Walrus's
// InvalidConsistencyCheck).
var errBothChecks = fail(ErrInvalidConsistency, "cannot set both strict and skip consistency check options")

// consistency returns the check the two flags of a read select, as Walrus's
// consistency_check_type_from_flags: strict re-encodes the whole blob and compares its
// blob ID, skip checks nothing beyond each sliver's own proof, neither the default.
func consistency(strict, skip bool) (redstuff.Consistency, error) {
	switch {
	case strict && skip:
		return 0, errBothChecks
	case strict:
		return redstuff.ConsistencyStrict, nil
	case skip:
		return redstuff.ConsistencySkip, nil
	}
	return redstuff.ConsistencyDefault, nil
}

// readQuery parses the query of a blob read: strict_consistency_check and
// skip_consistency_check (true or false, each at most once). Other parameters are
// ignored (Walrus refuses them), so that cache-busting parameters keep working.
func readQuery(q url.Values) (redstuff.Consistency, error) {
	var flags [2]bool
	for i, name := range []string{"strict_consistency_check", "skip_consistency_check"} {
		if len(q[name]) > 1 {
			return 0, fail(ErrInvalidArgument, "query parameter %q given %d times", name, len(q[name]))
		}
		b, err := parseBool(q, name)
		if err != nil {
			return 0, err
		}
		flags[i] = b
	}
	return consistency(flags[0], flags[1])
}

// readByObject serves GET /v1/blobs/by-object-id/{objectId}.
func (h *Handler) readByObject(w http.ResponseWriter, r *http.Request) int {
	raw := r.PathValue("objectId")
	obj, err := chain.ParseObjectID(raw)
	if err != nil {
		return writeError(w, badRequest(ErrInvalidObjectID, fmt.Sprintf("invalid object ID %q: want 64 hex digits", raw)))
	}
	check, err := readQuery(r.URL.Query())
	if err != nil {
		return writeError(w, err)
	}
	if !acquire(h.reads) {
		return writeError(w, errTooMany)
	}
	b, err := h.cfg.Blobs.BlobObject(r.Context(), obj)
	<-h.reads
	if err != nil {
		return writeError(w, err)
	}
	if !b.Certified {
		return writeError(w, fmt.Errorf("%w: blob object %s is not certified", client.ErrNotFound, obj))
	}
	return h.serveBlob(w, r, b.BlobID, b.Attributes, check)
}

// serveBlob streams a blob, honouring HEAD, Range and If-None-Match. It opens the blob
// (its metadata only), reserves one window of the blob's rows in the read budget
// (Config.MaxReadBytes, waiting up to Config.MaxReadWait, else 429), and answers through
// a windowReader that fetches and verifies one window of rows at a time. HEAD fetches no
// row and reserves nothing. With ConsistencyStrict the blob is read whole (re-encoding
// needs all of it): its size is reserved before anything but its metadata is fetched,
// and a blob larger than Config.MaxReadBytes gets 403 BLOB_TOO_LARGE.
func (h *Handler) serveBlob(w http.ResponseWriter, r *http.Request, id redstuff.BlobID, attrs []chain.Attribute, check redstuff.Consistency) int {
	etag := `"` + id.String() + `"`
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == etag || inm == "*" || inm == id.String()) {
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	if !acquire(h.reads) {
		return writeError(w, errTooMany)
	}
	defer func() { <-h.reads }()
	h.metrics.inFlight.WithLabelValues("read").Inc()
	defer h.metrics.inFlight.WithLabelValues("read").Dec()

	if r.Method == http.MethodHead {
		check = redstuff.ConsistencyDefault // the metadata is all HEAD reads
	}
	var reserved int64
	if check == redstuff.ConsistencyStrict {
		n, err := h.reserveWhole(r.Context(), id)
		if err != nil {
			return h.readFailed(w, id, err)
		}
		reserved = n
		defer func() {
			h.readBytes.Release(n)
			h.metrics.readBytes.Sub(float64(n))
		}()
	}
	// The stream may fall back to reading the whole blob only if it fits in a window.
	s, err := h.cfg.Blobs.Open(r.Context(), id, client.ReadOptions{Consistency: check, MaxWholeRead: h.cfg.ReadWindow})
	if err != nil {
		return h.readFailed(w, id, err)
	}
	defer s.Close()
	size, row := s.Size(), s.RowSize()
	window := readWindow(size, row, h.cfg.ReadWindow)
	if reserved > 0 {
		window = min(window, reserved)
	} else if r.Method != http.MethodHead && window > 0 {
		if window > h.cfg.MaxReadBytes {
			return writeError(w, errRowTooLarge)
		}
		if err := h.reserve(r.Context(), window); err != nil {
			return writeError(w, err)
		}
		h.metrics.readBytes.Add(float64(window))
		defer func() {
			s.Close() // the rows go before their bytes are given back
			h.readBytes.Release(window)
			h.metrics.readBytes.Sub(float64(window))
		}()
	}
	h.setReadHeaders(w.Header(), r, etag, attrs)
	wr := &windowReader{s: s, size: size, row: row, window: window}
	if r.Method != http.MethodHead && size > 0 {
		// The window of the first byte served: a failure there still gets an error
		// status. A range ServeContent will refuse needs none.
		first, ok := int64(0), true
		if rg := r.Header.Get("Range"); rg != "" {
			first, _, ok = singleRange(rg, size)
		}
		if ok {
			if err := wr.prime(first); err != nil {
				return h.readFailed(w, id, err)
			}
		}
	}
	rw := &statusRecorder{ResponseWriter: w, code: http.StatusOK, size: size, rangeHeader: r.Header.Get("Range")}
	http.ServeContent(rw, r, "", time.Time{}, wr)
	h.metrics.bytesRead.Add(float64(rw.written))
	if wr.err != nil {
		if rw.written > 0 {
			// The status line is out: the only way left to tell the client is to cut
			// the body short.
			h.log.Warn("gateway: read failed while streaming", "blob", id, "err", wr.err)
			panic(http.ErrAbortHandler)
		}
		h.log.Warn("gateway: read failed", "blob", id, "err", wr.err)
	}
	return rw.code
}

// reserveWhole reserves the size of blob id in the read budget, for a read that holds it
// whole (ConsistencyStrict), and returns it; the caller releases it. It fetches only the
// blob's metadata. A blob larger than Config.MaxReadBytes fails with client.ErrTooLarge.
func (h *Handler) reserveWhole(ctx context.Context, id redstuff.BlobID) (int64, error) {
	s, err := h.cfg.Blobs.Open(ctx, id, client.ReadOptions{MaxWholeRead: h.cfg.ReadWindow})
	if err != nil {
		return 0, err
	}
	size := s.Size()
	s.Close()
	if size > h.cfg.MaxReadBytes {
		return 0, fail(client.ErrTooLarge, "the blob has %d bytes; strict_consistency_check reads it whole and this aggregator holds at most %d bytes: read it without", size, h.cfg.MaxReadBytes)
	}
	if err := h.reserve(ctx, size); err != nil {
		return 0, err
	}
	h.metrics.readBytes.Add(float64(size))
	return size, nil
}

// setReadHeaders sets the headers of a successful read. Content-Type follows Walrus:
// the request's Accept if it names no wildcard, else (GET only) the request's own
// Content-Type; then the allowed attributes of the blob object (attrs), which overwrite
// nothing already set; else application/octet-stream (Walrus sends none).
func (h *Handler) setReadHeaders(hd http.Header, r *http.Request, etag string, attrs []chain.Attribute) {
	hd.Set("ETag", etag)
	hd.Set("Cache-Control", "public, max-age=86400, stale-while-revalidate=3600")
	hd.Set("X-Content-Type-Options", "nosniff")
	if a := r.Header.Get("Accept"); a != "" && !strings.Contains(a, "*") && validHeaderValue(a) {
		hd.Set("Content-Type", a)
	} else if ct := r.Header.Get("Content-Type"); r.Method == http.MethodGet && ct != "" && validHeaderValue(ct) {
		hd.Set("Content-Type", ct)
	}
	for _, a := range attrs {
		if h.allowed[lower(a.Key)] && validHeaderValue(a.Value) && hd.Get(a.Key) == "" {
			hd.Set(a.Key, a.Value)
		}
	}
	if hd.Get("Content-Type") == "" {
		hd.Set("Content-Type", "application/octet-stream")
	}
}

// readWindow returns the bytes a read of a blob of size bytes in rows of row bytes
// holds at once: want rounded down to whole rows, at least one row, at most the rows of
// the blob; the whole blob when row is 0.
func readWindow(size, row, want int64) int64 {
	if row <= 0 {
		return size
	}
	w := max(row, want-want%row)
	return min(w, (size+row-1)/row*row)
}

// reserve takes n bytes of the read budget, waiting up to Config.MaxReadWait.
func (h *Handler) reserve(ctx context.Context, n int64) error {
	if h.cfg.MaxReadWait < 0 {
		if !h.readBytes.TryAcquire(n) {
			return errReadBusy
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.MaxReadWait)
	defer cancel()
	if err := h.readBytes.Acquire(ctx, n); err != nil {
		return errReadBusy
	}
	return nil
}

// singleRange parses a Range header of one byte range ("bytes=a-b", "bytes=a-" or
// "bytes=-n") against a blob of size bytes and returns its offset and length; ok is false
// for anything else (several ranges, a malformed or unsatisfiable one), which
// http.ServeContent then answers by itself.
func singleRange(h string, size int64) (off, n int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false
	}
	if a == "" {
		suffix, err := strconv.ParseInt(b, 10, 64)
		if err != nil || suffix <= 0 {
			return 0, 0, false
		}
		suffix = min(suffix, size)
		return size - suffix, suffix, suffix > 0
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 || start >= size {
		return 0, 0, false
	}
	end := size - 1
	if b != "" {
		if end, err = strconv.ParseInt(b, 10, 64); err != nil || end < start {
			return 0, 0, false
		}
		end = min(end, size-1)
	}
	return start, end - start + 1, true
}

// readFailed answers a failed read, logging server-side failures.
func (h *Handler) readFailed(w http.ResponseWriter, id redstuff.BlobID, err error) int {
	code := writeError(w, err)
	if code >= 500 {
		h.log.Warn("gateway: read failed", "blob", id, "err", err)
	}
	return code
}

// firstWindow bounds the first window of a read (rounded to whole rows): the first byte
// waits for it only.
const firstWindow = 1 << 20

// windowReader reads a Stream as the io.ReadSeeker http.ServeContent wants, one window
// of whole rows at a time: a read outside the window held prefetches (in parallel) the
// window starting at the read's row, which drops the one before, so the stream never
// holds more than window bytes (as the client's BlobReader holds its last Prefetch). The
// first error is kept in err.
type windowReader struct {
	s                 Stream
	size, row, window int64
	pos, lo, hi       int64 // the read position; the window held is [lo, hi)
	err               error
}

func (r *windowReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.pos >= r.size {
		return 0, io.EOF
	}
	if r.pos < r.lo || r.pos >= r.hi {
		lo := r.pos
		if r.row > 0 {
			lo -= lo % r.row
		}
		window := r.window
		if r.hi == 0 && r.row > 0 {
			// The first window is small, so that the first byte goes out soon.
			window = min(window, max(r.row, firstWindow-firstWindow%r.row))
		}
		hi := min(lo+max(window, 1), r.size)
		if err := r.s.Prefetch(lo, hi-lo); err != nil {
			r.err = err
			return 0, err
		}
		r.lo, r.hi = lo, hi
	}
	n := min(int64(len(p)), r.hi-r.pos)
	if n == 0 {
		return 0, nil
	}
	k, err := r.s.ReadAt(p[:n], r.pos)
	r.pos += int64(k)
	if err == io.EOF && r.pos >= r.size {
		err = nil // the next Read reports it
	}
	if err == io.EOF || (err == nil && int64(k) < n) {
		err = io.ErrUnexpectedEOF // the stream is shorter than its size
	}
	if err != nil {
		r.err = err
	}
	return k, err
}

// copyTo writes up to n bytes from the read position to w and advances it. A Stream
// that is a RangeWriter writes each row as soon as it is verified while the next ones are
// fetched (holding window bytes at most); another is read a window at a time. A failure
// of the stream is kept in r.err (as Read keeps it); a failure of w is only returned.
func (r *windowReader) copyTo(w io.Writer, n int64) (int64, error) {
	rw, ok := r.s.(RangeWriter)
	if !ok || r.err != nil {
		return io.Copy(w, io.LimitReader(onlyReader{r}, n))
	}
	n = min(n, r.size-r.pos)
	if n <= 0 {
		return 0, nil
	}
	ew := &errWriter{w: w}
	k, err := rw.WriteRange(ew, r.pos, n, r.window)
	r.pos += k
	r.lo, r.hi = 0, 0 // the rows are dropped as written
	if err == nil && k < n {
		err = io.ErrUnexpectedEOF // the stream is shorter than its size
	}
	if err != nil && ew.err == nil {
		r.err = err
	}
	return k, err
}

// onlyReader hides every method of a reader but Read (so that io.Copy does not call
// back into copyTo).
type onlyReader struct{ io.Reader }

// errWriter remembers the first error of its writer.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// prime fetches the window holding off, so that a failure to fetch can still be
// answered with an error status instead of a cut body.
func (r *windowReader) prime(off int64) error {
	r.pos = off
	_, err := r.Read(nil)
	r.pos = 0
	return err
}

func (r *windowReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.size
	default:
		return r.pos, errors.New("gateway: seek: invalid whence")
	}
	if offset < 0 {
		return r.pos, errors.New("gateway: seek to a negative position")
	}
	r.pos = offset
	return offset, nil
}

// statusRecorder remembers the status code and counts the body bytes written. The
// plain-text 416 and 412 answers of http.ServeContent are replaced by error envelopes
// (their bodies dropped): 416 RANGE_NOT_SATISFIABLE INVALID_BYTE_RANGE with the
// Content-Range "bytes */size", and 412 PRECONDITION_FAILED.
type statusRecorder struct {
	http.ResponseWriter
	code        int
	written     int64
	size        int64  // of the blob, for the message of a 416
	rangeHeader string // the request's, for the message of a 416
	replaced    bool   // the answer was replaced; drop what ServeContent writes
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.replaced {
		return len(b), nil
	}
	n, err := s.ResponseWriter.Write(b)
	s.written += int64(n)
	return n, err
}

// ReadFrom sends a body that http.ServeContent or a route copies from a windowReader
// (io.CopyN, which wraps it in an io.LimitedReader) through windowReader.copyTo, so
// that rows are written as they are verified instead of through a 32 KiB copy buffer
// after a whole window. Other sources are copied plainly.
func (s *statusRecorder) ReadFrom(src io.Reader) (int64, error) {
	if lr, ok := src.(*io.LimitedReader); ok {
		if wr, ok := lr.R.(*windowReader); ok && !s.replaced {
			n, err := wr.copyTo(writerOnly{s}, lr.N)
			lr.N -= n
			return n, err
		}
	}
	return io.Copy(writerOnly{s}, src)
}

// writerOnly hides every method of a writer but Write (so that io.Copy does not call
// ReadFrom again).
type writerOnly struct{ io.Writer }

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	switch code {
	case http.StatusRequestedRangeNotSatisfiable:
		s.replaced = true
		s.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", s.size))
		writeError(s.ResponseWriter, fail(ErrRangeNotSatisfiable, "range %q is not satisfiable for a blob of %d bytes", s.rangeHeader, s.size), "Content-Range")
	case http.StatusPreconditionFailed:
		s.replaced = true
		writeError(s.ResponseWriter, fail(ErrPreconditionFailed, "a precondition of the request (If-Match) does not hold"))
	default:
		s.ResponseWriter.WriteHeader(code)
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// validHeaderValue reports whether v may be sent as a header value (no control
// characters but tab).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
