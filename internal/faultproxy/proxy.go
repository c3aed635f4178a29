package faultproxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MaxCorruptBody is the largest response body the Corrupt kinds corrupt; they must hold
// the whole body in memory. Longer bodies are forwarded unchanged.
const MaxCorruptBody = 256 << 20

// refuseBody is the body of a Refuse answer: the storage node's error envelope for an
// unavailable node, so clients read it as they would a real one.
const refuseBody = `{"error":{"code":503,"status":"UNAVAILABLE","message":"faultproxy: refused",` +
	`"details":[{"@type":"ErrorInfo","reason":"UNAVAILABLE","domain":"storage.walrus.space","metadata":{}}]}}`

// Proxy is a fault-injecting HTTP reverse proxy in front of one backend. Its methods are
// safe for concurrent use.
type Proxy struct {
	ln        net.Listener
	srv       *http.Server
	rp        *httputil.ReverseProxy
	tr        *http.Transport
	ctx       context.Context // ended by Close
	cancel    context.CancelFunc
	serveDone chan struct{}
	closeOnce sync.Once
	closeErr  error

	mu       sync.Mutex
	fault    Fault
	rng      *rand.Rand
	hook     func(method, path string)
	closed   bool
	handlers sync.WaitGroup // running handlers; Add only under mu while !closed

	requests  atomic.Uint64
	forwarded atomic.Uint64
	faulted   [numKinds]atomic.Uint64
	bytesIn   atomic.Int64
	bytesOut  atomic.Int64
}

// Stats counts what a Proxy did since New.
type Stats struct {
	// Requests is the number of requests received.
	Requests uint64
	// Forwarded is the number of requests sent on to the backend, including delayed,
	// cut and corrupted ones.
	Forwarded uint64
	// Faulted counts, by kind, the requests a fault changed: delayed, refused, dropped,
	// blackholed, or whose response was actually cut short or corrupted. Kinds with a
	// zero count are absent.
	Faulted map[Kind]uint64
	// BytesIn is the number of request body bytes read from clients.
	BytesIn int64
	// BytesOut is the number of response body bytes written to clients.
	BytesOut int64
}

// TotalFaulted returns the sum of s.Faulted.
func (s Stats) TotalFaulted() uint64 {
	var n uint64
	for _, v := range s.Faulted {
		n += v
	}
	return n
}

// New starts a Proxy listening on listen (host:port; port 0 picks a free one) that
// forwards to target, either host:port (plain HTTP) or an http:// URL. The proxy starts
// with the Pass fault.
func New(listen, target string) (*Proxy, error) { return NewTLS(listen, target, nil) }

// NewTLS is New for a proxy that terminates TLS with tlsConfig (as an operator's proxy in
// front of a storage node serving plain HTTP does); a nil tlsConfig serves plain HTTP.
func NewTLS(listen, target string, tlsConfig *tls.Config) (*Proxy, error) {
	raw := target
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: target %q: %w", target, err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: target %q: want host:port or http://host:port", target)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	discard := log.New(io.Discard, "", 0)
	p := &Proxy{
		ln:        ln,
		serveDone: make(chan struct{}),
		rng:       newRNG(0),
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.tr = &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true, // forward bodies as the backend sent them
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
		},
		Transport:      p.tr,
		FlushInterval:  -1,
		ErrorLog:       discard,
		ModifyResponse: p.modifyResponse,
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ErrorLog: discard}
	go func() {
		defer close(p.serveDone)
		p.srv.Serve(ln)
	}()
	return p, nil
}

// Addr returns the address the proxy listens on, host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Set switches the fault. It affects requests that arrive afterwards; requests already
// being delayed, blackholed or forwarded keep the fault they started with. Set resets
// the PRNG used for f.Rate with f.Seed.
func (p *Proxy) Set(f Fault) {
	f.Methods = slices.Clone(f.Methods)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
	p.rng = newRNG(f.Seed)
}

// Fault returns the current fault.
func (p *Proxy) Fault() Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.fault
	f.Methods = slices.Clone(f.Methods)
	return f
}

