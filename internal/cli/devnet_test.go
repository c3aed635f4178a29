package cli

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/devnet"
)

// squat listens on a free loopback port until the test ends and returns its address.
func squat(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

// TestDevnetPortClashFirstRun: a first run with a port taken writes nothing and its hint
// names the flag that moves that port.
func TestDevnetPortClashFirstRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "net")
	taken := squat(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := l.Addr().String()
	l.Close()
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--chain-rpc", taken}, "--chain-rpc"},
		{[]string{"--chain-rpc", free, "--chain-p2p", taken}, "--chain-p2p"},
	} {
		_, errs, code := run(t, append([]string{"devnet", "--dir", dir}, c.args...)...)
		if code != 1 || !strings.Contains(errs, taken+" is in use") || !strings.Contains(errs, "hint: stop the process listening there, or choose another address with "+c.flag) {
			t.Errorf("devnet %v: exit %d, stderr:\n%s", c.args, code, errs)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("a failed first run left %s behind (%v)", dir, err)
		}
	}
}

// TestDevnetResume: a resumed devnet refuses first-run flags with other values, and its
// port hint says the ports are fixed.
func TestDevnetResume(t *testing.T) {
	dir := t.TempDir()
	rpc := squat(t)
	if _, err := devnet.Init(devnet.Options{Dir: dir, ChainRPC: rpc}); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run(t, "devnet", "--dir", dir, "--shards", "50", "--node-port", "9300", "--nodes", "4")
	if code != 2 || !strings.Contains(errs, "--shards 50, --node-port 9300 cannot apply: the devnet in "+dir+" was created with --shards 100, --node-port 9185") ||
		!strings.Contains(errs, "'walrus devnet --dir NEW_DIR --shards 50 --node-port 9300'") {
		t.Errorf("resume with other first-run flags: exit %d, stderr:\n%s", code, errs)
	}
	// The same values given again are not refused: the run gets as far as the ports.
	_, errs, code = run(t, "devnet", "--dir", dir, "--chain-rpc", rpc, "--shards", "100")
	if code != 1 || !strings.Contains(errs, rpc+" is in use") || !strings.Contains(errs, "keeps the ports it was created with") {
		t.Errorf("resume with the chain RPC port taken: exit %d, stderr:\n%s", code, errs)
	}
	if !devnet.Exists(dir) {
		t.Fatal("a failed resume removed the devnet")
	}
}

func TestDevnetMaxBodySize(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "net")
	_, errs, code := run(t, "devnet", "--dir", dir, "--shards", "10", "--max-body-size", "999999")
	if code != 2 || !strings.Contains(errs, "--max-body-size 999999: at most 1791 KiB fit 10 shards") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a refused first run left %s behind (%v)", dir, err)
	}
	f := devnetFlags{changed: func(string) bool { return false }}
	for _, c := range []struct {
		shards int
		want   int64
	}{{100, 100 << 20}, {10, 4 * 7 * 65534}} {
		if got, err := devnetMaxBody(f, c.shards); err != nil || got != c.want {
			t.Errorf("default max body for %d shards = %d, %v; want %d", c.shards, got, err, c.want)
		}
	}
}
