package s3

import (
	"encoding/xml"
	"errors"
	"net/http"
)

// APIError is an S3 error: a code from S3's list, the HTTP status S3 answers it with,
// and a message. The gateway writes it as S3's XML error body.
type APIError struct {
	Code    string
	Status  int
	Message string
}

func (e *APIError) Error() string { return "s3: " + e.Code + ": " + e.Message }

// statusOf is the one table of S3 error codes and their HTTP statuses.
var statusOf = map[string]int{
	"AccessDenied":                      http.StatusForbidden,
	"AuthorizationHeaderMalformed":      http.StatusBadRequest,
	"AuthorizationQueryParametersError": http.StatusBadRequest,
	"BadDigest":                         http.StatusBadRequest,
	"BucketAlreadyOwnedByYou":           http.StatusConflict,
	"BucketNotEmpty":                    http.StatusConflict,
	"EntityTooLarge":                    http.StatusBadRequest,
	"EntityTooSmall":                    http.StatusBadRequest,
	"IncompleteBody":                    http.StatusBadRequest,
	"InternalError":                     http.StatusInternalServerError,
	"InvalidAccessKeyId":                http.StatusForbidden,
	"InvalidArgument":                   http.StatusBadRequest,
	"InvalidBucketName":                 http.StatusBadRequest,
	"InvalidDigest":                     http.StatusBadRequest,
	"InvalidPart":                       http.StatusBadRequest,
	"InvalidPartOrder":                  http.StatusBadRequest,
	"InvalidRange":                      http.StatusRequestedRangeNotSatisfiable,
	"InvalidRequest":                    http.StatusBadRequest,
	"KeyTooLongError":                   http.StatusBadRequest,
	"MalformedXML":                      http.StatusBadRequest,
	"MaxMessageLengthExceeded":          http.StatusBadRequest,
	"MetadataTooLarge":                  http.StatusBadRequest,
	"MethodNotAllowed":                  http.StatusMethodNotAllowed,
	"MissingContentLength":              http.StatusLengthRequired,
	"NoSuchBucket":                      http.StatusNotFound,
	"NoSuchKey":                         http.StatusNotFound,
	"NoSuchUpload":                      http.StatusNotFound,
	"NotImplemented":                    http.StatusNotImplemented,
	"PreconditionFailed":                http.StatusPreconditionFailed,
	"RequestTimeTooSkewed":              http.StatusForbidden,
	"SignatureDoesNotMatch":             http.StatusForbidden,
	"ServiceUnavailable":                http.StatusServiceUnavailable,
	"XAmzContentSHA256Mismatch":         http.StatusBadRequest,
}

func apiErr(code, msg string) *APIError {
	st, ok := statusOf[code]
	if !ok {
		panic("s3: error code missing from statusOf: " + code)
	}
	return &APIError{Code: code, Status: st, Message: msg}
}

func errAccessDenied(msg string) *APIError        { return apiErr("AccessDenied", msg) }
func errAuthHeaderMalformed(msg string) *APIError { return apiErr("AuthorizationHeaderMalformed", msg) }
func errAuthQueryMalformed(msg string) *APIError {
	return apiErr("AuthorizationQueryParametersError", msg)
}
func errInvalidRequest(msg string) *APIError        { return apiErr("InvalidRequest", msg) }
func errInvalidArgument(msg string) *APIError       { return apiErr("InvalidArgument", msg) }
func errSignatureDoesNotMatch(msg string) *APIError { return apiErr("SignatureDoesNotMatch", msg) }
func errRequestTimeTooSkewed() *APIError {
	return apiErr("RequestTimeTooSkewed", "The difference between the request time and the server's time is too large.")
}
func errMalformedXML(msg string) *APIError { return apiErr("MalformedXML", msg) }

// fromIndex maps an Index error to its S3 error, or nil if it is none of the Index's
// sentinels.
func fromIndex(err error) *APIError {
	switch {
	case errors.Is(err, ErrNoSuchBucket):
		return apiErr("NoSuchBucket", "The specified bucket does not exist")
	case errors.Is(err, ErrNoSuchKey):
		return apiErr("NoSuchKey", "The specified key does not exist.")
	case errors.Is(err, ErrBucketExists):
		return apiErr("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
	case errors.Is(err, ErrBucketNotEmpty):
		return apiErr("BucketNotEmpty", "The bucket you tried to delete is not empty")
	case errors.Is(err, ErrNoSuchUpload):
		return apiErr("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
	}
	return nil
}

// errorBody is S3's XML error document.
type errorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Resource  string `xml:",omitempty"`
	RequestID string `xml:"RequestId"`
}
