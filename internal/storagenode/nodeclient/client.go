// Package nodeclient is a typed client of the storage node REST API (package api), used by
// the client SDK to store and read blobs and by storage nodes to fetch metadata and
// recovery symbols from their peers.
//
// Every method takes a context and applies Options.Timeout to it; request bodies are BCS,
// answers are decoded from BCS or from Walrus's JSON envelopes. A failed request returns an
// *Error carrying the HTTP status and Walrus error reason, which unwraps to the matching
// storagenode sentinel error (errors.Is(err, storagenode.ErrNotRegistered), say) when the
// reason is one the node API defines.
//
// The client checks that answers are well-formed and about what was asked (the blob ID of
// metadata, the index of a sliver), but does not verify them cryptographically: callers
// verify metadata, slivers and symbols with package redstuff and signatures with package
// bls. A Client is safe for concurrent use.
//
// Nodes are reached over TLS (URL): a client of an https URL sends its requests through a
// nodetls.Transport pinned to the node's network key registered on chain (Options.NetworkKey)
// and checks every answer's connection against it, so a man in the middle is refused with
// nodetls.ErrKeyMismatch before any request body is sent.
package nodeclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/api"
)

// ErrBadAnswer is a successful answer whose body is malformed or is not what was asked
// for (another blob's metadata, another sliver): the node is faulty or lying.
var ErrBadAnswer = errors.New("nodeclient: bad answer")

// Options configures a Client. The zero value is valid.
type Options struct {
	// HTTPClient sends the requests; nil means a client of its own over a
	// nodetls.Transport (up to 16 idle connections per node). A client given here must
	// send https requests through a nodetls.Transport (or another transport that verifies
	// nodetls.PeerKey): answers over a connection to another key are refused either way.
	HTTPClient *http.Client
	// NetworkKey is the node's network public key as registered on chain, which its TLS
	// certificate must be over. Required for an https URL; unused for plain http (test
	// servers).
	NetworkKey [nodetls.KeySize]byte
	// Timeout bounds each request, on top of the caller's context; 0 means 60 s.
	Timeout time.Duration
	// MaxResponseBytes bounds the answers read; 0 means 256 MiB.
	MaxResponseBytes int64
	// NShards is the system's shard count, with which Sliver checks the index of
	// secondary slivers (n-1-pair); 0 leaves that check to the caller.
	NShards int
}

// Client talks to one storage node.
type Client struct {
	base   string
	hc     *http.Client
	opts   Options
	pinned bool // https: requests carry and answers are checked against opts.NetworkKey
	// perSliver is set once the node has answered that it has no batched upload route
	// (a Walrus node): StoreSlivers then uses the per-sliver endpoints.
	perSliver atomic.Bool
}

// ErrNoNetworkKey is an https client made without the node's network key.
var ErrNoNetworkKey = errors.New("nodeclient: an https node needs its network key")

// URL returns the base URL of the API of the node at a network address as registered on
// chain: https://host:port (nodes serve TLS). A scheme in addr, as older registrations
// carry, is dropped.
func URL(addr string) string {
	if i := strings.Index(addr, "://"); i >= 0 {
		addr = addr[i+3:]
	}
	return "https://" + strings.TrimSuffix(addr, "/")
}

// New returns a client of the node at baseURL (scheme, host and port, such as
// "https://127.0.0.1:9185", see URL). An https URL needs opts.NetworkKey
// (ErrNoNetworkKey).
func New(baseURL string, opts Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("nodeclient: base URL %q: want http(s)://host[:port]", baseURL)
	}
	pinned := u.Scheme == "https"
	if pinned && opts.NetworkKey == ([nodetls.KeySize]byte{}) {
		return nil, fmt.Errorf("%w: %s", ErrNoNetworkKey, baseURL)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Transport: nodetls.NewTransport(&http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		})}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 256 << 20
	}
	return &Client{base: strings.TrimSuffix(u.String(), "/"), hc: opts.HTTPClient, opts: opts, pinned: pinned}, nil
}

