package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/walrus-go/walrus/internal/apierror"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/quilt"
)

// Domain is the error domain of the gateway's ErrorInfo details (Walrus's
// DAEMON_ERROR_DOMAIN); authentication failures use AuthDomain.
const Domain = "daemon.walrus.space"

// Errors the gateway answers with besides those of the SDK and the chain. Each has one
// row in the error table (ErrorTable); answers wrap them with a message of their own.
var (
	ErrNoRoute             = errors.New("gateway: no such endpoint")
	ErrMethodNotAllowed    = errors.New("gateway: method not allowed")
	ErrTooManyRequests     = errors.New("gateway: too many requests in flight")
	ErrReadBufferFull      = errors.New("gateway: read buffer full")
	ErrReadBufferTooSmall  = errors.New("gateway: rows larger than the read buffer")
	ErrInternal            = errors.New("gateway: internal error")
	ErrUnhealthy           = errors.New("gateway: health check failed")
	ErrInvalidBlobID       = errors.New("gateway: invalid blob ID")
	ErrInvalidObjectID     = errors.New("gateway: invalid object ID")
	ErrInvalidIDFormat     = errors.New("gateway: invalid blob or object ID")
	ErrInvalidByteRange    = errors.New("gateway: invalid byte range")
	ErrRangeNotSatisfiable = errors.New("gateway: range not satisfiable")
	ErrPreconditionFailed  = errors.New("gateway: precondition failed")
	ErrInvalidConsistency  = errors.New("gateway: invalid consistency check")
	ErrInvalidArgument     = errors.New("gateway: invalid argument")
	ErrUnknownParameter    = errors.New("gateway: unknown query parameter")
	ErrInvalidEpochs       = errors.New("gateway: invalid epochs")
	ErrEpochsAboveMax      = errors.New("gateway: epochs above the anonymous maximum")
	ErrInvalidAddress      = errors.New("gateway: invalid address")
	ErrInvalidEncoding     = errors.New("gateway: invalid encoding type")
	ErrInvalidBody         = errors.New("gateway: invalid body")
	ErrBodyTooLarge        = errors.New("gateway: body too large")
	ErrBodyTooSlow         = errors.New("gateway: body too slow")
	ErrBodyBufferFull      = errors.New("gateway: body buffer full")
	ErrBrowserStore        = errors.New("gateway: anonymous store from a web page")
	ErrBudgetExhausted     = errors.New("gateway: anonymous budget exhausted")
	ErrMissingToken        = errors.New("gateway: missing token")
	ErrInvalidToken        = errors.New("gateway: invalid token")
	ErrInvalidSignature    = errors.New("gateway: invalid token signature")
	ErrExpiredToken        = errors.New("gateway: expired token")
	ErrTokenUsed           = errors.New("gateway: token already used")
	ErrTokenCacheFull      = errors.New("gateway: token cache full")
	ErrClaimExpiration     = errors.New("gateway: token lifetime refused")
	ErrClaimEpochs         = errors.New("gateway: epochs do not match the token")
	ErrClaimSize           = errors.New("gateway: size does not match the token")
	ErrClaimSendObjectTo   = errors.New("gateway: send_object_to does not match the token")
	ErrInconsistentToken   = errors.New("gateway: inconsistent token")
	ErrInvalidPatchID      = errors.New("gateway: invalid quilt patch ID")
	ErrQuiltPatchNotFound  = errors.New("gateway: quilt patch not found")
)

// WalrusStatus maps each Google API status of Walrus's error table to the HTTP code it is
// sent with (apierror.Status). A Walrus client parses an error body only if its (code,
// status) pair is one of these.
var WalrusStatus = apierror.Status

// ErrorSpec is one row of the error table (apierror.Spec).
type ErrorSpec = apierror.Spec

var row = apierror.Row

