package api

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"

	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// Options configures the API. The zero value is valid: every field has a documented
// default.
type Options struct {
	// Logger receives request failures; nil discards them.
	Logger *slog.Logger
	// MaxConcurrentRequests bounds the requests without a body (GET, HEAD, OPTIONS, and
	// any method the API does not serve) handled at once; more are refused with 429. PUT
	// and POST requests are not counted: while their body arrives they hold only the
	// bytes received (MaxUploadBytes), and then take slots of their own, so clients that
	// stall in their bodies cannot use this limit up either. 0 means 1024.
	MaxConcurrentRequests int
	// MaxConcurrentUploads bounds the uploads (PUT, and POST of inconsistency proofs)
	// that verify and store at once. An upload takes a slot only once its body has
	// arrived (a batched upload, whose slivers are verified as they stream in by the
	// node's verification workers, before it commits), so that a client that sends
	// headers and stalls holds none. An upload that finds no slot free waits for one
	// for at most UploadSlotWait, then gets 429. 0 means 4·GOMAXPROCS.
	MaxConcurrentUploads int
	// UploadSlotWait bounds the wait of an upload whose body has arrived for a slot of
	// MaxConcurrentUploads. 0 means 10 s.
	UploadSlotWait time.Duration
	// MinBodyRate and BodyGrace bound how slowly a request body may arrive: the whole
	// body must be read within BodyGrace + Content-Length/MinBodyRate of the handler
	// starting to read it (a body without a Content-Length is allowed its endpoint's
	// limit), or the read fails and the request gets 504 (storagenode.ErrBodyTimeout).
	// The deadline is the connection's read deadline (http.ResponseController); it
	// replaces ReadTimeout for the body. Zero means 64 KiB/s and 10 s.
	MinBodyRate int64
	BodyGrace   time.Duration
	// MaxConcurrentSymbolRequests bounds the recovery symbol requests served at once,
	// which may expand slivers; more are refused with 429. 0 means 4·GOMAXPROCS.
	MaxConcurrentSymbolRequests int
	// MaxUploadBytes bounds the bytes of upload bodies being received at once (a pending
	// upload holds its slivers in memory; an upload of a registered blob writes them to
	// the segment file in chunks as they arrive). They are counted as they arrive, so a client holds only as much of the budget
	// as it has sent; an upload whose declared length does not fit in what is free is
	// refused with 429 before its body is read, and one that finds the budget used up
	// while its body arrives gets 429 then. 0 means 1 GiB.
	MaxUploadBytes int64
	// MaxDecodingSymbolBytes bounds the symbol bytes of one decoding symbol answer; a
	// request for more gets 400 (INVALID_FILTER). 0 means 64 MiB.
	MaxDecodingSymbolBytes int64
	// MaxSymbolsPerRequest bounds the symbol IDs of one recovery symbol request. 0 means
	// the number of shards.
	MaxSymbolsPerRequest int

	// ShardOwners tells who may sync which shard: POST /v1/migrate/sync_shard serves only
	// requests signed by the owner of the shard in the request's epoch. Nil disables the
	// endpoint (503).
	ShardOwners ShardOwners
	// MaxSyncShardSlivers caps the slivers of one sync-shard answer; 0 means 1000.
	MaxSyncShardSlivers int
	// MaxSyncShardBytes caps the sliver bytes of one sync-shard answer (an answer holds at
	// least one sliver); 0 means 64 MiB.
	MaxSyncShardBytes int64
	// MaxConcurrentSyncShard bounds the sync-shard requests served at once, a limit of
	// their own: a request takes a slot after its small body has been read (within
	// BodyGrace) and parsed and its epoch checked, and holds it while its signature is
	// verified and the answer is built; more are refused with 429. 0 means 10.
	MaxConcurrentSyncShard int

	// ChallengeMembers tells who may fetch this node's storage challenge answers: POST
	// /v1/challenges/answers serves only committee members of the challenge's epoch. Nil
	// disables the endpoint (503).
	ChallengeMembers CommitteeMembers
	// MaxChallengeAnswers caps the answers of one challenge answers request (each a
	// symbol of at most 64 KiB with its proof); 0 means DefaultMaxChallengeAnswers.
	MaxChallengeAnswers int

	// ConfirmationLongPollMax bounds how long a confirmation request with
	// wait_for_registration=true waits for the blob's registration (its wait_millis is
	// capped to it); 0 means 5 s, negative disables waiting.
	ConfirmationLongPollMax time.Duration
	// MaxConcurrentLongPolls bounds the confirmation requests waiting for a
	// registration at once; a request beyond it is answered at once, as if it had not
	// asked to wait. 0 means 256.
	MaxConcurrentLongPolls int

	// Server timeouts, used by NewServer. Zero means: ReadHeaderTimeout 10 s (a client
	// that stalls in its headers is cut off then), ReadTimeout 10 min (the bound of a
	// request body until the handler sets the body's own deadline, see MinBodyRate),
	// WriteTimeout 10 min, IdleTimeout 2 min (keep-alive connections without a request).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxHeaderBytes bounds request headers; 0 means 64 KiB.
	MaxHeaderBytes int

	// DisableBatchedUploads removes this project's batched upload endpoint (PUT
	// /v1/blobs/{blob_id}/slivers), so that the node serves only Walrus's routes, as a
	// Walrus node does; clients then fall back to per-sliver uploads. For tests of mixed
	// networks.
	DisableBatchedUploads bool

	// noRecover lets handler panics through (fuzz tests use it to see them).
	noRecover bool
}

