package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/gateway"
	"github.com/walrus-go/walrus/internal/testvec"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// token signs claims with HS256 (or the given header) under secret.
func token(t *testing.T, secret []byte, header string, claims map[string]any) string {
	t.Helper()
	if header == "" {
		header = `{"alg":"HS256","typ":"JWT"}`
	}
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(mac.Sum(nil))
}

// clock is a settable clock for Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// The attack: a web page the operator visits sends a cross-origin PUT to the local
// publisher. Without auth its preflight gets no CORS approval, so the browser never sends
// the PUT; with auth, PUT is allowed cross-origin (the token protects the wallet).
func TestCrossOriginStore(t *testing.T) {
	preflight := func(h http.Handler, method string) *httptest.ResponseRecorder {
		return do(h, http.MethodOptions, "/v1/blobs?epochs=53&force=true", nil,
			"Origin", "https://evil.example", "Access-Control-Request-Method", method,
			"Access-Control-Request-Headers", "content-type")
	}
	anon := newHandler(t, newFake(), nil)
	w := preflight(anon, http.MethodPut)
	if w.Header().Get("Access-Control-Allow-Origin") != "" || strings.Contains(w.Header().Get("Access-Control-Allow-Methods"), "PUT") {
		t.Fatalf("anonymous publisher approves a cross-origin PUT: %v", w.Header())
	}
	// Reads stay open to every origin.
	if w := preflight(anon, http.MethodGet); w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("cross-origin GET refused: %v", w.Header())
	}
	// A PUT from a page that got through anyway (a DNS-rebinding page is same-origin, so
	// no preflight) is refused: browsers always send Origin with a PUT.
	w = do(anon, http.MethodPut, "/v1/blobs", []byte("x"), "Origin", "http://127.0.0.1:31415")
	if w.Code != 403 || reason(t, w) != "BROWSER_STORE_REFUSED" || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("anonymous PUT from a web page: %d %v", w.Code, w.Header())
	}

	authed := newHandler(t, newFake(), func(c *gateway.Config) { c.Auth = &gateway.AuthConfig{Secret: testSecret} })
	w = preflight(authed, http.MethodPut)
	if w.Header().Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(w.Header().Get("Access-Control-Allow-Methods"), "PUT") ||
		!strings.Contains(w.Header().Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("authenticated publisher refuses a cross-origin PUT: %v", w.Header())
	}
	if w := preflight(authed, http.MethodDelete); w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("cross-origin DELETE approved: %v", w.Header())
	}
}

