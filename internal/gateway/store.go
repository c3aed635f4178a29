package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
)

// store serves PUT /v1/blobs: the parameters, then the token (Config.Auth) or the
// anonymous limits, then the body, then the store. Nothing is spent before every check
// passed.
func (h *Handler) store(w http.ResponseWriter, r *http.Request) int {
	return h.storeBody(w, r, func(ctx context.Context, data []byte, opts client.StoreOptions) (any, error) {
		return h.cfg.Blobs.Store(ctx, data, opts)
	})
}

// storeBody runs the checks of every store (the parameters, the token or the anonymous
// limits, the bounded body, a store slot), then run on the body; its result is answered
// as JSON. An anonymous store whose run fails with a client error is refunded.
func (h *Handler) storeBody(w http.ResponseWriter, r *http.Request, run func(ctx context.Context, data []byte, opts client.StoreOptions) (any, error)) int {
	opts, err := h.storeOptions(r.URL.Query())
	if err != nil {
		return writeError(w, err)
	}
	var claims *Claims
	limit := h.cfg.MaxBodySize
	if h.auth != nil {
		if claims, err = h.authenticate(r, opts); err != nil {
			return writeError(w, err)
		}
		limit = claims.sizeLimit(limit)
	} else {
		if r.Header.Get("Origin") != "" {
			// A browser: even a same-origin page (a DNS-rebinding one) may not spend
			// the wallet without a token. Scripts and the SDK send no Origin.
			return writeError(w, errBrowserStore)
		}
		if max := h.cfg.Anonymous.MaxEpochs; opts.Epochs > max {
			return writeError(w, fail(ErrEpochsAboveMax, "epochs=%d: anonymous stores on this publisher last at most %d epochs", opts.Epochs, max))
		}
		limit = h.cfg.Anonymous.MaxSize
	}
	if r.ContentLength > limit {
		return writeError(w, tooLarge(limit))
	}
	// An anonymous store with a declared length is charged before its body is read.
	who, charged := clientKey(r), int64(0)
	if h.budget != nil && r.ContentLength >= 0 {
		if charged, err = h.charge(who, r.ContentLength, opts.Epochs); err != nil {
			return writeError(w, err)
		}
	}
	// The body is read before the store takes a slot, at a minimum rate and counted
	// against the publisher's body buffer: connections that send headers and then stall
	// or trickle hold neither a slot nor memory for long.
	data, body, err := h.readBody(w, r, limit)
	defer body.release()
	if err == nil && claims != nil {
		err = claims.checkSize(int64(len(data)))
	}
	if err == nil && h.budget != nil && charged == 0 {
		charged, err = h.charge(who, int64(len(data)), opts.Epochs)
	}
	if err == nil && claims != nil {
		// Last: a token is used up only by a store that goes ahead.
		err = h.replay.use(claims.Jti, claims.Exp, h.now())
	}
	if err != nil {
		if charged > 0 {
			h.budget.refund(who, charged)
		}
		var mbe *http.MaxBytesError
		var ae *apiError
		switch {
		case errors.As(err, &mbe):
			return writeError(w, tooLarge(limit))
		case errors.As(err, &ae):
			return writeError(w, err)
		}
		return writeError(w, badRequest(ErrInvalidBody, "cannot read the request body: "+err.Error()))
	}
	if !acquire(h.stores) {
		if charged > 0 {
			h.budget.refund(who, charged)
		}
		return writeError(w, errTooMany)
	}
	defer func() { <-h.stores }()
	// What the store holds: StoreMemory, and the body buffer's room beyond the body (a
	// body of undeclared length ends in a buffer up to four times it, a kept buffer may
	// be up to twice it).
	need := min(StoreMemory(int64(len(data))), h.cfg.MaxStoreMemory)
	holds := StoreMemory(int64(len(data))) + int64(cap(data)-len(data))
	h.metrics.inFlight.WithLabelValues("memory").Inc()
	err = h.storeMem.Acquire(r.Context(), need)
	h.metrics.inFlight.WithLabelValues("memory").Dec()
	if err != nil {
		if charged > 0 {
			h.budget.refund(who, charged)
		}
		return writeError(w, err)
	}
	// From here the store's memory, its body included, is held as StoreMemory.
	h.mem.add(heldStores, holds)
	body.reserved()
	// The memory is given back once the store's uploads, its tail after the answer
	// included, have ended. Nothing reads the body then: its buffer is kept for the next
	// store's body, and the client has kept the encoding's buffers the same way (before
	// the group's Wait returns: client.Client.KeptBytes counts them).
	var uploads sync.WaitGroup
	defer func() {
		go func() {
			uploads.Wait()
			h.spareBody.put(data)
			h.storeMem.Release(need)
			h.mem.add(heldStores, -holds)
		}()
	}()
	h.metrics.inFlight.WithLabelValues("store").Inc()
	defer h.metrics.inFlight.WithLabelValues("store").Dec()
	res, err := run(client.WithUploadGroup(r.Context(), &uploads), data, opts)
	if err != nil {
		code := writeError(w, err)
		if code < 500 && charged > 0 {
			h.budget.refund(who, charged)
		}
		if code >= 500 {
			h.log.Warn("gateway: store failed", "size", len(data), "err", err)
		}
		return code
	}
	h.metrics.bytesStored.Add(float64(len(data)))
	writeJSON(w, http.StatusOK, res)
	return http.StatusOK
}

