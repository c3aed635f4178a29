package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/s3"
	"github.com/walrus-go/walrus/internal/s3/chainindex"
	"github.com/walrus-go/walrus/internal/testnet"
)

var testCred = s3.TestCred

// serve starts a gateway over index and store on a loopback port.
func serve(t *testing.T, index s3.Index, store s3.Store) string {
	t.Helper()
	srv, err := s3.NewServer(s3.Config{Index: index, Store: store, Credentials: []s3.Credential{testCred},
		MinPartSize: s3.DefaultMinPartSize, KeepAlive: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs.URL
}

// The real S3 clients (aws-cli, rclone, restic), unchanged, against the gateway. They
// are installed by .ci/run; a missing one skips its test.

// clientEnv runs the tools against a gateway at endpoint.
type clientEnv struct {
	t        *testing.T
	endpoint string
	dir      string
	env      []string
}

func newClientEnv(t *testing.T, endpoint string) *clientEnv {
	dir := t.TempDir()
	awsConfig := filepath.Join(dir, "aws-config")
	// A 5 MiB threshold and part size (S3's minimum part size) make a 6 MiB file a
	// two-part upload.
	os.WriteFile(awsConfig, []byte("[default]\nregion = us-east-1\ns3 =\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "rclone.conf"), nil, 0o600)
	// The tools see none of the caller's AWS settings (a CA bundle breaks rclone's
	// plain-HTTP transport, profiles would override the endpoint's credentials).
	var base []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "RCLONE_") && !strings.HasPrefix(kv, "RESTIC_") {
			base = append(base, kv)
		}
	}
	return &clientEnv{t: t, endpoint: endpoint, dir: dir, env: append(base,
		"AWS_ACCESS_KEY_ID="+testCred.AccessKey, "AWS_SECRET_ACCESS_KEY="+testCred.SecretKey,
		"AWS_CONFIG_FILE="+awsConfig, "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"),
		"AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"RCLONE_CONFIG="+filepath.Join(dir, "rclone.conf"),
		"RCLONE_CONFIG_W_TYPE=s3", "RCLONE_CONFIG_W_PROVIDER=Other", "RCLONE_CONFIG_W_ENV_AUTH=false",
		"RCLONE_CONFIG_W_ACCESS_KEY_ID="+testCred.AccessKey, "RCLONE_CONFIG_W_SECRET_ACCESS_KEY="+testCred.SecretKey,
		"RCLONE_CONFIG_W_ENDPOINT="+endpoint, "RCLONE_CONFIG_W_REGION=us-east-1", "RCLONE_CONFIG_W_FORCE_PATH_STYLE=true",
		"RESTIC_PASSWORD=walrus-test", "RESTIC_CACHE_DIR="+filepath.Join(dir, "restic-cache"),
		"HOME="+dir,
	)}
}

func need(t *testing.T, tool string) {
	if _, err := exec.LookPath(tool); err != nil {
		t.Skipf("%s is not installed (.ci/run installs it)", tool)
	}
}

// run runs a tool and returns its standard output; a failure fails the test.
func (c *clientEnv) run(name string, args ...string) string {
	c.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = c.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out.String(), errb.String())
	}
	c.t.Logf("%s %s (%s)", name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	return out.String()
}

func (c *clientEnv) aws(args ...string) string {
	return c.run("aws", append([]string{"--endpoint-url", c.endpoint}, args...)...)
}

