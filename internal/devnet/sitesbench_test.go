package devnet_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// sitesBenchEnv enables TestSitesBench (make bench-sites): a 200-file site deployed on a
// 100-shard devnet, and the index page's first byte and full load through the portal.
const sitesBenchEnv = "WALRUS_SITES_BENCH"

func TestSitesBench(t *testing.T) {
	if os.Getenv(sitesBenchEnv) == "" {
		t.Skip("set " + sitesBenchEnv + "=1 (make bench-sites)")
	}
	bin := buildWalrus(t)
	work := t.TempDir()
	portalAddr := freeAddr(t)
	d := startDevnet(t, bin, work, "--dir", filepath.Join(work, "net"), "--shards", "100",
		"--node-port", strconv.Itoa(freePortBlock(t, 4)), "--chain-rpc", freeAddr(t), "--chain-p2p", freeAddr(t),
		"--http", freeAddr(t), "--s3", "off", "--portal", portalAddr)
	defer d.stop(t)
	port := portalAddr[strings.LastIndexByte(portalAddr, ':')+1:]

	// 200 files: an index page that loads a style sheet, a script and 20 images, plus 177
	// pages; sizes from 1 to 20 KiB, seeded.
	dir := filepath.Join(work, "site")
	os.MkdirAll(filepath.Join(dir, "img"), 0o755)
	os.MkdirAll(filepath.Join(dir, "pages"), 0o755)
	rng := rand.New(rand.NewPCG(1, 2))
	var index strings.Builder
	index.WriteString(`<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head><body><h1>bench</h1>`)
	total := 0
	write := func(name string, data []byte) {
		total += len(data)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	filler := func() []byte {
		b := make([]byte, 1024+rng.IntN(19*1024))
		for i := range b {
			b[i] = 'a' + byte(rng.IntN(26))
		}
		return b
	}
	for i := range 20 {
		fmt.Fprintf(&index, `<img src="/img/%02d.svg" width="20" height="20">`, i)
		write(fmt.Sprintf("img/%02d.svg", i), []byte(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="20" height="20" fill="#%06x"/><!-- %s --></svg>`, rng.IntN(1<<24), filler())))
	}
	for i := range 177 {
		write(fmt.Sprintf("pages/%03d.html", i), append([]byte("<p>"), filler()...))
	}
	write("style.css", append([]byte("h1{color:#036}/*"), append(filler(), "*/"...)...))
	write("app.js", append([]byte("document.querySelector('h1').textContent='loaded';//"), filler()...))
	index.WriteString(`<script src="/app.js"></script></body></html>`)
	write("index.html", []byte(index.String()))

	start := time.Now()
	res := deploySite(t, bin, d.config, dir)
	deployTime := time.Since(start)
	t.Logf("deploy of 200 files (%d KiB): %s, %d quilts, %d blobs, %d transactions", total>>10, deployTime.Round(time.Millisecond),
		res.Quilts, res.Blobs, res.Txs)
	host := res.Base36 + ".localhost:" + port

	measure := func(what string) {
		req, _ := http.NewRequest("GET", "http://"+portalAddr+"/", nil)
		req.Host = host
		var first time.Duration
		begin := time.Now()
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotFirstResponseByte: func() { first = time.Since(begin) },
		}))
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET /: %d", resp.StatusCode)
		}
		t.Logf("index page, %s: first byte %s, full body %s", what, first.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
	}
	measure("cold (quilt not yet read)")
	measure("warm")

	if os.Getenv(browserEnv) != "" {
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-cache", true), chromedp.WSURLReadTimeout(2*time.Minute))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for _, what := range []string{"first", "second"} {
		var ms float64
		err := chromedp.Run(ctx,
			chromedp.Navigate("http://"+host+"/"),
			chromedp.Poll(`document.querySelector('h1').textContent === 'loaded' && performance.timing.loadEventEnd > 0`, nil),
			chromedp.Evaluate(`performance.timing.loadEventEnd - performance.timing.navigationStart`, &ms),
		)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("index page in Chromium, %s load: load event after %.0f ms (page, CSS, JS and 20 images)", what, ms)
	}
}
