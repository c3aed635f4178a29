package api

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"

	"github.com/walrus-go/walrus/internal/apierror"
	"github.com/walrus-go/walrus/internal/nodetls"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// Domain is the error domain of the node's own errors (Walrus's
// STORAGE_NODE_ERROR_DOMAIN); GlobalDomain is the domain Walrus gives errors that are
// not specific to the node (internal errors, unavailability).
const (
	Domain       = "storage.walrus.space"
	GlobalDomain = "global"
)

// WalrusStatus maps every Google API status of Walrus's table to the HTTP code it is
// sent with (apierror.Status).
var WalrusStatus = apierror.Status

// ErrorSpec is one row of the error table (apierror.Spec).
type ErrorSpec = apierror.Spec

var row = apierror.Row

// errorTable is the one table mapping the node's errors to responses, used by the server
// to answer (SpecOf) and by the client to map answers back (ErrorFor). Rows are matched in
// order with errors.Is; an error matching no row is reported as the last row (internal
// error). Reasons, statuses and domains follow Walrus's where Walrus has the error;
// (Code, Reason) pairs are unique. Every (Code, Status) pair is in WalrusStatus except
// the 405 of a wrong method, which Walrus's router sends without a body: it keeps its
// HTTP code here, in Walrus's envelope (a Walrus client reads it as an HTTP 405, as it
// does Walrus's own).
var errorTable = []ErrorSpec{
	row(sn.ErrInvalidBlobID, "INVALID_ARGUMENT", "INVALID_BLOB_ID", Domain),
	row(sn.ErrInvalidObjectID, "INVALID_ARGUMENT", "INVALID_OBJECT_ID", Domain),
	row(sn.ErrMalformed, "INVALID_ARGUMENT", "MALFORMED_REQUEST", Domain),
	row(sn.ErrIndexOutOfRange, "INVALID_ARGUMENT", "INDEX_OUT_OF_RANGE", Domain),
	row(sn.ErrNotRegistered, "FAILED_PRECONDITION", "NOT_REGISTERED", Domain),
	row(sn.ErrBlobExpired, "FAILED_PRECONDITION", "BLOB_EXPIRED", Domain),
	row(sn.ErrInvalidBlob, "FAILED_PRECONDITION", "INVALID_BLOB", Domain),
	row(sn.ErrShardNotAssigned, "FAILED_PRECONDITION", "SHARD_NOT_ASSIGNED", Domain),
	row(sn.ErrShardLocked, "FAILED_PRECONDITION", "SHARD_LOCKED", Domain),
	row(sn.ErrMetadataNotFound, "NOT_FOUND", "METADATA_NOT_FOUND", Domain),
	row(sn.ErrMissingMetadata, "FAILED_PRECONDITION", "METADATA_NOT_FOUND", Domain),
	row(sn.ErrSliverNotFound, "NOT_FOUND", "SLIVER_NOT_FOUND", Domain),
	row(sn.ErrInvalidMetadata, "INVALID_ARGUMENT", "INVALID_METADATA", Domain),
	row(sn.ErrUnsupportedEncoding, "INVALID_ARGUMENT", "UNSUPPORTED_ENCODING_TYPE", Domain),
	row(sn.ErrInvalidSliver, "INVALID_ARGUMENT", "INVALID_SLIVER", Domain),
	row(sn.ErrPendingFull, "FAILED_PRECONDITION", "CACHE_SATURATED", Domain),
	row(sn.ErrMissingSlivers, "FAILED_PRECONDITION", "MISSING_SLIVERS", Domain),
	row(sn.ErrSymbolNotPresent, "FAILED_PRECONDITION", "SYMBOL_NOT_PRESENT_AT_SHARDS", Domain),
	row(sn.ErrNoSymbols, "FAILED_PRECONDITION", "NO_SYMBOLS_SPECIFIED", Domain),
	row(sn.ErrNoTargetSlivers, "FAILED_PRECONDITION", "NO_TARGET_SLIVERS_SPECIFIED", Domain),
	row(sn.ErrDecodingOutOfRange, "INVALID_ARGUMENT", "RECOVERY_SYMBOL_OUT_OF_RANGE", Domain),
	row(sn.ErrInvalidFilter, "INVALID_ARGUMENT", "INVALID_FILTER", Domain),
	row(sn.ErrInvalidProof, "INVALID_ARGUMENT", "INVALID_PROOF", Domain),
	row(sn.ErrUnauthorized, "PERMISSION_DENIED", "REQUEST_UNAUTHORIZED", Domain),
	row(sn.ErrInvalidEpoch, "INVALID_ARGUMENT", "INVALID_EPOCH", Domain),
	row(sn.ErrTooLarge, "SIZE_EXCEEDED", "BODY_TOO_LARGE", Domain),
	row(sn.ErrBodyTimeout, "DEADLINE_EXCEEDED", "BODY_TOO_SLOW", Domain),
	row(sn.ErrOverloaded, "RESOURCE_EXHAUSTED", "TOO_MANY_REQUESTS", Domain),
	row(sn.ErrChallenged, "UNAVAILABLE", "BLOB_UNDER_CHALLENGE", Domain),
	row(sn.ErrChallengeFailed, "FAILED_PRECONDITION", "CHALLENGE_FAILED", Domain),
	row(sn.ErrNotAttested, "NOT_FOUND", "NOT_ATTESTED", Domain),
	row(sn.ErrNotFound, "NOT_FOUND", "NOT_FOUND", Domain),
	{Err: sn.ErrMethodNotAllowed, Code: http.StatusMethodNotAllowed, Status: "UNIMPLEMENTED", Reason: "METHOD_NOT_ALLOWED", Domain: Domain},
	row(context.DeadlineExceeded, "DEADLINE_EXCEEDED", "DEADLINE_EXCEEDED", Domain),
	row(context.Canceled, "UNAVAILABLE", "REQUEST_CANCELED", Domain),
	row(sn.ErrUnavailable, "UNAVAILABLE", "UNAVAILABLE", GlobalDomain),
	row(sn.ErrInternal, "INTERNAL", "INTERNAL_ERROR", GlobalDomain),
}