// errorTable is the gateway's one table of error answers, matched in order with
// errors.Is; an error matching no row is answered as ErrInternal. Every (Code, Status)
// pair is in WalrusStatus except two answers Walrus gives without a JSON body (405 for a
// wrong method, from its router; 412, which it never sends as it ignores If-Match):
// they keep their HTTP codes here, in Walrus's envelope. Reasons are Walrus's where
// Walrus has the error.
var errorTable = []ErrorSpec{
	// The gateway's own errors.
	row(ErrNoRoute, "NOT_FOUND", "NOT_FOUND", Domain),
	{Err: ErrMethodNotAllowed, Code: http.StatusMethodNotAllowed, Status: "UNIMPLEMENTED", Reason: "METHOD_NOT_ALLOWED", Domain: Domain},
	row(ErrTooManyRequests, "RESOURCE_EXHAUSTED", "TOO_MANY_REQUESTS", Domain),
	row(ErrReadBufferFull, "RESOURCE_EXHAUSTED", "TOO_MANY_REQUESTS", Domain),
	row(ErrReadBufferTooSmall, "UNAVAILABLE", "READ_BUFFER_TOO_SMALL", Domain),
	row(ErrUnhealthy, "UNAVAILABLE", "UNHEALTHY", Domain),
	row(ErrInvalidBlobID, "INVALID_ARGUMENT", "INVALID_BLOB_ID", Domain),
	row(ErrInvalidObjectID, "INVALID_ARGUMENT", "INVALID_OBJECT_ID", Domain),
	row(ErrInvalidIDFormat, "INVALID_ARGUMENT", "INVALID_ID_FORMAT", Domain),
	row(ErrInvalidByteRange, "INVALID_ARGUMENT", "INVALID_BYTE_RANGE", Domain),
	row(ErrRangeNotSatisfiable, "RANGE_NOT_SATISFIABLE", "INVALID_BYTE_RANGE", Domain),
	{Err: ErrPreconditionFailed, Code: http.StatusPreconditionFailed, Status: "FAILED_PRECONDITION", Reason: "PRECONDITION_FAILED", Domain: Domain},
	row(ErrInvalidConsistency, "INVALID_ARGUMENT", "INVALID_CONSISTENCY_CHECK", Domain),
	row(ErrInvalidArgument, "INVALID_ARGUMENT", "INVALID_ARGUMENT", Domain),
	row(ErrUnknownParameter, "INVALID_ARGUMENT", "UNKNOWN_PARAMETER", Domain),
	row(ErrInvalidEpochs, "INVALID_ARGUMENT", "INVALID_EPOCHS", Domain),
	row(ErrEpochsAboveMax, "INVALID_ARGUMENT", "EPOCHS_ABOVE_MAX", Domain),
	row(ErrInvalidAddress, "INVALID_ARGUMENT", "INVALID_ADDRESS", Domain),
	row(ErrInvalidEncoding, "INVALID_ARGUMENT", "INVALID_ENCODING_TYPE", Domain),
	row(ErrInvalidBody, "INVALID_ARGUMENT", "INVALID_BODY", Domain),
	row(ErrBodyTooLarge, "SIZE_EXCEEDED", "BODY_TOO_LARGE", Domain),
	row(ErrBodyTooSlow, "DEADLINE_EXCEEDED", "BODY_TOO_SLOW", Domain),
	row(ErrBodyBufferFull, "UNAVAILABLE", "BODY_BUFFER_FULL", Domain),
	row(ErrBrowserStore, "PERMISSION_DENIED", "BROWSER_STORE_REFUSED", Domain),
	row(ErrBudgetExhausted, "RESOURCE_EXHAUSTED", "ANONYMOUS_BUDGET_EXHAUSTED", Domain),
	// Authentication (Walrus's PublisherAuthError, in its domain).
	row(ErrMissingToken, "UNAUTHENTICATED", "MISSING_TOKEN", AuthDomain),
	row(ErrInvalidToken, "UNAUTHENTICATED", "INVALID_TOKEN", AuthDomain),
	row(ErrInvalidSignature, "UNAUTHENTICATED", "INVALID_SIGNATURE", AuthDomain),
	row(ErrExpiredToken, "UNAUTHENTICATED", "EXPIRED_SIGNATURE", AuthDomain),
	row(ErrTokenUsed, "RESOURCE_EXHAUSTED", "TOKEN_ALREADY_USED", AuthDomain),
	row(ErrTokenCacheFull, "UNAVAILABLE", "TOKEN_CACHE_FULL", AuthDomain),
	row(ErrClaimExpiration, "FAILED_PRECONDITION", "INVALID_EXPIRATION", AuthDomain),
	row(ErrClaimEpochs, "FAILED_PRECONDITION", "INVALID_EPOCHS", AuthDomain),
	row(ErrClaimSize, "FAILED_PRECONDITION", "INVALID_SIZE", AuthDomain),
	row(ErrClaimSendObjectTo, "FAILED_PRECONDITION", "INVALID_SEND_OBJECT_TO", AuthDomain),
	row(ErrInconsistentToken, "FAILED_PRECONDITION", "INCONSISTENT_TOKEN", AuthDomain),
	// Quilts (Walrus answers bad quilts as a malformed request; its reason for a patch
	// that is not there is QUILT_PATCH_NOT_FOUND).
	row(ErrInvalidPatchID, "INVALID_ARGUMENT", "INVALID_QUILT_PATCH_ID", Domain),
	row(ErrQuiltPatchNotFound, "NOT_FOUND", "QUILT_PATCH_NOT_FOUND", Domain),
	row(quilt.ErrNotFound, "NOT_FOUND", "QUILT_PATCH_NOT_FOUND", Domain),
	row(quilt.ErrInvalidIdentifier, "INVALID_ARGUMENT", "INVALID_QUILT_IDENTIFIER", Domain),
	row(quilt.ErrDuplicateIdentifier, "INVALID_ARGUMENT", "DUPLICATE_QUILT_IDENTIFIER", Domain),
	row(quilt.ErrInvalidTags, "INVALID_ARGUMENT", "INVALID_QUILT_TAGS", Domain),
	row(quilt.ErrTooManyPatches, "INVALID_ARGUMENT", "TOO_MANY_QUILT_PATCHES", Domain),
	row(quilt.ErrTooLarge, "SIZE_EXCEEDED", "QUILT_TOO_LARGE", Domain),
	row(quilt.ErrMalformed, "INVALID_ARGUMENT", "NOT_A_QUILT", Domain),
	// The SDK's and the chain's errors.
	row(client.ErrNotFound, "NOT_FOUND", "BLOB_NOT_FOUND", Domain),
	row(chain.ErrNotFound, "NOT_FOUND", "OBJECT_NOT_FOUND", Domain),
	row(chain.ErrUnknownObject, "NOT_FOUND", "OBJECT_NOT_FOUND", Domain),
	row(client.ErrInvalidBlob, "NOT_FOUND", "BLOB_INVALID", Domain),
	row(client.ErrInvalidEpochs, "INVALID_ARGUMENT", "INVALID_EPOCHS", Domain),
	row(chain.ErrInvalidEpochs, "INVALID_ARGUMENT", "INVALID_EPOCHS", Domain),
	row(client.ErrTooLarge, "SIZE_EXCEEDED", "BLOB_TOO_LARGE", Domain),
	row(client.ErrInvalidOptions, "INVALID_ARGUMENT", "INVALID_ARGUMENT", Domain),
	row(client.ErrInvalidManifest, "INTERNAL", "INVALID_MANIFEST", Domain),
	row(client.ErrUnavailable, "UNAVAILABLE", "BLOB_UNAVAILABLE", Domain),
	row(client.ErrNoQuorum, "DEADLINE_EXCEEDED", "INSUFFICIENT_CONFIRMATIONS", Domain),
	row(chain.ErrInsufficientFunds, "UNAVAILABLE", "INSUFFICIENT_FUNDS", Domain),
	row(context.DeadlineExceeded, "DEADLINE_EXCEEDED", "TIMEOUT", Domain),
	row(context.Canceled, "UNAVAILABLE", "CANCELLED", Domain),
	// Last: the answer to anything else.
	row(ErrInternal, "INTERNAL", "INTERNAL", Domain),
}

