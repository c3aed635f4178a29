package daemon_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/testnet"
)

// TestPprofOnlyWhereAsked: with pprof on, the metrics listener serves CPU profiles and the
// node API still does not; with it off (the default), neither does.
func TestPprofOnlyWhereAsked(t *testing.T) {
	net := testnet.NewCluster(t, testnet.Options{})
	on, off := net.Nodes[0], net.Nodes[1]
	on.Config.MetricsListen, on.Config.Pprof = "127.0.0.1:0", true
	off.Config.MetricsListen = "127.0.0.1:0"
	net.StartInProcess(on)
	net.StartInProcess(off)
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the test asks only which routes exist
	}}
	get := func(url string) (int, []byte) {
		t.Helper()
		resp, err := hc.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, b
	}
	if code, body := get("http://" + on.Daemon.MetricsAddr() + "/debug/pprof/profile?seconds=1"); code != http.StatusOK || len(body) == 0 {
		t.Errorf("CPU profile on the metrics listener with pprof on: %d, %d bytes", code, len(body))
	}
	if code, body := get("http://" + on.Daemon.MetricsAddr() + "/metrics"); code != http.StatusOK || !strings.Contains(string(body), "walrus_node") {
		t.Errorf("metrics with pprof on: %d", code)
	}
	for _, url := range []string{
		"https://" + on.Addr + "/debug/pprof/",
		"https://" + on.Addr + "/debug/pprof/profile?seconds=1",
		"http://" + off.Daemon.MetricsAddr() + "/debug/pprof/",
		"http://" + off.Daemon.MetricsAddr() + "/debug/pprof/profile?seconds=1",
	} {
		if code, _ := get(url); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", url, code)
		}
	}
}