// authenticate checks a store's token against the secret, the clock and the store's
// parameters (not yet its body, nor replay).
func (h *Handler) authenticate(r *http.Request, opts client.StoreOptions) (*Claims, error) {
	tok, err := bearerToken(r)
	if err != nil {
		return nil, err
	}
	c, err := ParseToken(tok, h.auth.Algorithm, h.auth.Secret)
	if err != nil {
		return nil, err
	}
	if err := c.checkTime(h.now(), h.auth.ExpiringSec); err != nil {
		return nil, err
	}
	if err := c.checkStore(opts.Epochs, opts.SendTo, max(r.ContentLength, -1)); err != nil {
		return nil, err
	}
	return c, nil
}

// charge takes the cost of an anonymous store of size bytes for epochs from the budgets
// of client and of everyone.
func (h *Handler) charge(client string, size int64, epochs uint32) (int64, error) {
	if size+StoreOverhead > math.MaxInt64/int64(max(epochs, 1)) {
		return 0, errBudget // more than any budget
	}
	cost := (size + StoreOverhead) * int64(epochs)
	if !h.budget.take(client, cost, h.now()) {
		return 0, errBudget
	}
	return cost, nil
}

// StoreMemory is the memory a store of a blob of size bytes holds while it runs, as
// Config.MaxStoreMemory counts it: its body and its encoding. Its sliver pairs hold
// n(R+C) symbols for the blob's R·C, less than 4.5 times the blob at any shard count (the
// systematic slivers alias the body), plus symbol padding of less than 4 MiB up to 1,000
// shards; the metadata and the requests' headers fit in what is left of it.
func StoreMemory(size int64) int64 {
	return size/2*9 + 9 + 4<<20
}

// maxPrealloc bounds the buffer allocated for a body before its bytes arrive: a client
// that declares a large body and sends nothing makes the publisher allocate no more.
const maxPrealloc = 64 << 10

// bodyHold is what a store's body holds while it is read and until its store runs: its
// bytes received, counted against Config.MaxBodyBuffer, and its buffer's capacity,
// counted as held memory until the store reserves its memory (StoreMemory covers the
// body). release gives back both; it may be called more than once.
type bodyHold struct {
	h        *Handler
	received int64 // against h.bodies
	capacity int64 // in h.mem's heldBodies
}

// grew records that the body's buffer now has capacity c.
func (b *bodyHold) grew(c int64) {
	b.h.mem.add(heldBodies, c-b.capacity)
	b.capacity = c
}

// reserved records that the body's store has reserved its memory, the body included.
func (b *bodyHold) reserved() { b.grew(0) }

func (b *bodyHold) release() {
	b.h.bodies.release(b.received)
	b.received = 0
	b.reserved()
}

