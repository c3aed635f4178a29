package chainclient_test

import (
	"bytes"
	"context"
	"encoding/base64"
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

// rpcProxy forwards the JSON-RPC of a node, except the calls its hook answers: the hook
// gets the method and the raw request and returns the JSON of the result to answer with,
// or "" to forward the call.
func rpcProxy(t *testing.T, target string, hook func(method string, body []byte) string) *httptest.Server {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
			if json.Unmarshal(body, &req) == nil {
				if result := hook(req.Method, body); result != "" {
					w.Header().Set("Content-Type", "application/json")
					fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":%s}`, req.ID, result)
					return
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// admitted is a node's answer to broadcast_tx_sync for a transaction it admitted.
const admitted = `{"code":0,"data":"","log":"","codespace":"","hash":""}`

// losingProxy is an rpcProxy that loses the transactions broadcast while losing is set:
// it answers for them with an admission and drops them, as a validator that admitted a
// transaction and died before gossiping it.
type losingProxy struct {
	srv    *httptest.Server
	losing atomic.Bool
	lost   atomic.Int64
}

func newLosingProxy(t *testing.T, target string) *losingProxy {
	p := &losingProxy{}
	p.losing.Store(true)
	p.srv = rpcProxy(t, target, func(method string, _ []byte) string {
		if method == "broadcast_tx_sync" && p.losing.Load() {
			p.lost.Add(1)
			return admitted
		}
		return ""
	})
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

// TestResyncWaitsForAnEndpointBehind: after a failover, a client's endpoint may be a
// block behind the one where it saw its last transaction committed. That endpoint refuses
// the next nonce (it expects the one already used), and its account answer, read to
// resync, still shows the used nonce: a transaction signed with it is admitted there and
// evicted once the endpoint catches up, never to be committed. The client must not sign
// with a nonce it saw used; it reads the account again until the endpoint has caught up.
// The proxy plays the endpoint behind: one refusal for the nonce, one account answer from
// before the client's last transaction.
func TestResyncWaitsForAnEndpointBehind(t *testing.T) {
	d := newDevnet(t, devnetOptions{rpc: true})
	alice, bob := testSigner("alice"), testSigner("bob")
	var refuse atomic.Bool
	var stale atomic.Pointer[string] // the account answer of the endpoint behind, served once
	srv := rpcProxy(t, d.rpcURL(), func(method string, body []byte) string {
		switch {
		case method == "broadcast_tx_sync" && refuse.CompareAndSwap(true, false):
			return fmt.Sprintf(`{"code":%d,"data":"","log":"wrong nonce","codespace":"","hash":""}`, chain.CodeNonce)
		case method == "abci_query" && bytes.Contains(body, []byte(chain.QueryAccount)):
			if answer := stale.Swap(nil); answer != nil {
				return *answer
			}
		}
		return ""
	})
	c, err := chainclient.Dial(srv.URL, chainclient.Options{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	addr := alice.Address()
	before, h0, err := c.Query(ctx, chain.QueryAccount, addr[:])
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 1})
	if err != nil {
		t.Fatal(err)
	}
	answer := fmt.Sprintf(`{"response":{"code":0,"log":"","info":"","index":"0","key":null,"value":%q,"proofOps":null,"height":"%d","codespace":""}}`,
		base64.StdEncoding.EncodeToString(before), h0)
	stale.Store(&answer)
	refuse.Store(true)
	second, err := c.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: 2})
	if err != nil {
		t.Fatalf("the transfer after the endpoint fell behind: %v", err)
	}
	if refuse.Load() || stale.Load() != nil {
		t.Fatal("the client did not meet the endpoint behind (no refusal or no resync)")
	}
	if second.Height <= first.Height {
		t.Fatalf("second transfer at height %d, first at %d", second.Height, first.Height)
	}
	if acct, err := c.Account(ctx, bob.Address()); err != nil || acct.Balance != 3 {
		t.Fatalf("bob %+v, %v; want 3 FROST", acct, err)
	}
}
