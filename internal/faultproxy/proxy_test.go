package faultproxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// payload returns n deterministic bytes depending on seed.
func payload(seed string, n int) []byte {
	h := sha256.Sum256([]byte(seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = h[i%len(h)] ^ byte(i>>5)
	}
	return b
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// backend is a stand-in storage node.
type backend struct {
	*httptest.Server
	hits atomic.Int64
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	b := &backend{}
	m := http.NewServeMux()
	bytesOK := func(w http.ResponseWriter, body []byte) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(body)
	}
	m.HandleFunc("GET /v1/blobs/{id}/metadata", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "missing" {
			http.Error(w, "metadata not found", http.StatusNotFound)
			return
		}
		bytesOK(w, payload("meta"+r.PathValue("id"), 1000))
	})
	m.HandleFunc("GET /v1/blobs/{id}/metadata/status", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "stored")
	})
	m.HandleFunc("GET /v1/blobs/{id}/slivers/{pair}/{type}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "missing" {
			http.Error(w, "sliver not found", http.StatusNotFound)
			return
		}
		bytesOK(w, payload("sliver"+r.URL.Path, 4096))
	})
	m.HandleFunc("GET /v1/blobs/{id}/slivers/{pair}/{type}/status", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "stored")
	})
	m.HandleFunc("GET /v1/blobs/{id}/recoverySymbols", func(w http.ResponseWriter, r *http.Request) {
		bytesOK(w, payload("symbols"+r.URL.RawQuery, 777))
	})
	m.HandleFunc("PUT /", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
	})
	// GET /big?n=N[&chunked=1]: N bytes of payload("big", N), with a Content-Length
	// unless chunked.
	m.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		body := payload("big", n)
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		for len(body) > 0 {
			c := min(len(body), 8192)
			if _, err := w.Write(body[:c]); err != nil {
				return
			}
			http.NewResponseController(w).Flush()
			body = body[c:]
		}
	})
	m.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		m.ServeHTTP(w, r)
	}))
	t.Cleanup(b.Close)
	return b
}

// setup starts a backend and a proxy in front of it, and a client of the proxy with its
// own connection pool. The proxy is closed (and checked for leaks) at cleanup.
func setup(t *testing.T) (*backend, *Proxy, *client) {
	t.Helper()
	b := newBackend(t)
	p, err := New("127.0.0.1:0", b.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, p)
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		checkNoLeaks(t)
	})
	return b, p, c
}

type client struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newClient(t *testing.T, p *Proxy) *client {
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, base: "http://" + p.Addr(), hc: &http.Client{Transport: tr}}
}

// response is a completed exchange; err is set if the request failed or the body
// could not be read in full.
type response struct {
	code int
	body []byte
	err  error
}

func (c *client) do(ctx context.Context, method, path string, body []byte) response {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, body: b, err: err}
}

func (c *client) get(path string) response {
	return c.do(context.Background(), http.MethodGet, path, nil)
}

func (r response) ok(t *testing.T) []byte {
	t.Helper()
	if r.err != nil || r.code/100 != 2 {
		t.Fatalf("got code %d, err %v, body %.100q; want success", r.code, r.err, r.body)
	}
	return r.body
}

// checkNoLeaks fails if a goroutine is still running code of this package (other than
// tests). Goroutines of a closed connection may need a moment to notice, so it yields
// to them for a bounded time.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	var stacks string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); runtime.Gosched() {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "faultproxy/proxy.go") {
			return
		}
	}
	t.Errorf("goroutines still in the proxy after Close:\n%s", stacks)
}

const (
	metaPath    = "/v1/blobs/B1/metadata"
	sliverPath  = "/v1/blobs/B1/slivers/3/primary"
	symbolsPath = "/v1/blobs/B1/recoverySymbols?id=1-2&id=3-4"
)

