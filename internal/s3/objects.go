package s3

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func (s *Server) putObject(q *request) error {
	meta, err := s.userMetadata(q.r.Header)
	if err != nil {
		return err
	}
	if _, err := s.cfg.Index.HeadBucket(q.ctx, q.bucket); err != nil {
		return err
	}
	p, err := s.openPayload(q, s.cfg.MaxObjectSize)
	if err != nil {
		return err
	}
	b, err := s.store(q, p)
	if err != nil {
		return err
	}
	e := Entry{
		Key: q.key, Blob: b, Size: p.size, ETag: hex.EncodeToString(p.md5.Sum(nil)),
		ContentType: q.r.Header.Get("Content-Type"), Metadata: meta, ModTime: s.cfg.Now().UTC(),
	}
	if err := s.putEntry(q, e); err != nil {
		return err
	}
	q.w.Header().Set("ETag", `"`+e.ETag+`"`)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// putEntry sets e in the index and releases what it replaced; if the index refuses it,
// e's own blob is released.
func (s *Server) putEntry(q *request, e Entry) error {
	old, err := s.cfg.Index.PutEntries(q.ctx, q.bucket, []Entry{e})
	if err != nil {
		s.release(q, e.Blob)
		return err
	}
	if len(old) == 1 && old[0] != nil && old[0].Blob != e.Blob {
		s.release(q, old[0].Blob)
	}
	return nil
}

// byteRange is a resolved Range: the first byte and the length.
type byteRange struct {
	start, n int64
}

// parseRange resolves a Range header against size: nil for none (or a form the gateway
// serves whole, as S3 does with several ranges), InvalidRange if unsatisfiable.
func parseRange(h string, size int64) (*byteRange, error) {
	spec, ok := strings.CutPrefix(h, "bytes=")
	if h == "" || !ok || strings.Contains(spec, ",") {
		return nil, nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return nil, nil
	}
	invalid := apiErr("InvalidRange", "The requested range is not satisfiable")
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return nil, nil
		}
		if n == 0 || size == 0 {
			return nil, invalid
		}
		n = min(n, size)
		return &byteRange{size - n, n}, nil
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 {
		return nil, nil
	}
	if a >= size {
		return nil, invalid
	}
	b := size - 1
	if last != "" {
		if b, err = strconv.ParseInt(last, 10, 64); err != nil || b < a {
			return nil, nil
		}
		b = min(b, size-1)
	}
	return &byteRange{a, b - a + 1}, nil
}

func setObjectHeaders(h http.Header, e Entry) {
	h.Set("ETag", `"`+e.ETag+`"`)
	h.Set("Last-Modified", httpTime(e.ModTime))
	h.Set("Accept-Ranges", "bytes")
	ct := e.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	for _, m := range e.Metadata {
		h["X-Amz-Meta-"+m.Name] = []string{m.Value}
	}
}

// checkConditions applies If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since; it returns the status to answer instead of the object, or 0.
func checkConditions(h http.Header, e Entry) int {
	etag := `"` + e.ETag + `"`
	match := func(v string) bool {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || t == etag || t == e.ETag {
				return true
			}
		}
		return false
	}
	mod := e.ModTime.Truncate(time.Second)
	if v := h.Get("If-Match"); v != "" {
		if !match(v) {
			return http.StatusPreconditionFailed
		}
	} else if t, err := http.ParseTime(h.Get("If-Unmodified-Since")); err == nil && mod.After(t) {
		return http.StatusPreconditionFailed
	}
	if v := h.Get("If-None-Match"); v != "" {
		if match(v) {
			return http.StatusNotModified
		}
	} else if t, err := http.ParseTime(h.Get("If-Modified-Since")); err == nil && !mod.After(t) {
		return http.StatusNotModified
	}
	return 0
}