// Error is a request the node answered with an error envelope (or an unexpected status).
type Error struct {
	Code    int    // HTTP status
	Status  string // Google API status, such as "FAILED_PRECONDITION"
	Reason  string // Walrus error reason, such as "NOT_REGISTERED"
	Message string
	err     error // the sentinel for (Code, Reason), if known
}

func (e *Error) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("nodeclient: HTTP %d: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("nodeclient: %s (HTTP %d %s): %s", e.Reason, e.Code, e.Status, e.Message)
}

// Unwrap returns the storagenode sentinel error the answer stands for, or nil.
func (e *Error) Unwrap() error { return e.err }

// request is one API call.
type request struct {
	method string
	path   string
	query  url.Values
	body   [][]byte     // sent in order, not copied
	header *http.Header // if not nil, set to the headers of a successful answer
	// into, if not nil, is a buffer whose capacity the answer's body is read into when
	// it fits (see readAnswer).
	into []byte
}

// do sends r and returns the status and body of a successful answer.
func (c *Client) do(ctx context.Context, r request) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	if c.pinned {
		ctx = nodetls.WithPeerKey(ctx, c.opts.NetworkKey)
	}
	target := c.base + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var body io.Reader
	var size int64
	if r.body != nil {
		for _, b := range r.body {
			size += int64(len(b))
		}
		bufs := net.Buffers(r.body)
		body = &bufs
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return 0, nil, fmt.Errorf("nodeclient: %s %s: %w", r.method, r.path, err)
	}
	if r.body != nil {
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/octet-stream")
		req.GetBody = func() (io.ReadCloser, error) {
			bufs := net.Buffers(r.body)
			return io.NopCloser(&bufs), nil
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("nodeclient: %s %s: %w", r.method, r.path, err)
	}
	defer resp.Body.Close()
	if c.pinned {
		if err := nodetls.CheckPeer(resp.TLS, c.opts.NetworkKey); err != nil {
			return 0, nil, fmt.Errorf("nodeclient: %s %s: %w", r.method, r.path, err)
		}
	}
	data, err := readAnswer(resp, r.into, c.opts.MaxResponseBytes)
	if err != nil {
		return 0, nil, fmt.Errorf("nodeclient: %s %s: %w", r.method, r.path, err)
	}
	if resp.StatusCode >= 300 {
		return 0, nil, decodeError(resp.StatusCode, data)
	}
	if r.header != nil {
		*r.header = resp.Header
	}
	return resp.StatusCode, data, nil
}

// maxPrealloc bounds the buffer readAnswer allocates on a node's word (its
// Content-Length) before the bytes arrive: a node declaring a huge answer and sending
// nothing must not make the client allocate it.
const maxPrealloc = 4 << 20

// readAnswer reads an answer's body of at most max bytes. A body of declared length
// (Content-Length) is read in one piece into dst's capacity when it is large enough, else
// into a new buffer of that size if it is at most maxPrealloc; otherwise (or with no
// declared length) it is read growing a buffer as the bytes arrive. The result never
// aliases dst beyond its capacity.
func readAnswer(resp *http.Response, dst []byte, max int64) ([]byte, error) {
	n := resp.ContentLength
	if n > max {
		return nil, fmt.Errorf("answer of %d bytes, larger than %d", n, max)
	}
	switch {
	case n >= 0 && int64(cap(dst)) >= n:
		dst = dst[:n]
	case n >= 0 && n <= maxPrealloc:
		dst = make([]byte, n)
	default:
		data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
		if err != nil {
			return nil, fmt.Errorf("reading the answer: %w", err)
		}
		if int64(len(data)) > max {
			return nil, fmt.Errorf("answer larger than %d bytes", max)
		}
		if n >= 0 && int64(len(data)) != n {
			return nil, fmt.Errorf("reading the answer: %d bytes of the %d declared", len(data), n)
		}
		return data, nil
	}
	if _, err := io.ReadFull(resp.Body, dst); err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	return dst, nil
}

