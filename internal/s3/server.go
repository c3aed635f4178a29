package s3

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config configures a Server. The zero value of every field but Index, Store and
// Credentials means the documented default.
type Config struct {
	// Index keeps buckets, keys and multipart state; Store keeps the bytes. Required.
	Index Index
	Store Store
	// Credentials are the access keys the gateway accepts; at least one is required.
	Credentials []Credential
	// Region is what GetBucketLocation answers; default "us-east-1". Requests signed
	// for any region are accepted (the region is part of what the signature covers).
	Region string
	// Domain, if set, enables virtual-host-style addressing: a request to
	// BUCKET.Domain[:port] addresses BUCKET. Path-style addressing always works.
	Domain string
	// MaxObjectSize bounds a single PutObject (and CopyObject); default 5 GiB, S3's.
	MaxObjectSize int64
	// MaxPartSize bounds one UploadPart; default 5 GiB, S3's. MinPartSize is the least
	// size of every part but the last of a completed upload; default 5 MiB, S3's.
	MaxPartSize int64
	MinPartSize int64
	// MaxClockSkew is how far a signed request's time may be from the gateway's;
	// default 15 minutes, S3's.
	MaxClockSkew time.Duration
	// MaxMetadataSize bounds the user metadata of one object (names and values);
	// default 2 KiB, S3's.
	MaxMetadataSize int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// KeepAlive is how often CompleteMultipartUpload and CopyObject send a space while
	// they work, after the 200 status line, so that clients do not time out (S3 does
	// the same); default 10 seconds.
	KeepAlive time.Duration
	// MaxConcurrentStores bounds the uploads (PutObject, UploadPart, CopyObject,
	// CompleteMultipartUpload) stored at once, each holding a few chunks of memory;
	// more wait for a turn. Default 4.
	MaxConcurrentStores int
	// Logger receives the request errors; nil discards them.
	Logger *slog.Logger
}

// Config defaults.
const (
	DefaultMaxObjectSize       = 5 << 30
	DefaultMaxPartSize         = 5 << 30
	DefaultMinPartSize         = 5 << 20
	DefaultMaxClockSkew        = 15 * time.Minute
	DefaultMaxMetadataSize     = 2 << 10
	DefaultRegion              = "us-east-1"
	DefaultMaxConcurrentStores = 4
)

func (c Config) withDefaults() Config {
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.MaxObjectSize == 0 {
		c.MaxObjectSize = DefaultMaxObjectSize
	}
	if c.MaxPartSize == 0 {
		c.MaxPartSize = DefaultMaxPartSize
	}
	if c.MinPartSize == 0 {
		c.MinPartSize = DefaultMinPartSize
	}
	if c.MaxClockSkew == 0 {
		c.MaxClockSkew = DefaultMaxClockSkew
	}
	if c.MaxMetadataSize == 0 {
		c.MaxMetadataSize = DefaultMaxMetadataSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = 10 * time.Second
	}
	if c.MaxConcurrentStores == 0 {
		c.MaxConcurrentStores = DefaultMaxConcurrentStores
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Index == nil:
		return errors.New("s3: Config.Index is required")
	case c.Store == nil:
		return errors.New("s3: Config.Store is required")
	case len(c.Credentials) == 0:
		return errors.New("s3: Config.Credentials: at least one access key is required")
	case c.MaxObjectSize < 0, c.MaxPartSize < 0, c.MinPartSize < 0, c.MaxConcurrentStores < 0:
		return errors.New("s3: Config sizes must not be negative")
	}
	for i, cr := range c.Credentials {
		if cr.AccessKey == "" || cr.SecretKey == "" || strings.ContainsAny(cr.AccessKey, "/ ,=") {
			return fmt.Errorf("s3: Config.Credentials[%d]: an access key (without '/', ' ', ',' or '=') and a secret key are required", i)
		}
	}
	return nil
}

// Server is the S3 gateway's HTTP handler. It is safe for concurrent use.
type Server struct {
	cfg     Config
	secrets map[string]string
	stores  chan struct{} // a slot per store in progress
}

// NewServer returns a Server for a valid configuration.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, secrets: make(map[string]string), stores: make(chan struct{}, cfg.MaxConcurrentStores)}
	for _, c := range cfg.Credentials {
		s.secrets[c.AccessKey] = c.SecretKey
	}
	return s, nil
}

