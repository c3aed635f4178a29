// Package gateway serves Walrus's publisher and aggregator HTTP API over the client SDK,
// with Walrus's paths and JSON shapes (walrus-spec §6.4), so that scripts written against
// Walrus's HTTP API work unchanged.
//
// # Endpoints
//
//	PUT  /v1/blobs?epochs=N&permanent=true|deletable=true&force=true   (publisher)
//	          &send_object_to=0x…&share=true&reuse_resources=true&encoding_type=RS2
//	     body: the blob; answer: {"newlyCreated": ...} or {"alreadyCertified": ...}
//	GET  /v1/blobs/{blobId}                  (aggregator) the blob; Range, ETag, If-None-Match
//	GET  /v1/blobs/by-object-id/{objectId}   (aggregator) the blob of a Blob object; its
//	                                         attributes that are allowed headers become headers
//	GET  /v1/blobs/{blobId}/byte-range?start=S&length=N   (aggregator) bytes [S, S+N), 200
//	GET  /v1alpha/blobs/{blobId}/stream      (aggregator) the whole blob, streamed, 200
//	GET  /v1alpha/blobs/concat?ids=A,B,...   (aggregator) blobs (IDs or object IDs) one
//	POST /v1alpha/blobs/concat {"ids": [...]}   after the other, streamed, 200
//	PUT  /v1/quilts?epochs=N&...             (publisher) multipart/form-data: each file
//	                                         part named by its identifier, an optional
//	                                         _metadata part [{"identifier", "tags"}];
//	                                         answer: {"blobStoreResult", "storedQuiltBlobs"}
//	GET  /v1/quilts/{quiltId}/patches        (aggregator) [{"identifier", "patch_id", "tags"}]
//	GET  /v1/blobs/by-quilt-patch-id/{id}    (aggregator) one patch, with
//	GET  /v1/blobs/by-quilt-id/{quiltId}/{identifier}   X-Quilt-Patch-Identifier and the
//	                                         patch's tags that are allowed headers
//	GET  /status                             {"status": "ok", ...}
//	GET  /v1/api                             the OpenAPI 3 document (YAML)
//
// Every store parameter is honoured or refused with 400: unknown and repeated
// parameters, reuse_resources=false (owned resources are always reused), an encoding
// other than RS2 (also named RedStuff), and share with send_object_to. send_object_to
// sends the new Blob object to that address, share makes it shared; an already certified
// blob creates no object and sends nothing. A wrong method on a known path gets 405 with
// an Allow header (empty when the route is not served: a publisher does not read, an
// aggregator does not store); an unknown path 404.
//
// # Who may store
//
// With Config.Auth (Walrus's authenticated publisher, --jwt-decode-secret) every store
// needs an Authorization: Bearer JWT signed with the shared HMAC secret: exp and jti are
// required, the token is single-use (its jti is remembered until it expires, in a
// bounded cache), and the store must comply with its epochs, max_epochs, size, max_size
// and send_object_to claims. Only then may web pages of other origins store (CORS allows
// PUT and the Authorization header).
//
// Without it stores are anonymous, and what they may spend is bounded (Config.Anonymous):
// per store, epochs and size; per Window, the byte-epochs ((size + StoreOverhead) ×
// epochs) of each client address and of all clients together, as token buckets. Over a
// per-store cap a store gets 400 or 403, over a budget 429, before anything is spent.
// Browsers are not allowed to PUT cross-origin, and an anonymous PUT that carries an
// Origin header (as every PUT a browser sends does) gets 403, so a web page the operator
// visits cannot spend the publisher's wallet, not even through DNS rebinding.
//
// # Reads
//
// Every read streams: the blob is opened (its metadata), its first window of rows
// (primary slivers, client.BlobReader) is fetched before the status line, then the body
// is written row by row, each row as soon as it and the rows before it are verified,
// while the rows after it are fetched in parallel (RangeWriter), a window's worth at
// most. No byte of a row is sent before the row is verified against the blob ID; a row
// that fails is rebuilt from recovery symbols (or, for a blob that fits in a window, the
// blob is read whole). The rows all reads hold at once are bounded by
// Config.MaxReadBytes: a read reserves its window (Config.ReadWindow, or the blob if
// smaller) before fetching, waits at most Config.MaxReadWait for it and otherwise gets
// 429. HEAD fetches only the metadata and reserves nothing. A failure before the first
// byte is answered with its status; after it, the body is cut short (the connection is
// closed before Content-Length bytes), so a client sees a transfer error, never a
// complete body with wrong bytes.
//
// Reads answer with X-Content-Type-Options: nosniff, Cache-Control: public,
// max-age=86400, stale-while-revalidate=3600 and ETag = the quoted blob ID, and may be
// read by pages of any origin. Their Content-Type is chosen as Walrus does: the request's
// Accept if it has no wildcard, else a GET's own Content-Type, else (by object ID) the
// blob object's content-type attribute, else application/octet-stream. The blob reads
// (by blob ID, by object ID, concat) take Walrus's strict_consistency_check (the blob is
// read whole, re-encoded and its blob ID compared; its size is reserved in the read
// buffer first) and skip_consistency_check (no check beyond each sliver's proof).
//
// # Errors
//
// Every error is Walrus's JSON envelope {"error": {"code", "status", "message",
// "details": [{"@type": "ErrorInfo", "reason", "domain", "metadata": {}}]}}, from one
// table (errors.go, ErrorTable) whose (code, status) pairs are all in Walrus's table
// (WalrusStatus) except 405 for a wrong method and 412 for a failed If-Match, which Walrus
// sends without a body: 400 for bad input (INVALID_ARGUMENT) and stores that break their
// token's claims (FAILED_PRECONDITION), 401 without a valid token, 403 for an anonymous
// store from a web page (PERMISSION_DENIED) and for a body or blob over a limit
// (SIZE_EXCEEDED), 404 BLOB_NOT_FOUND and OBJECT_NOT_FOUND, 416 for a Range that cannot
// be satisfied, 429 when a concurrency limit, the read buffer or an anonymous budget is
// exhausted and for a reused token, 503 BLOB_UNAVAILABLE and other transient failures,
// 504 INSUFFICIENT_CONFIRMATIONS, BODY_TOO_SLOW and timeouts.
//
// # Limits
//
// Store bodies are refused beyond Config.MaxBodySize (before reading when the length is
// declared); stores and reads in flight are bounded (Config.MaxConcurrentStores,
// Config.MaxConcurrentReads) and requests beyond the bound get 429 at once, not a queue.
//
// # Metrics
//
// With Config.Registerer set, the handler registers Prometheus metrics (requests by route
// and status, durations, bytes stored and read, requests in flight, read buffer bytes
// reserved); serving them, on a separate listener, is the caller's job.
//
// Serve runs a Handler (and a metrics handler) on listeners until a context ends, then
// shuts down cleanly.
//
// A Handler is safe for concurrent use and never panics on any request: a panic in a
// handler is answered with a 500 error.
package gateway

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/quilt"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Blobs is what the gateway needs of the SDK; SDK adapts a *client.Client to it.
type Blobs interface {
	// Store stores a blob (client.Client.Store).
	Store(ctx context.Context, data []byte, opts client.StoreOptions) (*client.StoreResult, error)
	// Open opens a certified blob for reading in parts (client.Client.OpenBlob).
	Open(ctx context.Context, id redstuff.BlobID, opts client.ReadOptions) (Stream, error)
	// BlobObject returns a Blob object (client.Client.BlobObject).
	BlobObject(ctx context.Context, id chain.ObjectID) (*chain.Blob, error)
	// StoreQuilt stores files as one quilt (client.Client.StoreQuilt).
	StoreQuilt(ctx context.Context, patches []quilt.Patch, opts client.StoreOptions) (*client.QuiltStoreResult, error)
	// OpenQuilt opens a quilt and reads its index (client.Client.OpenQuilt).
	OpenQuilt(ctx context.Context, id redstuff.BlobID, opts client.ReadOptions) (QuiltReader, error)
}