// OnRequest sets a hook called with the method and URL path of each incoming request,
// before the fault applies; nil removes it. The hook may be called concurrently from
// several requests and must not block for long.
func (p *Proxy) OnRequest(fn func(method, path string)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hook = fn
}

// Stats returns the counters.
func (p *Proxy) Stats() Stats {
	s := Stats{
		Requests:  p.requests.Load(),
		Forwarded: p.forwarded.Load(),
		Faulted:   map[Kind]uint64{},
		BytesIn:   p.bytesIn.Load(),
		BytesOut:  p.bytesOut.Load(),
	}
	for k := range p.faulted {
		if n := p.faulted[k].Load(); n > 0 {
			s.Faulted[Kind(k)] = n
		}
	}
	return s
}

// Close stops listening, closes every connection (blackholed and delayed requests end
// without a response, forwarded ones are cancelled), waits for the request handlers to
// return and closes idle backend connections. Further calls return the first result.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.closeErr = p.srv.Close()
		p.cancel()
		p.handlers.Wait()
		<-p.serveDone
		p.tr.CloseIdleConnections()
	})
	return p.closeErr
}

func newRNG(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

// decisionKey is the context key of the *decision of a forwarded request.
type decisionKey struct{}

// decision is what modifyResponse needs to know about a faulted, forwarded request.
type decision struct {
	fault Fault
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		abort(w)
		return
	}
	p.handlers.Add(1)
	hook := p.hook
	p.mu.Unlock()
	defer p.handlers.Done()

	p.requests.Add(1)
	if hook != nil {
		hook(r.Method, r.URL.Path)
	}
	f, hit := p.decide(r)

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(p.ctx, cancel)()
	r = r.WithContext(ctx)
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &countingBody{ReadCloser: r.Body, n: &p.bytesIn}
	}
	cw := &countingWriter{ResponseWriter: w, n: &p.bytesOut}

	if !hit {
		p.forward(cw, r, nil)
		return
	}
	switch f.Kind {
	case Delay:
		p.faulted[Delay].Add(1)
		if !wait(ctx, f.Delay) {
			abort(w)
			return
		}
		var d *decision
		if f.ChunkDelay > 0 {
			d = &decision{fault: f}
		}
		p.forward(cw, r, d)
	case Refuse:
		p.faulted[Refuse].Add(1)
		cw.Header().Set("Content-Type", "application/json")
		cw.Header().Set("Content-Length", strconv.Itoa(len(refuseBody)))
		cw.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(cw, refuseBody)
	case Drop:
		p.faulted[Drop].Add(1)
		abort(w)
	case Blackhole:
		p.faulted[Blackhole].Add(1)
		// Read the request, so the server notices when the client goes away.
		io.Copy(io.Discard, r.Body)
		<-ctx.Done()
		abort(w)
	case Cut, CorruptSlivers, CorruptMetadata, CorruptSymbols:
		p.forward(cw, r, &decision{fault: f})
	default: // unknown kinds pass
		p.forward(cw, r, nil)
	}
}

// decide returns the current fault and whether it applies to r.
func (p *Proxy) decide(r *http.Request) (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.fault
	if f.Kind == Pass {
		return f, false
	}
	if len(f.Methods) > 0 && !slices.ContainsFunc(f.Methods, func(m string) bool { return strings.EqualFold(m, r.Method) }) {
		return f, false
	}
	if c, ok := corruptClass[f.Kind]; ok && (r.Method != http.MethodGet || classify(r.URL.Path) != c) {
		return f, false
	}
	if f.Rate > 0 && f.Rate < 1 && p.rng.Float64() >= f.Rate {
		return f, false
	}
	return f, true
}

func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, d *decision) {
	if d != nil {
		r = r.WithContext(context.WithValue(r.Context(), decisionKey{}, d))
		if d.fault.Kind == Cut {
			// The client must get the status line and headers even if the cut comes
			// before the first body byte.
			w = &headerFlusher{w}
		}
	}
	p.forwarded.Add(1)
	p.rp.ServeHTTP(w, r)
}