// HTTPServer returns an http.Server for the handler with the gateway's bounds on
// headers and idle connections. Bodies are bounded per operation by the handler.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		MaxHeaderBytes:    64 << 10,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
}

// request is one request in progress.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	bucket string
	key    string
	sig    *sigRequest
	sigKey []byte
	id     string
	status int
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var idb [8]byte
	rand.Read(idb[:])
	q := &request{w: w, r: r, ctx: r.Context(), id: strings.ToUpper(hex.EncodeToString(idb[:]))}
	w.Header().Set("x-amz-request-id", q.id)
	w.Header().Set("Server", "walrus-s3")
	if err := s.serve(q); err != nil {
		s.writeError(q, err)
	}
}

// writeError answers err as S3's XML error: an *APIError as itself, an Index sentinel
// as its S3 error, anything else as InternalError (logged, not shown).
func (s *Server) writeError(q *request, err error) {
	var ae *APIError
	if !errors.As(err, &ae) {
		if ae = fromIndex(err); ae == nil {
			if q.ctx.Err() != nil {
				return
			}
			s.cfg.Logger.Error("s3: request failed", "method", q.r.Method, "path", q.r.URL.Path, "err", err)
			ae = apiErr("InternalError", "We encountered an internal error. Please try again.")
		}
	}
	if q.status != 0 {
		// The status line is out (a keep-alive response): the error goes in the body.
		fmt.Fprintf(q.w, "\n")
		xml.NewEncoder(q.w).Encode(errorBody{Code: ae.Code, Message: ae.Message, Resource: q.r.URL.Path, RequestID: q.id})
		return
	}
	h := q.w.Header()
	h.Set("Content-Type", "application/xml")
	if q.r.Method == http.MethodHead {
		q.w.WriteHeader(ae.Status)
		return
	}
	body, _ := xml.Marshal(errorBody{Code: ae.Code, Message: ae.Message, Resource: q.r.URL.Path, RequestID: q.id})
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	q.w.WriteHeader(ae.Status)
	io.WriteString(q.w, xml.Header)
	q.w.Write(body)
}

// writeXML answers 200 with an XML document.
func writeXML(q *request, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	h := q.w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	q.w.WriteHeader(http.StatusOK)
	io.WriteString(q.w, xml.Header)
	q.w.Write(body)
	return nil
}