// QuiltReader is an open quilt, used by one goroutine at a time; *client.QuiltReader
// implements it. ReadPatch fetches only the columns of the patch.
type QuiltReader interface {
	Index() *quilt.Index
	// ColumnSize is the byte length of one column (a secondary sliver).
	ColumnSize() int64
	ReadPatch(p quilt.PatchInfo) (*quilt.Patch, error)
}

// OpenQuilt implements Blobs with client.Client.OpenQuilt.
func (s SDK) OpenQuilt(ctx context.Context, id redstuff.BlobID, opts client.ReadOptions) (QuiltReader, error) {
	return s.Client.OpenQuilt(ctx, id, opts)
}

// Stream is an open blob, read by one goroutine at a time; *client.BlobReader implements
// it. The gateway reads it in windows of whole rows: Prefetch(off, n) fetches the rows
// holding [off, off+n) and drops those an earlier call held, so that a stream holds at
// most the rows of its last Prefetch (or of its last ReadAt outside them); ReadAt within
// them needs no fetch. Close drops everything.
type Stream interface {
	io.ReaderAt
	Size() int64
	// RowSize is the length of a row; 0 means the stream holds the whole blob.
	RowSize() int64
	Prefetch(off, n int64) error
	Close() error
}

// RangeWriter is implemented by a Stream that writes a range of its blob straight to a
// writer, fetching rows ahead while it writes earlier ones and verifying each row before
// its first byte goes out, holding at most window bytes of rows (client.FileReader's
// WriteRange). The gateway sends bodies through it when a Stream has it, else through
// Prefetch and ReadAt a window at a time.
type RangeWriter interface {
	WriteRange(w io.Writer, off, n, window int64) (int64, error)
}

