package nodeclient_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/storagenode/api"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
)

// TestPinnedNode serves the node API over TLS with a certificate over the node's network
// key and talks to it as a client does: with the registered key it answers; a client
// expecting another key (the node is not who the chain says, or a man in the middle
// answers) is refused, even through a caller's transport that skips verification; and a
// plain-HTTP client gets nothing.
func TestPinnedNode(t *testing.T) {
	e := nodetest.New(t, 10, []uint16{0, 1})
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	cfg, err := nodetls.ServerConfig(key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(api.NewHandler(e.Node, api.Options{}))
	srv.TLS = cfg
	srv.StartTLS()
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("server URL %s", srv.URL)
	}
	addr := strings.TrimPrefix(srv.URL, "https://")
	registered, other := nodetls.PublicKey(key), nodetls.PublicKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize)))

	good, err := nodeclient.New(nodeclient.URL(addr), nodeclient.Options{NetworkKey: registered})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := good.Health(context.Background(), false); err != nil {
		t.Fatalf("pinned to the registered key: %v", err)
	}

	wrong, err := nodeclient.New(nodeclient.URL(addr), nodeclient.Options{NetworkKey: other})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Health(context.Background(), false)
	if !errors.Is(err, nodetls.ErrKeyMismatch) || nodeclient.IsRetryable(err) {
		t.Fatalf("pinned to another key: %v (retryable %v), want ErrKeyMismatch", err, nodeclient.IsRetryable(err))
	}

	// A caller's transport that accepts any certificate: the answer is refused anyway.
	lax := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	laxClient, err := nodeclient.New(nodeclient.URL(addr), nodeclient.Options{HTTPClient: lax, NetworkKey: other})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := laxClient.Health(context.Background(), false); !errors.Is(err, nodetls.ErrKeyMismatch) {
		t.Fatalf("through a transport that skips verification: %v, want ErrKeyMismatch", err)
	}

	if _, err := nodeclient.New(nodeclient.URL(addr), nodeclient.Options{}); !errors.Is(err, nodeclient.ErrNoNetworkKey) {
		t.Fatalf("https client without a key: %v, want ErrNoNetworkKey", err)
	}

	plain, err := nodeclient.New("http://"+addr, nodeclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Health(context.Background(), false); err == nil {
		t.Fatal("a plain-HTTP client was served by a TLS node")
	}
}
