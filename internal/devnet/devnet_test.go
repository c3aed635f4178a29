package devnet_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/testvec"
)

// buildWalrus builds the walrus binary once for the test.
func buildWalrus(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "walrus")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/walrus-go/walrus/cmd/walrus")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freePortBlock returns a base port p such that p..p+span-1 and p+100..p+100+span-1 are
// free now (a race with other processes is possible but unlikely on loopback).
func freePortBlock(t *testing.T, span int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if base+100+span > 65000 {
			continue
		}
		ok := true
		for _, p := range []int{base, base + 100} {
			for i := 0; i < span && ok; i++ {
				l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+i))
				if err != nil {
					ok = false
					break
				}
				l.Close()
			}
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port block")
	return 0
}

var freeAddr = testvec.FreeAddr

type devnetProc struct {
	cmd    *exec.Cmd
	config string
	http   string
	out    *bytes.Buffer
}

// startDevnet runs `walrus devnet` and waits for its "devnet ready" line.
func startDevnet(t *testing.T, bin string, args ...string) *devnetProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"devnet"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &devnetProc{cmd: cmd, out: &bytes.Buffer{}}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(3 * time.Minute)
	ready := false
	for !ready || p.config == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				cmd.Wait() // stderr is copied until the process is waited for
				t.Fatalf("devnet exited before it was ready:\n%s\n%s", p.out, errb.String())
			}
			p.out.WriteString(line + "\n")
			switch {
			case line == "devnet ready":
				ready = true
			case strings.HasPrefix(line, "export WALRUS_CONFIG="):
				p.config = strings.TrimPrefix(line, "export WALRUS_CONFIG=")
			case strings.Contains(line, "publisher/aggregator:"):
				p.http = strings.TrimSpace(strings.SplitN(line, ": ", 2)[1])
			}
		case <-timeout:
			cmd.Process.Kill()
			t.Fatalf("devnet not ready after 3 minutes:\n%s\n%s", p.out, errb.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	return p
}

// stop interrupts the devnet as Ctrl-C would and waits for a clean exit.
func (p *devnetProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("devnet exit: %v", err)
		}
	case <-time.After(time.Minute):
		p.cmd.Process.Kill()
		t.Fatal("devnet did not stop within a minute")
	}
}

func walrus(t *testing.T, bin, config string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "WALRUS_CONFIG="+config)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("walrus %v: %v: %s", args, err, errb.String())
	}
	return out.String(), nil
}

