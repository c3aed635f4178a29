package s3

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"strconv"
	"strings"
)

// aws-chunked payloads (x-amz-content-sha256 STREAMING-*): the body is a sequence of
// chunks "hex-size[;chunk-signature=sig]\r\n<data>\r\n" ending with a chunk of size 0,
// then, for the *-TRAILER kinds, trailer header lines and an empty line. Each signed
// chunk's signature chains from the previous one, starting from the request's.

const (
	// maxChunkLine bounds a chunk header or trailer line.
	maxChunkLine = 4096
	// maxAWSChunk bounds one chunk's data (clients send 64 KiB to 16 MiB).
	maxAWSChunk = 64 << 20
	// maxTrailers bounds the trailer lines.
	maxTrailers = 16
)

// chunkedReader decodes an aws-chunked body. It returns io.EOF only after the final
// chunk (and trailer) decoded and every signature checked, and an *APIError for a
// malformed body or a wrong chunk signature.
type chunkedReader struct {
	r      *bufio.Reader
	signed bool
	key    []byte
	prefix string // "AWS4-HMAC-SHA256-PAYLOAD\n<date>\n<scope>\n"
	prev   string // the previous signature
	// trailer: whether trailer lines follow the final chunk.
	trailer bool

	left   int64  // bytes left in the current chunk
	sig    string // the current chunk's claimed signature
	h      hash.Hash
	done   bool
	err    error
	total  int64
	maxLen int64
}

func newChunkedReader(body io.Reader, s *sigRequest, key []byte, maxLen int64) *chunkedReader {
	c := &chunkedReader{
		r:       bufio.NewReaderSize(body, 64<<10),
		signed:  s.payloadHash != streamingUnsigned,
		key:     key,
		prefix:  "AWS4-HMAC-SHA256-PAYLOAD\n" + s.amzDate.Format(sigTimeFormat) + "\n" + s.scope() + "\n",
		prev:    s.signature,
		trailer: s.payloadHash != streamingPayload,
		left:    -1,
		h:       sha256.New(),
		maxLen:  maxLen,
	}
	return c
}

func (c *chunkedReader) line() (string, error) {
	var b []byte
	for {
		frag, err := c.r.ReadSlice('\n')
		b = append(b, frag...)
		if len(b) > maxChunkLine {
			return "", apiErr("IncompleteBody", "an aws-chunked line is too long")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", apiErr("IncompleteBody", "the aws-chunked body ended early")
		}
		break
	}
	s := string(b)
	if !strings.HasSuffix(s, "\r\n") {
		return "", apiErr("IncompleteBody", "an aws-chunked line does not end with CRLF")
	}
	return s[:len(s)-2], nil
}

// header reads a chunk header.
func (c *chunkedReader) header() error {
	l, err := c.line()
	if err != nil {
		return err
	}
	size, ext, _ := strings.Cut(l, ";")
	n, err := strconv.ParseInt(size, 16, 64)
	if err != nil || n < 0 || n > maxAWSChunk {
		return apiErr("IncompleteBody", "bad aws-chunked chunk size "+strconv.Quote(size))
	}
	c.sig = ""
	if c.signed {
		v, ok := strings.CutPrefix(ext, "chunk-signature=")
		if !ok || len(v) != 64 {
			return errSignatureDoesNotMatch("an aws-chunked chunk has no signature")
		}
		c.sig = v
	}
	c.left = n
	c.h.Reset()
	return nil
}

// finish checks the signature of the chunk just read.
func (c *chunkedReader) finish() error {
	if !c.signed {
		return nil
	}
	sts := c.prefix + c.prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(c.h.Sum(nil))
	want := hex.EncodeToString(hmacSHA256(c.key, sts))
	if !hmac.Equal([]byte(want), []byte(c.sig)) {
		return errSignatureDoesNotMatch("an aws-chunked chunk signature does not match")
	}
	c.prev = c.sig
	return nil
}

func (c *chunkedReader) fail(err error) (int, error) {
	c.err = err
	return 0, err
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.done {
		return 0, io.EOF
	}
	for c.left <= 0 {
		if c.left == 0 {
			// End of a chunk's data: CRLF, then its signature.
			if l, err := c.line(); err != nil || l != "" {
				return c.fail(apiErr("IncompleteBody", "an aws-chunked chunk does not end with CRLF"))
			}
			if err := c.finish(); err != nil {
				return c.fail(err)
			}
		}
		if err := c.header(); err != nil {
			return c.fail(err)
		}
		if c.left == 0 {
			if err := c.finish(); err != nil {
				return c.fail(err)
			}
			if err := c.end(); err != nil {
				return c.fail(err)
			}
			c.done = true
			return 0, io.EOF
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.left -= int64(n)
	c.total += int64(n)
	if c.total > c.maxLen {
		return c.fail(apiErr("EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size."))
	}
	if err == io.EOF {
		return n, c.failEOF()
	}
	return n, err
}

func (c *chunkedReader) failEOF() error {
	c.err = apiErr("IncompleteBody", "the aws-chunked body ended early")
	return c.err
}

// end reads what follows the final chunk: an empty line, or trailers and an empty line.
func (c *chunkedReader) end() error {
	for i := 0; ; i++ {
		l, err := c.line()
		if err != nil {
			return err
		}
		if l == "" {
			return nil
		}
		if !c.trailer || i >= maxTrailers {
			return apiErr("IncompleteBody", "unexpected data after the final aws-chunked chunk")
		}
		// Trailers carry checksums (x-amz-checksum-*) and, for the signed kind, a
		// trailer signature. The content is already covered by the chunk signatures
		// and the gateway's own MD5, so they are parsed but not checked.
		if _, _, ok := strings.Cut(l, ":"); !ok {
			return apiErr("IncompleteBody", "a malformed aws-chunked trailer")
		}
	}
}