// SDK adapts a *client.Client to Blobs.
type SDK struct{ *client.Client }

// Open implements Blobs with client.Client.OpenFile: a chunk manifest is served as the
// file it describes.
func (s SDK) Open(ctx context.Context, id redstuff.BlobID, opts client.ReadOptions) (Stream, error) {
	br, err := s.OpenFile(ctx, id, opts)
	if err != nil {
		return nil, err
	}
	return br, nil
}

// Defaults of Config.
const (
	DefaultMaxBodySize         = 10 << 20 // 10 MiB, as Walrus's publisher
	DefaultMaxConcurrentStores = 8
	DefaultMaxConcurrentReads  = 256
	DefaultEpochs              = 1
	// DefaultMaxReadBytes bounds the blob bytes all reads hold at once.
	DefaultMaxReadBytes = 1 << 30
	// DefaultReadWindow is the bytes one read fetches ahead (rounded to whole rows).
	DefaultReadWindow = 16 << 20
	// DefaultMaxReadWait is how long a read waits for its share of MaxReadBytes.
	DefaultMaxReadWait = 10 * time.Second
	// DefaultMaxBodyBuffer bounds the store bodies held at once.
	DefaultMaxBodyBuffer = 512 << 20
	// DefaultMaxStoreMemory bounds the memory of the stores running at once: room for
	// DefaultMaxConcurrentStores stores of DefaultMaxBodySize and more (StoreMemory).
	DefaultMaxStoreMemory = 1 << 30
	// DefaultMinBodyRate and DefaultBodyGrace: a store's body of n bytes must arrive
	// within DefaultBodyGrace + n / DefaultMinBodyRate seconds (10 MiB: 3 min 10 s).
	DefaultMinBodyRate = 64 << 10
	DefaultBodyGrace   = 30 * time.Second
)

// Defaults of AnonymousLimits.
const (
	DefaultAnonymousMaxEpochs    = 10
	DefaultAnonymousWindow       = time.Hour
	DefaultAnonymousClientBudget = 1 << 30  // byte-epochs per window: 100 blobs of 10 MiB for 1 epoch
	DefaultAnonymousGlobalBudget = 10 << 30 // byte-epochs per window, all clients together
	DefaultAnonymousMaxClients   = 10_000
	// StoreOverhead is added to the size of every anonymous store when charging the
	// budgets, for its fixed costs (metadata, transactions): small blobs are not free.
	StoreOverhead = 64 << 10
)

// DefaultAllowedHeaders are the blob attributes served as response headers on reads by
// object ID (Walrus's default list, without authorization).
var DefaultAllowedHeaders = []string{
	"content-type", "content-encoding", "content-disposition", "content-language", "content-location", "link",
}

