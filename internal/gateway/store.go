package gateway

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
)

// store serves PUT /v1/blobs: the parameters, then the token (Config.Auth) or the
// anonymous limits, then the body, then the store. Nothing is spent before every check
// passed.
func (h *Handler) store(w http.ResponseWriter, r *http.Request) int {
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
			return writeError(w, &apiError{code: http.StatusBadRequest, status: "INVALID_ARGUMENT", reason: "EPOCHS_ABOVE_MAX",
				message: fmt.Sprintf("epochs=%d: anonymous stores on this publisher last at most %d epochs", opts.Epochs, max)})
		}
		limit = h.cfg.Anonymous.MaxSize
	}
	if r.ContentLength > limit {
		return writeError(w, tooLarge(limit))
	}
	if !acquire(h.stores) {
		return writeError(w, errTooMany)
	}
	defer func() { <-h.stores }()
	h.metrics.inFlight.WithLabelValues("store").Inc()
	defer h.metrics.inFlight.WithLabelValues("store").Dec()

	// An anonymous store with a declared length is charged before its body is read.
	who, charged := clientKey(r), int64(0)
	if h.budget != nil && r.ContentLength >= 0 {
		if charged, err = h.charge(who, r.ContentLength, opts.Epochs); err != nil {
			return writeError(w, err)
		}
	}
	data, err := readBody(http.MaxBytesReader(w, r.Body, limit), r.ContentLength)
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
		return writeError(w, badRequest("INVALID_BODY", "cannot read the request body: "+err.Error()))
	}
	res, err := h.cfg.Blobs.Store(r.Context(), data, opts)
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
			return opts, badRequest("UNKNOWN_PARAMETER", fmt.Sprintf("unknown query parameter %q; a store accepts %s", k, strings.Join(storeParams, ", ")))
		}
		if len(v) > 1 {
			return opts, badRequest("INVALID_ARGUMENT", fmt.Sprintf("query parameter %q given %d times", k, len(v)))
		}
	}
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
	permanent, err := parseBool(q, "permanent")
	if err != nil {
		return opts, err
	}
	deletable, err := parseBool(q, "deletable")
	if err != nil {
		return opts, err
	}
	if permanent && deletable {
		return opts, badRequest("INVALID_ARGUMENT", "permanent=true and deletable=true contradict each other")
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
			return opts, badRequest("INVALID_ADDRESS", fmt.Sprintf("send_object_to=%q: want a non-zero address, 0x and 64 hex digits", v))
		}
		opts.SendTo = a
	}
	if opts.Share && opts.SendTo != (chain.Address{}) {
		return opts, badRequest("INVALID_ARGUMENT", "share=true and send_object_to contradict each other: a shared blob has no owner")
	}
	if q.Has("reuse_resources") {
		reuse, err := parseBool(q, "reuse_resources")
		if err != nil {
			return opts, err
		}
		if !reuse {
			return opts, badRequest("INVALID_ARGUMENT", "reuse_resources=false is not supported: this publisher always reuses the storage resources and registrations its wallet owns")
		}
	}
	if v := q.Get("encoding_type"); v != "" && !strings.EqualFold(v, "RS2") && !strings.EqualFold(v, "RedStuff") {
		return opts, badRequest("INVALID_ENCODING_TYPE", fmt.Sprintf("encoding_type=%q: this publisher encodes with RS2 only", v))
	}
	return opts, nil
}
