package devnet_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// rfc3339 matches a date and time as the CLI prints expiry and epoch times.
var rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)

// readmePath is the repository's README, relative to this package.
const readmePath = "../../README.md"

// readmeCommands returns the command lines of README.md's ```sh blocks, in order.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "```sh":
			in = true
		case strings.HasPrefix(line, "```"):
			in = false
		case in && line != "" && !strings.HasPrefix(line, "#"):
			cmds = append(cmds, line)
		}
	}
	if len(cmds) == 0 {
		t.Fatal("README.md has no ```sh commands")
	}
	return cmds
}

// splitWords splits a command line as sh would for the forms the README uses: words
// separated by blanks, '...' and "..." quoting, and a comment from an unquoted # that
// starts a word. Variables are left as they are.
func splitWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			return words, nil
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func TestSplitWords(t *testing.T) {
	for _, c := range []struct {
		line string
		want []string
	}{
		{"./walrus store photo.jpg --epochs 10   # prints the blob ID", []string{"./walrus", "store", "photo.jpg", "--epochs", "10"}},
		{"curl -H 'Range: bytes=0-99' http://h/v1/blobs/X", []string{"curl", "-H", "Range: bytes=0-99", "http://h/v1/blobs/X"}},
		{`a "b c"d#e f`, []string{"a", "b cd#e", "f"}},
		{"# only a comment", nil},
	} {
		got, err := splitWords(c.line)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", c.line, got, err, c.want)
		}
	}
	if _, err := splitWords("a 'b"); err == nil {
		t.Error("an unterminated quote was accepted")
	}
}

// readmeRun executes the README's commands against a running devnet, as a user would in
// the repository's directory, and checks what each one prints.
type readmeRun struct {
	bin    string // the walrus binary the devnet runs
	work   string // the user's directory: .walrus-devnet, photo.jpg, copy.jpg, ./walrus
	http   string // the publisher/aggregator's host:port (the README says 127.0.0.1:31415)
	config string // the WALRUS_CONFIG the devnet printed
	photo  []byte // the contents of photo.jpg

	env    []string
	blobID string
	// quiltID and patchID are those of the last store-quilt: the quilt and the patch of
	// photo.jpg.
	quiltID, patchID string
	seen             map[string]bool // which kinds of command ran
	// portalPort is the port of the devnet's portal (the README says 3000), siteID the
	// base36 ID the README's site deploy printed (its SITE_ID).
	portalPort string
	siteID     string
}

// run executes every README command, then checks that the quickstart's essentials were
// among them.
func (r *readmeRun) run(t *testing.T) {
	r.seen = map[string]bool{}
	r.env = os.Environ()
	for _, line := range readmeCommands(t) {
		words, err := splitWords(line)
		if err != nil {
			t.Fatalf("README: %v", err)
		}
		r.command(t, line, words)
	}
	for _, kind := range []string{"devnet", "build", "export", "store", "read", "range read", "blob-status",
		"info", "wallet", "curl put", "curl get", "curl range", "site deploy", "curl site"} {
		if !r.seen[kind] {
			t.Errorf("README.md no longer shows a %s command (the quickstart needs one)", kind)
		}
	}
}

// subst replaces the README's placeholders in a word with this run's values.
func (r *readmeRun) subst(t *testing.T, line, w string) string {
	if strings.Contains(w, "BLOB_ID") {
		if r.blobID == "" {
			t.Fatalf("README: %q uses BLOB_ID before a store printed one", line)
		}
		w = strings.ReplaceAll(w, "BLOB_ID", r.blobID)
	}
	for _, p := range [][2]string{{"QUILT_ID", r.quiltID}, {"PATCH_ID", r.patchID}} {
		if strings.Contains(w, p[0]) {
			if p[1] == "" {
				t.Fatalf("README: %q uses %s before a store-quilt printed one", line, p[0])
			}
			w = strings.ReplaceAll(w, p[0], p[1])
		}
	}
	switch w {
	case "FILE":
		return "photo.jpg"
	case "DECIMAL_U256":
		return blobIDDecimal(t, r.blobID)
	}
	if strings.Contains(w, "SITE_ID") {
		if r.siteID == "" {
			t.Fatalf("README: %q uses SITE_ID before a site deploy printed one", line)
		}
		w = strings.ReplaceAll(w, "SITE_ID", r.siteID)
	}
	if rest, ok := strings.CutPrefix(w, "examples/"); ok {
		// The README runs in the repository; this test's user directory has no examples.
		abs, err := filepath.Abs(filepath.Join("..", "..", "examples", rest))
		if err != nil {
			t.Fatal(err)
		}
		w = abs
	}
	if r.portalPort != "" {
		w = strings.ReplaceAll(w, ".localhost:3000", ".localhost:"+r.portalPort)
	}
	w = strings.ReplaceAll(w, "$PWD", r.work)
	return strings.ReplaceAll(w, "127.0.0.1:31415", r.http)
}