func TestAuthenticatedPublisher(t *testing.T) {
	f := newFake()
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	h := newHandler(t, f, func(c *gateway.Config) {
		c.Auth = &gateway.AuthConfig{Secret: testSecret, ExpiringSec: 3600}
		c.Now = clk.Now
	})
	now := clk.Now().Unix()
	claims := func(jti string, extra ...any) map[string]any {
		m := map[string]any{"exp": now + 600, "iat": now, "jti": jti}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i].(string)] = extra[i+1]
		}
		return m
	}
	put := func(query string, body []byte, tok string) *httptest.ResponseRecorder {
		if tok == "" {
			return do(h, http.MethodPut, "/v1/blobs"+query, body)
		}
		return do(h, http.MethodPut, "/v1/blobs"+query, body, "Authorization", "Bearer "+tok)
	}
	data := []byte("0123456789")
	to := chain.Address{7}
	for _, c := range []struct {
		name, query string
		body        []byte
		tok         string
		code        int
		reason      string
	}{
		{"no token", "", data, "", 401, "MISSING_TOKEN"},
		{"not a JWT", "", data, "abc.def", 401, "INVALID_TOKEN"},
		{"other secret", "", data, token(t, []byte("another secret, 32 bytes long..."), "", claims("a")), 401, "INVALID_SIGNATURE"},
		{"alg none", "", data, token(t, testSecret, `{"alg":"none"}`, claims("b")), 401, "INVALID_TOKEN"},
		{"alg HS512 header", "", data, token(t, testSecret, `{"alg":"HS512"}`, claims("c")), 401, "INVALID_TOKEN"},
		{"expired", "", data, token(t, testSecret, "", map[string]any{"exp": now - 1, "iat": now - 100, "jti": "d"}), 401, "EXPIRED_SIGNATURE"},
		{"no exp", "", data, token(t, testSecret, "", map[string]any{"iat": now, "jti": "e"}), 401, "INVALID_TOKEN"},
		{"no jti", "", data, token(t, testSecret, "", map[string]any{"exp": now + 60, "iat": now}), 401, "INVALID_TOKEN"},
		{"lives too long", "", data, token(t, testSecret, "", map[string]any{"exp": now + 7200, "iat": now, "jti": "f"}), 400, "INVALID_EXPIRATION"},
		{"no iat", "", data, token(t, testSecret, "", map[string]any{"exp": now + 60, "jti": "g"}), 400, "INVALID_EXPIRATION"},
		{"over max_epochs", "?epochs=3", data, token(t, testSecret, "", claims("h", "max_epochs", 2)), 400, "INVALID_EPOCHS"},
		{"not the epochs", "?epochs=3", data, token(t, testSecret, "", claims("i", "epochs", 2)), 400, "INVALID_EPOCHS"},
		{"over max_size", "", data, token(t, testSecret, "", claims("j", "max_size", 9)), 400, "INVALID_SIZE"},
		{"not the size", "", data, token(t, testSecret, "", claims("k", "size", 11)), 400, "INVALID_SIZE"},
		{"missing send_object_to", "", data, token(t, testSecret, "", claims("l", "send_object_to", to.String())), 400, "INVALID_SEND_OBJECT_TO"},
		{"other send_object_to", "?send_object_to=" + chain.Address{8}.String(), data, token(t, testSecret, "", claims("m", "send_object_to", to.String())), 400, "INVALID_SEND_OBJECT_TO"},
		{"both size claims", "", data, token(t, testSecret, "", claims("n", "size", 10, "max_size", 10)), 400, "INCONSISTENT_TOKEN"},
	} {
		w := put(c.query, c.body, c.tok)
		if w.Code != c.code || reason(t, w) != c.reason {
			t.Errorf("%s: %d %s, want %d %s", c.name, w.Code, w.Body, c.code, c.reason)
		}
		if c.code == 401 && w.Header().Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("%s: WWW-Authenticate %q", c.name, w.Header().Get("WWW-Authenticate"))
		}
	}
	if f.stores != 0 {
		t.Fatalf("%d stores with refused tokens", f.stores)
	}

	// A valid token stores once; replayed, it is refused.
	tok := token(t, testSecret, "", claims("once", "max_epochs", 3, "max_size", 10, "send_object_to", to.String()))
	q := "?epochs=3&send_object_to=" + to.String()
	if w := put(q, data, tok); w.Code != 200 {
		t.Fatalf("valid token: %d %s", w.Code, w.Body)
	}
	if f.last.SendTo != to || f.last.Epochs != 3 {
		t.Fatalf("store options %+v", f.last)
	}
	if w := put(q, data, tok); w.Code != 429 || reason(t, w) != "TOKEN_ALREADY_USED" {
		t.Fatalf("replayed token: %d %s", w.Code, w.Body)
	}
	// The jti stays used until the token expires.
	clk.Add(5 * time.Minute)
	if w := put(q, data, tok); w.Code != 429 {
		t.Fatalf("replayed token later: %d %s", w.Code, w.Body)
	}
	clk.Add(10 * time.Minute)
	if w := put(q, data, tok); w.Code != 401 || reason(t, w) != "EXPIRED_SIGNATURE" {
		t.Fatalf("expired token: %d %s", w.Code, w.Body)
	}
	// A chunked body over max_size is cut at the claim, not at the publisher's limit.
	tok = token(t, testSecret, "", map[string]any{"exp": clk.Now().Unix() + 60, "iat": clk.Now().Unix(), "jti": "chunked", "max_size": 4})
	req := httptest.NewRequest(http.MethodPut, "/v1/blobs", io.LimitReader(neverEnding{}, 5))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+tok)
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, req)
	if rw.Code != 403 {
		t.Fatalf("chunked body over max_size: %d %s", rw.Code, rw.Body)
	}
	if f.stores != 1 {
		t.Fatalf("%d stores, want 1", f.stores)
	}
}

