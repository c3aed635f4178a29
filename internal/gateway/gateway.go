// Package gateway serves Walrus's publisher and aggregator HTTP API over the client SDK,
// with Walrus's paths and JSON shapes (walrus-spec §6.4), so that scripts written against
// Walrus's HTTP API work unchanged.
//
// # Endpoints
//
//	PUT  /v1/blobs?epochs=N&permanent=true|deletable=true&force=true   (publisher)
//	     body: the blob; answer: {"newlyCreated": ...} or {"alreadyCertified": ...}
//	GET  /v1/blobs/{blobId}                  (aggregator) the blob; Range, ETag, If-None-Match
//	GET  /v1/blobs/by-object-id/{objectId}   (aggregator) the blob of a Blob object; its
//	                                         attributes that are allowed headers become headers
//	GET  /status                             {"status": "ok", ...}
//	GET  /v1/api                             the OpenAPI 3 document (YAML)
//
// A request with a Range header is served from the primary slivers that hold the range
// (client.BlobReader), not from a whole read; when one of them cannot be had, from a whole
// read after all. HEAD fetches only the metadata.
//
// Reads answer with X-Content-Type-Options: nosniff, Cache-Control: public,
// max-age=86400, stale-while-revalidate=3600 and ETag = the quoted blob ID. Errors are
// JSON envelopes {"error": {"code", "status", "message", "details": [{"@type":
// "ErrorInfo", "reason", "domain"}]}} with the status codes of one table (errors.go):
// 400 for bad input, 404 BLOB_NOT_FOUND, 413 for a body over the limit, 429 when the
// concurrency limit is reached, 503 BLOB_UNAVAILABLE and for transient failures.
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
// and status, durations, bytes stored and read, requests in flight); serving them, on a
// separate listener, is the caller's job.
//
// Serve runs a Handler (and a metrics handler) on listeners until a context ends, then
// shuts down cleanly.
//
// A Handler is safe for concurrent use and never panics on any request: a panic in a
// handler is answered with a 500 error.
package gateway

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Blobs is what the gateway needs of the SDK; *client.Client implements it.
type Blobs interface {
	Store(ctx context.Context, data []byte, opts client.StoreOptions) (*client.StoreResult, error)
	Read(ctx context.Context, id redstuff.BlobID, opts client.ReadOptions) ([]byte, error)
	BlobObject(ctx context.Context, id chain.ObjectID) (*chain.Blob, error)
}

// Defaults of Config.
const (
	DefaultMaxBodySize         = 10 << 20 // 10 MiB, as Walrus's publisher
	DefaultMaxConcurrentStores = 8
	DefaultMaxConcurrentReads  = 256
	DefaultEpochs              = 1
)

// DefaultAllowedHeaders are the blob attributes served as response headers on reads by
// object ID (Walrus's default list, without authorization).
var DefaultAllowedHeaders = []string{
	"content-type", "content-encoding", "content-disposition", "content-language", "content-location", "link",
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
	// DefaultEpochs is the storage duration of a PUT without ?epochs; 0 means
	// DefaultEpochs.
	DefaultEpochs uint32
	// AllowedHeaders are the attribute keys (case-insensitive) served as headers on reads
	// by object ID; nil means DefaultAllowedHeaders.
	AllowedHeaders []string
	// Health, if set, is checked by GET /status (503 when it fails), for example that the
	// chain answers.
	Health func(ctx context.Context) error
	// Logger receives request failures; nil discards them.
	Logger *slog.Logger
	// Registerer receives the handler's Prometheus metrics; nil means no metrics.
	Registerer prometheus.Registerer
}

// Validate checks the configuration and names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Blobs == nil:
		return errors.New("gateway: Config.Blobs is required")
	case !c.Publisher && !c.Aggregator:
		return errors.New("gateway: Config.Publisher or Config.Aggregator must be set")
	case c.MaxBodySize < 0:
		return errors.New("gateway: Config.MaxBodySize is negative")
	case c.MaxConcurrentStores < 0 || c.MaxConcurrentReads < 0:
		return errors.New("gateway: Config.MaxConcurrentStores or MaxConcurrentReads is negative")
	}
	return nil
}

// Handler serves the publisher and aggregator API.
type Handler struct {
	cfg     Config
	log     *slog.Logger
	stores  chan struct{}
	reads   chan struct{}
	allowed map[string]bool
	mux     *http.ServeMux
	metrics *metrics
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
	if cfg.AllowedHeaders == nil {
		cfg.AllowedHeaders = DefaultAllowedHeaders
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		cfg: cfg, log: cfg.Logger,
		stores: make(chan struct{}, cfg.MaxConcurrentStores), reads: make(chan struct{}, cfg.MaxConcurrentReads),
		allowed: make(map[string]bool), mux: http.NewServeMux(),
	}
	for _, k := range cfg.AllowedHeaders {
		h.allowed[strings.ToLower(k)] = true
	}
	m, err := newMetrics(cfg.Registerer, cfg.Blobs)
	if err != nil {
		return nil, err
	}
	h.metrics = m
	h.route("/status", "status", h.status, http.MethodGet)
	h.route("/v1/api", "api", h.openAPI, http.MethodGet)
	if cfg.Publisher {
		h.route("/v1/blobs", "store", h.store, http.MethodPut)
	}
	if cfg.Aggregator {
		h.route("/v1/blobs/by-object-id/{objectId}", "read_by_object", h.readByObject, http.MethodGet)
		h.route("/v1/blobs/{blobId}", "read", h.read, http.MethodGet)
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.metrics.observe("unknown", http.StatusNotFound, time.Now())
		writeError(w, errNotFoundPath)
	})
	return h, nil
}

// route registers fn for pattern, for the given method (and HEAD for GET), with metrics;
// other methods get 405.
func (h *Handler) route(pattern, name string, fn func(http.ResponseWriter, *http.Request) int, method string) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			allow := method
			if method == http.MethodGet {
				allow += ", " + http.MethodHead
			}
			w.Header().Set("Allow", allow)
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
	if r.Method == http.MethodOptions || r.Method == http.MethodGet || r.Method == http.MethodHead {
		w.Header().Set("Access-Control-Allow-Origin", "*")
	}
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "*")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.mux.ServeHTTP(w, r)
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
	Error      string `json:"error,omitempty"`
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) int {
	body := statusBody{Status: "ok", Publisher: h.cfg.Publisher, Aggregator: h.cfg.Aggregator}
	code := http.StatusOK
	if h.cfg.Health != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := h.cfg.Health(ctx); err != nil {
			body.Status, body.Error, code = "unavailable", err.Error(), http.StatusServiceUnavailable
		}
	}
	writeJSON(w, code, body)
	return code
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
		b = []byte(`{"error":{"code":500,"status":"INTERNAL","message":"cannot encode the answer"}}`)
		code = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// parseBool parses an optional boolean query parameter.
func parseBool(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("INVALID_ARGUMENT", fmt.Sprintf("query parameter %s=%q: want true or false", name, v))
	}
	return b, nil
}
