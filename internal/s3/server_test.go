package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// memStore is a Store in memory for this package's tests; the real data path is tested
// against a test network in clients_test.go.
type memStore struct {
	mu    sync.Mutex
	blobs map[chain.ObjectID][]byte
	next  byte
}

func newMemStore() *memStore { return &memStore{blobs: make(map[chain.ObjectID][]byte)} }

func (m *memStore) Put(_ context.Context, r io.Reader) (Blob, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Blob{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	b := Blob{ID: redstuff.BlobID(sha256.Sum256(data)), Object: chain.ObjectID{m.next, 1}}
	m.blobs[b.Object] = data
	return b, nil
}

func (m *memStore) Open(_ context.Context, b Blob) (io.ReadSeekCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.blobs[b.Object]
	if !ok {
		return nil, fmt.Errorf("memstore: no blob %x", b.Object[:2])
	}
	return readSeekNopCloser{bytes.NewReader(d)}, nil
}

type readSeekNopCloser struct{ *bytes.Reader }

func (readSeekNopCloser) Close() error { return nil }

func (m *memStore) Release(_ context.Context, b Blob) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.blobs, b.Object)
	return nil
}

func (m *memStore) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.blobs)
}

var testCred = Credential{AccessKey: "AKIDTEST", SecretKey: "secret/key+test"}

type testGateway struct {
	t     *testing.T
	srv   *httptest.Server
	store *memStore
	now   time.Time
}

func newTestGateway(t *testing.T, mod func(*Config)) *testGateway {
	t.Helper()
	g := &testGateway{t: t, store: newMemStore(), now: time.Now().UTC()}
	cfg := Config{Index: NewMemIndex(), Store: g.store, Credentials: []Credential{testCred}, MinPartSize: 1, KeepAlive: time.Hour}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.srv = httptest.NewServer(s)
	t.Cleanup(g.srv.Close)
	return g
}

// req builds a request; body nil means none.
func (g *testGateway) req(method, path string, body []byte) *http.Request {
	g.t.Helper()
	r, err := http.NewRequest(method, g.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	if body == nil {
		r.Body = http.NoBody
		r.ContentLength = 0
	}
	return r
}

// sign signs r with the AWS SDK's signer (an independent implementation) at time at.
func sign(t *testing.T, r *http.Request, cred Credential, body []byte, at time.Time) {
	t.Helper()
	h := sha256.Sum256(body)
	ph := hex.EncodeToString(h[:])
	r.Header.Set("X-Amz-Content-Sha256", ph)
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	err := s.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: cred.AccessKey, SecretAccessKey: cred.SecretKey}, r, ph, "s3", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
}

func (g *testGateway) do(r *http.Request) (*http.Response, []byte) {
	g.t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatal(err)
	}
	return resp, b
}

// call sends a signed request and returns the response.
func (g *testGateway) call(method, path string, body []byte, hdr ...string) (*http.Response, []byte) {
	g.t.Helper()
	r := g.req(method, path, body)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	sign(g.t, r, testCred, body, time.Now())
	return g.do(r)
}

