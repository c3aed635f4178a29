package explorer_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/explorer"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testvec"
)

// browserEnv names the variable that skips the browser test on a machine without Chromium
// (for local runs only; CI has Chromium and fails without it).
const browserEnv = "WALRUS_SKIP_BROWSER"

// findChromium returns the path of a Chromium or Chrome executable, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

var freeAddr = testvec.FreeAddr

var freePortBlock = testvec.FreePortBlock

// TestBrowser loads every explorer page in headless Chromium against a devnet of real
// processes holding real blobs, checks the rendered numbers against the JSON API and the
// chain, keeps screenshots, and kills a node to see it go down on the nodes page.
func TestBrowser(t *testing.T) {
	if os.Getenv(browserEnv) != "" {
		t.Skip(browserEnv + " is set")
	}
	if testing.Short() {
		t.Skip("starts a devnet and a browser")
	}
	chromium := findChromium()
	if chromium == "" {
		t.Fatal("no chromium found: install the Debian package chromium (.ci/run does), or set " + browserEnv + "=1 to skip this test locally")
	}
	artifacts := t.ArtifactDir()
	t.Logf("screenshots in %s (kept with go test -artifacts)", artifacts)

	bin := filepath.Join(t.TempDir(), "walrus")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/walrus-go/walrus/cmd/walrus").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const interval = 3 * time.Second
	dir := filepath.Join(t.TempDir(), "net")
	rpc, httpAddr := freeAddr(t), freeAddr(t)
	base := freePortBlock(t, 4)
	cmd := exec.Command(bin, "devnet", "--dir", dir, "--nodes", "4", "--shards", "8", "--node-port", strconv.Itoa(base),
		"--chain-rpc", rpc, "--chain-p2p", freeAddr(t), "--http", httpAddr, "--s3", "off", "--portal", "off", "--explorer-health-interval", interval.String())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
			<-done
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var config, explorerURL string
	var out bytes.Buffer
	deadline := time.After(5 * time.Minute)
	for config == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("devnet exited before it was ready:\n%s\n%s", out.String(), errb.String())
			}
			out.WriteString(line + "\n")
			if v, ok := strings.CutPrefix(line, "export WALRUS_CONFIG="); ok {
				config = v
			}
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "explorer:"); ok {
				explorerURL = strings.TrimSpace(v)
			}
		case <-deadline:
			t.Fatalf("devnet not ready after 5 minutes:\n%s\n%s", out.String(), errb.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	if explorerURL != "http://"+httpAddr+"/explorer/" {
		t.Fatalf("devnet printed explorer %q, want http://%s/explorer/:\n%s", explorerURL, httpAddr, out.String())
	}
	daemon := "http://" + httpAddr

	// Real blobs, stored through the CLI.
	type stored struct{ blobID, objectID string }
	var blobs []stored
	for i, size := range []int{3000, 70_000} {
		path := filepath.Join(t.TempDir(), fmt.Sprint("blob", i))
		data := bytes.Repeat([]byte{byte(i + 1), 2, 3, 5, 7}, size/5)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c := exec.Command(bin, "store", path, "--epochs", "3", "--json")
		c.Env = append(os.Environ(), "WALRUS_CONFIG="+config)
		o, err := c.Output()
		if err != nil {
			t.Fatalf("store: %v\n%s", err, o)
		}
		blobs = append(blobs, stored{jsonString(t, o, "blobId"), jsonString(t, o, "id")})
	}

	cc, err := chainclient.Dial(rpc, chainclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// The explorer catches up with the chain within a few intervals.
	var ov explorer.Overview
	waitFor(t, ctx, "the explorer counts the stored blobs", func() bool {
		getJSON(t, daemon+"/v1/network/overview", &ov)
		return ov.Stored.Blobs == uint64(len(blobs)) && ov.HealthSamples > 0 && ov.Holders == 1
	})

	actx, acancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU, chromedp.WindowSize(1280, 1600))...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	load := func(name, url string, wait string) {
		t.Helper()
		start := time.Now()
		var shot []byte
		if err := chromedp.Run(bctx, chromedp.Navigate(url), chromedp.WaitVisible(wait, chromedp.ByQuery), chromedp.FullScreenshot(&shot, 80)); err != nil {
			t.Fatalf("%s (%s): %v", name, url, err)
		}
		if err := os.WriteFile(filepath.Join(artifacts, name+".jpg"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: loaded in the browser in %v", name, time.Since(start))
	}
	text := func(sel string) string {
		t.Helper()
		var s string
		if err := chromedp.Run(bctx, chromedp.Text(sel, &s, chromedp.ByQuery)); err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	count := func(sel string) int {
		t.Helper()
		var n int
		if err := chromedp.Run(bctx, chromedp.Evaluate(fmt.Sprintf("document.querySelectorAll(%q).length", sel), &n)); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Overview: numbers equal the JSON API's and the chain's.
	load("overview", explorerURL, "#stored-blobs")
	getJSON(t, daemon+"/v1/network/overview", &ov)
	sys, err := cc.System(ctx)
	if err != nil {
		t.Fatal(err)
	}
	committee, err := cc.CommitteeAt(ctx, sys.Epoch)
	if err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string]string{
		"#stored-blobs":    strconv.FormatUint(ov.Stored.Blobs, 10),
		"#stored-bytes":    strconv.FormatUint(ov.Stored.Bytes, 10),
		"#encoded-bytes":   strconv.FormatUint(ov.Stored.EncodedBytes, 10),
		"#nakamoto-shards": strconv.Itoa(ov.Shards.Nakamoto),
		"#nakamoto-stake":  strconv.Itoa(ov.Stake.Nakamoto),
		"#epoch":           strconv.Itoa(int(sys.Epoch)),
		"#nshards":         strconv.Itoa(int(committee.NShards)),
		"#storage-price":   strconv.FormatUint(sys.StoragePrice, 10),
		// one wallet stored every blob: it is the only holder, of all the bytes
		"#holders .holder-bytes": strconv.FormatUint(ov.Stored.Bytes, 10),
		"#holders .holder-blobs": strconv.FormatUint(ov.Stored.Blobs, 10),
	} {
		if got := text(sel); got != want {
			t.Errorf("overview %s = %q, want %q", sel, got, want)
		}
	}
	if n := count("tr.member"); n != len(committee.Members) {
		t.Errorf("overview shows %d committee members, the chain has %d", n, len(committee.Members))
	}

	// Blob pages, by blob ID and by object ID: sizes from the chain, every shard's holder.
	for i, b := range blobs {
		oid, err := chain.ParseObjectID(b.objectID)
		if err != nil {
			t.Fatal(err)
		}
		onChain, err := cc.Blob(ctx, oid)
		if err != nil {
			t.Fatal(err)
		}
		enc, _ := mustConfig(t, int(committee.NShards)).EncodedLength(onChain.Size)
		for j, id := range []string{b.blobID, b.objectID} {
			load(fmt.Sprintf("blob-%d-%d", i, j), explorerURL+"blobs/"+id, "#holders")
			if got := text("#size"); got != strconv.FormatUint(onChain.Size, 10) {
				t.Errorf("blob %s: size %s, chain %d", id, got, onChain.Size)
			}
			if got := text("#encoded-size"); got != strconv.FormatUint(enc, 10) {
				t.Errorf("blob %s: encoded size %s, want %d", id, got, enc)
			}
			if got := text("#end-epoch"); got != strconv.Itoa(int(onChain.EndEpoch())) {
				t.Errorf("blob %s: end epoch %s, chain %d", id, got, onChain.EndEpoch())
			}
			if got := text("#object-id"); got != b.objectID {
				t.Errorf("blob %s: object %s, want %s", id, got, b.objectID)
			}
			if n := count("tr.holder"); n != len(committee.Members) {
				t.Errorf("blob %s: %d holder rows, committee has %d members", id, n, len(committee.Members))
			}
			for _, m := range committee.Members {
				row := fmt.Sprintf(`tr.holder[data-node-id=%q]`, m.NodeID.String())
				var shards []string
				for _, s := range m.Shards {
					shards = append(shards, strconv.Itoa(int(s)))
				}
				if got := text(row + " td.shards"); got != strings.Join(shards, " ") {
					t.Errorf("blob %s: node %s holds shards %q on the page, %q on chain", id, m.Name, got, strings.Join(shards, " "))
				}
				if got := text(row + " td.answers"); !strings.HasPrefix(got, "yes") {
					t.Errorf("blob %s: node %s: %q, want it to answer", id, m.Name, got)
				}
			}
		}
	}

	// Account page of the wallet that stored them.
	owner := blobOwner(t, ctx, cc, blobs[0].objectID)
	acct, err := cc.Account(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	if len(ov.LargestHolders) != 1 || ov.LargestHolders[0].Address != owner.String() {
		t.Errorf("largest holders %+v, want the one wallet %s", ov.LargestHolders, owner)
	}
	load("account", explorerURL+"accounts/"+owner.String(), "#balance")
	if got := text("#balance"); got != strconv.FormatUint(acct.Balance, 10) {
		t.Errorf("account balance %s, chain %d", got, acct.Balance)
	}
	if n := count("tr.blob"); n != len(blobs) {
		t.Errorf("account shows %d blobs, want %d", n, len(blobs))
	}

	load("epochs", explorerURL+"epochs", "#epochs")
	if n := count("svg.chart"); n != 3 {
		t.Errorf("epochs page has %d charts, want 3", n)
	}

	// Nodes: all up; then node 0 is killed and the nodes page shows it down from the first
	// sample asked for after the kill.
	load("nodes", explorerURL+"nodes", "#nodes")
	var np explorer.NodePage
	getJSON(t, daemon+"/v1/network/nodes", &np)
	if n := count("tr.node"); n != len(np.Nodes) || n != len(committee.Members) {
		t.Errorf("nodes page shows %d nodes, JSON %d, committee %d", n, len(np.Nodes), len(committee.Members))
	}
	for _, n := range np.Nodes {
		row := fmt.Sprintf(`tr.node[data-node-id=%q]`, n.NodeID)
		if got := text(row + " td.stake"); got != strconv.FormatUint(n.Stake, 10) {
			t.Errorf("node %s: stake %s on the page, %d in JSON", n.Name, got, n.Stake)
		}
		if got := text(row + " td.health"); !strings.HasPrefix(got, "up") {
			t.Errorf("node %s: %q before the kill, want up", n.Name, got)
		}
	}
	pidB, err := os.ReadFile(filepath.Join(dir, "nodes", "0", "pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(pidB)))
	victim := committeeMemberOfNode0(t, ctx, cc, base, committee)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	row := fmt.Sprintf(`tr.node[data-node-id=%q] td.health`, victim.String())
	waitFor(t, ctx, "the nodes page shows the killed node down", func() bool {
		if err := chromedp.Run(bctx, chromedp.Navigate(explorerURL+"nodes"), chromedp.WaitVisible("#nodes", chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		return strings.HasPrefix(text(row), "down")
	})
	seen := time.Since(killed)
	load("nodes-after-kill", explorerURL+"nodes", "#nodes")
	getJSON(t, daemon+"/v1/network/nodes", &np)
	for _, n := range np.Nodes {
		if n.NodeID != victim.String() {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, n.SampledAt)
		if err != nil {
			t.Fatal(err)
		}
		// The first sample asked for after the kill shows it; that sample starts within one
		// interval of the kill (plus scheduling slack on a loaded machine).
		if d := at.Sub(killed); d > interval+2*time.Second {
			t.Errorf("the down sample was taken %v after the kill, more than one health interval (%v)", d, interval)
		} else {
			t.Logf("node down: sampled %v after the kill, seen on the page %v after it", d, seen)
		}
	}

	// Server-side render times of every page on this devnet.
	for _, p := range []string{"", "nodes", "epochs", "blobs/" + blobs[1].blobID, "accounts/" + owner.String()} {
		start := time.Now()
		resp, err := http.Get(explorerURL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		t.Logf("GET /explorer/%s: %d in %v", p, resp.StatusCode, time.Since(start))
	}
}

func mustConfig(t *testing.T, n int) *redstuff.Config {
	c, err := redstuff.NewConfig(n)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func blobOwner(t *testing.T, ctx context.Context, cc *chainclient.Client, objectID string) chain.Address {
	id, _ := chain.ParseObjectID(objectID)
	b, err := cc.Blob(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return b.Owner
}

// committeeMemberOfNode0 returns the node ID of the devnet's node 0 (the one listening on
// the base port).
func committeeMemberOfNode0(t *testing.T, ctx context.Context, cc *chainclient.Client, base int, c chain.CommitteeInfo) chain.ObjectID {
	for _, m := range c.Members {
		if strings.HasSuffix(m.NetworkAddress, ":"+strconv.Itoa(base)) {
			return m.NodeID
		}
	}
	t.Fatalf("no committee member listens on port %d", base)
	return chain.ObjectID{}
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting until %s", what)
		case <-tick.C:
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// jsonString finds the first "key": "value" in a JSON document, at any depth.
func jsonString(t *testing.T, doc []byte, key string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("%v: %s", err, doc)
	}
	var find func(any) (string, bool)
	find = func(v any) (string, bool) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x[key].(string); ok {
				return s, true
			}
			for _, e := range x {
				if s, ok := find(e); ok {
					return s, true
				}
			}
		case []any:
			for _, e := range x {
				if s, ok := find(e); ok {
					return s, true
				}
			}
		}
		return "", false
	}
	s, ok := find(v)
	if !ok {
		t.Fatalf("no %q in %s", key, doc)
	}
	return s
}