// ErrorTable returns a copy of the gateway's error table: every (code, status, reason,
// domain) it answers errors with.
func ErrorTable() []ErrorSpec { return append([]ErrorSpec(nil), errorTable...) }

// SpecOf returns the table row of err (the last row, ErrInternal, if none matches).
func SpecOf(err error) ErrorSpec {
	var ae *apiError
	if errors.As(err, &ae) {
		err = ae.kind
	}
	return apierror.Lookup(errorTable, err)
}

// apiError is an error answer: a row of the table (by its error) and the message sent.
type apiError struct {
	kind    error
	message string
}

func (e *apiError) Error() string { return e.message }
func (e *apiError) Unwrap() error { return e.kind }

// fail returns the answer for kind (an error of the table) with a message.
func fail(kind error, format string, args ...any) *apiError {
	return &apiError{kind: kind, message: fmt.Sprintf(format, args...)}
}

func badRequest(kind error, msg string) *apiError { return &apiError{kind: kind, message: msg} }

var (
	errNotFoundPath = fail(ErrNoRoute, "no such endpoint")
	errMethod       = fail(ErrMethodNotAllowed, "method not allowed")
	errTooMany      = fail(ErrTooManyRequests, "too many requests in flight; retry later")
	errReadBusy     = fail(ErrReadBufferFull, "the aggregator's read buffer is full; retry later")
	errRowTooLarge  = fail(ErrReadBufferTooSmall, "the blob's rows are larger than the aggregator's read buffer")
	errInternal     = fail(ErrInternal, "internal error")
)

