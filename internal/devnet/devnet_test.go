package devnet_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
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

	"github.com/walrus-go/walrus/internal/devnet"
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

var freePortBlock = testvec.FreePortBlock

var freeAddr = testvec.FreeAddr

type devnetProc struct {
	cmd    *exec.Cmd
	config string
	http   string
	s3     string // the S3 gateway's line: URL (access key K, secret key S, region R)
	portal string // the portal's line: http://<site>.localhost:PORT
	out    *bytes.Buffer
}

// startDevnet runs `walrus devnet` in the directory cwd ("" for the test's) and waits for
// its "devnet ready" line.
func startDevnet(t *testing.T, bin, cwd string, args ...string) *devnetProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"devnet"}, args...)...)
	cmd.Dir = cwd
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
	timeout := time.After(5 * time.Minute)
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
			case strings.HasPrefix(strings.TrimSpace(line), "s3:"):
				p.s3 = strings.TrimSpace(strings.SplitN(line, ": ", 2)[1])
			case strings.HasPrefix(strings.TrimSpace(line), "portal:"):
				p.portal = strings.TrimSpace(strings.SplitN(line, ": ", 2)[1])
			}
		case <-timeout:
			cmd.Process.Kill()
			t.Fatalf("devnet not ready after 5 minutes:\n%s\n%s", p.out, errb.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	return p
}

// stop interrupts the devnet as Ctrl-C would and waits for a clean exit.
func (p *devnetProc) stop(t *testing.T) { t.Helper(); p.stopWith(t, os.Interrupt) }

// stopWith sends sig to the devnet and waits for a clean exit.
func (p *devnetProc) stopWith(t *testing.T, sig os.Signal) {
	t.Helper()
	p.cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("devnet exit after %v: %v", sig, err)
		}
	case <-time.After(2 * time.Minute):
		p.cmd.Process.Kill()
		t.Fatalf("devnet did not stop within 2 minutes of %v", sig)
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

