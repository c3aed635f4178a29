package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// Domain is the error domain of every ErrorInfo the node returns.
const Domain = "storage.walrus.space"

// ErrorSpec is one row of the error table: a sentinel error and the HTTP status code,
// Google API status and Walrus reason it is reported with.
type ErrorSpec struct {
	Err    error
	Code   int
	Status string
	Reason string
}

// errorTable is the one table mapping the node's errors to responses, used by the server
// to answer (SpecOf) and by the client to map answers back (ErrorFor). Rows are matched in
// order with errors.Is; an error matching no row is reported as the last row (internal
// error). Reasons follow Walrus's where Walrus has the error; (Code, Reason) pairs are
// unique.
var errorTable = []ErrorSpec{
	{sn.ErrInvalidBlobID, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_BLOB_ID"},
	{sn.ErrInvalidObjectID, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_OBJECT_ID"},
	{sn.ErrMalformed, http.StatusBadRequest, "INVALID_ARGUMENT", "MALFORMED_REQUEST"},
	{sn.ErrIndexOutOfRange, http.StatusBadRequest, "INVALID_ARGUMENT", "INDEX_OUT_OF_RANGE"},
	{sn.ErrNotRegistered, http.StatusBadRequest, "FAILED_PRECONDITION", "NOT_REGISTERED"},
	{sn.ErrBlobExpired, http.StatusBadRequest, "FAILED_PRECONDITION", "BLOB_EXPIRED"},
	{sn.ErrInvalidBlob, http.StatusBadRequest, "FAILED_PRECONDITION", "INVALID_BLOB"},
	{sn.ErrShardNotAssigned, http.StatusBadRequest, "FAILED_PRECONDITION", "SHARD_NOT_ASSIGNED"},
	{sn.ErrShardLocked, http.StatusBadRequest, "FAILED_PRECONDITION", "SHARD_LOCKED"},
	{sn.ErrMetadataNotFound, http.StatusNotFound, "NOT_FOUND", "METADATA_NOT_FOUND"},
	{sn.ErrMissingMetadata, http.StatusBadRequest, "FAILED_PRECONDITION", "METADATA_NOT_FOUND"},
	{sn.ErrSliverNotFound, http.StatusNotFound, "NOT_FOUND", "SLIVER_NOT_FOUND"},
	{sn.ErrInvalidMetadata, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_METADATA"},
	{sn.ErrUnsupportedEncoding, http.StatusBadRequest, "INVALID_ARGUMENT", "UNSUPPORTED_ENCODING_TYPE"},
	{sn.ErrInvalidSliver, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_SLIVER"},
	{sn.ErrPendingFull, http.StatusBadRequest, "FAILED_PRECONDITION", "CACHE_SATURATED"},
	{sn.ErrMissingSlivers, http.StatusBadRequest, "FAILED_PRECONDITION", "MISSING_SLIVERS"},
	{sn.ErrSymbolNotPresent, http.StatusBadRequest, "FAILED_PRECONDITION", "SYMBOL_NOT_PRESENT_AT_SHARDS"},
	{sn.ErrNoSymbols, http.StatusBadRequest, "FAILED_PRECONDITION", "NO_SYMBOLS_SPECIFIED"},
	{sn.ErrInvalidFilter, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_FILTER"},
	{sn.ErrInvalidProof, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_PROOF"},
	{sn.ErrUnauthorized, http.StatusForbidden, "PERMISSION_DENIED", "UNAUTHORIZED"},
	{sn.ErrInvalidEpoch, http.StatusBadRequest, "FAILED_PRECONDITION", "INVALID_EPOCH"},
	{sn.ErrTooLarge, http.StatusRequestEntityTooLarge, "SIZE_EXCEEDED", "BODY_TOO_LARGE"},
	{sn.ErrBodyTimeout, http.StatusRequestTimeout, "DEADLINE_EXCEEDED", "REQUEST_TIMEOUT"},
	{sn.ErrOverloaded, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "TOO_MANY_REQUESTS"},
	{sn.ErrNotFound, http.StatusNotFound, "NOT_FOUND", "NOT_FOUND"},
	{sn.ErrMethodNotAllowed, http.StatusMethodNotAllowed, "UNIMPLEMENTED", "METHOD_NOT_ALLOWED"},
	{context.DeadlineExceeded, http.StatusGatewayTimeout, "DEADLINE_EXCEEDED", "DEADLINE_EXCEEDED"},
	{context.Canceled, http.StatusServiceUnavailable, "UNAVAILABLE", "REQUEST_CANCELED"},
	{sn.ErrUnavailable, http.StatusServiceUnavailable, "UNAVAILABLE", "UNAVAILABLE"},
	{sn.ErrInternal, http.StatusInternalServerError, "INTERNAL", "INTERNAL_ERROR"},
}

// SpecOf returns the table row for err.
func SpecOf(err error) ErrorSpec {
	for _, s := range errorTable {
		if errors.Is(err, s.Err) {
			return s
		}
	}
	return errorTable[len(errorTable)-1]
}

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

// ErrorBody is the JSON error envelope (Google API style, as Walrus returns it).
type ErrorBody struct {
	Error ErrorStatus `json:"error"`
}

// ErrorStatus is the content of an error envelope.
type ErrorStatus struct {
	Code    int           `json:"code"`
	Status  string        `json:"status"`
	Message string        `json:"message"`
	Details []ErrorDetail `json:"details"`
}

// ErrorDetail is one entry of ErrorStatus.Details; the node always sends one ErrorInfo.
type ErrorDetail struct {
	Type     string         `json:"@type"`
	Reason   string         `json:"reason"`
	Domain   string         `json:"domain"`
	Metadata map[string]any `json:"metadata"`
}

// Reason returns the reason of the first ErrorInfo detail.
func (s ErrorStatus) Reason() string {
	for _, d := range s.Details {
		if d.Type == "ErrorInfo" {
			return d.Reason
		}
	}
	return ""
}

// newErrorBody builds the envelope for err. Internal errors carry no details of the
// failure (the node has logged them).
func newErrorBody(err error) (int, ErrorBody) {
	s := SpecOf(err)
	msg := err.Error()
	if s.Err == sn.ErrInternal {
		msg = "an internal error has occurred, please report it"
	}
	return s.Code, ErrorBody{Error: ErrorStatus{
		Code: s.Code, Status: s.Status, Message: msg,
		Details: []ErrorDetail{{Type: "ErrorInfo", Reason: s.Reason, Domain: Domain, Metadata: map[string]any{}}},
	}}
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

func writeBytes(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