// readBody reads a store's body of at most limit bytes (exactly its Content-Length if
// declared). It sets the connection's read deadline from Config.BodyGrace and
// Config.MinBodyRate, so a body that stalls or trickles is cut off, and counts the bytes
// received against Config.MaxBodyBuffer (503 once that is full) until hold.release is
// called; hold is never nil.
//
// The buffer grows with the bytes received, never beyond four times them (or
// maxPrealloc), in steps of a quarter of the next (growBody), so a client that declares a
// large body and sends slowly holds little; a body of declared length ends in a buffer of
// exactly that length, or reuses the kept one (spareBody).
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, limit int64) (data []byte, hold *bodyHold, err error) {
	size := limit
	if r.ContentLength >= 0 {
		size = r.ContentLength
	}
	// An error means the writer cannot set deadlines (a test recorder): the server's
	// ReadTimeout stays in force. Once the body is in, the deadline is lifted: the
	// server's background read, which watches for the client going away while the store
	// runs, would otherwise cancel the store when it passes.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(h.cfg.bodyTime(size)))
	h.metrics.inFlight.WithLabelValues("body").Inc()
	defer h.metrics.inFlight.WithLabelValues("body").Dec()
	hold = &bodyHold{h: h}
	body := http.MaxBytesReader(w, r.Body, limit)
	buf := h.spareBody.take(r.ContentLength)
	if buf == nil {
		buf = make([]byte, 0, min(size, maxPrealloc))
	}
	hold.grew(int64(cap(buf)))
	for {
		var n int
		switch {
		case len(buf) < cap(buf):
			n, err = body.Read(buf[len(buf):cap(buf)])
		case int64(len(buf)) >= size:
			// The buffer holds the declared length (or the limit): only the end may follow.
			var past [1]byte
			if n, err = body.Read(past[:]); n > 0 {
				return nil, hold, &http.MaxBytesError{Limit: size}
			}
		default:
			buf = growBody(buf, size)
			hold.grew(int64(cap(buf)))
			continue
		}
		if n > 0 {
			if !h.bodies.tryAcquire(int64(n)) {
				return nil, hold, errBodyBuffer
			}
			hold.received += int64(n)
		}
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			_ = rc.SetReadDeadline(time.Time{})
			return buf, hold, nil
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, hold, errBodyTooSlow
			}
			return nil, hold, err
		}
	}
}

// growBody returns buf with its contents and more capacity, for a body of want bytes:
// want/4^k (rounded up) for the least k that keeps the new capacity within four times the
// current one, so that the last step reaches exactly want. The buffers
// before the last add up to less than want/3, and that is all that is copied (doubling
// copied about want, and append's growth by a quarter allocated about 5 times want).
// Capacity follows the bytes that arrived: a client that declares a large body and sends
// little makes the buffer at most four times what it sent. Past want (a body without a
// declared length is bounded by the limit instead) the buffer doubles.
func growBody(buf []byte, want int64) []byte {
	c := int64(cap(buf))
	next := max(2*c, c+1)
	if c > 0 && c < want {
		// The largest ceil(want/4^k) within 4c: more than c, and once buf has such a
		// size, every later step is the next one of them (ceil(x) <= 4 ceil(x/4)).
		next = want
		for next > 4*c {
			next = (next + 3) / 4
		}
	}
	out := make([]byte, len(buf), next)
	copy(out, buf)
	return out
}

// spareBody keeps the buffer of one finished store's body (read by nothing any more: its
// uploads, tails included, have ended) for the next body whose declared length it fits,
// so that a publisher storing large blobs one after another reads each into the same
// memory instead of growing a fresh buffer (the steps of growBody and the buffer
// itself: about 1.3 times the body). It keeps at most one buffer, the larger of those
// given back; a body of unknown length, or one that needs less than half the buffer,
// does not take it (it stays for a later body), one larger than it drops it (before its
// own buffer is allocated); and it is dropped once no store has taken or given one back
// for spareBodyIdle. The kept buffer counts as held memory (heldSpare). It is safe for
// concurrent use.
type spareBody struct {
	mem   *heldMemory // nil: not accounted
	mu    sync.Mutex
	buf   []byte
	timer *time.Timer // drops buf once idle; nil while none is kept
	used  time.Time
}

// keep makes b the kept buffer (nil: none); s.mu is held.
func (s *spareBody) keep(b []byte) {
	s.mem.add(heldSpare, int64(cap(b)-cap(s.buf)))
	s.buf = b
}

// spareBodyIdle is how long an unused body buffer is kept.
const spareBodyIdle = 30 * time.Second

// take returns the kept buffer, emptied, and no longer keeps it if want bytes fit in it and
// need at least half of it; otherwise nil, and drops the kept buffer if want bytes do not
// fit in it.
func (s *spareBody) take(want int64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buf
	s.used = time.Now()
	if int64(cap(b)) < want {
		s.keep(nil) // the body will be at least as large: it replaces this one
		return nil
	}
	if want <= 0 || int64(cap(b))/2 > want {
		return nil
	}
	s.keep(nil)
	return b[:0]
}

// put keeps b for the next body unless a larger buffer is kept; nothing may use b
// afterwards.
func (s *spareBody) put(b []byte) {
	if cap(b) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cap(b) > cap(s.buf) {
		s.keep(b[:0])
	}
	s.used = time.Now()
	if s.timer == nil {
		s.timer = time.AfterFunc(spareBodyIdle, func() { s.trim(time.Now()) })
	}
}