// AnonymousLimits bound what stores without authentication (Config.Auth nil) may spend.
// A store is charged (size + StoreOverhead) × epochs "byte-epochs" against a budget of the
// client (its IP address, or the /64 of an IPv6 address; forwarded headers are not
// trusted) and a global one, both refilled continuously over Window; a store either
// budget cannot pay gets 429 before anything is spent, and a store that fails with a
// client error (4xx) is refunded. The zero value gives the documented defaults.
type AnonymousLimits struct {
	// MaxEpochs bounds the epochs of one store (400 beyond); 0 means
	// DefaultAnonymousMaxEpochs.
	MaxEpochs uint32
	// MaxSize bounds the size of one blob (403 beyond); 0 means Config.MaxBodySize.
	MaxSize int64
	// Window is the time in which the budgets refill; 0 means DefaultAnonymousWindow.
	Window time.Duration
	// ClientBudget and GlobalBudget are the byte-epochs one client and all clients
	// together may store per Window; defaults DefaultAnonymousClientBudget and
	// DefaultAnonymousGlobalBudget.
	ClientBudget, GlobalBudget int64
	// MaxClients bounds the clients whose budgets are remembered at once (a client's
	// budget is forgotten once full again); when all are in use, new clients get 429.
	// 0 means DefaultAnonymousMaxClients.
	MaxClients int
}

// Config configures a Handler. Blobs and at least one of Publisher and Aggregator are
// required; the other fields have the documented defaults when zero.
type Config struct {
	// Blobs stores and reads blobs (required).
	Blobs Blobs
	// Publisher serves PUT /v1/blobs; Aggregator serves the GET endpoints of blobs.
	Publisher, Aggregator bool
	// MaxBodySize bounds a stored blob; 0 means DefaultMaxBodySize.
	MaxBodySize int64
	// MaxConcurrentStores and MaxConcurrentReads bound the requests served at once;
	// defaults DefaultMaxConcurrentStores and DefaultMaxConcurrentReads.
	MaxConcurrentStores, MaxConcurrentReads int
	// MaxBodyBuffer bounds the bytes of store bodies received and held at once, over
	// all requests (503 beyond); 0 means DefaultMaxBodyBuffer.
	MaxBodyBuffer int64
	// MaxStoreMemory bounds the memory of the stores running at once, over all
	// requests: a store, once its body is in and it holds one of MaxConcurrentStores,
	// reserves StoreMemory of its size (its body and its encoding) and waits, as long as
	// its request lasts, until that fits; it gives it back once its uploads have ended,
	// the tail uploads after its answer included (client.WithUploadGroup). A store
	// needing more than MaxStoreMemory runs when no other store holds any, so that none
	// is refused for its size. 0 means DefaultMaxStoreMemory.
	MaxStoreMemory int64
	// MinBodyRate (bytes per second) and BodyGrace bound the time a store's body may
	// take: BodyGrace plus its size (declared, or MaxBodySize) over MinBodyRate; a slower
	// body is cut off (504 BODY_TOO_SLOW). A store takes one of MaxConcurrentStores only once its body
	// has arrived. Zero means DefaultMinBodyRate and DefaultBodyGrace.
	MinBodyRate int64
	BodyGrace   time.Duration
	// DefaultEpochs is the storage duration of a PUT without ?epochs; 0 means
	// DefaultEpochs.
	DefaultEpochs uint32
	// Auth, if set, requires a JWT for every store (Walrus's authenticated publisher)
	// and allows PUT from web pages of any origin (CORS). Without it stores are
	// anonymous, bounded by Anonymous, and browsers refuse cross-origin PUT.
	Auth *AuthConfig
	// Anonymous bounds anonymous stores; ignored with Auth.
	Anonymous AnonymousLimits
	// MaxReadBytes bounds the blob bytes that reads hold in memory at once, over all
	// requests; 0 means DefaultMaxReadBytes. A read reserves its window (ReadWindow, or
	// the whole blob if smaller) before fetching anything.
	MaxReadBytes int64
	// ReadWindow is how much of a blob a read fetches at once, rounded down to whole
	// rows (at least one); 0 means DefaultReadWindow.
	ReadWindow int64
	// MaxReadWait bounds how long a read waits for its window before answering 429; 0
	// means DefaultMaxReadWait, negative means not at all.
	MaxReadWait time.Duration
	// AllowedHeaders are the attribute keys (case-insensitive) served as headers on reads
	// by object ID; nil means DefaultAllowedHeaders.
	AllowedHeaders []string
	// Health, if set, is checked by GET /status (503 when it fails), for example that the
	// chain answers.
	Health func(ctx context.Context) error
	// Now is the clock of token expiry and anonymous budgets; nil means time.Now.
	Now func() time.Time
	// Logger receives request failures; nil discards them.
	Logger *slog.Logger
	// Registerer receives the handler's Prometheus metrics; nil means no metrics.
	Registerer prometheus.Registerer
	// OnHeldMemory, if set, is called with the bytes of memory the handler holds by
	// design, once by New and then each time they change (calls are serialised, in
	// order): StoreMemory of each running store (not capped by MaxStoreMemory) and its
	// body buffer's room beyond the body, from its reservation until its uploads have
	// ended; the buffers of store bodies being read,
	// until their store reserves its memory; the kept body buffer; the read buffer
	// reserved; and what Blobs keeps between stores if it implements Kept (an SDK does:
	// the client's kept sliver buffers). A process sets its soft memory limit from it
	// (walrus publisher, devnet), so that the garbage collector runs before the heap
	// grows to twice what is kept. It must not call back into the handler.
	OnHeldMemory func(bytes int64)
}

