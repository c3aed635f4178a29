package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
)

// Domain is the error domain of the gateway's ErrorInfo details.
const Domain = "daemon.walrus.space"

// apiError is an error answer: HTTP code, Google API status, Walrus reason, message.
type apiError struct {
	code    int
	status  string
	reason  string
	message string
	domain  string // "" means Domain
}

func (e *apiError) Error() string { return e.message }

func badRequest(reason, msg string) *apiError {
	return &apiError{code: http.StatusBadRequest, status: "INVALID_ARGUMENT", reason: reason, message: msg}
}

var (
	errNotFoundPath = &apiError{code: http.StatusNotFound, status: "NOT_FOUND", reason: "NOT_FOUND", message: "no such endpoint"}
	errMethod       = &apiError{code: http.StatusMethodNotAllowed, status: "FAILED_PRECONDITION", reason: "METHOD_NOT_ALLOWED", message: "method not allowed"}
	errTooMany      = &apiError{code: http.StatusTooManyRequests, status: "RESOURCE_EXHAUSTED", reason: "TOO_MANY_REQUESTS", message: "too many requests in flight; retry later"}
	errReadBusy     = &apiError{code: http.StatusTooManyRequests, status: "RESOURCE_EXHAUSTED", reason: "TOO_MANY_REQUESTS", message: "the aggregator's read buffer is full; retry later"}
	errRowTooLarge  = &apiError{code: http.StatusServiceUnavailable, status: "UNAVAILABLE", reason: "READ_BUFFER_TOO_SMALL", message: "the blob's rows are larger than the aggregator's read buffer"}
	errInternal     = &apiError{code: http.StatusInternalServerError, status: "INTERNAL", reason: "INTERNAL", message: "internal error"}
)

// errorTable maps SDK and chain errors to answers, first match wins. Messages of
// client-side problems carry the error text; server-side ones (funds, quorum) too, as
// they help the operator and reveal nothing secret.
var errorTable = []struct {
	err    error
	code   int
	status string
	reason string
}{
	{client.ErrNotFound, http.StatusNotFound, "NOT_FOUND", "BLOB_NOT_FOUND"},
	{chain.ErrNotFound, http.StatusNotFound, "NOT_FOUND", "OBJECT_NOT_FOUND"},
	{chain.ErrUnknownObject, http.StatusNotFound, "NOT_FOUND", "OBJECT_NOT_FOUND"},
	{client.ErrInvalidBlob, http.StatusNotFound, "NOT_FOUND", "BLOB_INVALID"},
	{client.ErrInvalidEpochs, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_EPOCHS"},
	{chain.ErrInvalidEpochs, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_EPOCHS"},
	{client.ErrTooLarge, http.StatusRequestEntityTooLarge, "OUT_OF_RANGE", "BLOB_TOO_LARGE"},
	{client.ErrInvalidOptions, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT"},
	{client.ErrInvalidManifest, http.StatusInternalServerError, "INTERNAL", "INVALID_MANIFEST"},
	{client.ErrUnavailable, http.StatusServiceUnavailable, "UNAVAILABLE", "BLOB_UNAVAILABLE"},
	{client.ErrNoQuorum, http.StatusServiceUnavailable, "UNAVAILABLE", "NOT_ENOUGH_CONFIRMATIONS"},
	{chain.ErrInsufficientFunds, http.StatusServiceUnavailable, "UNAVAILABLE", "INSUFFICIENT_FUNDS"},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, "UNAVAILABLE", "TIMEOUT"},
	{context.Canceled, http.StatusServiceUnavailable, "UNAVAILABLE", "CANCELLED"},
}

// toAPIError maps err to its answer.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	for _, row := range errorTable {
		if errors.Is(err, row.err) {
			return &apiError{code: row.code, status: row.status, reason: row.reason, message: err.Error()}
		}
	}
	return &apiError{code: http.StatusInternalServerError, status: "INTERNAL", reason: "INTERNAL", message: err.Error()}
}

// errorBody is the JSON error envelope (Google API style, as Walrus answers).
type errorBody struct {
	Error errorStatus `json:"error"`
}

type errorStatus struct {
	Code    int           `json:"code"`
	Status  string        `json:"status"`
	Message string        `json:"message"`
	Details []errorDetail `json:"details"`
}