// must sends a signed request and fails the test unless the status is want.
func (g *testGateway) must(want int, method, path string, body []byte, hdr ...string) (*http.Response, []byte) {
	g.t.Helper()
	resp, b := g.call(method, path, body, hdr...)
	if resp.StatusCode != want {
		g.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	return resp, b
}

func errCode(t *testing.T, b []byte) string {
	t.Helper()
	var e errorBody
	if err := xml.Unmarshal(b, &e); err != nil {
		t.Fatalf("not an S3 error document: %q", b)
	}
	return e.Code
}

func md5b64(b []byte) string {
	h := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(h[:])
}

func md5hex(b []byte) string {
	h := md5.Sum(b)
	return hex.EncodeToString(h[:])
}

// TestRefusals is the table of requests the gateway must refuse, each with S3's error
// code and status.
func TestRefusals(t *testing.T) {
	g := newTestGateway(t, func(c *Config) { c.MaxPartSize = 1 << 10; c.MaxObjectSize = 4 << 10 })
	g.must(200, "PUT", "/bkt", nil)
	g.must(200, "PUT", "/bkt/obj", []byte("hello"))
	_, b := g.must(200, "POST", "/bkt/big?uploads", nil)
	var init initiateResult
	if err := xml.Unmarshal(b, &init); err != nil {
		t.Fatal(err)
	}
	up := "/bkt/big?uploadId=" + init.UploadID
	g.must(200, "PUT", up+"&partNumber=1", []byte("part one"))

	other := Credential{AccessKey: testCred.AccessKey, SecretKey: "wrong"}
	unknown := Credential{AccessKey: "NOBODY", SecretKey: testCred.SecretKey}
	presign := func(path string, at time.Time, expires int) *http.Request {
		r := g.req("GET", path, nil)
		qv := r.URL.Query()
		qv.Set("X-Amz-Expires", strconv.Itoa(expires))
		r.URL.RawQuery = qv.Encode()
		s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		u, _, err := s.PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: testCred.AccessKey, SecretAccessKey: testCred.SecretKey}, r, unsignedPayload, "s3", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		pr, err := http.NewRequest("GET", u, nil)
		if err != nil {
			t.Fatal(err)
		}
		return pr
	}
	big := bytes.Repeat([]byte("x"), 2<<10)
	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"unsigned", func() *http.Request { return g.req("GET", "/bkt/obj", nil) }, 403, "AccessDenied"},
		{"wrong secret", func() *http.Request {
			r := g.req("GET", "/bkt/obj", nil)
			sign(t, r, other, nil, time.Now())
			return r
		}, 403, "SignatureDoesNotMatch"},
		{"unknown access key", func() *http.Request {
			r := g.req("GET", "/bkt/obj", nil)
			sign(t, r, unknown, nil, time.Now())
			return r
		}, 403, "InvalidAccessKeyId"},
		{"path changed after signing", func() *http.Request {
			r := g.req("GET", "/bkt/obj", nil)
			sign(t, r, testCred, nil, time.Now())
			r.URL.Path = "/bkt/other"
			return r
		}, 403, "SignatureDoesNotMatch"},
		{"signed header changed after signing", func() *http.Request {
			r := g.req("GET", "/bkt/obj", nil)
			r.Header.Set("X-Amz-Meta-A", "1")
			sign(t, r, testCred, nil, time.Now())
			r.Header.Set("X-Amz-Meta-A", "2")
			return r
		}, 403, "SignatureDoesNotMatch"},
		{"body changed after signing", func() *http.Request {
			r := g.req("PUT", "/bkt/obj", []byte("evil"))
			sign(t, r, testCred, []byte("good"), time.Now())
			return r
		}, 400, "XAmzContentSHA256Mismatch"},
		{"clock skew", func() *http.Request {
			r := g.req("GET", "/bkt/obj", nil)
			sign(t, r, testCred, nil, time.Now().Add(-time.Hour))
			return r
		}, 403, "RequestTimeTooSkewed"},
		{"expired presigned URL", func() *http.Request {
			return presign("/bkt/obj", time.Now().Add(-2*time.Hour), 3600)
		}, 403, "AccessDenied"},
		{"presigned URL with a tampered expiry", func() *http.Request {
			r := presign("/bkt/obj", time.Now().Add(-2*time.Hour), 3600)
			qv := r.URL.Query()
			qv.Set("X-Amz-Expires", "86400")
			r.URL.RawQuery = qv.Encode()
			return r
		}, 403, "SignatureDoesNotMatch"},
		{"presigned URL for another key", func() *http.Request {
			r := presign("/bkt/obj", time.Now(), 60)
			r.URL.Path = "/bkt/big"
			return r
		}, 403, "SignatureDoesNotMatch"},
		{"wrong Content-MD5", func() *http.Request {
			r := g.req("PUT", "/bkt/obj", []byte("data"))
			r.Header.Set("Content-Md5", md5b64([]byte("other")))
			sign(t, r, testCred, []byte("data"), time.Now())
			return r
		}, 400, "BadDigest"},
		{"malformed Content-MD5", func() *http.Request {
			r := g.req("PUT", "/bkt/obj", []byte("data"))
			r.Header.Set("Content-Md5", "nope")
			sign(t, r, testCred, []byte("data"), time.Now())
			return r
		}, 400, "InvalidDigest"},
		{"oversized part", func() *http.Request {
			r := g.req("PUT", up+"&partNumber=2", big)
			sign(t, r, testCred, big, time.Now())
			return r
		}, 400, "EntityTooLarge"},
		{"oversized object", func() *http.Request {
			b := bytes.Repeat([]byte("y"), 5<<10)
			r := g.req("PUT", "/bkt/huge", b)
			sign(t, r, testCred, b, time.Now())
			return r
		}, 400, "EntityTooLarge"},
		{"part number out of range", func() *http.Request {
			r := g.req("PUT", up+"&partNumber=10001", []byte("x"))
			sign(t, r, testCred, []byte("x"), time.Now())
			return r
		}, 400, "InvalidArgument"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, b := g.do(c.req())
			if resp.StatusCode != c.status || errCode(t, b) != c.code {
				t.Fatalf("status %d code %s, want %d %s: %s", resp.StatusCode, errCode(t, b), c.status, c.code, b)
			}
		})
	}
	// The refused uploads changed nothing.
	if _, b := g.must(200, "GET", "/bkt/obj", nil); string(b) != "hello" {
		t.Fatalf("object after refused writes: %q", b)
	}
	// A valid presigned URL works.
	if resp, b := g.do(presign("/bkt/obj", time.Now(), 60)); resp.StatusCode != 200 || string(b) != "hello" {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, b)
	}

	errs := []struct {
		name, method, path string
		body               []byte
		status             int
		code               string
	}{
		{"no such bucket", "GET", "/nobkt/obj", nil, 404, "NoSuchBucket"},
		{"no such key", "GET", "/bkt/none", nil, 404, "NoSuchKey"},
		{"bucket not empty", "DELETE", "/bkt", nil, 409, "BucketNotEmpty"},
		{"bucket exists", "PUT", "/bkt", nil, 409, "BucketAlreadyOwnedByYou"},
		{"invalid bucket name", "PUT", "/B_x", nil, 400, "InvalidBucketName"},
		{"no such upload", "PUT", "/bkt/big?uploadId=nope&partNumber=1", []byte("x"), 404, "NoSuchUpload"},
		{"invalid part", "POST", up, []byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"0123"</ETag></Part></CompleteMultipartUpload>`), 400, "InvalidPart"},
		{"missing part", "POST", up, []byte(`<CompleteMultipartUpload><Part><PartNumber>3</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>`), 400, "InvalidPart"},
		{"invalid part order", "POST", up, []byte(`<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>`), 400, "InvalidPartOrder"},
		{"malformed XML", "POST", up, []byte(`<CompleteMultipartUpload><Part>`), 400, "MalformedXML"},
		{"unsatisfiable range", "GET", "/bkt/obj", nil, 416, "InvalidRange"},
	}
	for _, c := range errs {
		t.Run(c.name, func(t *testing.T) {
			hdr := []string{}
			if c.code == "InvalidRange" {
				hdr = []string{"Range", "bytes=100-"}
			}
			resp, b := g.call(c.method, c.path, c.body, hdr...)
			if resp.StatusCode != c.status || errCode(t, b) != c.code {
				t.Fatalf("status %d code %s, want %d %s: %s", resp.StatusCode, errCode(t, b), c.status, c.code, b)
			}
		})
	}
}