func TestPassSmall(t *testing.T) {
	b, _, c := setup(t)
	for _, path := range []string{metaPath, sliverPath, symbolsPath, "/v1/health", "/v1/blobs/B1/metadata/status"} {
		direct, err := http.Get(b.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := io.ReadAll(direct.Body)
		direct.Body.Close()
		if got := c.get(path).ok(t); !bytes.Equal(got, want) {
			t.Errorf("%s: proxied body differs from direct", path)
		}
	}
	if r := c.get("/v1/blobs/missing/metadata"); r.code != http.StatusNotFound {
		t.Errorf("missing metadata: code %d, want 404", r.code)
	}
}

func TestPassLarge(t *testing.T) {
	_, p, c := setup(t)
	const n = 32 << 20
	up := payload("upload", n)
	got := string(c.do(context.Background(), http.MethodPut, "/v1/blobs/B1/slivers", up).ok(t))
	if want := fmt.Sprintf("%d %s", n, sum(up)); got != want {
		t.Errorf("PUT: backend saw %q, want %q", got, want)
	}
	for _, q := range []string{"", "&chunked=1"} {
		down := c.get("/big?n=" + strconv.Itoa(n) + q).ok(t)
		if !bytes.Equal(down, payload("big", n)) {
			t.Errorf("GET%s: body of %d bytes differs", q, len(down))
		}
	}
	s := p.Stats()
	if s.BytesIn != n || s.BytesOut < 2*n || s.Requests != 3 || s.Forwarded != 3 || s.TotalFaulted() != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestRefuse(t *testing.T) {
	b, p, c := setup(t)
	p.Set(Fault{Kind: Refuse})
	before := b.hits.Load()
	r := c.get(sliverPath)
	if r.err != nil || r.code != http.StatusServiceUnavailable || !bytes.Contains(r.body, []byte(`"reason":"UNAVAILABLE"`)) {
		t.Errorf("got %d %q %v, want 503 UNAVAILABLE", r.code, r.body, r.err)
	}
	r = c.do(context.Background(), http.MethodPut, "/v1/blobs/B1/metadata", payload("m", 1<<20))
	if r.code != http.StatusServiceUnavailable {
		t.Errorf("PUT: got %d, want 503", r.code)
	}
	if b.hits.Load() != before {
		t.Error("backend was contacted")
	}
	if s := p.Stats(); s.Faulted[Refuse] != 2 || s.Forwarded != 0 || s.Requests != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestDrop(t *testing.T) {
	b, p, c := setup(t)
	p.Set(Fault{Kind: Drop})
	for _, method := range []string{http.MethodGet, http.MethodPut} {
		r := c.do(context.Background(), method, metaPath, []byte("x"))
		if r.err == nil {
			t.Errorf("%s: got response %d, want a closed connection", method, r.code)
		}
	}
	if b.hits.Load() != 0 {
		t.Error("backend was contacted")
	}
	if s := p.Stats(); s.Faulted[Drop] < 2 || s.Forwarded != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestCut(t *testing.T) {
	_, p, c := setup(t)
	const n = 100000
	for _, tc := range []struct {
		after int64
		query string
	}{{1000, ""}, {1000, "&chunked=1"}, {0, ""}, {0, "&chunked=1"}, {8192, ""}, {n - 1, ""}} {
		p.Set(Fault{Kind: Cut, CutAfter: tc.after})
		r := c.get("/big?n=" + strconv.Itoa(n) + tc.query)
		if r.code != http.StatusOK || !errors.Is(r.err, io.ErrUnexpectedEOF) {
			t.Errorf("cut after %d%s: code %d, err %v; want 200 and unexpected EOF", tc.after, tc.query, r.code, r.err)
		}
		if int64(len(r.body)) != tc.after || !bytes.Equal(r.body, payload("big", n)[:len(r.body)]) {
			t.Errorf("cut after %d%s: got %d bytes (or wrong ones)", tc.after, tc.query, len(r.body))
		}
	}
	// A body no longer than the limit arrives whole.
	p.Set(Fault{Kind: Cut, CutAfter: n})
	if body := c.get("/big?n=" + strconv.Itoa(n)).ok(t); len(body) != n {
		t.Errorf("body of the limit's length: got %d bytes", len(body))
	}
	if s := p.Stats(); s.Faulted[Cut] != 6 {
		t.Errorf("Faulted[Cut] = %d, want 6", s.Faulted[Cut])
	}
}

// differing returns the indexes where a and b differ.
func differing(a, b []byte) []int {
	var d []int
	for i := range a {
		if a[i] != b[i] {
			d = append(d, i)
		}
	}
	return d
}

func TestCorrupt(t *testing.T) {
	paths := map[Kind]string{CorruptSlivers: sliverPath, CorruptMetadata: metaPath, CorruptSymbols: symbolsPath}
	others := []string{"/v1/blobs/B1/slivers/3/primary/status", "/v1/blobs/B1/metadata/status", "/v1/health", "/big?n=5000"}
	for kind, target := range paths {
		t.Run(kind.String(), func(t *testing.T) {
			_, p, c := setup(t)
			want := map[string][]byte{}
			for _, path := range append(others, metaPath, sliverPath, symbolsPath) {
				want[path] = c.get(path).ok(t)
			}
			p.Set(Fault{Kind: kind})
			for path, w := range want {
				got := c.get(path).ok(t)
				if len(got) != len(w) {
					t.Fatalf("%s: length %d, want %d", path, len(got), len(w))
				}
				d := differing(got, w)
				if path == target {
					if len(d) != 2 || d[1] != len(w)-1 {
						t.Errorf("%s: bytes %v differ, want the middle and the last", path, d)
					}
				} else if len(d) != 0 {
					t.Errorf("%s: bytes %v differ, want none", path, d)
				}
			}
			// Errors and uploads are not corrupted.
			missing := strings.Replace(target, "B1", "missing", 1)
			if kind != CorruptSymbols {
				if r := c.get(missing); r.code != http.StatusNotFound || !strings.Contains(string(r.body), "not found") {
					t.Errorf("%s: got %d %q", missing, r.code, r.body)
				}
			}
			up := payload("up", 1000)
			if got := string(c.do(context.Background(), http.MethodPut, target, up).ok(t)); got != fmt.Sprintf("1000 %s", sum(up)) {
				t.Errorf("PUT %s: backend saw %q", target, got)
			}
			if s := p.Stats(); s.Faulted[kind] != 1 || s.TotalFaulted() != 1 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestCorruptFunc(t *testing.T) {
	for n := range 6 {
		b := payload("x", n)
		orig := bytes.Clone(b)
		if changed := corrupt(b); changed != (n > 0) {
			t.Errorf("len %d: corrupt reported %v", n, changed)
		}
		if d := differing(b, orig); len(d) != min(n, 2) {
			t.Errorf("len %d: %d bytes changed", n, len(d))
		}
	}
}

func TestBlackholeTimesOut(t *testing.T) {
	b, p, c := setup(t)
	p.Set(Fault{Kind: Blackhole})
	for i, method := range []string{http.MethodGet, http.MethodPut} {
		// The blackhole holds the request until the client gives up: the client gives up
		// once the proxy has taken the request in, however long that takes on a loaded
		// machine, and no answer may have come before.
		ctx, cancel := context.WithCancel(context.Background())
		result := make(chan response, 1)
		defer cancel()
		go func() { result <- c.do(ctx, method, sliverPath, payload("up", 1<<20)) }()
		waitStats(t, p, method+" to reach the blackhole", func(s Stats) bool { return s.Faulted[Blackhole] == uint64(i+1) })
		select {
		case r := <-result:
			t.Fatalf("%s: the blackhole answered: code %d, err %v", method, r.code, r.err)
		default:
		}
		cancel()
		if r := <-result; !errors.Is(r.err, context.Canceled) {
			t.Errorf("%s: got code %d, err %v; want canceled", method, r.code, r.err)
		}
	}
	if s := p.Stats(); s.Faulted[Blackhole] != 2 || s.Forwarded != 0 || b.hits.Load() != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestCloseEndsBlackhole(t *testing.T) {
	b := newBackend(t)
	p, err := New("127.0.0.1:0", b.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, p)
	p.Set(Fault{Kind: Blackhole})
	const n = 4
	arrived := make(chan struct{}, n)
	p.OnRequest(func(string, string) { arrived <- struct{}{} })
	results := make(chan response, n)
	for i := range n {
		go func() {
			if i%2 == 0 {
				results <- c.get(metaPath)
			} else {
				results <- c.do(context.Background(), http.MethodPut, metaPath, payload("m", 100000))
			}
		}()
	}
	for range n {
		<-arrived
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for range n {
		if r := <-results; r.err == nil {
			t.Errorf("got response %d from a blackholed request", r.code)
		}
	}
	checkNoLeaks(t)
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if r := c.get(metaPath); r.err == nil {
		t.Errorf("request after Close got %d", r.code)
	}
}

func TestDelay(t *testing.T) {
	_, p, c := setup(t)
	const d = 100 * time.Millisecond
	p.Set(Fault{Kind: Delay, Delay: d})
	start := time.Now()
	if got := c.get(sliverPath).ok(t); len(got) != 4096 {
		t.Errorf("got %d bytes", len(got))
	}
	if el := time.Since(start); el < d {
		t.Errorf("request took %v, want at least %v", el, d)
	}
	// Chunk delay: 4 chunks of 8 KiB, each flushed by the backend.
	p.Set(Fault{Kind: Delay, ChunkDelay: 30 * time.Millisecond})
	start = time.Now()
	if got := c.get("/big?n=32768&chunked=1").ok(t); !bytes.Equal(got, payload("big", 32768)) {
		t.Error("slow body differs")
	}
	if el := time.Since(start); el < 4*30*time.Millisecond {
		t.Errorf("slow body took %v, want at least 120ms", el)
	}
	// The client giving up ends the delay.
	p.Set(Fault{Kind: Delay, Delay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	p.OnRequest(func(string, string) { cancel() })
	if r := c.do(ctx, http.MethodGet, sliverPath, nil); !errors.Is(r.err, context.Canceled) {
		t.Errorf("got %d %v, want canceled", r.code, r.err)
	}
	// The hook cancelled the request before the proxy counted the delay: the client may
	// see the cancellation first.
	waitStats(t, p, "the third delay to be counted", func(s Stats) bool { return s.Faulted[Delay] == 3 })
}

// waitStats waits until the proxy's counters satisfy cond: a handler may still be
// counting after its client has given up.
func waitStats(t *testing.T, p *Proxy, what string, cond func(Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond(p.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: stats %+v", what, p.Stats())
		}
		time.Sleep(time.Millisecond) // polling interval
	}
}

func TestRate(t *testing.T) {
	_, p, c := setup(t)
	pattern := func(f Fault) string {
		p.Set(f)
		var sb strings.Builder
		for range 200 {
			if c.get("/v1/health").code == http.StatusServiceUnavailable {
				sb.WriteByte('x')
			} else {
				sb.WriteByte('.')
			}
		}
		return sb.String()
	}
	half := Fault{Kind: Refuse, Rate: 0.5, Seed: 7}
	a := pattern(half)
	if n := strings.Count(a, "x"); n < 70 || n > 130 {
		t.Errorf("rate 0.5 refused %d of 200", n)
	}
	if b := pattern(half); b != a {
		t.Errorf("same seed, different choices:\n%s\n%s", a, b)
	}
	half.Seed = 8
	if b := pattern(half); b == a {
		t.Error("different seeds, same choices")
	}
	for _, rate := range []float64{0, 1, -1, 2} {
		if n := strings.Count(pattern(Fault{Kind: Refuse, Rate: rate}), "x"); n != 200 {
			t.Errorf("rate %v refused %d of 200, want all", rate, n)
		}
	}
}

func TestMethods(t *testing.T) {
	_, p, c := setup(t)
	p.Set(Fault{Kind: Refuse, Methods: []string{"put", "POST"}})
	c.get(sliverPath).ok(t)
	for _, m := range []string{http.MethodPut, http.MethodPost} {
		if r := c.do(context.Background(), m, sliverPath, []byte("x")); r.code != http.StatusServiceUnavailable {
			t.Errorf("%s: got %d, want 503", m, r.code)
		}
	}
	// A Corrupt kind limited to PUT never applies.
	p.Set(Fault{Kind: CorruptSlivers, Methods: []string{"PUT"}})
	if got := c.get(sliverPath).ok(t); !bytes.Equal(got, payload("sliver"+sliverPath, 4096)) {
		t.Error("sliver corrupted although GET is not in Methods")
	}
}

func TestSetAtRunTime(t *testing.T) {
	_, p, c := setup(t)
	seq := []struct {
		f    Fault
		code int
	}{{Fault{}, 200}, {Fault{Kind: Refuse}, 503}, {Fault{Kind: Pass}, 200}, {Fault{Kind: Refuse, Methods: []string{"GET"}}, 503}, {Fault{Kind: Delay}, 200}}
	for _, s := range seq {
		p.Set(s.f)
		if got := p.Fault().Kind; got != s.f.Kind {
			t.Errorf("Fault().Kind = %v, want %v", got, s.f.Kind)
		}
		if r := c.get(metaPath); r.code != s.code {
			t.Errorf("%v: got %d, want %d", s.f, r.code, s.code)
		}
	}
	if s := p.Stats(); s.Requests != 5 || s.Forwarded != 3 || s.Faulted[Refuse] != 2 || s.Faulted[Delay] != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestOnRequest(t *testing.T) {
	_, p, c := setup(t)
	var mu sync.Mutex
	var seen []string
	p.OnRequest(func(method, path string) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, method+" "+path)
	})
	p.Set(Fault{Kind: Drop, Methods: []string{"PUT"}})
	c.get(symbolsPath)
	c.do(context.Background(), http.MethodPut, "/v1/blobs/B1/slivers", []byte("x"))
	p.OnRequest(nil)
	c.get(metaPath)
	mu.Lock()
	defer mu.Unlock()
	want := []string{"GET /v1/blobs/B1/recoverySymbols", "PUT /v1/blobs/B1/slivers"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("hook saw %q, want %q", seen, want)
	}
}

func TestBackendDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p, err := New("127.0.0.1:0", "http://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := newClient(t, p)
	if r := c.get(metaPath); r.code != http.StatusBadGateway {
		t.Errorf("got %d %v, want 502", r.code, r.err)
	}
	p.Set(Fault{Kind: CorruptMetadata})
	if r := c.get(metaPath); r.code != http.StatusBadGateway {
		t.Errorf("corrupt: got %d %v, want 502", r.code, r.err)
	}
}

func TestNewErrors(t *testing.T) {
	for _, target := range []string{"https://127.0.0.1:1", "http://", "::bad::"} {
		if p, err := New("127.0.0.1:0", target); err == nil {
			p.Close()
			t.Errorf("New(_, %q) succeeded", target)
		}
	}
	if _, err := New("256.0.0.1:0", "127.0.0.1:1"); err == nil {
		t.Error("New with a bad listen address succeeded")
	}
}

// TestConcurrent switches faults while many requests run, for the race detector.
func TestConcurrent(t *testing.T) {
	_, p, c := setup(t)
	faults := []Fault{
		{}, {Kind: Refuse, Rate: 0.3}, {Kind: Drop, Rate: 0.2}, {Kind: Cut, CutAfter: 100},
		{Kind: CorruptSlivers}, {Kind: CorruptMetadata}, {Kind: CorruptSymbols}, {Kind: Delay, Delay: time.Millisecond},
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range 8 {
		wg.Go(func() {
			paths := []string{metaPath, sliverPath, symbolsPath, "/big?n=20000"}
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				if j%5 == 0 {
					c.do(context.Background(), http.MethodPut, "/v1/blobs/B1/slivers", payload("c", 5000))
				} else {
					c.get(paths[(i+j)%len(paths)])
				}
			}
		})
	}
	for i := range 200 {
		p.Set(faults[i%len(faults)])
		p.Stats()
		c.get("/v1/health")
	}
	close(stop)
	wg.Wait()
	if s := p.Stats(); s.Requests < 200 {
		t.Errorf("stats %+v", s)
	}
}

func TestParseKind(t *testing.T) {
	for _, k := range Kinds() {
		got, err := ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
		}
		var u Kind
		if b, _ := k.MarshalText(); u.UnmarshalText(b) != nil || u != k {
			t.Errorf("text round trip of %v gave %v", k, u)
		}
	}
	for s, want := range map[string]Kind{"CorruptSlivers": CorruptSlivers, " corrupt_metadata ": CorruptMetadata, "BLACKHOLE": Blackhole} {
		if got, err := ParseKind(s); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "corrupt", "kind(3)"} {
		if _, err := ParseKind(s); err == nil {
			t.Errorf("ParseKind(%q) succeeded", s)
		}
	}
	if s := Kind(42).String(); s != "Kind(42)" {
		t.Errorf("Kind(42).String() = %q", s)
	}
	if s := (Fault{Kind: Cut, CutAfter: 10, Rate: 0.5, Methods: []string{"GET"}}).String(); s != "cut(after=10,rate=0.5,methods=GET)" {
		t.Errorf("Fault.String() = %q", s)
	}
}

func TestClassify(t *testing.T) {
	for path, want := range map[string]class{
		"/v1/blobs/X/metadata":                         classMetadata,
		"/v1/blobs/X/metadata/status":                  classOther,
		"/v1/blobs/X/slivers/1/primary":                classSliver,
		"/v1/blobs/X/slivers/1/secondary/status":       classOther,
		"/v1/blobs/X/slivers":                          classOther,
		"/v1/blobs/X/recoverySymbols":                  classSymbols,
		"/v1/blobs/X/slivers/1/primary/2/recovery":     classSymbols,
		"/v1/blobs/X/slivers/1/primary/symbols/3":      classSymbols,
		"/v1/blobs/X/confirmation/permanent":           classOther,
		"/v1/health":                                   classOther,
		"":                                             classOther,
		"/blobs":                                       classOther,
		"/v1/blobs/X/inconsistencyProof/primary":       classOther,
		"/v1/blobs/X/slivers/1/primary/extra/segments": classOther,
	} {
		if got := classify(path); got != want {
			t.Errorf("classify(%q) = %d, want %d", path, got, want)
		}
	}
}