type errorDetail struct {
	Type   string `json:"@type"`
	Reason string `json:"reason"`
	Domain string `json:"domain"`
}

// writeError answers with err's envelope and returns the status code.
func writeError(w http.ResponseWriter, err error) int {
	ae := toAPIError(err)
	h := w.Header()
	for _, k := range []string{"Content-Range", "ETag", "Cache-Control", "Last-Modified"} {
		h.Del(k)
	}
	domain := ae.domain
	if domain == "" {
		domain = Domain
	}
	if ae.code == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", "Bearer")
	}
	writeJSON(w, ae.code, errorBody{Error: errorStatus{
		Code: ae.code, Status: ae.status, Message: ae.message,
		Details: []errorDetail{{Type: "ErrorInfo", Reason: ae.reason, Domain: domain}},
	}})
	return ae.code
}

// Errors of authenticated stores, with Walrus's reasons in its domain (AuthDomain): no
// valid token 401, a used token 429, the replay cache full 503.
var (
	errNoToken = &apiError{code: http.StatusUnauthorized, status: "UNAUTHENTICATED", reason: "MISSING_TOKEN", domain: AuthDomain,
		message: "this publisher requires a JWT in an Authorization: Bearer header"}
	errBadToken = &apiError{code: http.StatusUnauthorized, status: "UNAUTHENTICATED", reason: "INVALID_TOKEN", domain: AuthDomain,
		message: "the JWT is malformed"}
	errBadSignature = &apiError{code: http.StatusUnauthorized, status: "UNAUTHENTICATED", reason: "INVALID_SIGNATURE", domain: AuthDomain,
		message: "the signature on the JWT is invalid"}
	errExpired = &apiError{code: http.StatusUnauthorized, status: "UNAUTHENTICATED", reason: "EXPIRED_SIGNATURE", domain: AuthDomain,
		message: "the JWT has expired or is not valid yet"}
	errTokenUsed = &apiError{code: http.StatusTooManyRequests, status: "RESOURCE_EXHAUSTED", reason: "TOKEN_ALREADY_USED", domain: AuthDomain,
		message: "the JWT was already used"}
	errReplayFull = &apiError{code: http.StatusServiceUnavailable, status: "UNAVAILABLE", reason: "TOKEN_CACHE_FULL", domain: AuthDomain,
		message: "too many unexpired tokens in use; retry later"}
)

// claimError is a store that breaks its token's claims (400, Walrus's
// FAILED_PRECONDITION).
func claimError(reason, msg string) *apiError {
	return &apiError{code: http.StatusBadRequest, status: "FAILED_PRECONDITION", reason: reason, domain: AuthDomain, message: msg}
}

// Errors of anonymous stores: from a web page 403, over a budget 429.
var errBrowserStore = &apiError{code: http.StatusForbidden, status: "PERMISSION_DENIED", reason: "BROWSER_STORE_REFUSED",
	message: "this publisher takes stores from web pages only with a token"}

var errBudget = &apiError{code: http.StatusTooManyRequests, status: "RESOURCE_EXHAUSTED", reason: "ANONYMOUS_BUDGET_EXHAUSTED",
	message: "this publisher's budget for anonymous stores is spent for now; retry later, or use a token"}

// Errors of bodies: one that arrives slower than Config.MinBodyRate allows 408; one that
// does not fit in Config.MaxBodyBuffer now 503.
var (
	errBodyTooSlow = &apiError{code: http.StatusRequestTimeout, status: "DEADLINE_EXCEEDED", reason: "BODY_TOO_SLOW",
		message: "the request body arrived too slowly"}
	errBodyBuffer = &apiError{code: http.StatusServiceUnavailable, status: "UNAVAILABLE", reason: "BODY_BUFFER_FULL",
		message: "this publisher is receiving too many bodies at once; retry later"}
)

// tooLarge is a body over the publisher's, the anonymous or the token's limit (413).
func tooLarge(limit int64) *apiError {
	return &apiError{code: http.StatusRequestEntityTooLarge, status: "OUT_OF_RANGE", reason: "BODY_TOO_LARGE",
		message: fmt.Sprintf("the blob is larger than this publisher's limit of %d bytes", limit)}
}
