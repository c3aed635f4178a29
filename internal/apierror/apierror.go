// Package apierror is the error envelope of Walrus's HTTP APIs, shared by the storage
// node's REST API and the publisher/aggregator: Walrus's table of Google API statuses
// and the HTTP codes they are sent with, a row type that maps an error to its answer, and
// the JSON body ({"error": {"code", "status", "message", "details": [ErrorInfo]}}) that
// Walrus's clients parse.
//
// A Walrus client reads an error body only if its (code, status) pair is in Status, so
// every row built with Row has such a pair; a row with another code (a 405 from a router,
// say) is written out by hand and keeps its HTTP code in the same envelope.
package apierror

import (
	"errors"
	"net/http"
)

// Status maps every Google API status of Walrus's error table (the Rust crate
// walrus-storage-node-client, api::errors::StatusCode) to the HTTP code it is sent with.
var Status = map[string]int{
	"UNAVAILABLE_FOR_LEGAL_REASONS": http.StatusUnavailableForLegalReasons,
	"INVALID_ARGUMENT":              http.StatusBadRequest,
	"NOT_FOUND":                     http.StatusNotFound,
	"FAILED_PRECONDITION":           http.StatusBadRequest,
	"PERMISSION_DENIED":             http.StatusForbidden,
	"SIZE_EXCEEDED":                 http.StatusForbidden,
	"INTERNAL":                      http.StatusInternalServerError,
	"DEADLINE_EXCEEDED":             http.StatusGatewayTimeout,
	"UNAUTHENTICATED":               http.StatusUnauthorized,
	"RANGE_NOT_SATISFIABLE":         http.StatusRequestedRangeNotSatisfiable,
	"RESOURCE_EXHAUSTED":            http.StatusTooManyRequests,
	"UNAVAILABLE":                   http.StatusServiceUnavailable,
}

// Spec is one row of an error table: an error and the HTTP code, Google API status,
// Walrus reason and domain it is answered with.
type Spec struct {
	Err    error
	Code   int
	Status string
	Reason string
	Domain string
}

// Row builds a row whose code is the one Walrus pairs with status. It panics if status is
// not in Status: tables are package-level values, so a typo fails at start-up.
func Row(err error, status, reason, domain string) Spec {
	code, ok := Status[status]
	if !ok {
		panic("apierror: status " + status + " is not in Walrus's table")
	}
	return Spec{Err: err, Code: code, Status: status, Reason: reason, Domain: domain}
}

// Lookup returns the first row of table whose error err matches (errors.Is), or the
// table's last row, its answer to anything else.
func Lookup(table []Spec, err error) Spec {
	for _, s := range table {
		if errors.Is(err, s.Err) {
			return s
		}
	}
	return table[len(table)-1]
}

// Body is the JSON error envelope (Google API style, Walrus's api::errors::Status).
type Body struct {
	Error BodyStatus `json:"error"`
}

// BodyStatus is the content of an error envelope.
type BodyStatus struct {
	Code    int      `json:"code"`
	Status  string   `json:"status"`
	Message string   `json:"message"`
	Details []Detail `json:"details"`
}

// Detail is one entry of BodyStatus.Details. The servers here always send one ErrorInfo,
// whose Metadata is never absent (an empty object at least), as Walrus's clients require.
type Detail struct {
	Type     string         `json:"@type"`
	Reason   string         `json:"reason"`
	Domain   string         `json:"domain"`
	Metadata map[string]any `json:"metadata"`
}

// NewBody is the envelope of an answer by row s with message msg; meta (nil for none)
// becomes the ErrorInfo's metadata.
func NewBody(s Spec, msg string, meta map[string]any) Body {
	if meta == nil {
		meta = map[string]any{}
	}
	return Body{Error: BodyStatus{
		Code: s.Code, Status: s.Status, Message: msg,
		Details: []Detail{{Type: "ErrorInfo", Reason: s.Reason, Domain: s.Domain, Metadata: meta}},
	}}
}

// Reason returns the reason of the first ErrorInfo detail, or "" if there is none.
func (s BodyStatus) Reason() string {
	for _, d := range s.Details {
		if d.Type == "ErrorInfo" {
			return d.Reason
		}
	}
	return ""
}