func (r *readmeRun) command(t *testing.T, line string, words []string) {
	t.Helper()
	args := make([]string, len(words))
	for i, w := range words {
		args[i] = r.subst(t, line, w)
	}
	switch {
	case slices.Equal(words, []string{"go", "run", "./cmd/walrus", "devnet"}):
		r.seen["devnet"] = true // running: the test started the built binary's devnet
	case slices.Equal(words, []string{"make", "check"}):
		// This test runs inside it.
	case slices.Equal(words, []string{"go", "build", "-o", "walrus", "./cmd/walrus"}):
		// The test built this binary already; the README's ./walrus is that binary.
		if err := os.Symlink(r.bin, filepath.Join(r.work, "walrus")); err != nil {
			t.Fatal(err)
		}
		r.seen["build"] = true
	case len(words) == 2 && words[0] == "export" && strings.HasPrefix(words[1], "WALRUS_CONFIG="):
		if v := strings.TrimPrefix(args[1], "WALRUS_CONFIG="); v != r.config {
			t.Fatalf("README: %q sets %s, but the devnet printed export WALRUS_CONFIG=%s", line, v, r.config)
		}
		r.env = append(r.env, args[1])
		r.seen["export"] = true
	case words[0] == "./walrus" && len(words) > 1:
		r.walrus(t, line, args)
	case words[0] == "curl":
		r.curl(t, line, args)
	default:
		t.Fatalf("README command %q is not covered by this test: teach readme_test.go what it should do", line)
	}
}

