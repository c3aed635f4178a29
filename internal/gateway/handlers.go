package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// store serves PUT /v1/blobs.
func (h *Handler) store(w http.ResponseWriter, r *http.Request) int {
	opts, err := h.storeOptions(r)
	if err != nil {
		return writeError(w, err)
	}
	if r.ContentLength > h.cfg.MaxBodySize {
		return writeError(w, h.tooLarge())
	}
	if !acquire(h.stores) {
		return writeError(w, errTooMany)
	}
	defer func() { <-h.stores }()
	h.metrics.inFlight.WithLabelValues("store").Inc()
	defer h.metrics.inFlight.WithLabelValues("store").Dec()

	data, err := readBody(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodySize), r.ContentLength)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return writeError(w, h.tooLarge())
		}
		return writeError(w, badRequest("INVALID_BODY", "cannot read the request body: "+err.Error()))
	}
	res, err := h.cfg.Blobs.Store(r.Context(), data, opts)
	if err != nil {
		code := writeError(w, err)
		if code >= 500 {
			h.log.Warn("gateway: store failed", "size", len(data), "err", err)
		}
		return code
	}
	h.metrics.bytesStored.Add(float64(len(data)))
	writeJSON(w, http.StatusOK, res)
	return http.StatusOK
}

func (h *Handler) tooLarge() *apiError {
	return &apiError{code: http.StatusRequestEntityTooLarge, status: "OUT_OF_RANGE", reason: "BODY_TOO_LARGE",
		message: fmt.Sprintf("the blob is larger than the publisher's limit of %d bytes", h.cfg.MaxBodySize)}
}

// readBody reads a body into a buffer of the declared size when there is one.
func readBody(r io.Reader, declared int64) ([]byte, error) {
	if declared > 0 {
		buf := make([]byte, declared)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		// A body longer than declared is cut by net/http; nothing more to read.
		return buf, nil
	}
	return io.ReadAll(r)
}

// storeOptions parses the query of a store: epochs (default Config.DefaultEpochs),
// permanent, deletable (the default; giving both is an error), force.
func (h *Handler) storeOptions(r *http.Request) (client.StoreOptions, error) {
	q := r.URL.Query()
	opts := client.StoreOptions{Epochs: h.cfg.DefaultEpochs}
	if v := q.Get("epochs"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			return opts, badRequest("INVALID_EPOCHS", fmt.Sprintf("epochs=%q: want a positive number of epochs", v))
		case n <= 0:
			return opts, badRequest("INVALID_EPOCHS", fmt.Sprintf("epochs=%d: must be at least 1", n))
		case n > 1<<32-1:
			return opts, badRequest("INVALID_EPOCHS", fmt.Sprintf("epochs=%d: too many epochs", n))
		}
		opts.Epochs = uint32(n)
	}
	permanent, err := parseBool(r, "permanent")
	if err != nil {
		return opts, err
	}
	deletable, err := parseBool(r, "deletable")
	if err != nil {
		return opts, err
	}
	if permanent && deletable {
		return opts, badRequest("INVALID_ARGUMENT", "permanent=true and deletable=true contradict each other")
	}
	opts.Permanent = permanent
	if opts.Force, err = parseBool(r, "force"); err != nil {
		return opts, err
	}
	return opts, nil
}

// read serves GET /v1/blobs/{blobId}.
func (h *Handler) read(w http.ResponseWriter, r *http.Request) int {
	raw := r.PathValue("blobId")
	id, err := redstuff.ParseBlobID(raw)
	if err != nil {
		return writeError(w, badRequest("INVALID_BLOB_ID", fmt.Sprintf("invalid blob ID %q: want 43 URL-safe base64 characters", raw)))
	}
	return h.serveBlob(w, r, id, nil)
}

// readByObject serves GET /v1/blobs/by-object-id/{objectId}.
func (h *Handler) readByObject(w http.ResponseWriter, r *http.Request) int {
	raw := r.PathValue("objectId")
	obj, err := chain.ParseObjectID(raw)
	if err != nil {
		return writeError(w, badRequest("INVALID_OBJECT_ID", fmt.Sprintf("invalid object ID %q: want 64 hex digits", raw)))
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
	return h.serveBlob(w, r, b.BlobID, b.Attributes)
}

// serveBlob reads a blob and answers with it, honouring Range and If-None-Match.
func (h *Handler) serveBlob(w http.ResponseWriter, r *http.Request, id redstuff.BlobID, attrs []chain.Attribute) int {
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
	var content io.ReadSeeker
	var opened *client.BlobReader
	head := r.Method == http.MethodHead
	if o, ok := h.cfg.Blobs.(blobOpener); ok && (r.Header.Get("Range") != "" || head) {
		// A range: fetch only the slivers that hold it. HEAD: only the metadata (the
		// size), no sliver at all.
		br, err := o.OpenBlob(r.Context(), id, client.ReadOptions{})
		if err != nil {
			return h.readFailed(w, id, err)
		}
		if off, n, ok := singleRange(r.Header.Get("Range"), br.Size()); ok && !head {
			// Fetch the range's slivers in parallel rather than one row at a time as
			// the response is written.
			if err := br.Prefetch(off, n); err != nil {
				return h.readFailed(w, id, err)
			}
		}
		content, opened = br, br
	} else {
		data, err := h.cfg.Blobs.Read(r.Context(), id, client.ReadOptions{})
		if err != nil {
			return h.readFailed(w, id, err)
		}
		content = bytes.NewReader(data)
	}
	hd := w.Header()
	hd.Set("ETag", etag)
	hd.Set("Cache-Control", "public, max-age=86400, stale-while-revalidate=3600")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Type", "application/octet-stream")
	for _, a := range attrs {
		if h.allowed[lower(a.Key)] && validHeaderValue(a.Value) {
			hd.Set(a.Key, a.Value)
		}
	}
	rw := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	http.ServeContent(rw, r, "", time.Time{}, content)
	h.metrics.bytesRead.Add(float64(rw.written))
	if opened != nil {
		st := opened.Stats()
		h.log.Debug("gateway: range read", "blob", id, "range", r.Header.Get("Range"), "slivers", st.Slivers, "requests", st.HTTPRequests, "fellBack", st.FellBack)
	}
	return rw.code
}

// blobOpener is implemented by Blobs that read ranges without fetching whole blobs
// (*client.Client does).
type blobOpener interface {
	OpenBlob(ctx context.Context, id redstuff.BlobID, opts client.ReadOptions) (*client.BlobReader, error)
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

// statusRecorder remembers the status code and counts the body bytes written.
type statusRecorder struct {
	http.ResponseWriter
	code    int
	written int64
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	n, err := s.ResponseWriter.Write(b)
	s.written += int64(n)
	return n, err
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
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