// Validate checks the configuration and names the first bad field.
func (c Config) Validate() error {
	a := c.Anonymous
	switch {
	case c.Blobs == nil:
		return errors.New("gateway: Config.Blobs is required")
	case !c.Publisher && !c.Aggregator:
		return errors.New("gateway: Config.Publisher or Config.Aggregator must be set")
	case c.MaxBodySize < 0:
		return errors.New("gateway: Config.MaxBodySize is negative")
	case c.MaxConcurrentStores < 0 || c.MaxConcurrentReads < 0:
		return errors.New("gateway: Config.MaxConcurrentStores or MaxConcurrentReads is negative")
	case c.MaxReadBytes < 0 || c.ReadWindow < 0:
		return errors.New("gateway: Config.MaxReadBytes or ReadWindow is negative")
	case c.MaxBodyBuffer < 0 || c.MinBodyRate < 0 || c.BodyGrace < 0 || c.MaxStoreMemory < 0:
		return errors.New("gateway: Config.MaxBodyBuffer, MaxStoreMemory, MinBodyRate or BodyGrace is negative")
	case a.MaxSize < 0 || a.Window < 0 || a.ClientBudget < 0 || a.GlobalBudget < 0 || a.MaxClients < 0:
		return errors.New("gateway: a field of Config.Anonymous is negative")
	}
	if c.Auth != nil {
		auth := *c.Auth
		return auth.validate()
	}
	return nil
}

// Handler serves the publisher and aggregator API.
type Handler struct {
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	stores    chan struct{}
	reads     chan struct{}
	readBytes readBudget
	storeMem  *semaphore.Weighted // Config.MaxStoreMemory
	mem       *heldMemory         // Config.OnHeldMemory; nil: none
	bodies    bodyBuffer
	spareBody spareBody // the buffer of a finished store's body, for the next
	allowed   map[string]bool
	mux       *http.ServeMux
	metrics   *metrics
	auth      *AuthConfig  // nil: anonymous stores
	replay    *replayCache // with auth
	budget    *budget      // without auth
}