// walrus runs ./walrus in the user's directory and checks its output.
func (r *readmeRun) walrus(t *testing.T, line string, args []string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(r.work, "walrus"), args[1:]...)
	cmd.Dir, cmd.Env = r.work, r.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("README: %s: %v\nstdout:\n%s\nstderr:\n%s", line, err, out.String(), errb.String())
	}
	stdout := out.String()
	has := func(flag string) bool { return slices.Contains(args, flag) }
	switch {
	case args[1] == "store":
		if !has("--epochs") {
			t.Errorf("README: %q: every store should say how long with --epochs", line)
		}
		for _, l := range strings.Split(stdout, "\n") {
			if id, ok := strings.CutPrefix(l, "Blob ID: "); ok {
				r.blobID = strings.TrimSpace(id)
			}
		}
		if r.blobID == "" {
			t.Fatalf("README: %s printed no blob ID:\n%s", line, stdout)
		}
		if !rfc3339.MatchString(stdout) {
			t.Fatalf("README: %s does not show the expiry as a date:\n%s", line, stdout)
		}
		r.seen["store"] = true
	case args[1] == "read" && has("--out"):
		r.checkFile(t, line, args[slices.Index(args, "--out")+1])
		r.seen["read"] = true
	case args[1] == "read" && has("--offset") && has("--length"):
		var off, n int
		fmt.Sscan(args[slices.Index(args, "--offset")+1], &off)
		fmt.Sscan(args[slices.Index(args, "--length")+1], &n)
		if want := r.photo[off : off+n]; stdout != string(want) {
			t.Fatalf("README: %s printed %d bytes, not bytes %d..%d of photo.jpg", line, len(stdout), off, off+n)
		}
		r.seen["range read"] = true
	case args[1] == "site" && len(args) > 2 && args[2] == "deploy":
		if !has("--epochs") {
			t.Errorf("README: %q: a site deploy should say how long with --epochs", line)
		}
		for _, l := range strings.Split(stdout, "\n") {
			if id, ok := strings.CutPrefix(l, "base36:"); ok {
				r.siteID = strings.TrimSpace(id)
			}
		}
		if r.siteID == "" || !strings.Contains(stdout, "browse:") || !rfc3339.MatchString(stdout) {
			t.Fatalf("README: %s printed no site ID, address or expiry date:\n%s", line, stdout)
		}
		r.seen["site deploy"] = true
	case args[1] == "blob-status":
		if !strings.Contains(stdout, r.blobID) || !strings.Contains(stdout, "certified") {
			t.Fatalf("README: %s does not say the blob is certified:\n%s", line, stdout)
		}
		r.seen["blob-status"] = true
	case args[1] == "blob-id":
		var v struct {
			BlobID  string `json:"blobId"`
			NShards int    `json:"nShards"`
		}
		if err := json.Unmarshal(out.Bytes(), &v); err != nil || len(v.BlobID) != 43 {
			t.Fatalf("README: %s printed no blob ID (%v):\n%s", line, err, stdout)
		}
		if !slices.Contains(args, "--n-shards") && v.BlobID != r.blobID {
			t.Fatalf("README: %s gives %s with the configured network's shard count, store gave %s", line, v.BlobID, r.blobID)
		}
		if v.NShards == 100 && v.BlobID != r.blobID {
			t.Fatalf("README: %s gives %s for the devnet's shard count, store gave %s", line, v.BlobID, r.blobID)
		}
	case args[1] == "info" && len(args) > 2 && args[2] == "epoch":
		// The epoch's expected end is shown as a date (RFC 3339, UTC).
		if !strings.Contains(stdout, "poch") || !rfc3339.MatchString(stdout) {
			t.Fatalf("README: %s shows no epoch times:\n%s", line, stdout)
		}
		r.seen["info"] = true
	case args[1] == "wallet" && len(args) > 2 && args[2] == "balance":
		// The README's WALRUS_CONFIG names the devnet's funded wallet.
		if !strings.Contains(stdout, "WAL") || strings.Contains(stdout, " 0 WAL") {
			t.Fatalf("README: %s does not show the devnet wallet's WAL:\n%s", line, stdout)
		}
		r.seen["wallet"] = true
	case args[1] == "store-quilt":
		r.quiltID, r.patchID = "", ""
		for _, l := range strings.Split(stdout, "\n") {
			if id, ok := strings.CutPrefix(l, "Blob ID: "); ok {
				r.quiltID = strings.TrimSpace(id)
			}
			if f := strings.Fields(l); len(f) == 2 && f[1] == "photo.jpg" {
				r.patchID = f[0]
			}
		}
		if r.quiltID == "" || r.patchID == "" || !rfc3339.MatchString(stdout) {
			t.Fatalf("README: %s printed no quilt ID, no patch ID for photo.jpg or no expiry date:\n%s", line, stdout)
		}
	case args[1] == "list-patches-in-quilt":
		if !strings.Contains(stdout, r.patchID+"  photo.jpg") {
			t.Fatalf("README: %s does not list photo.jpg with its patch ID %s:\n%s", line, r.patchID, stdout)
		}
	case args[1] == "read-quilt" && has("--out"):
		r.checkFile(t, line, filepath.Join(args[slices.Index(args, "--out")+1], "photo.jpg"))
	case args[1] == "convert-blob-id":
		if got := strings.TrimSpace(stdout); got != r.blobID {
			t.Fatalf("README: %s printed %q, want the blob ID %s", line, got, r.blobID)
		}
	default:
		t.Fatalf("README command %q is not covered by this test: teach readme_test.go what it should check", line)
	}
}

