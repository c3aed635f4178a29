package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestCLIQuilt stores a directory and tagged files as quilts and reads patches back by
// identifier, tag and patch ID, to standard output and to a directory.
func TestCLIQuilt(t *testing.T) {
	n := newCLINet(t, testnet.Options{})
	dir := t.TempDir()
	site := filepath.Join(dir, "site")
	if err := os.MkdirAll(filepath.Join(site, "css"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, index := writeRandom(t, site, "index.html", 3000)
	_, style := writeRandom(t, filepath.Join(site, "css"), "style.css", 700)
	if err := os.WriteFile(filepath.Join(site, "empty.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	// --paths: a directory, walked recursively; file names are the identifiers.
	out, errs, code := n.walrus(t, "store-quilt", "--json", "--epochs", "2", "--paths", site)
	var res client.QuiltStoreResult
	if code != 0 || json.Unmarshal(out, &res) != nil || len(res.StoredQuiltBlobs) != 3 {
		t.Fatalf("store-quilt --paths: %d %q %q", code, out, errs)
	}
	quiltID := res.BlobStoreResult.BlobID()
	ids := map[string]string{}
	for _, p := range res.StoredQuiltBlobs {
		ids[p.Identifier] = p.QuiltPatchID
	}

	// list-patches-in-quilt, human and JSON.
	out, errs, code = n.walrus(t, "list-patches-in-quilt", quiltID)
	if code != 0 || !strings.Contains(string(out), ids["style.css"]+"  style.css") {
		t.Fatalf("list-patches-in-quilt: %d %q %q", code, out, errs)
	}
	out, _, code = n.walrus(t, "list-patches-in-quilt", "--json", quiltID)
	var items []quiltPatchItem
	if code != 0 || json.Unmarshal(out, &items) != nil || len(items) != 3 || items[0].Identifier != "empty.txt" {
		t.Fatalf("list-patches-in-quilt --json: %d %q", code, out)
	}

	// read-quilt by identifiers (several after one flag, as in Walrus) to standard output.
	out, errs, code = n.walrus(t, "read-quilt", "--quilt-id", quiltID, "--identifiers", "index.html", "style.css")
	if code != 0 || !bytes.Equal(out, append(append([]byte(nil), index...), style...)) {
		t.Fatalf("read-quilt --identifiers: %d, %d bytes, %q", code, len(out), errs)
	}
	// By patch ID, to a directory.
	outDir := t.TempDir()
	out, errs, code = n.walrus(t, "read-quilt", "--quilt-patch-ids", ids["style.css"], ids["empty.txt"], "--out", outDir)
	if code != 0 || !strings.Contains(string(out), "style.css") {
		t.Fatalf("read-quilt --quilt-patch-ids: %d %q %q", code, out, errs)
	}
	if got, err := os.ReadFile(filepath.Join(outDir, "style.css")); err != nil || !bytes.Equal(got, style) {
		t.Fatalf("style.css written as %d bytes (%v)", len(got), err)
	}
	if got, err := os.ReadFile(filepath.Join(outDir, "empty.txt")); err != nil || len(got) != 0 {
		t.Fatalf("empty.txt: %q %v", got, err)
	}

	// --blobs with identifiers and tags; read by tag with --json.
	a, adata := writeRandom(t, dir, "a.bin", 100)
	b, _ := writeRandom(t, dir, "b.bin", 200)
	evil, _ := writeRandom(t, dir, "evil.bin", 10)
	out, errs, code = n.walrus(t, "store-quilt", "--json", "--epochs", "1",
		"--blobs", `{"path":"`+a+`","identifier":"paper-v2","tags":{"project":"food","status":"final"}}`,
		`{"path":"`+b+`","identifier":"日本語","tags":{"project":"water"}}`,
		`{"path":"`+evil+`","identifier":"../escape"}`)
	res = client.QuiltStoreResult{}
	if code != 0 || json.Unmarshal(out, &res) != nil || len(res.StoredQuiltBlobs) != 3 {
		t.Fatalf("store-quilt --blobs: %d %q %q", code, out, errs)
	}
	q2 := res.BlobStoreResult.BlobID()
	out, errs, code = n.walrus(t, "read-quilt", "--json", "--quilt-id", q2, "--tag", "project", "food")
	var rq readQuiltOutput
	if code != 0 || json.Unmarshal(out, &rq) != nil || len(rq.RetrievedBlobs) != 1 ||
		rq.RetrievedBlobs[0].Identifier != "paper-v2" || !bytes.Equal(rq.RetrievedBlobs[0].Blob, adata) || rq.RetrievedBlobs[0].Tags["status"] != "final" {
		t.Fatalf("read-quilt --tag: %d %q %q", code, out, errs)
	}

	// The attack: an identifier that names a path outside --out is not written.
	outDir = t.TempDir()
	out, errs, code = n.walrus(t, "read-quilt", "--quilt-id", q2, "--identifiers", "../escape", "--out", outDir)
	if code != 1 || !strings.Contains(errs, "not a file name inside --out") || len(out) != 0 {
		t.Fatalf("read-quilt of ../escape to --out: %d %q %q", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(outDir), "escape")); !os.IsNotExist(err) {
		t.Fatalf("a file was written outside --out: %v", err)
	}

	// Failures against the network.
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"read-quilt", "--quilt-id", quiltID, "--identifiers", "missing.txt"}, 1, `has no patch "missing.txt"`},
		{[]string{"read-quilt", "--quilt-id", quiltID, "--tag", "k", "v"}, 1, "no patch of quilt"},
		{[]string{"store-quilt", "--epochs", "1", "--paths", site, filepath.Join(site, "index.html")}, 2, `identifier "index.html" is used by both`},
	} {
		out, errs, code := n.walrus(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) || !errLine.MatchString(errs) || len(out) != 0 {
			t.Fatalf("%v: %d %q %q (want %q)", c.args, code, out, errs, c.want)
		}
	}
	// Human output: the quilt's blob ID with its expiry date, then one line per patch.
	out, errs, code = n.walrus(t, "store-quilt", "--epochs", "1", "--paths", a)
	if code != 0 || !strings.Contains(string(out), "Blob ID: ") || !expiryDate.Match(out) || !regexp.MustCompile(`(?m)^  \S{50}  a\.bin$`).Match(out) {
		t.Fatalf("store-quilt: %d %q %q", code, out, errs)
	}
	plain := n.storeOne(t, "--epochs", "1", a)
	out, errs, code = n.walrus(t, "list-patches-in-quilt", plain.BlobID())
	if code != 1 || !strings.Contains(errs, "not a quilt") || !strings.Contains(errs, "hint: read it with 'walrus read'") {
		t.Fatalf("list-patches-in-quilt of a plain blob: %d %q %q", code, out, errs)
	}
}

// TestCLIQuiltBadInput checks every usage error of the quilt commands; none needs a network.
func TestCLIQuiltBadInput(t *testing.T) {
	dir := t.TempDir()
	f, _ := writeRandom(t, dir, "f.txt", 10)
	id := "6Ggr-aLLGKE1sukKh-wV2M_c35pQyvtYz1F9JGkep5w"
	pid := "TdBY_spW5Q5iHuXr2n2wzf-8lxIWBS-f-gNTj9VOSYsBAQACAA"
	for _, c := range []struct {
		want string
		args []string
	}{
		{"nothing to store", []string{"store-quilt", "--epochs", "1"}},
		{"give either --paths or --blobs", []string{"store-quilt", "--epochs", "1", "--paths", f, "--blobs", `{"path":"x"}`}},
		{"unexpected operand", []string{"store-quilt", "--epochs", "1", f}},
		{"not a JSON object", []string{"store-quilt", "--epochs", "1", "--blobs", "{"}},
		{"not a JSON object", []string{"store-quilt", "--epochs", "1", "--blobs", `{"path":"x","color":"red"}`}},
		{"path is required", []string{"store-quilt", "--epochs", "1", "--blobs", `{"identifier":"x"}`}},
		{"invalid identifier", []string{"store-quilt", "--epochs", "1", "--blobs", `{"path":"` + f + `","identifier":"trailing "}`}},
		{"invalid identifier", []string{"store-quilt", "--epochs", "1", "--blobs", `{"path":"` + f + `","identifier":"a\u0001b"}`}},
		{`identifier "same" is used by both`, []string{"store-quilt", "--epochs", "1", "--blobs", `{"path":"` + f + `","identifier":"same"}`, `{"path":"` + f + `","identifier":"same"}`}},
		{"give --quilt-id with --identifiers or --tag", []string{"read-quilt", "--quilt-id", id}},
		{"only one of", []string{"read-quilt", "--quilt-id", id, "--identifiers", "a", "--tag", "k", "v"}},
		{"--identifiers and --tag need --quilt-id", []string{"read-quilt", "--identifiers", "a"}},
		{"is used without --quilt-id", []string{"read-quilt", "--quilt-id", id, "--quilt-patch-ids", pid}},
		{"--tag takes a KEY and a VALUE", []string{"read-quilt", "--quilt-id", id, "--tag", "k"}},
		{"--tag takes a KEY and a VALUE", []string{"read-quilt", "--quilt-id", id, "--tag", "k", "v", "w"}},
		{"invalid quilt patch ID", []string{"read-quilt", "--quilt-patch-ids", "abc"}},
		{"invalid quilt patch ID", []string{"read-quilt", "--quilt-patch-ids", pid[:49] + "!"}},
		{"invalid blob ID", []string{"read-quilt", "--quilt-id", "nope", "--identifiers", "a"}},
		{"is not a directory", []string{"read-quilt", "--quilt-patch-ids", pid, "--out", f}},
		{"invalid blob ID", []string{"list-patches-in-quilt", "nope"}},
		{"accepts 1 arg", []string{"list-patches-in-quilt"}},
	} {
		wantFail(t, 2, c.want, c.args...)
	}
	// How long to store is required, as for store.
	wantFail(t, 2, "how long to store is required", "store-quilt", "--paths", f)
	// A missing file is found before anything is sent (exit 1, not a usage error).
	wantFail(t, 1, "cannot read", "store-quilt", "--epochs", "1", "--paths", filepath.Join(dir, "missing"))
}