func decodeError(code int, data []byte) error {
	var body api.ErrorBody
	if err := json.Unmarshal(data, &body); err != nil || body.Error.Code == 0 {
		msg := string(data)
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		return &Error{Code: code, Message: msg}
	}
	e := &Error{Code: code, Status: body.Error.Status, Reason: body.Error.Reason(), Message: body.Error.Message}
	e.err = api.ErrorFor(code, e.Reason)
	return e
}

// decodeSuccess decodes a success envelope's data.
func decodeSuccess[T any](data []byte) (T, error) {
	var body api.SuccessBody[T]
	if err := json.Unmarshal(data, &body); err != nil {
		var zero T
		return zero, fmt.Errorf("%w: malformed answer: %w", ErrBadAnswer, err)
	}
	return body.Success.Data, nil
}

func blobPath(id redstuff.BlobID, rest string) string { return "/v1/blobs/" + id.String() + rest }

func sliverPath(id redstuff.BlobID, pair int, a redstuff.Axis) string {
	return blobPath(id, "/slivers/"+strconv.Itoa(pair)+"/"+a.String())
}

// Metadata fetches a blob's metadata. It checks that it is well-formed and for id; the
// caller verifies it (redstuff.Config.VerifyMetadata).
func (c *Client) Metadata(ctx context.Context, id redstuff.BlobID) (*redstuff.Metadata, error) {
	_, data, err := c.do(ctx, request{method: http.MethodGet, path: blobPath(id, "/metadata")})
	if err != nil {
		return nil, err
	}
	m, err := redstuff.DecodeMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("%w: metadata of %s: %w", ErrBadAnswer, id, err)
	}
	if m.BlobID != id {
		return nil, fmt.Errorf("%w: asked for the metadata of %s, got %s", ErrBadAnswer, id, m.BlobID)
	}
	return m, nil
}

// PartialMetadata fetches the node's stored metadata of a blob restricted to pairs (all
// pairs it holds if pairs is nil; our extension, GET .../metadata/pairs). It checks that
// the answer is well-formed; the caller verifies it (redstuff.Config.VerifyPartialMetadata).
func (c *Client) PartialMetadata(ctx context.Context, id redstuff.BlobID, pairs []int) (*redstuff.PartialMetadata, error) {
	var q url.Values
	if pairs != nil {
		s := make([]string, len(pairs))
		for i, p := range pairs {
			s[i] = strconv.Itoa(p)
		}
		q = url.Values{"pairs": {strings.Join(s, ",")}}
	}
	_, data, err := c.do(ctx, request{method: http.MethodGet, path: blobPath(id, "/metadata/pairs"), query: q})
	if err != nil {
		return nil, err
	}
	pm, err := redstuff.DecodePartialMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("%w: partial metadata of %s: %w", ErrBadAnswer, id, err)
	}
	return pm, nil
}

// PutMetadata stores a blob's metadata; created is false if it was stored already.
func (c *Client) PutMetadata(ctx context.Context, m *redstuff.Metadata) (created bool, err error) {
	return c.putMetadata(ctx, m, false)
}

// PutMetadataPending is PutMetadata with ?pending=true: the node accepts the metadata
// before it has seen the blob's registration and buffers it until then (answering 202,
// which is created here).
func (c *Client) PutMetadataPending(ctx context.Context, m *redstuff.Metadata) (created bool, err error) {
	return c.putMetadata(ctx, m, true)
}

func (c *Client) putMetadata(ctx context.Context, m *redstuff.Metadata, pending bool) (bool, error) {
	code, _, err := c.do(ctx, request{method: http.MethodPut, path: blobPath(m.BlobID, "/metadata"), query: pendingQuery(pending), body: [][]byte{sn.MetadataBody(m)}})
	return code == http.StatusCreated || code == http.StatusAccepted, err
}