// curl runs the README's curl command (with curl if it is installed, else the same request
// through net/http) and checks its output.
func (r *readmeRun) curl(t *testing.T, line string, args []string) {
	t.Helper()
	stdout := r.runCurl(t, line, args[1:])
	has := func(flag string) bool { return slices.Contains(args, flag) }
	switch {
	case has("-X") && args[slices.Index(args, "-X")+1] == "PUT":
		var v struct {
			NewlyCreated *struct {
				BlobObject struct {
					BlobID string `json:"blobId"`
				} `json:"blobObject"`
			} `json:"newlyCreated"`
			AlreadyCertified *struct {
				BlobID string `json:"blobId"`
			} `json:"alreadyCertified"`
		}
		if err := json.Unmarshal(stdout, &v); err != nil {
			t.Fatalf("README: %s: %v\n%s", line, err, stdout)
		}
		var id string
		switch {
		case v.NewlyCreated != nil:
			id = v.NewlyCreated.BlobObject.BlobID
		case v.AlreadyCertified != nil:
			id = v.AlreadyCertified.BlobID
		}
		if id != r.blobID {
			t.Fatalf("README: %s stored blob %q, the CLI stored %s:\n%s", line, id, r.blobID, stdout)
		}
		r.seen["curl put"] = true
	case has("-o"):
		r.checkFile(t, line, args[slices.Index(args, "-o")+1])
		r.seen["curl get"] = true
	case r.siteID != "" && slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, r.siteID+".localhost:") }):
		if !bytes.Contains(stdout, []byte("<html")) {
			t.Fatalf("README: %s did not print the site's page:\n%s", line, stdout)
		}
		r.seen["curl site"] = true
	case has("-H") && strings.HasPrefix(args[slices.Index(args, "-H")+1], "Range: bytes=0-99"):
		if !bytes.Equal(stdout, r.photo[:100]) {
			t.Fatalf("README: %s printed %d bytes, not the first 100 of photo.jpg", line, len(stdout))
		}
		r.seen["curl range"] = true
	default:
		t.Fatalf("README command %q is not covered by this test: teach readme_test.go what it should check", line)
	}
}

// runCurl runs curl with args in the user's directory and returns its standard output.
// Without curl installed, it makes the same request for the flags the README uses (-X,
// -H, --data-binary @FILE, -o FILE).
func (r *readmeRun) runCurl(t *testing.T, line string, args []string) []byte {
	t.Helper()
	if path, err := exec.LookPath("curl"); err == nil {
		cmd := exec.Command(path, append([]string{"--silent", "--show-error", "--fail-with-body"}, args...)...)
		cmd.Dir = r.work
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("README: %s: %v\n%s%s", line, err, out.String(), errb.String())
		}
		return out.Bytes()
	}
	method, url, outFile := http.MethodGet, "", ""
	var body io.Reader
	hdr := http.Header{}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "-X", "-H", "--data-binary", "-o":
			if i+1 == len(args) {
				t.Fatalf("README: %s: %s without a value", line, a)
			}
			v := args[i+1]
			i++
			switch a {
			case "-X":
				method = v
			case "-H":
				k, val, _ := strings.Cut(v, ":")
				hdr.Set(k, strings.TrimSpace(val))
			case "--data-binary":
				b, err := os.ReadFile(filepath.Join(r.work, strings.TrimPrefix(v, "@")))
				if err != nil {
					t.Fatal(err)
				}
				body = bytes.NewReader(b)
			case "-o":
				outFile = v
			}
		default:
			if strings.HasPrefix(a, "-") {
				t.Fatalf("README: %s: curl flag %s is not emulated; install curl or teach readme_test.go", line, a)
			}
			url = a
		}
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = hdr
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("README: %s: %v", line, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode >= 400 {
		t.Fatalf("README: %s: %d %v\n%s", line, resp.StatusCode, err, b)
	}
	if outFile != "" {
		if err := os.WriteFile(filepath.Join(r.work, outFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
		return nil
	}
	return b
}

// checkFile checks that name, in the user's directory, holds photo.jpg, then removes it
// for the next command that writes it.
func (r *readmeRun) checkFile(t *testing.T, line, name string) {
	t.Helper()
	p := filepath.Join(r.work, name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("README: %s: %v", line, err)
	}
	if !bytes.Equal(b, r.photo) {
		t.Fatalf("README: %s wrote %d bytes that differ from photo.jpg", line, len(b))
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}

// blobIDDecimal is a blob ID as the u256 decimal Walrus shows on chain (little-endian).
func blobIDDecimal(t *testing.T, id string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) != 32 {
		t.Fatalf("blob ID %q: %v", id, errors.Join(err, fmt.Errorf("%d bytes", len(b))))
	}
	slices.Reverse(b)
	return new(big.Int).SetBytes(b).String()
}
