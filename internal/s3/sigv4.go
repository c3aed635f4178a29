package s3

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Signature Version 4, verified here by recomputing the signature from the request and
// the secret key of the access key it names. The AWS SDK's signer (aws-sdk-go-v2's
// aws/signer/v4) only signs: it chooses which headers to sign itself, while a verifier
// must use exactly the SignedHeaders the client chose, so this package has its own
// canonicalization (about a hundred lines) and the tests sign with the SDK as an
// independent implementation.

// Signature constants.
const (
	sigAlgorithm      = "AWS4-HMAC-SHA256"
	sigTimeFormat     = "20060102T150405Z"
	sigDateFormat     = "20060102"
	unsignedPayload   = "UNSIGNED-PAYLOAD"
	streamingPayload  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingTrailer  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsigned = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	emptySHA256       = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	// maxPresignExpiry is S3's longest presigned URL lifetime, seven days.
	maxPresignExpiry = 7 * 24 * time.Hour
)

// Credential is an access key and its secret.
type Credential struct {
	AccessKey string `yaml:"access_key" json:"accessKey"`
	SecretKey string `yaml:"secret_key" json:"secretKey"`
}

// sigRequest is what a request's signature claims, parsed from the Authorization
// header or the presigned URL's query.
type sigRequest struct {
	accessKey     string
	date          string // yyyymmdd of the scope
	region        string
	service       string
	signedHeaders []string
	signature     string
	amzDate       time.Time
	payloadHash   string // x-amz-content-sha256, or UNSIGNED-PAYLOAD for a presigned URL
	presigned     bool
	expires       time.Duration // presigned only
}

// scope returns the credential scope.
func (s *sigRequest) scope() string {
	return s.date + "/" + s.region + "/" + s.service + "/aws4_request"
}

// parseSig parses the signature of r; errNoAuth if r carries none. It checks the form
// only, not the signature.
func parseSig(r *http.Request) (*sigRequest, error) {
	q := r.URL.Query()
	auth := r.Header.Get("Authorization")
	switch {
	case auth != "" && q.Has("X-Amz-Signature"):
		return nil, errInvalidRequest("both an Authorization header and a presigned signature")
	case auth != "":
		return parseAuthHeader(r, auth)
	case q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential"):
		return parsePresigned(q)
	case q.Has("Signature") || q.Has("AWSAccessKeyId"):
		return nil, errAccessDenied("Signature Version 2 is not supported")
	}
	return nil, errAccessDenied("anonymous requests are not accepted: sign them with Signature Version 4")
}

func parseAuthHeader(r *http.Request, auth string) (*sigRequest, error) {
	alg, rest, ok := strings.Cut(auth, " ")
	if !ok || alg != sigAlgorithm {
		if strings.HasPrefix(auth, "AWS ") {
			return nil, errAccessDenied("Signature Version 2 is not supported")
		}
		return nil, errAuthHeaderMalformed("the authorization header must use " + sigAlgorithm)
	}
	s := &sigRequest{}
	var cred, signed string
	for _, f := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			return nil, errAuthHeaderMalformed("malformed field " + strconv.Quote(f))
		}
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			s.signature = v
		}
	}
	if cred == "" || signed == "" || s.signature == "" {
		return nil, errAuthHeaderMalformed("the authorization header needs Credential, SignedHeaders and Signature")
	}
	if err := s.setCredential(cred); err != nil {
		return nil, err
	}
	s.signedHeaders = strings.Split(signed, ";")
	d := r.Header.Get("X-Amz-Date")
	if d == "" {
		d = r.Header.Get("Date")
		t, err := http.ParseTime(d)
		if err != nil {
			return nil, errAccessDenied("the request has no valid X-Amz-Date or Date header")
		}
		s.amzDate = t.UTC()
	} else {
		t, err := time.Parse(sigTimeFormat, d)
		if err != nil {
			return nil, errAccessDenied("X-Amz-Date is not in the form " + sigTimeFormat)
		}
		s.amzDate = t
	}
	s.payloadHash = r.Header.Get("X-Amz-Content-Sha256")
	if s.payloadHash == "" {
		return nil, errInvalidRequest("missing x-amz-content-sha256")
	}
	if !validPayloadHash(s.payloadHash) {
		return nil, errInvalidArgument("x-amz-content-sha256 is neither a SHA-256 nor a known payload kind")
	}
	return s, nil
}

