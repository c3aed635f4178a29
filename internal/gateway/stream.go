package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Limits of the concat route.
const (
	// MaxConcatIDs bounds the blobs of one concat request; every one is opened (its
	// metadata fetched) before the status line is sent.
	MaxConcatIDs = 256
	// maxConcatBody bounds the JSON body of a POST concat request.
	maxConcatBody = 1 << 20
)

// readStream serves GET /v1alpha/blobs/{blobId}/stream: the whole blob, status 200 with
// its Content-Length and X-Walrus-Streaming: true, sent as its rows are fetched (as every
// read here is). A Range header is ignored, as Walrus's endpoint does.
func (h *Handler) readStream(w http.ResponseWriter, r *http.Request) int {
	raw := r.PathValue("blobId")
	id, err := redstuff.ParseBlobID(raw)
	if err != nil {
		return writeError(w, badRequest(ErrInvalidBlobID, fmt.Sprintf("invalid blob ID %q: want 43 URL-safe base64 characters", raw)))
	}
	r.Header.Del("Range")
	r.Header.Del("If-Range")
	w.Header().Set("X-Walrus-Streaming", "true")
	return h.serveBlob(w, r, id, nil, redstuff.ConsistencyDefault)
}

// readByteRange serves GET /v1/blobs/{blobId}/byte-range?start=S&length=N: bytes
// [S, S+N) of the blob with status 200 (not 206, so that caches keep it), ETag
// "ID-S-N". Both parameters are required and nothing else is accepted; N must be at
// least 1 and the range must lie within the blob, else 400 INVALID_BYTE_RANGE.
func (h *Handler) readByteRange(w http.ResponseWriter, r *http.Request) int {
	if r.PathValue("op") != "byte-range" {
		return writeError(w, errNotFoundPath)
	}
	raw := r.PathValue("blobId")
	id, err := redstuff.ParseBlobID(raw)
	if err != nil {
		return writeError(w, badRequest(ErrInvalidBlobID, fmt.Sprintf("invalid blob ID %q: want 43 URL-safe base64 characters", raw)))
	}
	start, length, err := byteRangeQuery(r)
	if err != nil {
		return writeError(w, badRequest(ErrInvalidByteRange, err.Error()))
	}
	p, code := h.openParts(w, r, []redstuff.BlobID{id}, client.ReadOptions{})
	if p == nil {
		return code
	}
	defer p.close()
	size := p.parts[0].Size()
	if start >= uint64(size) || length > uint64(size)-start {
		return writeError(w, badRequest(ErrInvalidByteRange, fmt.Sprintf("bytes [%d, %d) are not within the blob of %d bytes", start, start+length, size)))
	}
	if code := p.reserve(w, r, int64(start)); code != 0 {
		return code
	}
	h.setReadHeaders(w.Header(), r, fmt.Sprintf(`"%s-%d-%d"`, id, start, length), nil)
	w.Header().Set("Content-Length", strconv.FormatUint(length, 10))
	return p.send(w, r, func(rw io.Writer) error {
		wr := p.reader(0)
		wr.pos = int64(start)
		_, err := io.CopyN(rw, wr, int64(length))
		return err
	})
}

// byteRangeQuery parses the query of a byte-range read.
func byteRangeQuery(r *http.Request) (start, length uint64, err error) {
	q := r.URL.Query()
	for k, v := range q {
		if k != "start" && k != "length" {
			return 0, 0, fmt.Errorf("unknown parameter %q: want start and length", k)
		}
		if len(v) != 1 {
			return 0, 0, fmt.Errorf("parameter %q given %d times", k, len(v))
		}
	}
	parse := func(name string) (uint64, error) {
		v := q.Get(name)
		if v == "" {
			return 0, fmt.Errorf("parameter %q is required", name)
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parameter %q: %q is not a byte count", name, v)
		}
		return n, nil
	}
	if start, err = parse("start"); err != nil {
		return 0, 0, err
	}
	if length, err = parse("length"); err != nil {
		return 0, 0, err
	}
	if length == 0 {
		return 0, 0, errors.New("length must be greater than 0")
	}
	if start+length < start {
		return 0, 0, errors.New("start + length overflows")
	}
	return start, length, nil
}

// concatRequest is the JSON body of POST /v1alpha/blobs/concat (Walrus's
// ConcatRequestBody).
type concatRequest struct {
	IDs    []string `json:"ids"`
	Strict *bool    `json:"strict_consistency_check"`
	Skip   *bool    `json:"skip_consistency_check"`
}

