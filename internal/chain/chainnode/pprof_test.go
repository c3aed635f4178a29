package chainnode_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain/chainnode"
)

// TestPprofListen: runtime profiles are served on PprofListen only, never on the RPC
// listener, and not at all by default.
func TestPprofListen(t *testing.T) {
	g := testGenesis(t)
	cfg, err := chainnode.GenerateSingle(chainnode.Config{Home: t.TempDir(), P2PListen: "127.0.0.1:0", RPCListen: freeAddr(t), PprofListen: "127.0.0.1:0", Logger: testLogger()}, g)
	if err != nil {
		t.Fatal(err)
	}
	n, err := chainnode.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	hc := &http.Client{Timeout: time.Minute}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := hc.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://" + n.PprofAddr() + "/debug/pprof/profile?seconds=1"); code != http.StatusOK || len(body) == 0 {
		t.Errorf("CPU profile: %d, %d bytes", code, len(body))
	}
	if code, _ := get("http://" + n.PprofAddr() + "/status"); code != http.StatusNotFound {
		t.Errorf("RPC route on the pprof listener: %d, want 404", code)
	}
	if code, body := get("http://" + n.RPCAddr() + "/debug/pprof/"); code == http.StatusOK && strings.Contains(body, "goroutine") {
		t.Errorf("the RPC listener serves profiles")
	}
}