// New returns a Handler.
func New(cfg Config) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxBodySize == 0 {
		cfg.MaxBodySize = DefaultMaxBodySize
	}
	if cfg.MaxConcurrentStores == 0 {
		cfg.MaxConcurrentStores = DefaultMaxConcurrentStores
	}
	if cfg.MaxConcurrentReads == 0 {
		cfg.MaxConcurrentReads = DefaultMaxConcurrentReads
	}
	if cfg.DefaultEpochs == 0 {
		cfg.DefaultEpochs = DefaultEpochs
	}
	if cfg.MaxReadBytes == 0 {
		cfg.MaxReadBytes = DefaultMaxReadBytes
	}
	if cfg.ReadWindow == 0 {
		cfg.ReadWindow = DefaultReadWindow
	}
	if cfg.MaxReadWait == 0 {
		cfg.MaxReadWait = DefaultMaxReadWait
	}
	if cfg.MaxBodyBuffer == 0 {
		cfg.MaxBodyBuffer = DefaultMaxBodyBuffer
	}
	if cfg.MaxStoreMemory == 0 {
		cfg.MaxStoreMemory = DefaultMaxStoreMemory
	}
	if cfg.MinBodyRate == 0 {
		cfg.MinBodyRate = DefaultMinBodyRate
	}
	if cfg.BodyGrace == 0 {
		cfg.BodyGrace = DefaultBodyGrace
	}
	a := &cfg.Anonymous
	if a.MaxEpochs == 0 {
		a.MaxEpochs = DefaultAnonymousMaxEpochs
	}
	if a.MaxSize == 0 || a.MaxSize > cfg.MaxBodySize {
		a.MaxSize = cfg.MaxBodySize
	}
	if a.Window == 0 {
		a.Window = DefaultAnonymousWindow
	}
	if a.ClientBudget == 0 {
		a.ClientBudget = DefaultAnonymousClientBudget
	}
	if a.GlobalBudget == 0 {
		a.GlobalBudget = DefaultAnonymousGlobalBudget
	}
	if a.MaxClients == 0 {
		a.MaxClients = DefaultAnonymousMaxClients
	}
	if cfg.AllowedHeaders == nil {
		cfg.AllowedHeaders = DefaultAllowedHeaders
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{
		cfg: cfg, log: cfg.Logger, now: cfg.Now,
		stores: make(chan struct{}, cfg.MaxConcurrentStores), reads: make(chan struct{}, cfg.MaxConcurrentReads),
		storeMem: semaphore.NewWeighted(cfg.MaxStoreMemory), bodies: bodyBuffer{max: cfg.MaxBodyBuffer},
		allowed: make(map[string]bool), mux: http.NewServeMux(),
	}
	h.mem = newHeldMemory(cfg.OnHeldMemory, cfg.Blobs)
	h.readBytes = readBudget{sem: semaphore.NewWeighted(cfg.MaxReadBytes), mem: h.mem}
	h.spareBody.mem = h.mem
	if cfg.Auth != nil {
		auth := *cfg.Auth
		if err := auth.validate(); err != nil {
			return nil, err
		}
		auth.Secret = bytes.Clone(auth.Secret)
		h.auth, h.replay = &auth, newReplayCache(auth.ReplayCacheSize)
	} else {
		h.budget = newBudget(a.Window, a.GlobalBudget, a.ClientBudget, a.MaxClients)
	}
	for _, k := range cfg.AllowedHeaders {
		h.allowed[strings.ToLower(k)] = true
	}
	m, err := newMetrics(cfg.Registerer, cfg.Blobs)
	if err != nil {
		return nil, err
	}
	h.metrics = m
	h.route("/status", "status", h.status, http.MethodGet, true)
	h.route("/v1/api", "api", h.openAPI, http.MethodGet, true)
	h.route("/v1/blobs", "store", h.store, http.MethodPut, cfg.Publisher)
	h.route("/v1/blobs/by-object-id/{objectId}", "read_by_object", h.readByObject, http.MethodGet, cfg.Aggregator)
	h.route("/v1/blobs/{blobId}", "read", h.read, http.MethodGet, cfg.Aggregator)
	// {op} rather than byte-range: a literal segment there would conflict with
	// by-object-id/{objectId}.
	h.route("/v1/blobs/{blobId}/{op}", "read_byte_range", h.readByteRange, http.MethodGet, cfg.Aggregator)
	h.route("/v1alpha/blobs/{blobId}/stream", "read_stream", h.readStream, http.MethodGet, cfg.Aggregator)
	h.route("/v1alpha/blobs/concat", "read_concat", h.readConcat, http.MethodGet+","+http.MethodPost, cfg.Aggregator)
	h.route("/v1/quilts", "store_quilt", h.storeQuilt, http.MethodPut, cfg.Publisher)
	h.route("/v1/quilts/{quiltId}/patches", "list_patches", h.listPatches, http.MethodGet, cfg.Aggregator)
	h.route("/v1/blobs/by-quilt-patch-id/{patchId}", "read_quilt_patch", h.readPatchByID, http.MethodGet, cfg.Aggregator)
	h.route("/v1/blobs/by-quilt-id/{quiltId}/{identifier...}", "read_quilt_patch_by_identifier", h.readPatchByIdentifier, http.MethodGet, cfg.Aggregator)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.metrics.observe("unknown", http.StatusNotFound, time.Now())
		writeError(w, errNotFoundPath)
	})
	return h, nil
}