// pendingQuery is the query of an upload: pending=true for a pending upload.
func pendingQuery(pending bool) url.Values {
	if !pending {
		return nil
	}
	return url.Values{"pending": {"true"}}
}

// MetadataStatus reports whether the node stores a blob's metadata.
func (c *Client) MetadataStatus(ctx context.Context, id redstuff.BlobID) (sn.StoredStatus, error) {
	return getJSON[sn.StoredStatus](ctx, c, blobPath(id, "/metadata/status"), nil)
}

// Sliver fetches the sliver of axis a in sliver pair pair. It checks its index; the caller
// verifies it (redstuff.Config.VerifySliver).
func (c *Client) Sliver(ctx context.Context, id redstuff.BlobID, pair int, a redstuff.Axis) (*redstuff.Sliver, error) {
	return c.SliverInto(ctx, nil, id, pair, a)
}

// SliverInto is Sliver reading the answer into dst's capacity when it fits (the node
// declares the length), for callers that reuse read buffers: the returned sliver's Data
// then aliases dst.
func (c *Client) SliverInto(ctx context.Context, dst []byte, id redstuff.BlobID, pair int, a redstuff.Axis) (*redstuff.Sliver, error) {
	_, data, err := c.do(ctx, request{method: http.MethodGet, path: sliverPath(id, pair, a), into: dst})
	if err != nil {
		return nil, err
	}
	return c.decodeSliver(data, id, pair, a)
}

