package uploadrelay_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/base58"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/internal/uploadrelay"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startRelay serves a relay in front of net with cfg (Uploader and, for a tip, Tips are
// filled in) and returns its URL.
func startRelay(t *testing.T, net *testnet.Network, cfg uploadrelay.Config) string {
	t.Helper()
	up, err := net.NewClient(client.Config{}) // no wallet: a relay only uploads
	if err != nil {
		t.Fatal(err)
	}
	cfg.Uploader = up
	if cfg.Tip.RequiresTip() {
		ctx, cancel := context.WithCancel(context.Background())
		ledger, err := uploadrelay.NewTipLedger(ctx, net.Chain, cfg.Tip.Address, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); _ = ledger.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		cfg.Tips = ledger
	}
	s, err := uploadrelay.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts.URL
}

func randomBlob(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func blobID(t *testing.T, c *client.Client, data []byte) redstuff.BlobID {
	t.Helper()
	res, err := c.Store(testContext(t), data, client.StoreOptions{Epochs: 1, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	id, err := redstuff.ParseBlobID(res.DryRun.BlobID)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// post sends an upload to the relay by hand and returns the status and body.
func post(t *testing.T, url string, p uploadrelay.Params, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(url+uploadrelay.UploadRoute+"?"+p.Query(), "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestStoreThroughRelay(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	url := startRelay(t, net, uploadrelay.Config{})
	c, err := net.NewClient(net.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	relay := uploadrelay.NewClient(url, nil)
	if tc, err := relay.TipConfig(ctx); err != nil || tc.RequiresTip() {
		t.Fatalf("tip config: %+v, %v; want no tip", tc, err)
	}
	for _, permanent := range []bool{false, true} {
		data := randomBlob(t, 100_000)
		res, err := c.Store(ctx, data, client.StoreOptions{Epochs: 2, Permanent: permanent, UploadRelay: relay})
		if err != nil {
			t.Fatalf("store through the relay (permanent %v): %v", permanent, err)
		}
		if res.NewlyCreated == nil || res.NewlyCreated.BlobObject.CertifiedEpoch == nil {
			t.Fatalf("store through the relay: %+v, want a newly certified blob", res)
		}
		if res.Stats.SliverUploads != 0 {
			t.Errorf("the client uploaded %d times itself", res.Stats.SliverUploads)
		}
		id, _ := redstuff.ParseBlobID(res.NewlyCreated.BlobObject.BlobID)
		got, err := c.Read(ctx, id, client.ReadOptions{})
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back: %d bytes, %v", len(got), err)
		}
	}

	// A blob ID the body does not encode to is refused before anything is sent.
	data := randomBlob(t, 1000)
	other := blobID(t, c, randomBlob(t, 1000))
	if code, body := post(t, url, uploadrelay.Params{BlobID: other}, data); code != http.StatusBadRequest ||
		!strings.Contains(body, "do not match") {
		t.Errorf("wrong blob_id: %d %q, want 400 with Walrus's message", code, body)
	}
	// Malformed and unknown parameters.
	for _, q := range []string{"", "blob_id=xyz", "blob_id=" + other.String() + "&foo=1", "blob_id=" + other.String() + "&tx_id=abc"} {
		resp, err := http.Post(url+uploadrelay.UploadRoute+"?"+q, "application/octet-stream", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("query %q: %d, want 400", q, resp.StatusCode)
		}
	}
	// Wrong methods.
	resp, err := http.Get(url + uploadrelay.UploadRoute)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET upload: %d, want 405", resp.StatusCode)
	}
}

func TestBodyLimit(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	url := startRelay(t, net, uploadrelay.Config{MaxBodySize: 1000})
	id := redstuff.BlobID{1}
	if code, body := post(t, url, uploadrelay.Params{BlobID: id}, make([]byte, 1001)); code != http.StatusRequestEntityTooLarge ||
		!strings.Contains(body, "length limit exceeded") {
		t.Errorf("oversized body: %d %q, want 413", code, body)
	}
	// A chunked body of unknown length is cut at the limit too.
	req, _ := http.NewRequest(http.MethodPost, url+uploadrelay.UploadRoute+"?"+uploadrelay.Params{BlobID: id}.Query(),
		io.MultiReader(bytes.NewReader(make([]byte, 600)), bytes.NewReader(make([]byte, 600))))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized chunked body: %d, want 413", resp.StatusCode)
	}
}

func TestTip(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	ctx := testContext(t)
	relayAcct, err := net.FundedSigner(ctx, "relay", 0)
	if err != nil {
		t.Fatal(err)
	}
	const tip = 5000
	cfg := uploadrelay.TipConfig{Address: relayAcct.Address(), Kind: uploadrelay.TipKind{Linear: &uploadrelay.LinearTip{Base: 1000, PerKiB: 1}}}
	url := startRelay(t, net, uploadrelay.Config{Tip: cfg})
	relay := uploadrelay.NewClient(url, nil)
	got, err := relay.TipConfig(ctx)
	if err != nil || got.Address != relayAcct.Address() || got.Kind.Linear == nil || *got.Kind.Linear != *cfg.Kind.Linear {
		t.Fatalf("tip config: %+v, %v", got, err)
	}
	c, err := net.NewClient(net.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}

	// The client refuses a tip above its limit, and pays one below it.
	data := randomBlob(t, 50_000)
	if _, err := c.Store(ctx, data, client.StoreOptions{Epochs: 1, UploadRelay: relay}); !errors.Is(err, client.ErrTipRefused) {
		t.Fatalf("store without a tip limit: %v, want ErrTipRefused", err)
	}
	res, err := c.Store(ctx, data, client.StoreOptions{Epochs: 1, UploadRelay: relay, MaxTip: 1 << 40})
	if err != nil || res.NewlyCreated == nil || res.NewlyCreated.BlobObject.CertifiedEpoch == nil {
		t.Fatalf("store paying the tip: %+v, %v", res, err)
	}
	acct, err := net.Chain.Account(ctx, relayAcct.Address())
	if err != nil || acct.Balance < 1000 {
		t.Fatalf("the relay's balance is %d (%v), want its tip", acct.Balance, err)
	}

	// Attacks by hand, on a blob the network already holds (so that an accepted upload
	// succeeds): the relay checks each tip transaction before encoding anything.
	blob := randomBlob(t, 20_000)
	if _, err := c.Store(ctx, blob, client.StoreOptions{Epochs: 1, Permanent: true}); err != nil {
		t.Fatal(err)
	}
	id := blobID(t, c, blob)
	pay := func(amount uint64, memo []byte) [32]byte {
		t.Helper()
		r, err := net.Chain.Submit(ctx, net.Wallet, &chain.TransferWithMemo{To: relayAcct.Address(), Amount: amount, Memo: memo})
		if err != nil {
			t.Fatal(err)
		}
		return r.Digest
	}
	var nonce [uploadrelay.NonceLen]byte
	copy(nonce[:], "a nonce of thirty-two bytes.....")
	good := pay(tip, uploadrelay.NewAuthPackage(blob, nonce).Encode())
	small := pay(1000, uploadrelay.NewAuthPackage(blob, nonce).Encode())
	other := blob[:len(blob):len(blob)]
	other = append([]byte{}, other...)
	other[0] ^= 1
	forOther := pay(tip, uploadrelay.NewAuthPackage(other, nonce).Encode())
	garbage := pay(tip, []byte("not an auth package"))
	var wrongNonce [uploadrelay.NonceLen]byte

	tipped := func(tx [32]byte, n [uploadrelay.NonceLen]byte) uploadrelay.Params {
		return uploadrelay.Params{BlobID: id, HasTip: true, TxID: tx, Nonce: n}
	}
	for _, tc := range []struct {
		name string
		p    uploadrelay.Params
		code int
		msg  string
	}{
		{"missing tip", uploadrelay.Params{BlobID: id}, http.StatusBadRequest, "missing the transaction ID or the nonce"},
		{"unknown transaction", tipped([32]byte{7}, nonce), http.StatusPaymentRequired, "no tip was transferred"},
		{"insufficient tip", tipped(small, nonce), http.StatusPaymentRequired, "insufficient"},
		{"tip for another blob", tipped(forOther, nonce), http.StatusUnauthorized, "blob digest"},
		{"memo not a package", tipped(garbage, nonce), http.StatusUnauthorized, "auth package"},
		{"wrong nonce", tipped(good, wrongNonce), http.StatusUnauthorized, "nonce"},
		{"good tip", tipped(good, nonce), http.StatusOK, "confirmation_certificate"},
		{"reused tip", tipped(good, nonce), http.StatusPaymentRequired, "already used"},
	} {
		code, body := post(t, url, tc.p, blob)
		if code != tc.code || !strings.Contains(body, tc.msg) {
			t.Errorf("%s: %d %q, want %d with %q", tc.name, code, body, tc.code, tc.msg)
		}
	}
	// A hex transaction digest is accepted too (and still used once).
	q := tipped(good, nonce).Query()
	q = strings.Replace(q, "tx_id="+base58.Encode(good[:]), "tx_id=0x"+strings.TrimPrefix(chain.ObjectID(good).String(), "0x"), 1)
	resp, err := http.Post(url+uploadrelay.UploadRoute+"?"+q, "application/octet-stream", bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPaymentRequired {
		t.Errorf("reused tip by its hex digest: %d, want 402", resp.StatusCode)
	}
}