// readConcat serves /v1alpha/blobs/concat: GET with ids=A,B,... (and optionally
// strict_consistency_check / skip_consistency_check) or POST with a JSON body
// {"ids": [...]}. Each ID is a blob ID or a Blob object ID; the blobs are sent one after
// the other, with status 200, the total Content-Length, ETag = the URL-safe base64 of
// the SHA-256 of the IDs joined by commas, and the allowed attribute headers of the
// first ID if it is an object ID. Every blob is opened before the status line, so a
// missing one gets its error status; at most MaxConcatIDs IDs.
func (h *Handler) readConcat(w http.ResponseWriter, r *http.Request) int {
	var req concatRequest
	switch r.Method {
	case http.MethodPost:
		dec := json.NewDecoder(io.LimitReader(r.Body, maxConcatBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return writeError(w, badRequest(ErrInvalidArgument, fmt.Sprintf("invalid JSON body: %v", err)))
		}
		if dec.More() {
			return writeError(w, badRequest(ErrInvalidArgument, "invalid JSON body: more than one value"))
		}
	default:
		q := r.URL.Query()
		for k, v := range q {
			if k != "ids" && k != "strict_consistency_check" && k != "skip_consistency_check" {
				return writeError(w, badRequest(ErrInvalidArgument, fmt.Sprintf("unknown parameter %q", k)))
			}
			if len(v) != 1 {
				return writeError(w, badRequest(ErrInvalidArgument, fmt.Sprintf("parameter %q given %d times", k, len(v))))
			}
		}
		for _, s := range strings.Split(q.Get("ids"), ",") {
			if s = strings.TrimSpace(s); s != "" {
				req.IDs = append(req.IDs, s)
			}
		}
		for name, dst := range map[string]**bool{"strict_consistency_check": &req.Strict, "skip_consistency_check": &req.Skip} {
			if q.Has(name) {
				b, err := parseBool(q, name)
				if err != nil {
					return writeError(w, err)
				}
				*dst = &b
			}
		}
	}
	if len(req.IDs) == 0 {
		return writeError(w, badRequest(ErrInvalidArgument, "at least one blob ID or object ID must be provided"))
	}
	if len(req.IDs) > MaxConcatIDs {
		return writeError(w, badRequest(ErrInvalidArgument, fmt.Sprintf("%d IDs, at most %d", len(req.IDs), MaxConcatIDs)))
	}
	check, err := consistency(req.Strict != nil && *req.Strict, req.Skip != nil && *req.Skip)
	if err != nil {
		return writeError(w, err)
	}
	opts := client.ReadOptions{Consistency: check}
	ids := make([]redstuff.BlobID, len(req.IDs))
	var attrs []chain.Attribute
	for i, s := range req.IDs {
		if id, err := redstuff.ParseBlobID(s); err == nil {
			ids[i] = id
			continue
		}
		obj, err := chain.ParseObjectID(s)
		if err != nil {
			return writeError(w, badRequest(ErrInvalidIDFormat, fmt.Sprintf("invalid ID %q: want a blob ID or a blob object ID", s)))
		}
		b, err := h.cfg.Blobs.BlobObject(r.Context(), obj)
		if err != nil {
			return writeError(w, err)
		}
		if !b.Certified {
			return writeError(w, fmt.Errorf("%w: blob object %s is not certified", client.ErrNotFound, obj))
		}
		ids[i] = b.BlobID
		if i == 0 {
			attrs = b.Attributes
		}
	}
	p, code := h.openParts(w, r, ids, opts)
	if p == nil {
		return code
	}
	defer p.close()
	if code := p.reserve(w, r, 0); code != 0 {
		return code
	}
	sum := sha256.Sum256([]byte(strings.Join(req.IDs, ",")))
	hd := w.Header()
	h.setReadHeaders(hd, r, `"`+base64.RawURLEncoding.EncodeToString(sum[:])+`"`, attrs)
	var total int64
	for _, s := range p.parts {
		total += s.Size()
	}
	hd.Set("Content-Length", strconv.FormatInt(total, 10))
	return p.send(w, r, func(rw io.Writer) error {
		for i := range p.parts {
			if err := p.open(i); err != nil {
				return fmt.Errorf("blob %d of %d (%s): %w", i, len(p.parts), ids[i], err)
			}
			s := p.parts[i]
			if _, err := io.CopyN(rw, p.reader(i), s.Size()); err != nil {
				return fmt.Errorf("blob %d of %d (%s): %w", i, len(p.parts), ids[i], err)
			}
			s.Close() // its rows go before the next blob's come
		}
		return nil
	})
}

// parts are the open blobs of one streamed read, with its slot among the reads in
// flight and its reservation of the read budget.
type parts struct {
	h        *Handler
	ids      []redstuff.BlobID
	parts    []Stream
	window   int64 // reserved bytes (0 before reserve)
	windows  []int64
	readers  []*windowReader
	released bool
	// With ConsistencyStrict the parts are opened first for their metadata only, and
	// each is opened again, strictly (read whole), just before it is sent.
	ctx      context.Context
	strict   *client.ReadOptions
	reopened []bool
}

// openParts takes a slot among the reads in flight and opens every blob; on failure it
// answers and returns nil and the status.
func (h *Handler) openParts(w http.ResponseWriter, r *http.Request, ids []redstuff.BlobID, opts client.ReadOptions) (*parts, int) {
	if !acquire(h.reads) {
		return nil, writeError(w, errTooMany)
	}
	h.metrics.inFlight.WithLabelValues("read").Inc()
	p := &parts{h: h, ids: ids, ctx: r.Context(), reopened: make([]bool, len(ids))}
	opts.MaxWholeRead = h.cfg.ReadWindow
	if opts.Consistency == redstuff.ConsistencyStrict {
		strict := opts
		p.strict = &strict
		opts.Consistency = redstuff.ConsistencyDefault
	}
	for _, id := range ids {
		s, err := h.cfg.Blobs.Open(r.Context(), id, opts)
		if err != nil {
			p.close()
			return nil, h.readFailed(w, id, err)
		}
		p.parts = append(p.parts, s)
		window := readWindow(s.Size(), s.RowSize(), h.cfg.ReadWindow)
		if p.strict != nil {
			window = s.Size() // read whole
		}
		p.windows = append(p.windows, window)
	}
	return p, 0
}

// open opens part i strictly (read whole) if the read is strict and it was not yet;
// the window reserved holds it.
func (p *parts) open(i int) error {
	if p.strict == nil || p.reopened[i] {
		return nil
	}
	p.reopened[i] = true
	p.parts[i].Close()
	s, err := p.h.cfg.Blobs.Open(p.ctx, p.ids[i], *p.strict)
	if err != nil {
		return err
	}
	p.parts[i] = s
	return nil
}

// reserve takes the largest window of the parts from the read budget (a HEAD request
// takes nothing) and fetches the window of the first part holding byte off, so that a
// failure there still gets an error status. It answers a failure and returns its
// status, else 0.
func (p *parts) reserve(w http.ResponseWriter, r *http.Request, off int64) int {
	h := p.h
	var window int64
	for _, n := range p.windows {
		window = max(window, n)
	}
	if r.Method == http.MethodHead || window == 0 {
		return 0
	}
	if window > h.cfg.MaxReadBytes {
		if p.strict != nil {
			return writeError(w, fail(client.ErrTooLarge, "a blob has %d bytes; strict_consistency_check reads it whole and this aggregator holds at most %d bytes: read it without", window, h.cfg.MaxReadBytes))
		}
		return writeError(w, errRowTooLarge)
	}
	if err := h.reserve(r.Context(), window); err != nil {
		return writeError(w, err)
	}
	p.window = window
	h.metrics.readBytes.Add(float64(window))
	for i, s := range p.parts {
		if s.Size() == 0 {
			continue
		}
		if err := p.open(i); err != nil {
			return h.readFailed(w, p.ids[i], err)
		}
		if err := p.reader(i).prime(off); err != nil {
			return h.readFailed(w, p.ids[i], err)
		}
		break
	}
	return 0
}

// reader returns the windowReader of part i.
func (p *parts) reader(i int) *windowReader {
	for len(p.readers) <= i {
		j := len(p.readers)
		s := p.parts[j]
		p.readers = append(p.readers, &windowReader{s: s, size: s.Size(), row: s.RowSize(), window: p.windows[j]})
	}
	return p.readers[i]
}

// send writes the status line (200) and, unless the request is HEAD, the body with
// body. A failure after the status line aborts the connection: the client sees a
// transfer error, not a complete answer.
func (p *parts) send(w http.ResponseWriter, r *http.Request, body func(io.Writer) error) int {
	rw := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	rw.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return http.StatusOK
	}
	err := body(rw)
	p.h.metrics.bytesRead.Add(float64(rw.written))
	if err != nil {
		p.h.log.Warn("gateway: read failed while streaming", "blobs", len(p.ids), "first", p.ids[0], "err", err)
		p.close()
		panic(http.ErrAbortHandler)
	}
	return http.StatusOK
}

// close closes the parts and gives back the budget and the slot; it is idempotent.
func (p *parts) close() {
	if p.released {
		return
	}
	p.released = true
	for _, s := range p.parts {
		s.Close()
	}
	if p.window > 0 {
		p.h.readBytes.Release(p.window)
		p.h.metrics.readBytes.Sub(float64(p.window))
	}
	p.h.metrics.inFlight.WithLabelValues("read").Dec()
	<-p.h.reads
}