// decodeSliver decodes a sliver answer and checks that it is the sliver of pair asked for.
func (c *Client) decodeSliver(data []byte, id redstuff.BlobID, pair int, a redstuff.Axis) (*redstuff.Sliver, error) {
	s, err := redstuff.DecodeSliver(data, a, len(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %s sliver of pair %d of %s: %w", ErrBadAnswer, a, pair, id, err)
	}
	want := pair
	if a == redstuff.Secondary {
		want = c.opts.NShards - 1 - pair
	}
	if s.Index != want && (a == redstuff.Primary || c.opts.NShards > 0) {
		return nil, fmt.Errorf("%w: asked for %s sliver %d of %s, got sliver %d", ErrBadAnswer, a, want, id, s.Index)
	}
	return s, nil
}

// SliverWithProof is Sliver asking for the pair's hashes and Merkle proof as well
// (?pair_proof=true, our extension): a node that sends them lets the caller verify the
// sliver against the blob ID alone (redstuff.Config.VerifySliverAgainstProof). The proof is
// nil if the node sent none (Walrus's nodes and older ones ignore the parameter); a proof
// that does not decode, or is for another pair, is ErrBadAnswer. The proof is not verified.
// Like SliverInto, the answer is read into dst's capacity when it fits.
func (c *Client) SliverWithProof(ctx context.Context, dst []byte, id redstuff.BlobID, pair int, a redstuff.Axis) (*redstuff.Sliver, *redstuff.PairProof, error) {
	var h http.Header
	_, data, err := c.do(ctx, request{method: http.MethodGet, path: sliverPath(id, pair, a),
		query: url.Values{"pair_proof": {"true"}}, header: &h, into: dst})
	if err != nil {
		return nil, nil, err
	}
	s, err := c.decodeSliver(data, id, pair, a)
	if err != nil {
		return nil, nil, err
	}
	v := h.Get(api.PairProofHeader)
	if v == "" {
		return s, nil, nil
	}
	if len(v) > maxPairProofHeader {
		return nil, nil, fmt.Errorf("%w: pair proof of %d characters", ErrBadAnswer, len(v))
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	var p *redstuff.PairProof
	if err == nil {
		p, err = redstuff.DecodePairProof(raw)
	}
	if err == nil && int(p.Pair) != pair {
		err = fmt.Errorf("proof of pair %d, asked for pair %d", p.Pair, pair)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: pair proof of %s sliver %d of %s: %w", ErrBadAnswer, a, pair, id, err)
	}
	return s, p, nil
}

// maxPairProofHeader bounds the pair-proof header: a proof is 77 bytes plus 33 a tree
// level, and 16 levels cover the largest shard count.
const maxPairProofHeader = 1024

// PutSliver stores one sliver of pair pair (its axis says which); created is false if it
// was stored already. The metadata must have been stored first.
func (c *Client) PutSliver(ctx context.Context, id redstuff.BlobID, pair int, s *redstuff.Sliver) (created bool, err error) {
	return c.putSliver(ctx, id, pair, s, false)
}

// PutSliverPending is PutSliver with ?pending=true: the node accepts the sliver before
// it has seen the blob's registration (the metadata must have been sent, pending or
// not) and buffers it until then.
func (c *Client) PutSliverPending(ctx context.Context, id redstuff.BlobID, pair int, s *redstuff.Sliver) (created bool, err error) {
	return c.putSliver(ctx, id, pair, s, true)
}

func (c *Client) putSliver(ctx context.Context, id redstuff.BlobID, pair int, s *redstuff.Sliver, pending bool) (bool, error) {
	code, _, err := c.do(ctx, request{method: http.MethodPut, path: sliverPath(id, pair, s.Axis), query: pendingQuery(pending), body: [][]byte{s.Bytes()}})
	return code == http.StatusCreated || code == http.StatusAccepted, err
}

// SliverStatus reports whether the node stores a sliver.
func (c *Client) SliverStatus(ctx context.Context, id redstuff.BlobID, pair int, a redstuff.Axis) (sn.StoredStatus, error) {
	return getJSON[sn.StoredStatus](ctx, c, sliverPath(id, pair, a)+"/status", nil)
}

// StoreSlivers stores a blob's metadata and the given sliver pairs (those of the shards
// the node owns) in one batched request (PUT /v1/blobs/{id}/slivers). The sliver data is
// streamed, not copied.
func (c *Client) StoreSlivers(ctx context.Context, m *redstuff.Metadata, pairs []*redstuff.SliverPair) (sn.UploadResult, error) {
	return c.storeSlivers(ctx, m, pairs, false)
}

// StoreSliversPending is StoreSlivers with ?pending=true: the node accepts the upload
// before it has seen the blob's registration, verifies it and buffers it until then
// (the result's Pending is set), storing it when the registration arrives. Follow it
// with ConfirmationWait.
func (c *Client) StoreSliversPending(ctx context.Context, m *redstuff.Metadata, pairs []*redstuff.SliverPair) (sn.UploadResult, error) {
	return c.storeSlivers(ctx, m, pairs, true)
}

// A node without the batched route (Walrus's nodes answer 404 or 405 for it) is sent the
// metadata and then each sliver on Walrus's per-sliver endpoints (PUT
// /v1/blobs/{id}/slivers/{pair}/{primary|secondary}), a few at a time; the client
// remembers it (PerSliver) and goes straight to them for that node from then on.
func (c *Client) storeSlivers(ctx context.Context, m *redstuff.Metadata, pairs []*redstuff.SliverPair, pending bool) (sn.UploadResult, error) {
	if !c.perSliver.Load() {
		res, err := c.storeBatch(ctx, m, pairs, pending)
		if !routeMissing(err) {
			return res, err
		}
		c.perSliver.Store(true)
	}
	return c.storeEach(ctx, m, pairs, pending)
}

// PerSliver reports whether the client has found that the node has no batched upload
// route and stores slivers one by one.
func (c *Client) PerSliver() bool { return c.perSliver.Load() }

// routeMissing reports an answer saying the node has no such route: 404 or 405 without
// a reason (a router's answer, as Walrus's nodes give) or with the reason of an unknown
// path or method.
func routeMissing(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case http.StatusNotFound:
		return e.Reason == "" || e.Reason == "NOT_FOUND"
	case http.StatusMethodNotAllowed:
		return true
	}
	return false
}

// perSliverUploads bounds the sliver uploads in flight to one node in a per-sliver store.
const perSliverUploads = 8

// storeEach stores metadata and pairs with the per-sliver endpoints.
func (c *Client) storeEach(ctx context.Context, m *redstuff.Metadata, pairs []*redstuff.SliverPair, pending bool) (sn.UploadResult, error) {
	var res sn.UploadResult
	created, err := c.putMetadata(ctx, m, pending)
	if err != nil {
		return res, err
	}
	res.MetadataCreated = created
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(perSliverUploads)
	var made, present atomic.Int64
	for _, p := range pairs {
		for _, s := range []*redstuff.Sliver{&p.Primary, &p.Secondary} {
			g.Go(func() error {
				created, err := c.putSliver(gctx, m.BlobID, p.Index, s, pending)
				switch {
				case err != nil:
					return err
				case created:
					made.Add(1)
				default:
					present.Add(1)
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	res.SliversCreated, res.SliversPresent = int(made.Load()), int(present.Load())
	res.Pending = pending && res.Created()
	return res, nil
}

func (c *Client) storeBatch(ctx context.Context, m *redstuff.Metadata, pairs []*redstuff.SliverPair, pending bool) (sn.UploadResult, error) {
	segments, _ := api.EncodeBatch(m, pairs)
	_, data, err := c.do(ctx, request{method: http.MethodPut, path: blobPath(m.BlobID, "/slivers"), query: pendingQuery(pending), body: segments})
	if err != nil {
		return sn.UploadResult{}, err
	}
	return decodeSuccess[sn.UploadResult](data)
}

// Confirmation fetches the node's signed storage confirmation for a blob, permanent or for
// a deletable Blob object. The caller checks the message (storagenode.ConfirmationMessage)
// and the signature.
func (c *Client) Confirmation(ctx context.Context, id redstuff.BlobID, p sn.Persistence) (sn.SignedMessage, error) {
	return c.ConfirmationWait(ctx, id, p, 0)
}

// ConfirmationWait is Confirmation asking the node to wait up to wait for the blob's
// registration if it has not seen it yet (?wait_for_registration=true&wait_millis=N).
// Nodes wait only for blobs of which they buffer pending uploads, and cap the wait
// (5 s by default); wait <= 0 does not ask to wait. Options.Timeout must leave room for
// the wait.
func (c *Client) ConfirmationWait(ctx context.Context, id redstuff.BlobID, p sn.Persistence, wait time.Duration) (sn.SignedMessage, error) {
	path := blobPath(id, "/confirmation/permanent")
	if p.Deletable {
		path = blobPath(id, "/confirmation/deletable/"+p.ObjectID.String())
	}
	var q url.Values
	if wait > 0 {
		q = url.Values{"wait_for_registration": {"true"}, "wait_millis": {strconv.FormatInt(wait.Milliseconds(), 10)}}
	}
	conf, err := getJSON[sn.StorageConfirmation](ctx, c, path, q)
	return conf.Signed, err
}

// RecoverySymbols fetches the symbols with the given IDs that the node can serve;
// proofAxis, if not nil, selects the axis of the slivers they come from.
func (c *Client) RecoverySymbols(ctx context.Context, id redstuff.BlobID, ids []sn.SymbolID, proofAxis *redstuff.Axis) ([]redstuff.RecoverySymbol, error) {
	q := url.Values{}
	for _, s := range ids {
		q.Add("id", s.String())
	}
	if proofAxis != nil {
		q.Set("proofAxis", proofAxis.String())
	}
	return c.symbols(ctx, id, q, len(ids))
}

// BareRecoverySymbols fetches the symbols with the given IDs that the node can serve from
// source slivers of axis proofAxis, without proofs (our extension proofs=false; see
// storagenode.EncodeBareSymbols), each of symbolSize bytes (0: any). The caller checks
// what it decodes from them against the metadata; ErrBadAnswer means the answer did not
// match the request.
func (c *Client) BareRecoverySymbols(ctx context.Context, id redstuff.BlobID, ids []sn.SymbolID, proofAxis redstuff.Axis, symbolSize int) ([]redstuff.RecoverySymbol, error) {
	q := url.Values{"proofAxis": {proofAxis.String()}, "proofs": {"false"}}
	for _, s := range ids {
		q.Add("id", s.String())
	}
	_, data, err := c.do(ctx, request{method: http.MethodGet, path: blobPath(id, "/recoverySymbols"), query: q})
	if err != nil {
		return nil, err
	}
	syms, err := sn.DecodeBareSymbols(data, ids, proofAxis, symbolSize)
	if err != nil {
		return nil, fmt.Errorf("%w: recovery symbols of %s: %w", ErrBadAnswer, id, err)
	}
	return syms, nil
}

// RecoverySymbolsFor fetches every symbol the node can serve for recovering sliver target
// of axis a.
func (c *Client) RecoverySymbolsFor(ctx context.Context, id redstuff.BlobID, a redstuff.Axis, target int) ([]redstuff.RecoverySymbol, error) {
	q := url.Values{"targetSliver": {strconv.Itoa(target)}, "targetType": {a.String()}}
	return c.symbols(ctx, id, q, redstuff.MaxMetadataShards)
}

func (c *Client) symbols(ctx context.Context, id redstuff.BlobID, q url.Values, maxCount int) ([]redstuff.RecoverySymbol, error) {
	_, data, err := c.do(ctx, request{method: http.MethodGet, path: blobPath(id, "/recoverySymbols"), query: q})
	if err != nil {
		return nil, err
	}
	syms, err := redstuff.DecodeSymbolList(data, maxCount, redstuff.MaxSymbolSize)
	if err != nil {
		return nil, fmt.Errorf("%w: recovery symbols of %s: %w", ErrBadAnswer, id, err)
	}
	return syms, nil
}

// DecodingSymbols fetches the node's decoding symbols (no proofs) for the given target
// source slivers of axis a (GET /v1/blobs/{id}/decodingSymbols?targetSlivers=..&
// targetType=..): for each target, one symbol from every orthogonal sliver the node
// holds. The answer is checked for shape only (storagenode.DecodeDecodingSymbols); the
// caller checks what it decodes from them against the metadata.
func (c *Client) DecodingSymbols(ctx context.Context, id redstuff.BlobID, a redstuff.Axis, targets []int) (map[int][]sn.DecodingSymbol, error) {
	q := url.Values{"targetType": {a.String()}}
	for _, t := range targets {
		q.Add("targetSlivers", strconv.Itoa(t))
	}
	_, data, err := c.do(ctx, request{method: http.MethodGet, path: blobPath(id, "/decodingSymbols"), query: q})
	if err != nil {
		return nil, err
	}
	n := c.opts.NShards
	if n <= 0 {
		n = redstuff.MaxMetadataShards
	}
	m, err := sn.DecodeDecodingSymbols(data, a, n)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadAnswer, err)
	}
	want := map[int]bool{}
	for _, t := range targets {
		want[t] = true
	}
	for t := range m {
		if !want[t] {
			return nil, fmt.Errorf("%w: decoding symbols for target %d, not asked for", ErrBadAnswer, t)
		}
	}
	return m, nil
}

// InconsistencyProof sends an inconsistency proof and returns the node's signed
// attestation that the blob is invalid (storagenode.InvalidBlobMessage).
func (c *Client) InconsistencyProof(ctx context.Context, id redstuff.BlobID, p *redstuff.InconsistencyProof) (sn.SignedMessage, error) {
	_, data, err := c.do(ctx, request{method: http.MethodPost, path: blobPath(id, "/inconsistencyProof/"+p.Axis.String()), body: [][]byte{p.Bytes()}})
	if err != nil {
		return sn.SignedMessage{}, err
	}
	return decodeSuccess[sn.SignedMessage](data)
}

// SyncShard sends a signed sync-shard request (storagenode.SignSyncShard) for slivers of
// axis a and returns the slivers of the answer, at most maxCount with at most maxData bytes
// of symbols each, checked to be well-formed, of axis a and in blob ID order; the caller
// verifies them against the blobs' metadata. An empty answer means the end of the shard.
func (c *Client) SyncShard(ctx context.Context, req sn.SignedMessage, a redstuff.Axis, maxCount, maxData int) ([]sn.ShardSliver, []*redstuff.Sliver, error) {
	_, data, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/migrate/sync_shard", body: [][]byte{sn.EncodeSignedMessage(req)}})
	if err != nil {
		return nil, nil, err
	}
	items, slivers, err := sn.DecodeShardSlivers(data, a, maxCount, maxData)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: sync shard answer: %w", ErrBadAnswer, err)
	}
	return items, slivers, nil
}

// BlobStatus fetches the node's view of a blob.
func (c *Client) BlobStatus(ctx context.Context, id redstuff.BlobID) (sn.BlobStatus, error) {
	return getJSON[sn.BlobStatus](ctx, c, blobPath(id, "/status"), nil)
}

// Health fetches the node's health report; detailed adds every shard's status.
func (c *Client) Health(ctx context.Context, detailed bool) (sn.HealthInfo, error) {
	var q url.Values
	if detailed {
		q = url.Values{"detailed": {"true"}}
	}
	return getJSON[sn.HealthInfo](ctx, c, "/v1/health", q)
}

func getJSON[T any](ctx context.Context, c *Client, path string, q url.Values) (T, error) {
	_, data, err := c.do(ctx, request{method: http.MethodGet, path: path, query: q})
	if err != nil {
		var zero T
		return zero, err
	}
	return decodeSuccess[T](data)
}

// IsRetryable reports whether a failed call may succeed if repeated later: the node was
// overloaded, unavailable or timed out, or the connection failed. A node that failed
// authentication (nodetls.ErrKeyMismatch) is not retried.
func IsRetryable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Code == http.StatusTooManyRequests || e.Code >= 500
	}
	return err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, nodetls.ErrKeyMismatch) &&
		!errors.Is(err, nodetls.ErrNotTLS) && !errors.Is(err, nodetls.ErrNoPeerKey)
}

