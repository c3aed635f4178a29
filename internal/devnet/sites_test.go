package devnet_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// browserEnv names the variable that skips the browser part of TestSites on a machine
// without Chromium (for local runs only; CI has Chromium and fails without it).
const browserEnv = "WALRUS_SKIP_BROWSER"

type deployOut struct {
	Site      string `json:"siteObjectId"`
	Base36    string `json:"base36"`
	URL       string `json:"url"`
	Created   bool   `json:"created"`
	Unchanged int    `json:"unchanged"`
	Quilts    int    `json:"quiltsStored"`
	Blobs     int    `json:"blobsStored"`
	Txs       int    `json:"transactions"`
	Resources uint64 `json:"resources"`
	Changes   []struct {
		Path   string `json:"path"`
		Change string `json:"change"`
	} `json:"changes"`
}

func deploySite(t *testing.T, bin, config, dir string) deployOut {
	t.Helper()
	out, err := walrus(t, bin, config, "site", "deploy", dir, "--epochs", "2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var d deployOut
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("deploy output: %v\n%s", err, out)
	}
	return d
}

func changes(d deployOut) string {
	var s []string
	for _, c := range d.Changes {
		s = append(s, c.Change+" "+c.Path)
	}
	return strings.Join(s, ", ")
}

// portalGet requests path of the site at host through the portal at addr (browsers resolve
// *.localhost themselves; Go's resolver need not, so the test dials addr and sets Host).
func portalGet(t *testing.T, addr, host, path string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSites deploys the example site (examples/site) on a devnet of real processes, serves
// it through the devnet's portal, loads it in headless Chromium and checks the rendered
// page (JavaScript ran, CSS applied, the image decoded, a client-side route served the
// index, the site's 404 page with status 404), keeps a screenshot, then redeploys it
// unchanged (nothing stored, no transaction) and edited (only the changes), names it, lists,
// maps and destroys it.
func TestSites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole network of processes")
	}
	bin := buildWalrus(t)
	work := t.TempDir()
	portalAddr := freeAddr(t)
	d := startDevnet(t, bin, work, "--dir", filepath.Join(work, "net"), "--shards", "10",
		"--node-port", strconv.Itoa(freePortBlock(t, 4)), "--chain-rpc", freeAddr(t), "--chain-p2p", freeAddr(t),
		"--http", freeAddr(t), "--s3", "off", "--portal", portalAddr)
	defer d.stop(t)
	port := portalAddr[strings.LastIndexByte(portalAddr, ':')+1:]
	if want := "http://<site>.localhost:" + port; d.portal != want {
		t.Fatalf("devnet printed the portal as %q, want %q", d.portal, want)
	}
	dir := filepath.Join(work, "site")
	copyDir(t, filepath.Join("..", "..", "examples", "site"), dir)

	start := time.Now()
	first := deploySite(t, bin, d.config, dir)
	t.Logf("first deploy: %s, %d quilts, %d blobs, %d transactions", time.Since(start), first.Quilts, first.Blobs, first.Txs)
	if !first.Created || first.Resources != 5 || first.Txs != 1 || first.Blobs != 0 || first.Quilts == 0 ||
		changes(first) != "added /404.html, added /app.js, added /images/walrus.png, added /index.html, added /style.css" {
		t.Fatalf("first deploy: %+v", first)
	}
	if first.URL != "http://"+first.Base36+".localhost:3000/" {
		t.Errorf("deploy printed %s", first.URL)
	}
	host := first.Base36 + ".localhost:" + port

	again := deploySite(t, bin, d.config, dir)
	if again.Created || again.Site != first.Site || len(again.Changes) != 0 || again.Txs != 0 || again.Quilts+again.Blobs != 0 ||
		again.Unchanged != 5 {
		t.Fatalf("unchanged redeploy: %+v", again)
	}

	code, hdr, body := portalGet(t, portalAddr, host, "/")
	if code != 200 || !strings.Contains(body, "A Walrus Site") || hdr.Get("ETag") == "" ||
		hdr.Get("Content-Type") != "text/html; charset=utf-8" || hdr.Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET /: %d %v\n%s", code, hdr, body)
	}
	if code, hdr, _ := portalGet(t, portalAddr, host, "/images/walrus.png"); code != 200 ||
		hdr.Get("Content-Type") != "image/png" || hdr.Get("Cache-Control") != "public, max-age=3600" {
		t.Errorf("GET the image: %d %v", code, hdr)
	}
	if code, _, body := portalGet(t, portalAddr, host, "/no/such/page"); code != 404 || !strings.Contains(body, "This site has no such page") {
		t.Errorf("GET a missing page: %d\n%s", code, body)
	}
	if code, _, body := portalGet(t, portalAddr, "zzz-no-site.localhost:"+port, "/"); code != 404 || !strings.Contains(body, "no site of that name") {
		t.Errorf("GET an unknown name: %d\n%s", code, body)
	}
	if code, _, _ := portalGet(t, portalAddr, "bad_label.localhost:"+port, "/"); code != 400 {
		t.Errorf("GET a bad site label: %d, want 400", code)
	}

	if os.Getenv(browserEnv) != "" {
		t.Log(browserEnv + " is set: no browser")
	} else {
		browse(t, "http://"+host)
	}

	// An edit: one file changed, one added, one ignored by ws-resources.json.
	if err := os.WriteFile(filepath.Join(dir, "style.css"), []byte("h1 { color: rgb(200, 0, 0); }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("more\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "drafts"), 0o755)
	os.WriteFile(filepath.Join(dir, "drafts", "secret.html"), []byte("not for publishing"), 0o644)
	edit := deploySite(t, bin, d.config, dir)
	if edit.Created || edit.Site != first.Site || changes(edit) != "added /extra.txt, changed /style.css" ||
		edit.Unchanged != 4 || edit.Txs != 1 || edit.Quilts != 1 || edit.Resources != 6 {
		t.Fatalf("edited redeploy: %+v", edit)
	}
	if code, _, body := portalGet(t, portalAddr, host, "/style.css"); code != 200 || !strings.Contains(body, "200, 0, 0") {
		t.Errorf("GET the changed file: %d %s", code, body)
	}
	if code, _, _ := portalGet(t, portalAddr, host, "/drafts/secret.html"); code != 404 {
		t.Errorf("an ignored file was served: %d", code)
	}

	if _, err := walrus(t, bin, d.config, "site", "name", "set", "example", first.Site); err != nil {
		t.Fatal(err)
	}
	if code, _, body := portalGet(t, portalAddr, "example.localhost:"+port, "/extra.txt"); code != 200 || body != "more\n" {
		t.Errorf("GET by name: %d %q", code, body)
	}
	out, err := walrus(t, bin, d.config, "site", "sitemap", first.Base36, "--json")
	if err != nil || strings.Count(out, `"quiltPatchId"`) != 6 {
		t.Errorf("sitemap: %v\n%s", err, out)
	}
	out, err = walrus(t, bin, d.config, "site", "list")
	if err != nil || !strings.Contains(out, first.Site) || !strings.Contains(out, first.Base36) {
		t.Errorf("list: %v\n%s", err, out)
	}
	out, err = walrus(t, bin, d.config, "site", "convert", first.Site)
	if err != nil || strings.TrimSpace(out) != first.Base36 {
		t.Errorf("convert: %v %q, want %s", err, out, first.Base36)
	}
	if _, err := walrus(t, bin, d.config, "site", "destroy", first.Site); err != nil {
		t.Fatal(err)
	}
	if code, _, body := portalGet(t, portalAddr, host, "/"); code != 404 || !strings.Contains(body, "no such site") {
		t.Errorf("GET a destroyed site: %d\n%s", code, body)
	}
}

