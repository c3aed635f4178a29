package chainclient_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
)

// TestDialedClientWakesOnNewBlocks polls so rarely (every 10 minutes) that only the
// websocket new-block subscription can end the waits in time: transactions submitted
// through a dialed client are found in their blocks, and a restart of the validator (the
// subscription's connection breaks) does not stop it.
func TestDialedClientWakesOnNewBlocks(t *testing.T) {
	d := newDevnet(t, devnetOptions{rpc: true})
	never := 10 * time.Minute
	c, err := chainclient.Dial(d.rpcURL(), chainclient.Options{
		Logger: testLogger(), PollMin: never, PollMax: never, IdlePoll: never, RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	alice, bob := testSigner("alice"), testSigner("bob")
	transfer := func(amount uint64) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := c.Submit(ctx, alice, &chain.Transfer{To: bob.Address(), Amount: amount}); err != nil {
			t.Fatalf("transfer of %d: %v", amount, err)
		}
	}
	for i := range 3 {
		transfer(uint64(1 + i))
	}
	d.restart()
	transfer(10)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	acct, err := c.Account(ctx, bob.Address())
	if err != nil {
		t.Fatal(err)
	}
	if acct.Balance != 16 {
		t.Fatalf("bob's balance is %d, want 16", acct.Balance)
	}
}

// TestSubscribedClientPollsOnlyPerBlock: while a live new-block subscription wakes a
// dialed client at each block, the client asks the node for its height about once per
// block, not every PollMax: a storage node following an idle chain used to ask five times
// a second. The client would poll every millisecond without the subscription, and the
// chain makes a block every 300 ms; the client must ask about once per block. The same
// holds for a client of several validators (DialAll), whose subscription goes to its
// current endpoint.
func TestSubscribedClientPollsOnlyPerBlock(t *testing.T) {
	t.Run("Dial", func(t *testing.T) {
		testPollsOnlyPerBlock(t, func(u string) (*chainclient.Client, error) {
			return chainclient.Dial(u, pollEveryMillisecond)
		})
	})
	t.Run("DialAll", func(t *testing.T) {
		testPollsOnlyPerBlock(t, func(u string) (*chainclient.Client, error) {
			return chainclient.DialAll([]string{u, "http://" + freeAddr(t)}, pollEveryMillisecond)
		})
	})
}

var pollEveryMillisecond = chainclient.Options{
	Logger: testLogger(), PollMin: time.Millisecond, PollMax: time.Millisecond, IdlePoll: 10 * time.Minute,
}

func testPollsOnlyPerBlock(t *testing.T, dial func(url string) (*chainclient.Client, error)) {
	d := newDevnet(t, devnetOptions{rpc: true, heartbeat: 300 * time.Millisecond})
	var counting atomic.Bool
	var infoCalls atomic.Int64
	srv := rpcProxy(t, d.rpcURL(), func(method string, _ []byte) string {
		if counting.Load() && method == "abci_info" {
			infoCalls.Add(1)
		}
		return ""
	})
	c, err := dial(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sys, err := c.System(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A follower at the head of the event log waits for new blocks all along.
	followCtx, stopFollow := context.WithCancel(ctx)
	followed := make(chan error, 1)
	go func() {
		_, err := c.Follow(sys.NextEventSeq, 0).Next(followCtx)
		followed <- err
	}()
	waitFor(t, time.Minute, "the new-block subscription", func() (bool, error) { return c.Watched(), nil })
	start, _ := d.node.App().LastCommit()
	counting.Store(true)
	const blocks = 6
	d.waitHeight(start.Height + blocks)
	// The events reach the client after the blocks are committed; each carries its height.
	waitFor(t, time.Minute, "the new-block events", func() (bool, error) { return c.Announced() >= start.Height+blocks, nil })
	counting.Store(false)
	stopFollow()
	if err := <-followed; err != nil && ctx.Err() == nil && followCtx.Err() == nil {
		t.Fatalf("follower: %v", err)
	}
	end, _ := d.node.App().LastCommit()
	seen := end.Height - start.Height
	if n := infoCalls.Load(); n > seen+2 {
		t.Fatalf("the client asked for the height %d times over %d blocks; want at most %d", n, seen, seen+2)
	} else {
		t.Logf("%d height queries over %d blocks", n, seen)
	}
}

// TestSilentSubscriptionIsDropped: a node whose host dies without closing the connection
// (power lost, network cut) leaves the subscription's connection open and silent, and the
// client, believing itself subscribed, polled only every IdlePoll for good and never moved
// its subscription to a live endpoint. A connection silent for longer than the node's ping
// period allows must be dropped and a new subscription made. The server here acknowledges
// the subscription and then says nothing, not even pings.
func TestSilentSubscriptionIsDropped(t *testing.T) {
	defer chainclient.SetWatchSilence(100 * time.Millisecond)()
	var conns, dropped atomic.Int64
	upgrader := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		conns.Add(1)
		if _, _, err := conn.ReadMessage(); err != nil { // the subscribe request
			return
		}
		if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":"chainclient-watch","result":{}}`)); err != nil {
			return
		}
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				dropped.Add(1) // the client closed the connection
				return
			}
		}
	}))
	defer srv.Close()
	c, err := chainclient.Dial(srv.URL, chainclient.Options{Logger: testLogger(), RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.StartWatch()
	waitFor(t, time.Minute, "the silent connection dropped and a new subscription made", func() (bool, error) {
		return dropped.Load() >= 1 && conns.Load() >= 2, nil
	})
}
