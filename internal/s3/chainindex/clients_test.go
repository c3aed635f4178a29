package chainindex_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
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

var cred = s3.Credential{AccessKey: "AKIDCHAIN", SecretKey: "chain/index+secret"}

// gateway serves the S3 API over a fresh chain index (no state of its own) of the test
// network's wallet and the real store.
func gateway(t *testing.T, net *testnet.Network, store s3.Store) string {
	t.Helper()
	srv, err := s3.NewServer(s3.Config{Index: chainindex.New(net.Chain, net.Wallet), Store: store,
		Credentials: []s3.Credential{cred}, MinPartSize: s3.DefaultMinPartSize, KeepAlive: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs.URL
}

func tool(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed (.ci/run installs it)", name)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

func toolEnv(dir, endpoint string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "RCLONE_") {
			env = append(env, kv)
		}
	}
	awsConfig := filepath.Join(dir, "aws-config")
	os.WriteFile(awsConfig, []byte("[default]\nregion = us-east-1\ns3 =\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n"), 0o600)
	return append(env, "HOME="+dir,
		"AWS_ACCESS_KEY_ID="+cred.AccessKey, "AWS_SECRET_ACCESS_KEY="+cred.SecretKey, "AWS_CONFIG_FILE="+awsConfig,
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"), "AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"RCLONE_CONFIG="+filepath.Join(dir, "rclone.conf"), "RCLONE_CONFIG_W_TYPE=s3", "RCLONE_CONFIG_W_PROVIDER=Other",
		"RCLONE_CONFIG_W_ENV_AUTH=false", "RCLONE_CONFIG_W_ACCESS_KEY_ID="+cred.AccessKey,
		"RCLONE_CONFIG_W_SECRET_ACCESS_KEY="+cred.SecretKey, "RCLONE_CONFIG_W_ENDPOINT="+endpoint,
		"RCLONE_CONFIG_W_REGION=us-east-1", "RCLONE_CONFIG_W_FORCE_PATH_STYLE=true")
}

// TestClientsOverChainIndex: rclone and aws-cli, unchanged, through the gateway with its
// index on the chain and its bytes on a test network; then a second gateway with a fresh
// index object (a restart: the gateway keeps no state) sees everything the first stored.
func TestClientsOverChainIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a test network")
	}
	net := testnet.New(t, testnet.Options{})
	c, err := net.NewClient(net.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	store := &s3.WalrusStore{C: c, Epochs: 3}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "rclone.conf"), nil, 0o600)
	env := toolEnv(dir, gateway(t, net, store))

	src := filepath.Join(dir, "src")
	for i := range 24 {
		p := filepath.Join(src, fmt.Sprintf("d%d/f%02d.txt", i%4, i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		b := make([]byte, 1+i*97)
		rand.Read(b)
		os.WriteFile(p, b, 0o644)
	}
	big := make([]byte, 6<<20+321)
	rand.Read(big)
	os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644)

	tool(t, env, "rclone", "mkdir", "w:tree")
	tool(t, env, "rclone", "sync", "--checksum", src, "w:tree/src")
	tool(t, env, "rclone", "check", src, "w:tree/src")
	// A multipart upload: its state (upload, parts) lives on the chain.
	tool(t, env, "aws", "--endpoint-url", strings.TrimPrefix(envValue(env, "RCLONE_CONFIG_W_ENDPOINT="), ""), "s3", "cp",
		filepath.Join(dir, "big.bin"), "s3://tree/big/big.bin")
	out := tool(t, env, "aws", "--endpoint-url", envValue(env, "RCLONE_CONFIG_W_ENDPOINT="), "s3", "ls", "s3://tree/")
	if !strings.Contains(out, "PRE big/") || !strings.Contains(out, "PRE src/") {
		t.Fatalf("aws s3 ls:\n%s", out)
	}
	// Overwrite and delete release blobs; the index says what to release.
	os.WriteFile(filepath.Join(src, "d0/f00.txt"), []byte("changed"), 0o644)
	os.Remove(filepath.Join(src, "d1/f01.txt"))
	tool(t, env, "rclone", "sync", "--checksum", src, "w:tree/src")

	// A restarted gateway: a new index object over the same chain.
	env2 := toolEnv(dir, gateway(t, net, store))
	tool(t, env2, "rclone", "check", "--checksum", src, "w:tree/src")
	back := filepath.Join(dir, "back.bin")
	tool(t, env2, "aws", "--endpoint-url", envValue(env2, "RCLONE_CONFIG_W_ENDPOINT="), "s3", "cp", "s3://tree/big/big.bin", back)
	if got, _ := os.ReadFile(back); !bytes.Equal(got, big) {
		t.Fatal("the multipart object read back differs")
	}
	out = tool(t, env2, "aws", "--endpoint-url", envValue(env2, "RCLONE_CONFIG_W_ENDPOINT="), "s3api", "head-object",
		"--bucket", "tree", "--key", "big/big.bin")
	if !strings.Contains(out, `-2\""`) || !strings.Contains(out, fmt.Sprint(len(big))) {
		t.Fatalf("head-object:\n%s", out)
	}
}

func envValue(env []string, prefix string) string {
	for _, kv := range env {
		if strings.HasPrefix(kv, prefix) {
			return strings.TrimPrefix(kv, prefix)
		}
	}
	return ""
}