func validPayloadHash(h string) bool {
	switch h {
	case unsignedPayload, streamingPayload, streamingTrailer, streamingUnsigned:
		return true
	}
	if len(h) != 64 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

func parsePresigned(q url.Values) (*sigRequest, error) {
	if q.Get("X-Amz-Algorithm") != sigAlgorithm {
		return nil, errAuthQueryMalformed("X-Amz-Algorithm must be " + sigAlgorithm)
	}
	s := &sigRequest{presigned: true, payloadHash: unsignedPayload, signature: q.Get("X-Amz-Signature")}
	if err := s.setCredential(q.Get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	t, err := time.Parse(sigTimeFormat, q.Get("X-Amz-Date"))
	if err != nil {
		return nil, errAuthQueryMalformed("X-Amz-Date is not in the form " + sigTimeFormat)
	}
	s.amzDate = t
	exp, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	if err != nil || exp < 1 || exp > int64(maxPresignExpiry/time.Second) {
		return nil, errAuthQueryMalformed("X-Amz-Expires must be between 1 and 604800 seconds")
	}
	s.expires = time.Duration(exp) * time.Second
	sh := q.Get("X-Amz-SignedHeaders")
	if sh == "" || s.signature == "" {
		return nil, errAuthQueryMalformed("a presigned URL needs X-Amz-SignedHeaders and X-Amz-Signature")
	}
	s.signedHeaders = strings.Split(sh, ";")
	return s, nil
}

func (s *sigRequest) setCredential(cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || parts[0] == "" {
		return errAuthHeaderMalformed("the credential must be ACCESSKEY/DATE/REGION/SERVICE/aws4_request")
	}
	s.accessKey, s.date, s.region, s.service = parts[0], parts[1], parts[2], parts[3]
	if s.service != "s3" {
		return errAuthHeaderMalformed("the credential's service must be s3")
	}
	if _, err := time.Parse(sigDateFormat, s.date); err != nil {
		return errAuthHeaderMalformed("the credential's date is not in the form " + sigDateFormat)
	}
	return nil
}

// checkTime checks the request's time against now: within skew for a signed header,
// from the signing time to its expiry for a presigned URL.
func (s *sigRequest) checkTime(now time.Time, skew time.Duration) error {
	if s.amzDate.Format(sigDateFormat) != s.date {
		return errSignatureDoesNotMatch("the credential's date is not the request's date")
	}
	if s.presigned {
		if now.Before(s.amzDate.Add(-skew)) {
			return errAccessDenied("the presigned URL is not valid yet")
		}
		if now.After(s.amzDate.Add(s.expires)) {
			return errAccessDenied("Request has expired")
		}
		return nil
	}
	if d := now.Sub(s.amzDate); d > skew || d < -skew {
		return errRequestTimeTooSkewed()
	}
	return nil
}

// signingKey derives the key of a scope from the secret.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// canonicalRequest builds the canonical request of r as the signature s covers it.
func canonicalRequest(r *http.Request, s *sigRequest) (string, error) {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.Path
	if path == "" {
		path = "/"
	}
	b.WriteString(uriEncode(path, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.Query(), s.presigned))
	b.WriteByte('\n')
	if !slices.IsSorted(s.signedHeaders) {
		return "", errSignatureDoesNotMatch("SignedHeaders are not sorted")
	}
	hasHost := false
	for _, h := range s.signedHeaders {
		if h == "" || h != strings.ToLower(h) {
			return "", errAuthHeaderMalformed("SignedHeaders must be lower-case names")
		}
		var v string
		switch h {
		case "host":
			hasHost = true
			v = r.Host
		case "content-length":
			v = r.Header.Get("Content-Length")
			if v == "" && r.ContentLength >= 0 && r.Header.Get("Transfer-Encoding") == "" && len(r.TransferEncoding) == 0 {
				v = strconv.FormatInt(r.ContentLength, 10)
			}
		case "transfer-encoding":
			v = strings.Join(r.TransferEncoding, ",")
		default:
			vals := r.Header.Values(h)
			for i := range vals {
				vals[i] = trimAll(vals[i])
			}
			v = strings.Join(vals, ",")
		}
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(trimAll(v))
		b.WriteByte('\n')
	}
	if !hasHost {
		return "", errAuthHeaderMalformed("SignedHeaders must include host")
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(s.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(s.payloadHash)
	return b.String(), nil
}

// trimAll trims v and collapses runs of spaces into one, as SigV4 canonical headers do.
func trimAll(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	return strings.Join(strings.Fields(v), " ")
}

func canonicalQuery(q url.Values, presigned bool) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		keys = append(keys, k)
	}
	type kv struct{ k, v string }
	var pairs []kv
	for _, k := range keys {
		for _, v := range q[k] {
			pairs = append(pairs, kv{uriEncode(k, true), uriEncode(v, true)})
		}
	}
	slices.SortFunc(pairs, func(a, b kv) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// uriEncode percent-encodes every byte but the unreserved characters (and '/' unless
// slash), upper-case hex, as SigV4 requires.
func uriEncode(s string, slash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && !slash {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// stringToSign returns the string to sign for a canonical request.
func (s *sigRequest) stringToSign(canonical string) string {
	return sigAlgorithm + "\n" + s.amzDate.Format(sigTimeFormat) + "\n" + s.scope() + "\n" + sha256Hex([]byte(canonical))
}

// verifySig checks r's signature s with secret and returns the signing key for the
// chunk signatures of a streaming payload.
func verifySig(r *http.Request, s *sigRequest, secret string) ([]byte, error) {
	canonical, err := canonicalRequest(r, s)
	if err != nil {
		return nil, err
	}
	key := signingKey(secret, s.date, s.region, s.service)
	want := hex.EncodeToString(hmacSHA256(key, s.stringToSign(canonical)))
	if !hmac.Equal([]byte(want), []byte(s.signature)) {
		return nil, errSignatureDoesNotMatch("The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	}
	return key, nil
}
