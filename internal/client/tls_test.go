package client_test

import (
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestManInTheMiddleOfANode is the attack on the network path: an attacker takes over a
// node's address with a TLS server of its own key. The client refuses it with
// ErrKeyMismatch before sending a request (the attacker reads no sliver and answers no
// confirmation), and stores and reads with the other nodes. Then the node comes back with
// a network key other than its registered one: it is refused too.
func TestManInTheMiddleOfANode(t *testing.T) {
	net0 := testnet.New(t, testnet.Options{})
	c := newClient(t, net0)
	ctx := testContext(t)
	victim := net0.Nodes[0]
	if err := victim.Stop(); err != nil {
		t.Fatal(err)
	}

	_, attackerKey, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := nodetls.ServerConfig(attackerKey, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	deadline := time.Now().Add(time.Minute)
	for ln, err = net.Listen("tcp", victim.Addr); err != nil; ln, err = net.Listen("tcp", victim.Addr) {
		if time.Now().After(deadline) {
			t.Fatalf("taking over the victim's address: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // the port may linger briefly after Stop
	}
	var hits atomic.Int64
	mitm := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.Copy(io.Discard, r.Body) //nolint:errcheck // the attacker reads what it gets
	}), ErrorLog: log.New(io.Discard, "", 0)}
	go mitm.Serve(tls.NewListener(ln, cfg)) //nolint:errcheck // closed below

	data := randomBlob(100_000, 7)
	res := mustStore(t, c, data, client.StoreOptions{Epochs: 2})
	id, err := redstuff.ParseBlobID(res.BlobID())
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Read(ctx, id, client.ReadOptions{})
	if err != nil || string(got) != string(data) {
		t.Fatalf("read with a man in the middle: %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the man in the middle received %d requests", n)
	}
	checkRefused := func(what string) {
		t.Helper()
		_, health, err := c.Health(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range health {
			if h.NetworkAddress == victim.Addr {
				if !errors.Is(h.Err, nodetls.ErrKeyMismatch) {
					t.Fatalf("%s: health of the victim's address: %v, want ErrKeyMismatch", what, h.Err)
				}
				return
			}
		}
		t.Fatalf("the victim is not in the committee")
	}
	checkRefused("man in the middle")
	mitm.Close()

	// The node itself, serving with a key other than the one registered on chain.
	if _, victim.Keys.Network, err = ed25519.GenerateKey(nil); err != nil {
		t.Fatal(err)
	}
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	checkRefused("unregistered node key")
}