func randomFile(t *testing.T, dir string, size int) (string, []byte) {
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(dir, fmt.Sprintf("blob-%d", size))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func storeCLI(t *testing.T, bin, config, path string) string {
	t.Helper()
	out, err := walrus(t, bin, config, "store", path, "--epochs", "2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	// The JSON output names the blob ID; find it without depending on the exact nesting.
	i := strings.Index(out, `"blobId": "`)
	if i < 0 {
		t.Fatalf("no blobId in store output: %s", out)
	}
	rest := out[i+len(`"blobId": "`):]
	return rest[:strings.IndexByte(rest, '"')]
}

func readCLI(t *testing.T, bin, config, id string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	if _, err := walrus(t, bin, config, "read", id, "--out", out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readHTTP(t *testing.T, base, id string) []byte {
	t.Helper()
	resp, err := http.Get(base + "/v1/blobs/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", id, resp.StatusCode, b)
	}
	return b
}

// TestDevnet runs the README's devnet command as a user would: it stores and reads blobs
// through the CLI and over HTTP, keeps reading with a storage node process killed, and
// resumes the same network with its data after a full restart.
func TestDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole network of processes")
	}
	bin := buildWalrus(t)
	dir := filepath.Join(t.TempDir(), "devnet")
	base := freePortBlock(t, 4)
	args := []string{"--dir", dir, "--node-port", strconv.Itoa(base), "--chain-rpc", freeAddr(t),
		"--chain-p2p", freeAddr(t), "--http", freeAddr(t)}
	d := startDevnet(t, bin, args...)
	// The client configuration pins the devnet's own chain ID, unique to this genesis.
	cfg, err := os.ReadFile(d.config)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^chain_id: walrus-devnet-[0-9a-f]{8}$`).Match(cfg) {
		t.Fatalf("client.yaml pins no generated chain ID:\n%s", cfg)
	}
	files := t.TempDir()
	type stored struct {
		id   string
		data []byte
	}
	var blobs []stored
	for _, size := range []int{0, 1, 1 << 20} {
		path, data := randomFile(t, files, size)
		id := storeCLI(t, bin, d.config, path)
		if got := readCLI(t, bin, d.config, id); !bytes.Equal(got, data) {
			t.Fatalf("CLI read of %d bytes differs", size)
		}
		if got := readHTTP(t, d.http, id); !bytes.Equal(got, data) {
			t.Fatalf("HTTP read of %d bytes differs", size)
		}
		blobs = append(blobs, stored{id, data})
	}
	// Store over HTTP.
	_, data := randomFile(t, files, 4096)
	resp, err := http.DefaultClient.Do(mustRequest(t, http.MethodPut, d.http+"/v1/blobs?epochs=1", data))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "newlyCreated") {
		t.Fatalf("PUT: %d %s", resp.StatusCode, body)
	}

	// Storing an already certified blob answers alreadyCertified without uploading.
	path1m := filepath.Join(files, fmt.Sprintf("blob-%d", 1<<20))
	out, err := walrus(t, bin, d.config, "store", path1m, "--epochs", "2", "--json")
	if err != nil || !strings.Contains(out, "alreadyCertified") {
		t.Fatalf("second store of the same blob: %v\n%s", err, out)
	}
	// A 32 MiB blob, then lifecycle operations on a deletable blob.
	big, bigData := randomFile(t, files, 32<<20)
	bigID := storeCLI(t, bin, d.config, big)
	if got := readHTTP(t, d.http, bigID); !bytes.Equal(got, bigData) {
		t.Fatalf("HTTP read of 32 MiB differs")
	}
	blobs = append(blobs, stored{bigID, bigData})
	lifePath, _ := randomFile(t, files, 777)
	out, err = walrus(t, bin, d.config, "store", lifePath, "--epochs", "1", "--json")
	if err != nil {
		t.Fatal(err)
	}
	lifeID, objID := jsonField(t, out, "blobId"), jsonField(t, out, "id")
	before := jsonField(t, out, "endEpoch")
	out, err = walrus(t, bin, d.config, "extend", "--blob-obj-id", objID, "--epochs-extended", "2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if after := jsonField(t, out, "endEpoch"); after == before {
		t.Fatalf("extend left the end epoch at %s: %s", after, out)
	}
	if _, err := walrus(t, bin, d.config, "delete", "--blob-id", lifeID, "--yes"); err != nil {
		t.Fatal(err)
	}
	if _, err := walrus(t, bin, d.config, "read", lifeID, "--out", filepath.Join(files, "deleted")); err == nil {
		t.Fatalf("a deleted blob was still readable")
	}

	// Kill one storage node process: every blob still reads.
	pid, err := os.ReadFile(filepath.Join(dir, "nodes", "3", "pid"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(pid)))
	if err := syscall.Kill(n, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, b := range blobs {
		if got := readCLI(t, bin, d.config, b.id); !bytes.Equal(got, b.data) {
			t.Fatalf("read with a node killed differs")
		}
	}
	d.stop(t)

	// A full restart resumes the same network with its data.
	d = startDevnet(t, bin, args...)
	defer d.stop(t)
	for _, b := range blobs {
		if got := readHTTP(t, d.http, b.id); !bytes.Equal(got, b.data) {
			t.Fatalf("read after restart differs")
		}
	}
}

func mustRequest(t *testing.T, method, url string, body []byte) *http.Request {
	req, err := http.NewRequestWithContext(context.Background(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// jsonField returns the first string or number value of "key" in a JSON document.
func jsonField(t *testing.T, doc, key string) string {
	t.Helper()
	i := strings.Index(doc, `"`+key+`":`)
	if i < 0 {
		t.Fatalf("no %q in %s", key, doc)
	}
	v := strings.TrimLeft(doc[i+len(key)+3:], " ")
	if strings.HasPrefix(v, `"`) {
		return v[1 : 1+strings.IndexByte(v[1:], '"')]
	}
	end := strings.IndexAny(v, ",}\n")
	return strings.TrimSpace(v[:end])
}
