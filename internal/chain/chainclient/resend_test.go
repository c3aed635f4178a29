package chainclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
)

// losingProxy forwards the JSON-RPC of a node, except the transactions broadcast while
// losing is set: it answers those itself with an admission (code 0) and drops them, as a
// validator that admitted a transaction and died before gossiping it.
type losingProxy struct {
	srv    *httptest.Server
	losing atomic.Bool
	lost   atomic.Int64
}

func newLosingProxy(t *testing.T, target string) *losingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(u)
	p := &losingProxy{}
	p.losing.Store(true)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			var req struct {
				ID     json.RawMessage `json:"id"`
				Method string          `json:"method"`
			}
			if json.Unmarshal(body, &req) == nil && req.Method == "broadcast_tx_sync" && p.losing.Load() {
				p.lost.Add(1)
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"code":0,"data":"","log":"","codespace":"","hash":""}}`, req.ID)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// TestTransactionLostWithItsValidatorIsSentAgain is the hang of a client of several
// validators whose transaction was admitted by a validator that then died without
// gossiping it: the transaction is in no live mempool, and the client waited for it until
// its context ended. The client must send it again to the live validators, where it is
// committed.
func TestTransactionLostWithItsValidatorIsSentAgain(t *testing.T) {
	d := newDevnet(t, devnetOptions{rpc: true})
	dying := newLosingProxy(t, d.rpcURL())
	c, err := chainclient.DialAll([]string{dying.srv.URL, d.rpcURL()}, chainclient.Options{
		Logger: testLogger(), Resend: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	alice, bob := testSigner("alice"), testSigner("bob")
	pend, err := c.SubmitAsync(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 7}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if dying.lost.Load() != 1 {
		t.Fatalf("the first validator lost %d transactions, want the one broadcast", dying.lost.Load())
	}
	// The validator dies: its port refuses connections from now on.
	dying.srv.CloseClientConnections()
	dying.srv.Close()
	res, err := pend.Wait(ctx)
	if err != nil {
		t.Fatalf("the transaction lost with its validator: %v", err)
	}
	if acct, err := c.Account(ctx, bob.Address()); err != nil || acct.Balance != 7 {
		t.Fatalf("bob %+v, %v after the transfer committed at height %d", acct, err, res.Height)
	}
}

// TestTransactionWhoseNonceWasUsedEnds: a transaction lost by the node that admitted it,
// whose nonce another transaction of the same sender (here from another client) then
// used, can never be committed. Its wait must end with ErrTxDropped once the chain shows
// the nonce used, not at the end of the caller's context, and the next submission must
// take the next nonce.
func TestTransactionWhoseNonceWasUsedEnds(t *testing.T) {
	d := newDevnet(t, devnetOptions{rpc: true})
	lossy := newLosingProxy(t, d.rpcURL())
	c, err := chainclient.Dial(lossy.srv.URL, chainclient.Options{Logger: testLogger(), Resend: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	other, err := chainclient.Dial(d.rpcURL(), chainclient.Options{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	alice, bob := testSigner("alice"), testSigner("bob")
	lost, err := c.SubmitAsync(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	used, err := other.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 2})
	if err != nil {
		t.Fatal(err)
	}
	lossy.losing.Store(false) // sent again from now on, the lost one would be refused for its nonce
	if _, err := lost.Wait(ctx); !errors.Is(err, chainclient.ErrTxDropped) {
		t.Fatalf("wait for the transaction whose nonce %d was used at height %d: %v, want ErrTxDropped", lost.Nonce, used.Height, err)
	}
	next, err := c.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 4})
	if err != nil {
		t.Fatal(err)
	}
	if acct, err := c.Account(ctx, bob.Address()); err != nil || acct.Balance != 6 {
		t.Fatalf("bob %+v, %v after the transfer at height %d, want 6 FROST (2 + 4)", acct, err, next.Height)
	}
}