// authenticate checks the request's signature and time.
func (s *Server) authenticate(q *request) error {
	sig, err := parseSig(q.r)
	if err != nil {
		return err
	}
	secret, ok := s.secrets[sig.accessKey]
	if !ok {
		return apiErr("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
	}
	if err := sig.checkTime(s.cfg.Now(), s.cfg.MaxClockSkew); err != nil {
		return err
	}
	key, err := verifySig(q.r, sig, secret)
	if err != nil {
		return err
	}
	q.sig, q.sigKey = sig, key
	return nil
}

// route splits the request into bucket and key, path-style or virtual-host-style.
func (s *Server) route(q *request) error {
	path := q.r.URL.Path
	if !strings.HasPrefix(path, "/") {
		return errInvalidRequest("the request path must start with /")
	}
	path = path[1:]
	host := q.r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if d := s.cfg.Domain; d != "" && strings.HasSuffix(host, "."+d) {
		q.bucket = strings.TrimSuffix(host, "."+d)
		q.key = path
	} else {
		q.bucket, q.key, _ = strings.Cut(path, "/")
	}
	if q.bucket != "" && !ValidBucketName(q.bucket) {
		return apiErr("InvalidBucketName", "The specified bucket is not valid.")
	}
	if q.key != "" && !ValidKey(q.key) {
		if len(q.key) > MaxKeyLength {
			return apiErr("KeyTooLongError", "Your key is too long")
		}
		return errInvalidArgument("the object key is not valid UTF-8 or contains NUL")
	}
	return nil
}

func (s *Server) serve(q *request) error {
	if err := s.authenticate(q); err != nil {
		return err
	}
	if err := s.route(q); err != nil {
		return err
	}
	v := q.r.URL.Query()
	m := q.r.Method
	switch {
	case q.bucket == "":
		if m == http.MethodGet {
			return s.listBuckets(q)
		}
	case q.key == "":
		switch m {
		case http.MethodPut:
			return s.createBucket(q)
		case http.MethodDelete:
			return s.deleteBucket(q)
		case http.MethodHead:
			_, err := s.cfg.Index.HeadBucket(q.ctx, q.bucket)
			if err != nil {
				return err
			}
			q.w.WriteHeader(http.StatusOK)
			return nil
		case http.MethodGet:
			switch {
			case v.Has("location"):
				if _, err := s.cfg.Index.HeadBucket(q.ctx, q.bucket); err != nil {
					return err
				}
				region := s.cfg.Region
				if region == DefaultRegion {
					region = ""
				}
				return writeXML(q, locationResult{Xmlns: s3NS, Region: region})
			case v.Has("versioning"):
				if _, err := s.cfg.Index.HeadBucket(q.ctx, q.bucket); err != nil {
					return err
				}
				return writeXML(q, versioningResult{Xmlns: s3NS})
			case v.Has("uploads"):
				return s.listUploads(q, v)
			case v.Get("list-type") == "2":
				return s.listObjects(q, v, true)
			case len(v) == 0 || v.Has("prefix") || v.Has("delimiter") || v.Has("marker") || v.Has("max-keys") || v.Has("encoding-type"):
				return s.listObjects(q, v, false)
			}
			return apiErr("NotImplemented", "This bucket operation is not implemented by the gateway.")
		case http.MethodPost:
			if v.Has("delete") {
				return s.deleteObjects(q)
			}
		}
	default:
		switch m {
		case http.MethodPut:
			switch {
			case v.Has("uploadId") || v.Has("partNumber"):
				if q.r.Header.Get("X-Amz-Copy-Source") != "" {
					return apiErr("NotImplemented", "UploadPartCopy is not implemented by the gateway.")
				}
				return s.uploadPart(q, v)
			case q.r.Header.Get("X-Amz-Copy-Source") != "":
				return s.copyObject(q)
			case len(v) == 0 || onlySigParams(v):
				return s.putObject(q)
			}
			return apiErr("NotImplemented", "This object operation is not implemented by the gateway.")
		case http.MethodGet, http.MethodHead:
			if v.Has("uploadId") {
				if m == http.MethodGet {
					return s.listParts(q, v)
				}
				break
			}
			return s.getObject(q, v)
		case http.MethodDelete:
			if v.Has("uploadId") {
				return s.abortUpload(q, v)
			}
			return s.deleteObject(q)
		case http.MethodPost:
			switch {
			case v.Has("uploads"):
				return s.createUpload(q)
			case v.Has("uploadId"):
				return s.completeUpload(q, v)
			}
		}
	}
	return apiErr("MethodNotAllowed", "The specified method is not allowed against this resource.")
}

// onlySigParams reports whether the query holds only presigned-URL parameters.
func onlySigParams(v url.Values) bool {
	for k := range v {
		if !strings.HasPrefix(k, "X-Amz-") && !strings.HasPrefix(k, "x-amz-") {
			return false
		}
	}
	return true
}

// payload is a request body being read: it enforces the declared length and the
// maximum, computes MD5 (the ETag), and at the end checks x-amz-content-sha256 and
// Content-MD5. Its Read returns the *APIError of a failed check instead of io.EOF, so a
// store reading it fails; err keeps it.
type payload struct {
	r       io.Reader
	md5     hash.Hash
	sha     hash.Hash // nil unless the payload hash is a SHA-256
	wantSHA string
	wantMD5 []byte // nil unless Content-MD5 was given
	size    int64  // declared
	n       int64
	err     error
}

// openPayload prepares the body of an upload of at most max bytes.
func (s *Server) openPayload(q *request, max int64) (*payload, error) {
	h := q.r.Header
	p := &payload{md5: md5.New()}
	if cm := h.Get("Content-Md5"); cm != "" {
		b, err := base64.StdEncoding.DecodeString(cm)
		if err != nil || len(b) != md5.Size {
			return nil, apiErr("InvalidDigest", "The Content-MD5 you specified was invalid.")
		}
		p.wantMD5 = b
	}
	body := io.Reader(q.r.Body)
	switch ph := q.sig.payloadHash; ph {
	case streamingPayload, streamingTrailer, streamingUnsigned:
		dl := h.Get("X-Amz-Decoded-Content-Length")
		n, err := strconv.ParseInt(dl, 10, 64)
		if err != nil || n < 0 {
			return nil, apiErr("MissingContentLength", "You must provide the x-amz-decoded-content-length header with an aws-chunked body.")
		}
		p.size = n
		body = newChunkedReader(q.r.Body, q.sig, q.sigKey, n)
	default:
		if q.r.ContentLength < 0 {
			return nil, apiErr("MissingContentLength", "You must provide the Content-Length HTTP header.")
		}
		p.size = q.r.ContentLength
		if ph != unsignedPayload {
			p.sha = sha256.New()
			p.wantSHA = ph
		}
	}
	if p.size > max {
		return nil, apiErr("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
	}
	p.r = body
	return p, nil
}

func (p *payload) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if left := p.size - p.n; int64(len(b)) > left {
		b = b[:left]
	}
	if len(b) == 0 {
		return 0, p.finish()
	}
	n, err := p.r.Read(b)
	p.md5.Write(b[:n])
	if p.sha != nil {
		p.sha.Write(b[:n])
	}
	p.n += int64(n)
	if err == io.EOF {
		if p.n < p.size {
			p.err = apiErr("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
			return n, p.err
		}
		err = nil
	}
	if err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			err = apiErr("IncompleteBody", "reading the body: "+err.Error())
		}
		p.err = err
	}
	return n, err
}