func TestParseTokenStrict(t *testing.T) {
	now := time.Now().Unix()
	good := token(t, testSecret, "", map[string]any{"exp": now + 60, "jti": "x", "max_epochs": 2})
	c, err := gateway.ParseToken(good, "HS256", testSecret)
	if err != nil || c.Jti != "x" || c.MaxEpochs == nil || *c.MaxEpochs != 2 {
		t.Fatalf("ParseToken: %+v %v", c, err)
	}
	parts := strings.Split(good, ".")
	for name, tok := range map[string]string{
		"padded":         good + "=",
		"four parts":     good + ".x",
		"crit header":    token(t, testSecret, `{"alg":"HS256","crit":["exp"]}`, map[string]any{"exp": now + 60, "jti": "x"}),
		"fractional exp": token(t, testSecret, "", map[string]any{"exp": json.Number("1800000000.5"), "jti": "x"}),
		"string epochs":  token(t, testSecret, "", map[string]any{"exp": now + 60, "jti": "x", "epochs": "2"}),
		"huge":           good + strings.Repeat("A", gateway.MaxTokenLength),
		"no signature":   parts[0] + "." + parts[1] + ".",
		"long jti":       token(t, testSecret, "", map[string]any{"exp": now + 60, "jti": strings.Repeat("j", 257)}),
	} {
		if _, err := gateway.ParseToken(tok, "HS256", testSecret); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjEsImp0aSI6IngifQ.AAAA")
	f.Add("..")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := gateway.ParseToken(tok, "HS256", testSecret)
		if err == nil {
			// Accepted: the signature must really be valid.
			parts := strings.Split(tok, ".")
			mac := hmac.New(sha256.New, testSecret)
			mac.Write([]byte(parts[0] + "." + parts[1]))
			if base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) != parts[2] || c.Jti == "" {
				t.Fatalf("accepted a forged token %q", tok)
			}
		}
	})
}

// The attack: an anonymous client (or many) store as much as the publisher's wallet
// holds. Per-request caps give 400/403 and the per-client and global budgets 429, all
// before anything is spent.
func TestAnonymousBudget(t *testing.T) {
	f := newFake()
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	data := make([]byte, 1000)
	cost := int64(len(data)+gateway.StoreOverhead) * 2 // at epochs=2
	h := newHandler(t, f, func(c *gateway.Config) {
		c.Now = clk.Now
		c.Anonymous = gateway.AnonymousLimits{MaxEpochs: 5, MaxSize: 2000, ClientBudget: 3 * cost, GlobalBudget: 5 * cost, Window: time.Hour}
	})
	put := func(from, query string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPut, "/v1/blobs"+query, bytes.NewReader(body))
		req.RemoteAddr = from
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	if w := put("192.0.2.1:1000", "?epochs=6", data); w.Code != 400 || reason(t, w) != "EPOCHS_ABOVE_MAX" {
		t.Fatalf("anonymous epochs over the cap: %d %s", w.Code, w.Body)
	}
	if w := put("192.0.2.1:1000", "?epochs=1", make([]byte, 2001)); w.Code != 403 {
		t.Fatalf("anonymous size over the cap: %d %s", w.Code, w.Body)
	}
	for i := range 3 {
		if w := put("192.0.2.1:1000", "?epochs=2", data); w.Code != 200 {
			t.Fatalf("store %d within the client's budget: %d %s", i, w.Code, w.Body)
		}
	}
	if w := put("192.0.2.1:2000", "?epochs=2", data); w.Code != 429 || reason(t, w) != "ANONYMOUS_BUDGET_EXHAUSTED" {
		t.Fatalf("store over the client's budget: %d %s", w.Code, w.Body)
	}
	// Another client has its own budget, until the global one is spent.
	for i := range 2 {
		if w := put("198.51.100.7:1", "?epochs=2", data); w.Code != 200 {
			t.Fatalf("other client's store %d: %d %s", i, w.Code, w.Body)
		}
	}
	if w := put("203.0.113.9:1", "?epochs=2", data); w.Code != 429 {
		t.Fatalf("store over the global budget: %d %s", w.Code, w.Body)
	}
	if f.stores != 5 {
		t.Fatalf("%d stores, want 5", f.stores)
	}
	// The budgets refill over the window. One IPv6 host is one client, whatever
	// address of its /64 it uses.
	clk.Add(time.Hour)
	if w := put("2001:db8::1", "?epochs=2&force=true", data); w.Code != 200 {
		t.Fatalf("after the window: %d %s", w.Code, w.Body)
	}
	for i := range 2 {
		if w := put(fmt.Sprintf("[2001:db8::%x]:1", i+2), "?epochs=2", data); w.Code != 200 {
			t.Fatalf("IPv6 store %d: %d %s", i, w.Code, w.Body)
		}
	}
	if w := put("[2001:db8::ffff]:1", "?epochs=2", data); w.Code != 429 {
		t.Fatalf("fourth store from one IPv6 /64: %d %s", w.Code, w.Body)
	}
}