// TestDevnet runs the README's quickstart on a fresh devnet as a user would (see
// readme_test.go), on one devnet process for all of it: a port clash on the first run that
// a second run with another port gets past; the README's commands; the disk a devnet takes
// with one small blob; a 40 MB curl PUT; stores and reads through the CLI and over HTTP,
// with a storage node process killed; SIGHUP stopping it and freeing its ports; a resumed
// devnet refusing other ports; and a restart that keeps the data.
func TestDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole network of processes")
	}
	bin := buildWalrus(t)
	work := t.TempDir() // the user's directory: the devnet is ./.walrus-devnet
	dir := filepath.Join(work, ".walrus-devnet")
	base := freePortBlock(t, 4)
	chainRPC, httpAddr := freeAddr(t), freeAddr(t)
	args := []string{"--node-port", strconv.Itoa(base), "--chain-rpc", chainRPC,
		"--chain-p2p", freeAddr(t), "--http", httpAddr, "--s3", freeAddr(t), "--portal", freeAddr(t)}

	// A first run whose chain RPC port is taken fails, names the flag that moves it and
	// leaves nothing behind; the next run is a first run again.
	squat, err := net.Listen("tcp", chainRPC)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runWalrus(t, bin, work, append([]string{"devnet"}, args...)...)
	squat.Close()
	if code != 1 || !strings.Contains(stderr, chainRPC) || !strings.Contains(stderr, "hint:") || !strings.Contains(stderr, "--chain-rpc") {
		t.Fatalf("devnet with its chain RPC port taken: exit %d, want 1 and a hint naming --chain-rpc:\n%s", code, stderr)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the failed first run left %s behind (%v)", dir, err)
	}

	d := startDevnet(t, bin, work, args...)
	// The client configuration pins the devnet's own chain ID, unique to this genesis.
	cfg, err := os.ReadFile(d.config)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^chain_id: walrus-devnet-[0-9a-f]{8}$`).Match(cfg) {
		t.Fatalf("client.yaml pins no generated chain ID:\n%s", cfg)
	}

	// The README, command by command, with a 129 KiB photo.jpg.
	photo := make([]byte, 129<<10)
	rand.Read(photo)
	if err := os.WriteFile(filepath.Join(work, "photo.jpg"), photo, 0o600); err != nil {
		t.Fatal(err)
	}
	r := &readmeRun{bin: bin, work: work, http: strings.TrimPrefix(d.http, "http://"), config: d.config, photo: photo,
		portalPort: d.portal[strings.LastIndexByte(d.portal, ':')+1:]}
	r.run(t)

	// The README's few small blobs (a photo, a quilt of it and the example site's quilt): the
	// whole devnet takes less than 60 MB of disk.
	if used := diskUsage(t, dir); used >= 60_000_000 {
		t.Errorf("the devnet takes %d bytes of disk with the README's small blobs, want < 60 MB", used)
	} else {
		t.Logf("disk used by the devnet with the README's small blobs: %d bytes", used)
	}
	// After the disk check, which counts a few small blobs: a restic repository is many.
	resticThroughDevnetS3(t, d.s3, work)

	// A 40 MB curl PUT, as the README's but larger than a production publisher takes.
	bigData := make([]byte, 40_000_000)
	rand.Read(bigData)
	if err := os.WriteFile(filepath.Join(work, "big.bin"), bigData, 0o600); err != nil {
		t.Fatal(err)
	}
	out := r.runCurl(t, "curl PUT of 40 MB", []string{"-X", "PUT", "--data-binary", "@big.bin", d.http + "/v1/blobs?epochs=5"})
	if !strings.Contains(string(out), "newlyCreated") {
		t.Fatalf("40 MB PUT: %s", out)
	}
	bigID := jsonField(t, string(out), "blobId")
	if got := readHTTP(t, d.http, bigID); !bytes.Equal(got, bigData) {
		t.Fatalf("HTTP read of the 40 MB blob differs")
	}

	files := t.TempDir()
	type stored struct {
		id   string
		data []byte
	}
	blobs := []stored{{r.blobID, photo}, {bigID, bigData}}
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
	// Storing an already certified blob answers alreadyCertified without uploading.
	path1m := filepath.Join(files, fmt.Sprintf("blob-%d", 1<<20))
	out2, err := walrus(t, bin, d.config, "store", path1m, "--epochs", "2", "--json")
	if err != nil || !strings.Contains(out2, "alreadyCertified") {
		t.Fatalf("second store of the same blob: %v\n%s", err, out2)
	}
	// Lifecycle operations on a deletable blob.
	lifePath, _ := randomFile(t, files, 777)
	out2, err = walrus(t, bin, d.config, "store", lifePath, "--epochs", "1", "--json")
	if err != nil {
		t.Fatal(err)
	}
	lifeID, objID := jsonField(t, out2, "blobId"), jsonField(t, out2, "id")
	before := jsonField(t, out2, "endEpoch")
	out2, err = walrus(t, bin, d.config, "extend", "--blob-obj-id", objID, "--epochs-extended", "2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if after := jsonField(t, out2, "endEpoch"); after == before {
		t.Fatalf("extend left the end epoch at %s: %s", after, out2)
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

	// A closed terminal's SIGHUP stops the devnet cleanly and frees all its ports.
	d.stopWith(t, syscall.SIGHUP)
	rec, err := devnet.Recorded(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := devnet.CheckAddresses(append(rec.Addresses(), devnet.Address{Addr: httpAddr})); err != nil {
		t.Fatalf("after SIGHUP: %v", err)
	}

	// A resumed devnet refuses a port flag it cannot apply, and says what to do instead.
	state, _ := os.ReadFile(filepath.Join(dir, "devnet.json"))
	code, _, stderr = runWalrus(t, bin, work, "devnet", "--node-port", strconv.Itoa(base+10), "--http", httpAddr)
	if code != 2 || !strings.Contains(stderr, "--node-port "+strconv.Itoa(base+10)+" cannot apply") || !strings.Contains(stderr, "--dir NEW_DIR") {
		t.Fatalf("resumed devnet with another --node-port: exit %d, want 2 and an explanation:\n%s", code, stderr)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "devnet.json")); !bytes.Equal(now, state) {
		t.Fatalf("the refused run changed devnet.json:\n%s", now)
	}

	// A full restart resumes the same network with its data; --pprof (not recorded, so
	// allowed on a resumed devnet) serves the process's runtime profiles.
	pprofAddr := freeAddr(t)
	d = startDevnet(t, bin, work, append(args, "--pprof", pprofAddr)...)
	defer d.stop(t)
	for _, b := range blobs {
		if got := readHTTP(t, d.http, b.id); !bytes.Equal(got, b.data) {
			t.Fatalf("read after restart differs")
		}
	}
	resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/")
	if err != nil {
		t.Fatalf("--pprof: %v", err)
	}
	index, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(index, []byte("goroutine")) {
		t.Fatalf("--pprof: GET /debug/pprof/: %d\n%s", resp.StatusCode, index)
	}
}

// runWalrus runs the walrus binary in dir and returns its exit code and output.
func runWalrus(t *testing.T, bin, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// diskUsage is the disk space the files under dir take (allocated blocks, which count
// the space a storage engine preallocates), as `du -s --block-size=1 DIR` reports it.
func diskUsage(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed by a compaction while walking
		}
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
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