func (s *Server) getObject(q *request, v url.Values) error {
	e, err := s.cfg.Index.GetEntry(q.ctx, q.bucket, q.key)
	if err != nil {
		return err
	}
	switch checkConditions(q.r.Header, e) {
	case http.StatusPreconditionFailed:
		return apiErr("PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
	case http.StatusNotModified:
		setObjectHeaders(q.w.Header(), e)
		q.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	rg, err := parseRange(q.r.Header.Get("Range"), e.Size)
	if err != nil {
		q.w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", e.Size))
		return err
	}
	h := q.w.Header()
	setObjectHeaders(h, e)
	for _, o := range []struct{ param, header string }{
		{"response-content-type", "Content-Type"}, {"response-content-disposition", "Content-Disposition"},
		{"response-cache-control", "Cache-Control"}, {"response-content-encoding", "Content-Encoding"},
		{"response-content-language", "Content-Language"}, {"response-expires", "Expires"},
	} {
		if x := v.Get(o.param); x != "" {
			h.Set(o.header, x)
		}
	}
	start, n, status := int64(0), e.Size, http.StatusOK
	if rg != nil {
		start, n, status = rg.start, rg.n, http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+n-1, e.Size))
	}
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	if q.r.Method == http.MethodHead || n == 0 {
		q.w.WriteHeader(status)
		return nil
	}
	f, err := s.cfg.Store.Open(q.ctx, e.Blob)
	if err != nil {
		return err
	}
	defer f.Close()
	if start > 0 {
		if _, err := f.Seek(start, io.SeekStart); err != nil {
			return err
		}
	}
	q.w.WriteHeader(status)
	q.status = status
	if _, err := io.CopyN(q.w, f, n); err != nil {
		// The status line is out: all the client can see is a short body.
		s.cfg.Logger.Warn("s3: reading an object failed midway", "bucket", q.bucket, "key", q.key, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

func (s *Server) deleteObject(q *request) error {
	old, err := s.cfg.Index.DeleteKeys(q.ctx, q.bucket, []string{q.key})
	if err != nil {
		return err
	}
	for _, e := range old {
		s.release(q, e.Blob)
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deleteObjects(q *request) error {
	p, err := s.openPayload(q, maxXMLBody)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(p)
	if err != nil {
		return err
	}
	keys, quiet, err := decodeDelete(body)
	if err != nil {
		return err
	}
	old, err := s.cfg.Index.DeleteKeys(q.ctx, q.bucket, keys)
	if err != nil {
		return err
	}
	for _, e := range old {
		s.release(q, e.Blob)
	}
	res := deleteResult{Xmlns: s3NS}
	if !quiet {
		for _, k := range keys {
			res.Deleted = append(res.Deleted, deletedXML{Key: k})
		}
	}
	return writeXML(q, res)
}

// copySource parses x-amz-copy-source: "[/]bucket/key[?versionId=...]", URL-encoded.
func copySource(h string) (bucket, key string, err error) {
	src, _, _ := strings.Cut(h, "?")
	if u, uerr := url.PathUnescape(src); uerr == nil {
		src = u
	}
	src = strings.TrimPrefix(src, "/")
	bucket, key, ok := strings.Cut(src, "/")
	if !ok || !ValidBucketName(bucket) || !ValidKey(key) {
		return "", "", errInvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	return bucket, key, nil
}

func (s *Server) copyObject(q *request) error {
	sb, sk, err := copySource(q.r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	src, err := s.cfg.Index.GetEntry(q.ctx, sb, sk)
	if err != nil {
		return err
	}
	if _, err := s.cfg.Index.HeadBucket(q.ctx, q.bucket); err != nil {
		return err
	}
	h := q.r.Header
	if st := checkConditions(http.Header{
		"If-Match": h.Values("X-Amz-Copy-Source-If-Match"), "If-None-Match": h.Values("X-Amz-Copy-Source-If-None-Match"),
		"If-Modified-Since": h.Values("X-Amz-Copy-Source-If-Modified-Since"), "If-Unmodified-Since": h.Values("X-Amz-Copy-Source-If-Unmodified-Since"),
	}, src); st != 0 {
		return apiErr("PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
	}
	if src.Size > s.cfg.MaxObjectSize {
		return apiErr("EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.")
	}
	e := src
	e.Key = q.key
	e.ModTime = s.cfg.Now().UTC()
	switch d := h.Get("X-Amz-Metadata-Directive"); d {
	case "", "COPY":
		if sb == q.bucket && sk == q.key {
			return errInvalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
		}
	case "REPLACE":
		if e.Metadata, err = s.userMetadata(h); err != nil {
			return err
		}
		e.ContentType = h.Get("Content-Type")
	default:
		return errInvalidArgument("Unknown metadata directive.")
	}
	// The copy gets a blob of its own, so that deleting either object never touches
	// the other's bytes. Storing may take long: the status line goes out first, then
	// spaces, then the result (or an error document), as S3 does.
	ka := s.keepAlive(q)
	b, err := s.copyBlob(q, src)
	ka.stop()
	if err != nil {
		return err
	}
	e.Blob = b
	if err := s.putEntry(q, e); err != nil {
		return err
	}
	return ka.finish(copyResult{Xmlns: s3NS, LastModified: isoTime(e.ModTime), ETag: `"` + e.ETag + `"`})
}

// copyBlob stores a copy of an entry's bytes.
func (s *Server) copyBlob(q *request, src Entry) (Blob, error) {
	if src.Size == 0 {
		return Blob{}, nil
	}
	f, err := s.cfg.Store.Open(q.ctx, src.Blob)
	if err != nil {
		return Blob{}, err
	}
	defer f.Close()
	return s.put(q, &exactReader{r: f, left: src.Size})
}

// exactReader reads exactly left bytes from r, failing if r ends early.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		err = errors.New("s3: a stored object is shorter than its entry says")
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}