// Every store parameter is honoured or refused: none is silently ignored.
func TestStoreParameters(t *testing.T) {
	f := newFake()
	h := newHandler(t, f, nil)
	data := []byte("parameters")
	to := chain.Address{0x42}
	for _, c := range []struct {
		query  string
		code   int
		reason string
	}{
		{"?epochs=2&colour=blue", 400, "UNKNOWN_PARAMETER"},
		{"?epochs=1&epochs=5", 400, "INVALID_ARGUMENT"},
		{"?send_object_to=0x1234", 400, "INVALID_ADDRESS"},
		{"?send_object_to=0x" + strings.Repeat("0", 64), 400, "INVALID_ADDRESS"},
		{"?share=true&send_object_to=" + to.String(), 400, "INVALID_ARGUMENT"},
		{"?share=perhaps", 400, "INVALID_ARGUMENT"},
		{"?reuse_resources=false", 400, "INVALID_ARGUMENT"},
		{"?encoding_type=RS1", 400, "INVALID_ENCODING_TYPE"},
	} {
		w := do(h, http.MethodPut, "/v1/blobs"+c.query, data)
		if w.Code != c.code || reason(t, w) != c.reason {
			t.Errorf("%s: %d %s, want %d %s", c.query, w.Code, w.Body, c.code, c.reason)
		}
	}
	if f.stores != 0 {
		t.Fatalf("%d stores with refused parameters", f.stores)
	}
	for _, c := range []struct {
		query string
		check func(o gateway.Blobs) bool
	}{
		{"?send_object_to=" + to.String(), func(gateway.Blobs) bool { return f.last.SendTo == to && !f.last.Share }},
		{"?share=true", func(gateway.Blobs) bool { return f.last.Share }},
		{"?reuse_resources=true&encoding_type=RS2", func(gateway.Blobs) bool { return !f.last.Share }},
		{"?encoding_type=redstuff", func(gateway.Blobs) bool { return true }},
	} {
		w := do(h, http.MethodPut, "/v1/blobs"+c.query, data)
		if w.Code != 200 || !c.check(f) {
			t.Errorf("%s: %d %s, options %+v", c.query, w.Code, w.Body, f.last)
		}
	}
}

// Wrong methods on known paths get 405 with an Allow header, also on routes this handler
// does not serve (only a publisher, or only an aggregator); unknown paths 404.
func TestMethodNotAllowed(t *testing.T) {
	id := "/v1/blobs/" + strings.Repeat("A", 43)
	pub := newHandler(t, newFake(), func(c *gateway.Config) { c.Aggregator = false })
	agg := newHandler(t, newFake(), func(c *gateway.Config) { c.Publisher = false })
	both := newHandler(t, newFake(), nil)
	for _, c := range []struct {
		name   string
		h      http.Handler
		method string
		path   string
		allow  string
	}{
		{"GET on the store route", both, http.MethodGet, "/v1/blobs", "PUT"},
		{"POST a blob", both, http.MethodPost, "/v1/blobs", "PUT"},
		{"DELETE a blob", both, http.MethodDelete, id, "GET, HEAD"},
		{"PUT a blob ID", both, http.MethodPut, id, "GET, HEAD"},
		{"POST /status", both, http.MethodPost, "/status", "GET, HEAD"},
		{"PATCH /v1/api", both, http.MethodPatch, "/v1/api", "GET, HEAD"},
		{"read on a publisher", pub, http.MethodGet, id, ""},
		{"store on an aggregator", agg, http.MethodPut, "/v1/blobs", ""},
	} {
		w := do(c.h, c.method, c.path, []byte("x"))
		allow, ok := w.Header()["Allow"]
		if w.Code != 405 || reason(t, w) != "METHOD_NOT_ALLOWED" || !ok || strings.Join(allow, ",") != c.allow {
			t.Errorf("%s: %d, Allow %q (present %v), want 405 and %q", c.name, w.Code, allow, ok, c.allow)
		}
	}
	if w := do(both, http.MethodGet, "/v2/blobs", nil); w.Code != 404 {
		t.Errorf("unknown path: %d", w.Code)
	}
}