// ChallengeAnswers sends a signed challenge answers request (storagenode.
// SignChallengeAnswers) and returns the answers, at most maxCount with symbols of at most
// maxData bytes, checked to be well-formed; the caller verifies them against the blobs'
// metadata (storagenode.VerifyChallengeAnswer).
func (c *Client) ChallengeAnswers(ctx context.Context, req sn.SignedMessage, maxCount, maxData int) ([]sn.ChallengeAnswer, error) {
	_, data, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/challenges/answers", body: [][]byte{sn.EncodeSignedMessage(req)}})
	if err != nil {
		return nil, err
	}
	answers, err := sn.DecodeChallengeAnswers(data, maxCount, maxData)
	if err != nil {
		return nil, fmt.Errorf("%w: challenge answers: %w", ErrBadAnswer, err)
	}
	return answers, nil
}

// Attestation fetches the node's attestation that the committee member with chain node
// ID node passed its challenge of epoch; storagenode.ErrNotAttested if the node has not
// verified it (yet). The caller checks the signature.
func (c *Client) Attestation(ctx context.Context, epoch uint32, node sn.ObjectID) (sn.SignedMessage, error) {
	return getJSON[sn.SignedMessage](ctx, c, fmt.Sprintf("/v1/challenges/%d/attestations/%s", epoch, node), nil)
}
