package cli

import (
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/testnet"
)

// startRelayCLI runs 'walrus upload-relay' with args and returns its URL; it stops with
// the test.
func startRelayCLI(t *testing.T, n *cliNet, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, append([]string{"--config", n.config, "upload-relay", "--server-address", "127.0.0.1:0"}, args...),
			strings.NewReader(""), io.Discard, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("upload-relay exited with %d: %s", code, stderr.String())
		}
	})
	re := regexp.MustCompile(`upload relay on (http://[0-9.:]+)\n`)
	deadline := time.Now().Add(time.Minute)
	for {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("upload-relay did not start: %q", stderr.String())
		}
		time.Sleep(5 * time.Millisecond) // polling the relay's output, not synchronization
	}
}

func TestCLIUploadRelay(t *testing.T) {
	n := newCLINet(t, testnet.Options{})
	free := startRelayCLI(t, n)
	tipping := startRelayCLI(t, n, "--tip-const", "1000")
	dir := t.TempDir()
	path, _ := writeRandom(t, dir, "relayed", 30_000)

	out, errs, code := n.walrus(t, "store", "--json", "--epochs", "1", "--upload-relay", free, path)
	if code != 0 {
		t.Fatalf("store through the relay: code %d, %q", code, errs)
	}
	var res []storeOutput
	if err := json.Unmarshal(out, &res); err != nil || len(res) != 1 || res[0].BlobStoreResult.NewlyCreated == nil ||
		res[0].BlobStoreResult.NewlyCreated.BlobObject.CertifiedEpoch == nil {
		t.Fatalf("store through the relay: %s (%v)", out, err)
	}

	// A relay asking a tip is refused unless --skip-tip-confirmation pays it.
	path2, _ := writeRandom(t, dir, "tipped", 30_000)
	_, errs, code = n.walrus(t, "store", "--epochs", "1", "--upload-relay", tipping, path2)
	if code == 0 || !strings.Contains(errs, "walrus: error:") || !strings.Contains(errs, "tip of 1000 FROST") ||
		!strings.Contains(errs, "hint: pass --skip-tip-confirmation") {
		t.Fatalf("store through a tipping relay without confirmation: code %d, %q", code, errs)
	}
	if _, errs, code = n.walrus(t, "store", "--epochs", "1", "--upload-relay", tipping, "--skip-tip-confirmation", path2); code != 0 {
		t.Fatalf("store paying the tip: code %d, %q", code, errs)
	}

	// Bad command lines.
	for _, args := range [][]string{
		{"store", "--epochs", "1", "--upload-relay", "ftp://x", path},
		{"upload-relay", "--tip-const", "1", "--tip-base", "2"},
		{"upload-relay", "--tip-address", "0x01"},
		{"upload-relay", "--max-body-size", "0"},
	} {
		if _, errs, code := n.walrus(t, args...); code == 0 || !strings.HasPrefix(errs, "walrus: error:") {
			t.Errorf("%v: code %d, %q; want a usage error", args, code, errs)
		}
	}
}