// The attack: many large reads at once, each of which used to hold its whole blob. Now
// the rows all reads hold together, counted by the fake streams, never exceed
// MaxReadBytes; a blob larger than the bound still streams whole; and a read that cannot
// get room in time gets 429 instead of memory.
func TestReadBudget(t *testing.T) {
	const row, window, bound = 100, 200, 3 * 200
	f := newFake()
	f.row = row
	h := newHandler(t, f, func(c *gateway.Config) {
		c.MaxReadBytes, c.ReadWindow, c.MaxBodySize = bound, window, 1<<20
		c.Anonymous.MaxSize = 1 << 20
	})
	data := make([]byte, 10*bound+37) // much larger than the bound
	for i := range data {
		data[i] = byte(i * 7)
	}
	w := do(h, http.MethodPut, "/v1/blobs", data)
	var res struct {
		NewlyCreated struct{ BlobObject struct{ BlobID string } }
	}
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &res) != nil {
		t.Fatalf("PUT: %d %s", w.Code, w.Body)
	}
	path := "/v1/blobs/" + res.NewlyCreated.BlobObject.BlobID
	srv := httptest.NewServer(h)
	defer srv.Close()

	// Every fetch of rows waits at the gate: once three reads hold their windows (the
	// whole budget), the rows held are exactly the bound.
	f.gate, f.gateEntered = make(chan struct{}), make(chan struct{})
	const readers = 8
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, data) {
				errs <- fmt.Errorf("read: %d, %d bytes, %v", resp.StatusCode, len(got), err)
			}
		}()
	}
	for range bound / window {
		<-f.gateEntered
	}
	// Three reads hold their windows, the whole budget; the others wait for room.
	if got := f.held.Load(); got != bound {
		t.Fatalf("%d bytes of rows held by the first reads, want the bound %d", got, bound)
	}
	go func() {
		for range f.gateEntered {
		}
	}()
	close(f.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	close(f.gateEntered)
	if m := f.maxHeld.Load(); m > bound || m < window {
		t.Fatalf("at most %d bytes of rows held at once, bound %d", m, bound)
	}
	if f.held.Load() != 0 {
		t.Fatalf("%d bytes of rows still held after the reads", f.held.Load())
	}
}

// A read that cannot have room at once, with MaxReadWait negative, gets 429 at once; a
// blob whose rows alone exceed the budget gets 503.
func TestReadBudgetFull(t *testing.T) {
	f := newFake()
	f.row = 100
	h := newHandler(t, f, func(c *gateway.Config) { c.MaxReadBytes, c.ReadWindow, c.MaxReadWait = 200, 200, -1 })
	data := make([]byte, 1000)
	w := do(h, http.MethodPut, "/v1/blobs", data)
	var res struct {
		NewlyCreated struct{ BlobObject struct{ BlobID string } }
	}
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &res) != nil {
		t.Fatalf("PUT: %d %s", w.Code, w.Body)
	}
	path := "/v1/blobs/" + res.NewlyCreated.BlobObject.BlobID
	f.gate, f.gateEntered = make(chan struct{}), make(chan struct{})
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- do(h, http.MethodGet, path, nil) }()
	<-f.gateEntered // the first read holds the whole budget
	if w := do(h, http.MethodGet, path, nil); w.Code != 429 || reason(t, w) != "TOO_MANY_REQUESTS" {
		t.Fatalf("read with the budget taken: %d %s", w.Code, w.Body)
	}
	// HEAD needs no room.
	if w := do(h, http.MethodHead, path, nil); w.Code != 200 || w.Header().Get("Content-Length") != "1000" {
		t.Fatalf("HEAD with the budget taken: %d %v", w.Code, w.Header())
	}
	go func() {
		for range f.gateEntered {
		}
	}()
	close(f.gate)
	if w := <-done; w.Code != 200 || !bytes.Equal(w.Body.Bytes(), data) {
		t.Fatalf("first read: %d, %d bytes", w.Code, w.Body.Len())
	}
	close(f.gateEntered)

	f.gate = nil
	f.row = 300 // rows larger than the whole budget
	if w := do(h, http.MethodGet, path, nil); w.Code != 503 || reason(t, w) != "READ_BUFFER_TOO_SMALL" {
		t.Fatalf("rows over the budget: %d %s", w.Code, w.Body)
	}
}