// writeTree writes files small files spread over directories, and large files of
// the given sizes, with random content.
func writeTree(t *testing.T, root string, files int, large ...int) {
	t.Helper()
	for i := range files {
		p := filepath.Join(root, fmt.Sprintf("d%02d/e%d/f%04d.txt", i%23, i%5, i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1+i%700)
		rand.Read(b)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range large {
		b := make([]byte, n)
		rand.Read(b)
		if err := os.WriteFile(filepath.Join(root, fmt.Sprintf("large%d.bin", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sameTree fails unless the regular files under a and b are byte-for-byte equal.
func sameTree(t *testing.T, a, b string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		x, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(x, y) {
			return fmt.Errorf("%s differs", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m := 0
	filepath.WalkDir(b, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			m++
		}
		return nil
	})
	if n != m || n == 0 {
		t.Fatalf("%d files in %s, %d in %s", n, a, m, b)
	}
}

// testAWSCLI: a file above the multipart threshold up and down, listings with
// prefixes, head-object.
func testAWSCLI(t *testing.T, c *clientEnv) {
	need(t, "aws")
	src := filepath.Join(c.dir, "big.bin")
	b := make([]byte, 6<<20+12345)
	rand.Read(b)
	os.WriteFile(src, b, 0o644)
	c.aws("s3", "mb", "s3://awsbkt")
	c.aws("s3", "cp", src, "s3://awsbkt/dir/sub/big.bin")
	c.aws("s3", "cp", src, "s3://awsbkt/dir/other.bin", "--metadata", "color=blue")
	c.aws("s3api", "put-object", "--bucket", "awsbkt", "--key", "top.bin", "--body", filepath.Join(c.dir, "aws-config"))
	dst := filepath.Join(c.dir, "back.bin")
	c.aws("s3", "cp", "s3://awsbkt/dir/sub/big.bin", dst)
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, b) {
		t.Fatal("aws s3 cp: the file read back differs")
	}
	out := c.aws("s3", "ls", "s3://awsbkt/dir/")
	if !strings.Contains(out, "PRE sub/") || !strings.Contains(out, "other.bin") || strings.Contains(out, "top.bin") {
		t.Fatalf("aws s3 ls s3://awsbkt/dir/:\n%s", out)
	}
	out = c.aws("s3", "ls", "--recursive", "s3://awsbkt/dir/s")
	if !strings.Contains(out, "dir/sub/big.bin") || strings.Contains(out, "other.bin") {
		t.Fatalf("aws s3 ls --recursive s3://awsbkt/dir/s:\n%s", out)
	}
	out = c.aws("s3api", "head-object", "--bucket", "awsbkt", "--key", "dir/other.bin")
	if !strings.Contains(out, `"color": "blue"`) || !strings.Contains(out, `-2\""`) || !strings.Contains(out, fmt.Sprint(len(b))) {
		t.Fatalf("aws s3api head-object:\n%s", out)
	}
	c.aws("s3", "rm", "--recursive", "s3://awsbkt/")
	c.aws("s3", "rb", "s3://awsbkt")
}

// testRclone: sync a tree up and down with --checksum, rclone check both ways.
func testRclone(t *testing.T, c *clientEnv, files int) {
	need(t, "rclone")
	src, back := filepath.Join(c.dir, "rsrc"), filepath.Join(c.dir, "rback")
	writeTree(t, src, files, 3<<20)
	c.run("rclone", "mkdir", "w:rcbkt")
	c.run("rclone", "sync", "--checksum", src, "w:rcbkt/tree")
	c.run("rclone", "check", src, "w:rcbkt/tree")
	c.run("rclone", "sync", "--checksum", "w:rcbkt/tree", back)
	c.run("rclone", "check", "--checksum", "w:rcbkt/tree", back)
	sameTree(t, src, back)
	// A change syncs only what changed; deleted files go.
	os.WriteFile(filepath.Join(src, "d00/e0/f0000.txt"), []byte("changed"), 0o644)
	os.Remove(filepath.Join(src, "d01/e1/f0001.txt"))
	c.run("rclone", "sync", "--checksum", src, "w:rcbkt/tree")
	c.run("rclone", "check", src, "w:rcbkt/tree")
}

// testRestic: init, backup, check --read-data, restore, and a byte-for-byte diff.
func testRestic(t *testing.T, c *clientEnv, files int) {
	need(t, "restic")
	src, back := filepath.Join(c.dir, "data"), filepath.Join(c.dir, "restore")
	writeTree(t, src, files, 5<<20, 1<<20)
	repo := "s3:" + c.endpoint + "/resticbkt"
	c.run("restic", "-r", repo, "init")
	c.run("restic", "-r", repo, "backup", src)
	c.run("restic", "-r", repo, "check", "--read-data")
	c.run("restic", "-r", repo, "restore", "latest", "--target", back)
	sameTree(t, src, filepath.Join(back, src))
}

// TestClientsMem runs rclone and restic against the gateway over the in-memory index
// and store: the S3 protocol alone, for -short runs, where TestClientsWalrus (which
// covers the same and aws-cli) is skipped.
func TestClientsMem(t *testing.T) {
	if !testing.Short() {
		t.Skip("TestClientsWalrus runs the same clients over the real data path")
	}
	c := newClientEnv(t, serve(t, s3.NewMemIndex(), s3.NewTestStore()))
	t.Run("rclone", func(t *testing.T) { c.t = t; testRclone(t, c, 200) })
	t.Run("restic", func(t *testing.T) { c.t = t; testRestic(t, c, 2000) })
}

// TestClientsWalrus runs the clients against the gateway as walrus s3 runs it: the
// index on the chain (package chainindex) and the bytes stored through the client SDK,
// on a test network (validator, storage nodes, real HTTP).
func TestClientsWalrus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a test network")
	}
	net := testnet.New(t, testnet.Options{})
	c, err := net.NewClient(net.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	ce := newClientEnv(t, serve(t, chainindex.New(net.Chain, net.Wallet), &s3.WalrusStore{C: c, Epochs: 3}))
	t.Run("aws", func(t *testing.T) { ce.t = t; testAWSCLI(t, ce) })
	t.Run("rclone", func(t *testing.T) { ce.t = t; testRclone(t, ce, 30) })
	t.Run("restic", func(t *testing.T) { ce.t = t; testRestic(t, ce, 2000) })
	blobs, err := c.ListBlobs(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d blob objects left in the wallet", len(blobs))
}
