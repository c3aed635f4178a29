package s3

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// streamingPut builds a PUT with an aws-chunked body of chunks, the request signed with
// the SDK's signer and the chunks signed in chain; tamper, if set, changes the encoded
// body after signing.
func streamingPut(t *testing.T, g *testGateway, path string, chunks [][]byte, tamper func([]byte) []byte) *http.Request {
	t.Helper()
	now := time.Now().UTC()
	total := 0
	for _, c := range chunks {
		total += len(c)
	}
	r := g.req("PUT", path, nil)
	r.Header.Set("X-Amz-Content-Sha256", streamingPayload)
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(total))
	r.Header.Set("Content-Encoding", "aws-chunked")
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := s.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testCred.AccessKey, SecretAccessKey: testCred.SecretKey},
		r, streamingPayload, "s3", "us-east-1", now); err != nil {
		t.Fatal(err)
	}
	sig, err := parseSig(r)
	if err != nil {
		t.Fatal(err)
	}
	key := signingKey(testCred.SecretKey, sig.date, sig.region, sig.service)
	prev := sig.signature
	var body bytes.Buffer
	for _, c := range append(chunks, nil) {
		sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + sig.amzDate.Format(sigTimeFormat) + "\n" + sig.scope() + "\n" + prev + "\n" + emptySHA256 + "\n" + sha256Hex(c)
		prev = hex.EncodeToString(hmacSHA256(key, sts))
		fmt.Fprintf(&body, "%x;chunk-signature=%s\r\n%s\r\n", len(c), prev, c)
	}
	b := body.Bytes()
	if tamper != nil {
		b = tamper(b)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	return r
}

// TestStreamingPayload: an aws-chunked upload is stored; a chunk changed in flight, a
// chunk dropped, or data beyond the declared length are refused, and store nothing.
func TestStreamingPayload(t *testing.T) {
	g := newTestGateway(t, nil)
	g.must(200, "PUT", "/bkt", nil)
	chunks := [][]byte{bytes.Repeat([]byte("a"), 8192), bytes.Repeat([]byte("b"), 100)}
	resp, b := g.do(streamingPut(t, g, "/bkt/ok", chunks, nil))
	if resp.StatusCode != 200 {
		t.Fatalf("streaming PUT: %d %s", resp.StatusCode, b)
	}
	if _, got := g.must(200, "GET", "/bkt/ok", nil); !bytes.Equal(got, bytes.Join(chunks, nil)) {
		t.Fatal("streamed object reads back differently")
	}
	attacks := []struct {
		name   string
		tamper func([]byte) []byte
		code   string
	}{
		{"a data byte flipped", func(b []byte) []byte {
			i := bytes.Index(b, []byte("\r\n")) + 2
			b[i] ^= 1
			return b
		}, "SignatureDoesNotMatch"},
		{"the second chunk dropped", func(b []byte) []byte {
			i := bytes.Index(b, []byte("\r\n64;")) + 2
			j := bytes.Index(b[i:], []byte("\r\n0;")) + i + 2
			return append(b[:i:i], b[j:]...)
		}, "SignatureDoesNotMatch"},
		{"a chunk signature replaced", func(b []byte) []byte {
			i := bytes.Index(b, []byte("chunk-signature=")) + len("chunk-signature=")
			copy(b[i:], bytes.Repeat([]byte("0"), 64))
			return b
		}, "SignatureDoesNotMatch"},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }, "IncompleteBody"},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			before := g.store.count()
			resp, b := g.do(streamingPut(t, g, "/bkt/evil", chunks, a.tamper))
			if resp.StatusCode/100 != 4 || errCode(t, b) != a.code {
				t.Fatalf("status %d %s, want %s", resp.StatusCode, b, a.code)
			}
			g.must(404, "HEAD", "/bkt/evil", nil)
			if g.store.count() != before {
				t.Fatal("a refused upload left a blob behind")
			}
		})
	}
}

// FuzzChunkedReader: any body decodes to at most the declared length or fails with an
// S3 error, never panics.
func FuzzChunkedReader(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"), int64(5))
	f.Add([]byte("3\r\nabc\r\n0\r\n\r\n"), int64(3))
	f.Add([]byte("ffffffffff\r\n"), int64(10))
	f.Fuzz(func(t *testing.T, body []byte, max int64) {
		if max < 0 || max > 1<<20 {
			return
		}
		s := &sigRequest{payloadHash: streamingUnsigned, date: "20260101", region: "r", service: "s3"}
		r := newChunkedReader(bytes.NewReader(body), s, nil, max)
		out, err := io.ReadAll(io.LimitReader(r, max+1))
		if int64(len(out)) > max {
			t.Fatalf("decoded %d bytes, more than %d", len(out), max)
		}
		var ae *APIError
		if err != nil && !errors.As(err, &ae) {
			t.Fatalf("error %v is not an S3 error", err)
		}
	})
}

// FuzzAuthorization: any Authorization header parses or fails with an S3 error.
func FuzzAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "20260101T000000Z")
	f.Add("AWS AK:sig", "")
	f.Fuzz(func(t *testing.T, auth, date string) {
		r, _ := http.NewRequest("GET", "http://h/b/k", nil)
		r.Header.Set("Authorization", auth)
		r.Header.Set("X-Amz-Date", date)
		r.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
		s, err := parseSig(r)
		if err != nil {
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an S3 error", err)
			}
			return
		}
		if _, err := verifySig(r, s, "secret"); err == nil && s.signature != "" {
			// A random signature must not verify.
			t.Fatalf("signature %q verified", s.signature)
		}
	})
}

func TestParseRange(t *testing.T) {
	cases := []struct {
		h        string
		size     int64
		start, n int64
		none     bool
		invalid  bool
	}{
		{h: "", size: 10, none: true},
		{h: "bytes=0-0", size: 10, start: 0, n: 1},
		{h: "bytes=3-", size: 10, start: 3, n: 7},
		{h: "bytes=-4", size: 10, start: 6, n: 4},
		{h: "bytes=-40", size: 10, start: 0, n: 10},
		{h: "bytes=5-100", size: 10, start: 5, n: 5},
		{h: "bytes=10-", size: 10, invalid: true},
		{h: "bytes=-0", size: 10, invalid: true},
		{h: "bytes=5-2", size: 10, none: true},
		{h: "bytes=0-1,3-4", size: 10, none: true},
		{h: "items=0-1", size: 10, none: true},
		{h: "bytes=0-", size: 0, invalid: true},
	}
	for _, c := range cases {
		r, err := parseRange(c.h, c.size)
		switch {
		case c.invalid:
			if err == nil {
				t.Errorf("%q of %d: no InvalidRange", c.h, c.size)
			}
		case c.none:
			if r != nil || err != nil {
				t.Errorf("%q of %d: %v %v, want the whole object", c.h, c.size, r, err)
			}
		default:
			if err != nil || r == nil || r.start != c.start || r.n != c.n {
				t.Errorf("%q of %d: %v %v, want %d+%d", c.h, c.size, r, err, c.start, c.n)
			}
		}
	}
}