// finish runs the end-of-body checks once the declared length was read.
func (p *payload) finish() error {
	if cr, ok := p.r.(*chunkedReader); ok {
		// The final chunk and its signature must follow.
		var one [1]byte
		if n, err := cr.Read(one[:]); n != 0 || err != io.EOF {
			if err == nil || err == io.EOF {
				err = apiErr("IncompleteBody", "the aws-chunked body is longer than x-amz-decoded-content-length")
			}
			p.err = err
			return err
		}
	}
	if p.sha != nil && hex.EncodeToString(p.sha.Sum(nil)) != strings.ToLower(p.wantSHA) {
		p.err = apiErr("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
		return p.err
	}
	if p.wantMD5 != nil && string(p.md5.Sum(nil)) != string(p.wantMD5) {
		p.err = apiErr("BadDigest", "The Content-MD5 you specified did not match what we received.")
		return p.err
	}
	p.err = io.EOF
	return io.EOF
}

// store reads the whole payload into the Store; an empty payload is stored nowhere.
func (s *Server) store(q *request, p *payload) (Blob, error) {
	if p.size == 0 {
		_, err := p.Read(nil)
		if err != io.EOF {
			return Blob{}, err
		}
		return Blob{}, nil
	}
	b, err := s.put(q, p)
	if p.err != nil && p.err != io.EOF {
		if err == nil {
			s.release(q, b)
		}
		return Blob{}, p.err
	}
	if err != nil {
		return Blob{}, err
	}
	return b, nil
}

// put stores r through the Store once a store slot is free.
func (s *Server) put(q *request, r io.Reader) (Blob, error) {
	select {
	case s.stores <- struct{}{}:
	case <-q.ctx.Done():
		return Blob{}, q.ctx.Err()
	}
	defer func() { <-s.stores }()
	return s.cfg.Store.Put(q.ctx, r)
}

// release releases blobs no entry refers to any more; a failure is logged, the blob
// then expires at its end epoch.
func (s *Server) release(q *request, bs ...Blob) {
	for _, b := range bs {
		if err := s.cfg.Store.Release(context.WithoutCancel(q.ctx), b); err != nil {
			s.cfg.Logger.Warn("s3: releasing a blob", "blob", b.ID.String(), "err", err)
		}
	}
}

// userMetadata collects the x-amz-meta-* headers, sorted, bounded.
func (s *Server) userMetadata(h http.Header) ([]Meta, error) {
	var out []Meta
	size := 0
	for k, vs := range h {
		lk := strings.ToLower(k)
		name, ok := strings.CutPrefix(lk, "x-amz-meta-")
		if !ok {
			continue
		}
		v := strings.Join(vs, ",")
		size += len(name) + len(v)
		out = append(out, Meta{Name: name, Value: v})
	}
	if size > s.cfg.MaxMetadataSize {
		return nil, apiErr("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.")
	}
	sortMeta(out)
	return out, nil
}

func sortMeta(m []Meta) {
	for i := 1; i < len(m); i++ {
		for j := i; j > 0 && m[j].Name < m[j-1].Name; j-- {
			m[j], m[j-1] = m[j-1], m[j]
		}
	}
}

func httpTime(t time.Time) string { return t.UTC().Format(http.TimeFormat) }
func isoTime(t time.Time) string  { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// newUploadID returns a random upload ID.
func newUploadID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