// trim drops the kept buffer if nothing used it for spareBodyIdle before now; otherwise
// it is due again once that time will have passed.
func (s *spareBody) trim(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer == nil {
		return
	}
	if idle := now.Sub(s.used); idle < spareBodyIdle {
		s.timer.Reset(spareBodyIdle - idle)
		return
	}
	s.timer.Stop()
	s.timer = nil
	s.keep(nil)
}

// storeParams are the query parameters of a store; any other is refused.
var storeParams = []string{"epochs", "permanent", "deletable", "force", "send_object_to", "share", "reuse_resources", "encoding_type"}

// storeOptions parses the query of a store, refusing (400) unknown and repeated
// parameters and those it cannot honour: epochs (default Config.DefaultEpochs),
// permanent, deletable (the default; giving both is an error), force, send_object_to (the
// address the new Blob object is sent to), share (the new Blob object becomes shared; not
// with send_object_to), reuse_resources (true only: owned resources are always reused),
// encoding_type (RS2 only, also named RedStuff).
func (h *Handler) storeOptions(q url.Values) (client.StoreOptions, error) {
	opts := client.StoreOptions{Epochs: h.cfg.DefaultEpochs}
	for k, v := range q {
		if !slices.Contains(storeParams, k) {
			return opts, badRequest(ErrUnknownParameter, fmt.Sprintf("unknown query parameter %q; a store accepts %s", k, strings.Join(storeParams, ", ")))
		}
		if len(v) > 1 {
			return opts, badRequest(ErrInvalidArgument, fmt.Sprintf("query parameter %q given %d times", k, len(v)))
		}
	}
	if v := q.Get("epochs"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			return opts, badRequest(ErrInvalidEpochs, fmt.Sprintf("epochs=%q: want a positive number of epochs", v))
		case n <= 0:
			return opts, badRequest(ErrInvalidEpochs, fmt.Sprintf("epochs=%d: must be at least 1", n))
		case n > 1<<32-1:
			return opts, badRequest(ErrInvalidEpochs, fmt.Sprintf("epochs=%d: too many epochs", n))
		}
		opts.Epochs = uint32(n)
	}
	permanent, err := parseBool(q, "permanent")
	if err != nil {
		return opts, err
	}
	deletable, err := parseBool(q, "deletable")
	if err != nil {
		return opts, err
	}
	if permanent && deletable {
		return opts, badRequest(ErrInvalidArgument, "permanent=true and deletable=true contradict each other")
	}
	opts.Permanent = permanent
	if opts.Force, err = parseBool(q, "force"); err != nil {
		return opts, err
	}
	if opts.Share, err = parseBool(q, "share"); err != nil {
		return opts, err
	}
	if v := q.Get("send_object_to"); v != "" {
		a, err := chain.ParseAddress(v)
		if err != nil || a == (chain.Address{}) {
			return opts, badRequest(ErrInvalidAddress, fmt.Sprintf("send_object_to=%q: want a non-zero address, 0x and 64 hex digits", v))
		}
		opts.SendTo = a
	}
	if opts.Share && opts.SendTo != (chain.Address{}) {
		return opts, badRequest(ErrInvalidArgument, "share=true and send_object_to contradict each other: a shared blob has no owner")
	}
	if q.Has("reuse_resources") {
		reuse, err := parseBool(q, "reuse_resources")
		if err != nil {
			return opts, err
		}
		if !reuse {
			return opts, badRequest(ErrInvalidArgument, "reuse_resources=false is not supported: this publisher always reuses the storage resources and registrations its wallet owns")
		}
	}
	if v := q.Get("encoding_type"); v != "" && !strings.EqualFold(v, "RS2") && !strings.EqualFold(v, "RedStuff") {
		return opts, badRequest(ErrInvalidEncoding, fmt.Sprintf("encoding_type=%q: this publisher encodes with RS2 only", v))
	}
	return opts, nil
}

// bodyTime returns how long a store's body of size bytes may take to arrive.
func (c *Config) bodyTime(size int64) time.Duration {
	rate := c.MinBodyRate
	return c.BodyGrace + time.Duration(size/rate)*time.Second + time.Duration(size%rate)*time.Second/time.Duration(rate)
}

// bodyBuffer counts the bytes of store bodies held, up to max. It is safe for concurrent
// use.
type bodyBuffer struct {
	max int64

	mu   sync.Mutex
	held int64 // guarded by mu
}

// tryAcquire takes n bytes if they fit.
func (b *bodyBuffer) tryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held+n > b.max {
		return false
	}
	b.held += n
	return true
}

// release gives back n bytes.
func (b *bodyBuffer) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held -= n
}