// browse loads the site in headless Chromium and checks the rendered DOM.
func browse(t *testing.T, base string) {
	t.Helper()
	chromium := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		t.Fatal("no chromium found: install the Debian package chromium (.ci/run does), or set " + browserEnv + "=1 to skip the browser locally")
	}
	artifacts := t.ArtifactDir()
	// Chromium can take longer than chromedp's default 20 s to start on a loaded machine.
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Headless, chromedp.DisableGPU, chromedp.WindowSize(1000, 700), chromedp.WSURLReadTimeout(2*time.Minute))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	// The status of every document response, by URL.
	statuses := make(chan [2]string, 16)
	chromedp.ListenTarget(ctx, func(ev any) {
		if r, ok := ev.(*network.EventResponseReceived); ok && r.Type == network.ResourceTypeDocument {
			select {
			case statuses <- [2]string{r.Response.URL, strconv.Itoa(int(r.Response.Status))}:
			default:
			}
		}
	})
	status := func(url string) string {
		for {
			select {
			case s := <-statuses:
				if s[0] == url {
					return s[1]
				}
			case <-ctx.Done():
				t.Fatalf("no response for %s", url)
			}
		}
	}

	var statusText, h1Color, route, notFound string
	var imgOK bool
	var shot []byte
	start := time.Now()
	err := chromedp.Run(ctx,
		network.Enable(),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#picture"),
		chromedp.Poll(`document.getElementById('status').textContent === 'JavaScript ran'`, nil),
		chromedp.Text("#status", &statusText),
		chromedp.Evaluate(`getComputedStyle(document.getElementById('title')).color`, &h1Color),
		chromedp.Poll(`document.getElementById('picture').complete`, nil),
		chromedp.Evaluate(`(() => { const i = document.getElementById('picture'); return i.complete && i.naturalWidth === 96 && i.naturalHeight === 64; })()`, &imgOK),
		chromedp.FullScreenshot(&shot, 90),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("index page loaded and checked in the browser in %s", time.Since(start))
	if got := status(base + "/"); got != "200" {
		t.Errorf("index: status %s", got)
	}
	if statusText != "JavaScript ran" {
		t.Errorf("JavaScript did not run: %q", statusText)
	}
	if h1Color != "rgb(11, 110, 79)" {
		t.Errorf("CSS not applied: h1 color %q", h1Color)
	}
	if !imgOK {
		t.Error("the image was not decoded at 96x64")
	}
	shotPath := filepath.Join(artifacts, "site-index.jpg")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shotPath)

	err = chromedp.Run(ctx,
		chromedp.Navigate(base+"/app/settings"),
		chromedp.Poll(`document.getElementById('route').textContent !== ''`, nil),
		chromedp.Text("#route", &route),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := status(base + "/app/settings"); got != "200" || route != "route: /app/settings" {
		t.Errorf("client-side route: status %s, route %q", got, route)
	}

	err = chromedp.Run(ctx,
		chromedp.Navigate(base+"/no/such/page"),
		chromedp.WaitVisible("#notfound"),
		chromedp.Text("#notfound", &notFound),
		chromedp.FullScreenshot(&shot, 90),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := status(base + "/no/such/page"); got != "404" || notFound != "This site has no such page" {
		t.Errorf("404 page: status %s, text %q", got, notFound)
	}
	shotPath = filepath.Join(artifacts, "site-404.jpg")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shotPath)
}