func (o *Options) setDefaults(node *sn.Node) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxConcurrentRequests <= 0 {
		o.MaxConcurrentRequests = 1024
	}
	if o.MaxConcurrentUploads <= 0 {
		o.MaxConcurrentUploads = 4 * runtime.GOMAXPROCS(0)
	}
	if o.MaxConcurrentSymbolRequests <= 0 {
		o.MaxConcurrentSymbolRequests = 4 * runtime.GOMAXPROCS(0)
	}
	if o.UploadSlotWait <= 0 {
		o.UploadSlotWait = 10 * time.Second
	}
	if o.MinBodyRate <= 0 {
		o.MinBodyRate = 64 << 10
	}
	if o.BodyGrace <= 0 {
		o.BodyGrace = 10 * time.Second
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = 1 << 30
	}
	if o.MaxDecodingSymbolBytes <= 0 {
		o.MaxDecodingSymbolBytes = 64 << 20
	}
	if o.MaxSymbolsPerRequest <= 0 {
		o.MaxSymbolsPerRequest = node.NShards()
	}
	if o.MaxChallengeAnswers <= 0 {
		o.MaxChallengeAnswers = DefaultMaxChallengeAnswers
	}
	if o.MaxSyncShardSlivers <= 0 {
		o.MaxSyncShardSlivers = 1000
	}
	if o.MaxSyncShardBytes <= 0 {
		o.MaxSyncShardBytes = 64 << 20
	}
	if o.MaxConcurrentSyncShard <= 0 {
		o.MaxConcurrentSyncShard = 10
	}
	if o.ConfirmationLongPollMax == 0 {
		o.ConfirmationLongPollMax = 5 * time.Second
	}
	if o.MaxConcurrentLongPolls <= 0 {
		o.MaxConcurrentLongPolls = 256
	}
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = 10 * time.Second
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 10 * time.Minute
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Minute
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 2 * time.Minute
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 64 << 10
	}
}

// Handler serves the node REST API. It is safe for concurrent use.
type Handler struct {
	node    *sn.Node
	opts    Options
	mux     *http.ServeMux
	all     chan struct{} // tokens of requests without a body in flight
	uploads chan struct{} // tokens of uploads in flight
	symbols chan struct{} // tokens of symbol requests in flight
	syncs   chan struct{} // tokens of sync-shard requests in flight
	polls   chan struct{} // tokens of confirmation requests waiting for a registration
	memory  budget        // bytes of upload bodies in flight
}

// NewHandler returns the API handler for node.
func NewHandler(node *sn.Node, opts Options) *Handler {
	opts.setDefaults(node)
	h := &Handler{
		node: node, opts: opts, mux: http.NewServeMux(),
		all:     make(chan struct{}, opts.MaxConcurrentRequests),
		uploads: make(chan struct{}, opts.MaxConcurrentUploads),
		symbols: make(chan struct{}, opts.MaxConcurrentSymbolRequests),
		syncs:   make(chan struct{}, opts.MaxConcurrentSyncShard),
		polls:   make(chan struct{}, opts.MaxConcurrentLongPolls),
		memory:  budget{max: opts.MaxUploadBytes},
	}
	h.routes()
	return h
}

// NewServer returns an http.Server for node on addr with the timeouts and header limit of
// opts. The caller starts and shuts it down.
func NewServer(addr string, node *sn.Node, opts Options) *http.Server {
	h := NewHandler(node, opts)
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: h.opts.ReadHeaderTimeout,
		ReadTimeout:       h.opts.ReadTimeout,
		WriteTimeout:      h.opts.WriteTimeout,
		IdleTimeout:       h.opts.IdleTimeout,
		MaxHeaderBytes:    h.opts.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(h.opts.Logger.Handler(), slog.LevelDebug),
		ConnContext:       withConn,
	}
}

// connKey is the context key of a request's connection.
type connKey struct{}

// withConn is the http.Server.ConnContext of the API: requests carry their connection,
// for writeCorked.
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// ServeHTTP implements http.Handler: panic recovery, CORS, the request limit (for
// requests without a body), then routing.
//
// CORS is open on every response, for every method, as Walrus's nodes have it: a node
// holds no wallet and pays for nothing, so a web page that uploads to it can only do
// what any client can (store data of registered blobs); shard sync is authorized by a
// signature, not by the origin.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.opts.noRecover {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.opts.Logger.Error("panic in node API handler", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
				h.fail(w, r, fmt.Errorf("%w: handler panic", sn.ErrInternal))
			}
		}()
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "*")
	hd.Set("Access-Control-Expose-Headers", PairProofHeader)
	hd.Set("Access-Control-Max-Age", "86400")
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		if !tryAcquire(h.all) {
			h.fail(w, r, fmt.Errorf("%w: %d requests in flight", sn.ErrOverloaded, cap(h.all)))
			return
		}
		defer release(h.all)
	}
	h.mux.ServeHTTP(w, r)
}

// fail writes the error envelope for err.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, body := newErrorBody(err)
	level := slog.LevelDebug
	if code >= 500 {
		level = slog.LevelWarn
	}
	h.opts.Logger.Log(r.Context(), level, "node API request failed", "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	writeJSON(w, code, body)
}

func tryAcquire(sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
		return false
	}
}

func release(sem chan struct{}) { <-sem }

// budget is a counted resource (bytes) acquired without waiting.
type budget struct {
	mu   sync.Mutex
	used int64
	max  int64
}

func (b *budget) tryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.max-b.used {
		return false
	}
	b.used += n
	return true
}

// fits reports whether n bytes are free now, without taking them.
func (b *budget) fits(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return n <= b.max-b.used
}

func (b *budget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
}