// SpecOf returns the table row for err.
func SpecOf(err error) ErrorSpec { return apierror.Lookup(errorTable, err) }

// ErrorFor returns the sentinel error for a response's HTTP code and reason, or nil if
// the pair is not in the table.
func ErrorFor(code int, reason string) error {
	for _, s := range errorTable {
		if s.Code == code && s.Reason == reason {
			return s.Err
		}
	}
	return nil
}

// ErrorBody is the JSON error envelope (Google API style, as Walrus returns it); its
// ErrorInfo's Metadata holds the error's values that Walrus's clients read (for
// INVALID_EPOCH, request_epoch and server_epoch).
type ErrorBody = apierror.Body

// ErrorStatus is the content of an error envelope.
type ErrorStatus = apierror.BodyStatus

// newErrorBody builds the envelope for err. Internal errors carry no details of the
// failure (the node has logged them).
func newErrorBody(err error) (int, ErrorBody) {
	s := SpecOf(err)
	msg := err.Error()
	if s.Err == sn.ErrInternal {
		msg = "an internal error has occurred, please report it"
	}
	meta := map[string]any{}
	var epoch *sn.EpochError
	if errors.As(err, &epoch) {
		meta["request_epoch"], meta["server_epoch"] = epoch.Request, epoch.Server
	}
	return s.Code, apierror.NewBody(s, msg, meta)
}

// SuccessBody is the JSON success envelope.
type SuccessBody[T any] struct {
	Success struct {
		Code int `json:"code"`
		Data T   `json:"data"`
	} `json:"success"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value written is built by this package and marshals.
		panic("api: marshal response: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

func writeSuccess[T any](w http.ResponseWriter, code int, data T) {
	var body SuccessBody[T]
	body.Success.Code, body.Success.Data = code, data
	writeJSON(w, code, body)
}

// writeCorked is writeBytes for a possibly large answer (a sliver): over a connection
// of a nodetls.NewListener listener, an answer of 256 KiB or more leaves in socket
// writes of up to 256 KiB instead of one per 16 KiB TLS record (nodetls.Cork).
func writeCorked(w http.ResponseWriter, r *http.Request, b []byte) {
	c, ok := r.Context().Value(connKey{}).(net.Conn)
	if !ok {
		writeBytes(w, b)
		return
	}
	uncork := nodetls.Cork(c, len(b))
	defer uncork() //nolint:errcheck // a failed write fails the request's connection
	writeBytes(w, b)
	// Every byte of the answer must be down to the connection before it is uncorked.
	http.NewResponseController(w).Flush() //nolint:errcheck // as for Write
}

func writeBytes(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/octet-stream")
	// A declared length lets the client read the body into one buffer of the right size
	// (and spares the chunked framing).
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