// route registers fn for pattern, for the given method (and HEAD for GET), with metrics.
// Other methods get 405 with an Allow header, and so does every method when the route
// is not served (enabled false: this handler is only a publisher or only an aggregator);
// its Allow header is then empty, as RFC 9110 says for a resource disabled by
// configuration.
// method may list several methods separated by commas.
func (h *Handler) route(pattern, name string, fn func(http.ResponseWriter, *http.Request) int, method string, enabled bool) {
	methods := strings.Split(method, ",")
	if slices.Contains(methods, http.MethodGet) {
		methods = append(methods, http.MethodHead)
	}
	allow := ""
	if enabled {
		allow = strings.Join(methods, ", ")
	}
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if !enabled || !slices.Contains(methods, r.Method) {
			w.Header()["Allow"] = []string{allow}
			writeError(w, errMethod)
			h.metrics.observe(name, http.StatusMethodNotAllowed, start)
			return
		}
		code := fn(w, r)
		h.metrics.observe(name, code, start)
	})
}

// ServeHTTP implements http.Handler, answering a panic with a 500 error.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("gateway: panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p)
			writeError(w, errInternal)
		}
	}()
	if r.Method == http.MethodOptions {
		h.preflight(w, r)
		return
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead || (r.Method == http.MethodPut && h.auth != nil) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Expose-Headers", "Content-Length, Content-Range, Accept-Ranges, ETag")
	}
	h.mux.ServeHTTP(w, r)
}

// preflight answers a CORS preflight (and any OPTIONS request). Web pages of any origin
// may read (GET, HEAD); they may store (PUT) only when stores need a token (Config.Auth),
// since otherwise any page the operator visits could spend the publisher's wallet. A
// preflight for a method not allowed gets no CORS headers, so the browser refuses the
// request.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request) {
	methods := []string{http.MethodGet, http.MethodHead}
	if h.cfg.Publisher && h.auth != nil {
		methods = append(methods, http.MethodPut)
	}
	want := r.Header.Get("Access-Control-Request-Method")
	if want == "" || slices.Contains(methods, want) {
		hd := w.Header()
		hd.Set("Access-Control-Allow-Origin", "*")
		hd.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
		hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Range, If-None-Match")
		hd.Set("Access-Control-Max-Age", "600")
	}
	w.Header().Set("Allow", strings.Join(append(methods, http.MethodOptions), ", "))
	w.WriteHeader(http.StatusNoContent)
}

//go:embed openapi.yaml
var openAPIDoc []byte

func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) int {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPIDoc)))
	if r.Method != http.MethodHead {
		w.Write(openAPIDoc)
	}
	return http.StatusOK
}

// statusBody is the answer of GET /status.
type statusBody struct {
	Status     string `json:"status"`
	Publisher  bool   `json:"publisher"`
	Aggregator bool   `json:"aggregator"`
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) int {
	if h.cfg.Health != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := h.cfg.Health(ctx); err != nil {
			return writeError(w, fail(ErrUnhealthy, "unhealthy: %v", err))
		}
	}
	writeJSON(w, http.StatusOK, statusBody{Status: "ok", Publisher: h.cfg.Publisher, Aggregator: h.cfg.Aggregator})
	return http.StatusOK
}

// acquire takes a slot of sem without waiting.
func acquire(sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
		return false
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":{"code":500,"status":"INTERNAL","message":"cannot encode the answer",` +
			`"details":[{"@type":"ErrorInfo","reason":"INTERNAL","domain":"` + Domain + `","metadata":{}}]}}`)
		code = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// parseBool parses an optional boolean query parameter.
func parseBool(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest(ErrInvalidArgument, fmt.Sprintf("query parameter %s=%q: want true or false", name, v))
	}
	return b, nil
}
