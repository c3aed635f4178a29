package uploadrelay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxResponse bounds the answers a Client reads.
const maxResponse = 1 << 20

// Client talks to an upload relay. It is safe for concurrent use.
type Client struct {
	base string
	http *http.Client
}

// NewClient returns a client of the relay at base ("https://relay.example.com"); hc nil
// means http.DefaultClient.
func NewClient(base string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(base, "/"), http: hc}
}

// Error is a relay's refusal: the HTTP status and the body's text.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("uploadrelay: the relay answered %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// TipConfig asks the relay what it charges.
func (c *Client) TipConfig(ctx context.Context) (TipConfig, error) {
	var t TipConfig
	err := c.do(ctx, http.MethodGet, TipConfigRoute, nil, &t)
	return t, err
}

// Upload sends blob with p and returns the relay's certificate. The caller checks the
// certificate (the chain does when it is submitted).
func (c *Client) Upload(ctx context.Context, p Params, blob []byte) (Response, error) {
	var r Response
	if err := c.do(ctx, http.MethodPost, UploadRoute+"?"+p.Query(), blob, &r); err != nil {
		return r, err
	}
	if r.BlobID != p.BlobID {
		return r, fmt.Errorf("uploadrelay: the relay answered for blob %s, not %s", r.BlobID, p.BlobID)
	}
	return r, nil
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("uploadrelay: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("uploadrelay: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("uploadrelay: reading the answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return &Error{Status: resp.StatusCode, Message: strings.TrimSpace(string(b))}
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("uploadrelay: the answer to %s %s: %w", method, path, err)
	}
	return nil
}