// message returns the text sent for err: its own for client-side problems and for
// server-side ones that help the operator and reveal nothing secret (funds, quorum);
// internal errors get a fixed text (they are logged).
func message(err error, s ErrorSpec) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.message
	}
	if s.Err == ErrInternal {
		return "an internal error has occurred, please report it"
	}
	return err.Error()
}

// writeError answers with err's envelope and returns the status code. Headers of a
// successful read set before the failure are removed; keep names headers that stay (the
// Content-Range of a 416).
func writeError(w http.ResponseWriter, err error, keep ...string) int {
	s := SpecOf(err)
	h := w.Header()
	for _, k := range []string{"Content-Range", "ETag", "Cache-Control", "Last-Modified", "Content-Type",
		"Content-Encoding", "Content-Disposition", "Content-Language", "Content-Location", "Link", "X-Walrus-Streaming"} {
		if !containsFold(keep, k) {
			h.Del(k)
		}
	}
	if s.Code == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", "Bearer")
	}
	writeJSON(w, s.Code, apierror.NewBody(s, message(err, s), nil))
	return s.Code
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if http.CanonicalHeaderKey(v) == s {
			return true
		}
	}
	return false
}

// Errors of authenticated stores (AuthDomain): no valid token 401, a used token 429, the
// replay cache full 503.
var (
	errNoToken      = fail(ErrMissingToken, "this publisher requires a JWT in an Authorization: Bearer header")
	errBadToken     = fail(ErrInvalidToken, "the JWT is malformed")
	errBadSignature = fail(ErrInvalidSignature, "the signature on the JWT is invalid")
	errExpired      = fail(ErrExpiredToken, "the JWT has expired or is not valid yet")
	errTokenUsed    = fail(ErrTokenUsed, "the JWT was already used")
	errReplayFull   = fail(ErrTokenCacheFull, "too many unexpired tokens in use; retry later")
)

// Errors of anonymous stores: from a web page 403, over a budget 429.
var (
	errBrowserStore = fail(ErrBrowserStore, "this publisher takes stores from web pages only with a token")
	errBudget       = fail(ErrBudgetExhausted, "this publisher's budget for anonymous stores is spent for now; retry later, or use a token")
)

// Errors of bodies: one that arrives slower than Config.MinBodyRate allows 504; one that
// does not fit in Config.MaxBodyBuffer now 503.
var (
	errBodyTooSlow = fail(ErrBodyTooSlow, "the request body arrived too slowly")
	errBodyBuffer  = fail(ErrBodyBufferFull, "this publisher is receiving too many bodies at once; retry later")
)

// tooLarge is a body over the publisher's, the anonymous or the token's limit (403
// SIZE_EXCEEDED, Walrus's pair).
func tooLarge(limit int64) *apiError {
	return fail(ErrBodyTooLarge, "the blob is larger than this publisher's limit of %d bytes", limit)
}