// modifyResponse applies the response side of a fault.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	d, _ := resp.Request.Context().Value(decisionKey{}).(*decision)
	if d == nil || resp.StatusCode < 200 {
		return nil // a 101 Switching Protocols body must stay as it is
	}
	switch f := d.fault; f.Kind {
	case Delay:
		resp.Body = &slowBody{ReadCloser: resp.Body, ctx: resp.Request.Context(), delay: f.ChunkDelay}
	case Cut:
		resp.Body = &cutBody{ReadCloser: resp.Body, left: max(f.CutAfter, 0), onCut: func() { p.faulted[Cut].Add(1) }}
	case CorruptSlivers, CorruptMetadata, CorruptSymbols:
		if resp.StatusCode != http.StatusOK || resp.ContentLength > MaxCorruptBody {
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, MaxCorruptBody+1))
		if err != nil {
			resp.Body.Close()
			return err
		}
		if len(b) > MaxCorruptBody {
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
			return nil
		}
		resp.Body.Close()
		if corrupt(b) {
			p.faulted[f.Kind].Add(1)
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		resp.TransferEncoding = nil
	}
	return nil
}

// corrupt flips the last byte and the middle byte of b, and reports whether b changed.
func corrupt(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	last := len(b) - 1
	b[last] ^= 0xff
	if mid := last / 2; mid != last {
		b[mid] ^= 0xff
	}
	return true
}

// class is a class of storage-node request, for the Corrupt kinds.
type class int

const (
	classOther class = iota
	classMetadata
	classSliver
	classSymbols
)

var corruptClass = map[Kind]class{
	CorruptSlivers:  classSliver,
	CorruptMetadata: classMetadata,
	CorruptSymbols:  classSymbols,
}

// classify returns the class of a request path (see the package documentation).
func classify(path string) class {
	lower := strings.ToLower(path)
	if strings.Contains(lower, "/recovery") || strings.Contains(lower, "/symbols") {
		return classSymbols
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	blobs := slices.Index(segs, "blobs")
	if blobs < 0 || len(segs) < blobs+3 {
		return classOther
	}
	switch rest := segs[blobs+2:]; {
	case len(rest) == 1 && rest[0] == "metadata":
		return classMetadata
	case len(rest) == 3 && rest[0] == "slivers":
		return classSliver
	}
	return classOther
}

// wait waits d or until ctx ends, and reports whether d passed.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// abort closes the client connection of w without a response.
func abort(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable: let net/http abort the response, which it does silently.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// countingWriter counts the body bytes written through it.
type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n.Add(int64(n))
	return n, err
}

// Unwrap lets http.ResponseController reach the server's writer (Flush, Hijack).
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// headerFlusher sends the header to the client as soon as it is written. (It does so
// in the handler's goroutine, before ReverseProxy starts flushing from a timer.)
type headerFlusher struct{ http.ResponseWriter }

func (w *headerFlusher) WriteHeader(code int) {
	w.ResponseWriter.WriteHeader(code)
	if code >= 200 {
		http.NewResponseController(w.ResponseWriter).Flush()
	}
}

func (w *headerFlusher) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countingBody counts the bytes read through it.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// errCut ends a response body cut by the Cut fault.
var errCut = errors.New("faultproxy: response cut")

// cutBody passes left bytes, then ends with errCut unless the body ended there anyway.
type cutBody struct {
	io.ReadCloser
	left  int64
	onCut func()
	cut   bool
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.cut {
		return 0, errCut
	}
	if b.left <= 0 {
		var one [1]byte
		for {
			n, err := b.ReadCloser.Read(one[:])
			if n > 0 {
				break
			}
			if err != nil {
				return 0, err // io.EOF: the body was no longer than the limit
			}
		}
		b.cut = true
		b.onCut()
		return 0, errCut
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// slowBody waits delay before each read.
type slowBody struct {
	io.ReadCloser
	ctx   context.Context
	delay time.Duration
}

func (b *slowBody) Read(p []byte) (int, error) {
	if !wait(b.ctx, b.delay) {
		return 0, b.ctx.Err()
	}
	return b.ReadCloser.Read(p)
}