// The attack: connections that send a store's headers and then stall, more of them than
// the publisher has store slots. Before, each took a slot before reading its body, so
// honest stores got 429 for as long as the bodies were allowed to take (10 minutes). Now
// a store takes a slot only once its body is in.
func TestStalledBodiesDoNotBlockStores(t *testing.T) {
	f := newFake()
	reg := prometheus.NewRegistry()
	h := newHandler(t, f, func(c *gateway.Config) {
		c.Registerer = reg
		c.MaxConcurrentStores = 2
		c.BodyGrace = time.Hour // the stalled bodies stay in their handlers for the test
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for range 6 {
		c := stalledStore(t, srv.URL)
		defer c.Close()
	}
	// With every stalled request in its handler, reading its body, honest stores go
	// through.
	testvec.WaitFor(t, time.Minute, "the stalled bodies to be read", func() (bool, error) {
		return gauge(t, reg, "walrus_gateway_in_flight", "body") == 6, nil
	})
	for i := range 3 {
		resp, err := http.DefaultClient.Do(mustRequest(t, http.MethodPut, srv.URL+"/v1/blobs?epochs=1", []byte(fmt.Sprint("honest", i))))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("honest store %d while 6 bodies stall: %d", i, resp.StatusCode)
		}
	}
	if f.stores != 3 {
		t.Fatalf("%d stores, want the 3 honest ones", f.stores)
	}
}

// The attack: a body that stalls (or trickles) to hold its connection and buffer. Once
// BodyGrace plus its size over MinBodyRate have passed, it is cut off with 504 and nothing
// is stored.
func TestStalledBodyCutOff(t *testing.T) {
	f := newFake()
	h := newHandler(t, f, func(c *gateway.Config) {
		c.BodyGrace = 200 * time.Millisecond
		c.MinBodyRate = 1 << 20
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := stalledStore(t, srv.URL)
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(2 * time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("stalled request: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout || f.stores != 0 {
		t.Fatalf("stalled request answered %d, %d stores", resp.StatusCode, f.stores)
	}
}

// stalledStore opens a connection to the publisher at url and sends a store's headers
// and the first 3 of 1,000,000 declared body bytes.
func stalledStore(t *testing.T, url string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "PUT /v1/blobs?epochs=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc"); err != nil {
		t.Fatal(err)
	}
	return c
}

// The attack: bodies that arrive but fill the publisher's memory. Bytes received count
// against MaxBodyBuffer; a body that does not fit is refused with 503, and the buffer is
// free again afterwards.
func TestBodyBuffer(t *testing.T) {
	f := newFake()
	h := newHandler(t, f, func(c *gateway.Config) { c.MaxBodyBuffer = 1000; c.MaxBodySize = 5000 })
	w := do(h, http.MethodPut, "/v1/blobs?epochs=1", bytes.Repeat([]byte("x"), 2000))
	if w.Code != 503 || reason(t, w) != "BODY_BUFFER_FULL" {
		t.Fatalf("body over the buffer: %d %s", w.Code, w.Body)
	}
	for range 3 {
		if w := do(h, http.MethodPut, "/v1/blobs?epochs=1", bytes.Repeat([]byte("y"), 900)); w.Code != 200 {
			t.Fatalf("body within the buffer after a refusal: %d %s", w.Code, w.Body)
		}
	}
}

func mustRequest(t *testing.T, method, url string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// gauge returns the value of the gauge name{kind=kind} in reg (0 if absent).
func gauge(t *testing.T, reg *prometheus.Registry, name, kind string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

// A store that takes longer than its body's deadline is not cancelled: the deadline
// covers the body only.
func TestSlowStoreOutlivesBodyDeadline(t *testing.T) {
	f := newFake()
	f.block = make(chan struct{})
	f.entered = make(chan struct{}, 1)
	// A grace long enough for the 10-byte body to arrive even on a loaded machine (100 ms
	// was not always), short enough to wait out.
	const grace = time.Second
	h := newHandler(t, f, func(c *gateway.Config) {
		c.BodyGrace = grace
		c.MinBodyRate = 1 << 20
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	done := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(mustRequest(t, http.MethodPut, srv.URL+"/v1/blobs?epochs=1", []byte("slow store")))
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-f.entered
	// Past the body's deadline (the grace + 10 bytes at 1 MiB/s from the request's start,
	// which came before the store began), the store is still running; release it once
	// its deadline has certainly passed.
	deadline := time.Now().Add(grace + 100*time.Millisecond)
	testvec.WaitFor(t, time.Minute, "the body deadline to pass", func() (bool, error) { return time.Now().After(deadline), nil })
	close(f.block)
	if code := <-done; code != 200 {
		t.Fatalf("a store slower than its body deadline answered %d", code)
	}
}

// The attack: many strict reads at once (strict_consistency_check=true), each of which
// holds its whole blob (the check re-encodes all of it). Each reserves the blob's size in
// the read buffer before anything but the metadata is fetched, so the bytes all of them
// hold together never exceed MaxReadBytes; every read still completes.
func TestStrictReadBudget(t *testing.T) {
	const size, bound = 1000, 2500 // room for two strict reads at once
	f := newFake()
	h := newHandler(t, f, func(c *gateway.Config) {
		c.MaxReadBytes, c.MaxReadWait = bound, time.Hour
	})
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 13)
	}
	res, err := f.Store(context.Background(), data, client.StoreOptions{Epochs: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	f.mu.Lock()
	f.strictGate, f.strictEntered = make(chan struct{}), make(chan struct{})
	f.mu.Unlock()
	const readers = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*readers)
	for i := range readers {
		path := "/v1/blobs/" + res.NewlyCreated.BlobObject.BlobID + "?strict_consistency_check=true"
		if i%2 == 1 {
			path = "/v1alpha/blobs/concat?strict_consistency_check=true&ids=" + res.NewlyCreated.BlobObject.BlobID
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, data) {
				errs <- fmt.Errorf("%s: %d, %d bytes, %v", path, resp.StatusCode, len(got), err)
			}
		}()
	}
	// Two strict reads hold their blobs; the others wait for room without holding any.
	<-f.strictEntered
	<-f.strictEntered
	if got := f.held.Load(); got != 2*size {
		t.Errorf("%d bytes held by the first strict reads, want %d", got, 2*size)
	}
	go func() {
		for range f.strictEntered {
		}
	}()
	close(f.strictGate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	close(f.strictEntered)
	if m := f.maxHeld.Load(); m > bound {
		t.Fatalf("%d bytes held at once by strict reads, bound %d", m, bound)
	}
	if f.held.Load() != 0 {
		t.Fatalf("%d bytes still held after the reads", f.held.Load())
	}
}

// Stores hold at most Config.MaxStoreMemory at once: a store that does not fit waits for
// room (and never reaches the store while waiting), and a store larger than the whole
// budget runs once it is alone instead of being refused.
func TestStoreMemoryBound(t *testing.T) {
	f := newFake()
	f.block = make(chan struct{})
	f.entered = make(chan struct{}, 4)
	reg := prometheus.NewRegistry()
	h := newHandler(t, f, func(c *gateway.Config) {
		c.Registerer = reg
		c.MaxStoreMemory = gateway.StoreMemory(1000)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	put := func(ctx context.Context, size int, codes chan<- int) {
		req := mustRequest(t, http.MethodPut, srv.URL+"/v1/blobs?epochs=1", bytes.Repeat([]byte{'m'}, size)).WithContext(ctx)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			codes <- 0
			return
		}
		resp.Body.Close()
		codes <- resp.StatusCode
	}
	// A takes the whole budget and stays in the store.
	first := make(chan int, 1)
	go put(context.Background(), 1000, first)
	<-f.entered
	// B needs 1 MiB and some bytes: it waits for memory, not in the store.
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan int, 1)
	go put(ctx, 10, second)
	testvec.WaitFor(t, time.Minute, "the second store to wait for memory", func() (bool, error) {
		return gauge(t, reg, "walrus_gateway_in_flight", "memory") == 1, nil
	})
	cancel()
	<-second
	if len(f.entered) != 0 {
		t.Fatal("a store waiting for memory reached the store")
	}
	// Once A is done, a store of twice the budget runs alone.
	close(f.block)
	if c := <-first; c != 200 {
		t.Fatalf("first store: %d", c)
	}
	w := do(h, http.MethodPut, "/v1/blobs?epochs=1", bytes.Repeat([]byte{'b'}, 2000))
	if w.Code != 200 {
		t.Fatalf("a store larger than the store memory: %d %s", w.Code, w.Body)
	}
	if gauge(t, reg, "walrus_gateway_in_flight", "memory") != 0 {
		t.Fatal("a store still counted as waiting")
	}
}
