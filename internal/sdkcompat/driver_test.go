package sdkcompat

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// harnessFiles are the files of js/ that npm ci and the script need.
var harnessFiles = []string{"package.json", "package-lock.json", "sdkcompat.mjs"}

// requireTool returns the path of a command, failing the test (not skipping it) when the
// command is not installed: CI installs node and npm (.ci/run).
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: this test drives the network with Mysten's TypeScript SDK and needs Node.js and npm (Debian: apt-get install nodejs npm)", name)
	}
	return p
}

// installHarness copies the harness into a temporary directory and starts installing
// the pinned packages there with `npm ci` (npm's cache makes later runs offline), in the
// background, while the caller starts the network. The returned function waits for the
// installation and returns the directory.
func installHarness(t *testing.T, npm string) (wait func() string) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range harnessFiles {
		b, err := os.ReadFile(filepath.Join("js", f))
		if err != nil {
			t.Fatalf("harness file: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	cmd := exec.CommandContext(ctx, npm, "ci", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
	var out []byte
	var err error
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		out, err = cmd.CombinedOutput()
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return func() string {
		t.Helper()
		<-done
		if err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
		t.Logf("npm ci: done %v after the start", time.Since(start).Round(time.Millisecond))
		return dir
	}
}

// sdk is the running script: requests go to its standard input, answers come from its
// standard output, one JSON object a line.
type sdk struct {
	t *testing.T
	*proc
}

// proc is the script's process, shared by the drivers of subtests (used one at a time).
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	nextID int

	mu     sync.Mutex // guards stderr
	stderr strings.Builder
}

// startSDK runs `node sdkcompat.mjs` in dir; it is stopped at the end of the test.
func startSDK(t *testing.T, node, dir string) *sdk {
	t.Helper()
	s := &sdk{t: t, proc: &proc{lines: make(chan string)}}
	s.cmd = exec.Command(node, "sdkcompat.mjs")
	s.cmd.Dir = dir
	s.cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.stderr.Write(p)
	})
	var err error
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(s.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 256<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		s.stdin.Close() // the script ends at the end of its input
		for range s.lines {
		}
		<-done
		s.cmd.Wait() //nolint:errcheck // its output is what matters
		if t.Failed() {
			t.Logf("script's standard error:\n%s", s.stderrText())
		}
	})
	return s
}

func (s *proc) stderrText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// callTimeout bounds one request to the script: generous, for a loaded machine.
const callTimeout = 5 * time.Minute

// call sends op with args (a struct or map, whose fields are added to the request) and
// decodes the result into out (if not nil). A failure of the operation is returned as an
// error; a broken script fails the test.
func (s *sdk) call(op string, args any, out any) error {
	s.t.Helper()
	s.nextID++
	req := map[string]any{}
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			s.t.Fatal(err)
		}
		if err := json.Unmarshal(b, &req); err != nil {
			s.t.Fatal(err)
		}
	}
	req["id"], req["op"] = s.nextID, op
	b, err := json.Marshal(req)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.stdin.Write(append(b, '\n')); err != nil {
		s.t.Fatalf("%s: write to the script: %v\n%s", op, err, s.stderrText())
	}
	var line string
	select {
	case l, ok := <-s.lines:
		if !ok {
			s.t.Fatalf("%s: the script exited\n%s", op, s.stderrText())
		}
		line = l
	case <-time.After(callTimeout):
		s.t.Fatalf("%s: no answer from the script in %v\n%s", op, callTimeout, s.stderrText())
	}
	var ans struct {
		ID     int             `json:"id"`
		OK     bool            `json:"ok"`
		Result json.RawMessage `json:"result"`
		Error  string          `json:"error"`
	}
	if err := json.Unmarshal([]byte(line), &ans); err != nil || ans.ID != s.nextID {
		s.t.Fatalf("%s: bad answer from the script (%v): %.500s", op, err, line)
	}
	if !ans.OK {
		return fmt.Errorf("sdk %s: %s", op, ans.Error)
	}
	if out != nil {
		if err := json.Unmarshal(ans.Result, out); err != nil {
			s.t.Fatalf("%s: result: %v: %.500s", op, err, ans.Result)
		}
	}
	return nil
}

// must is call that fails the test when the operation fails.
func (s *sdk) must(op string, args any, out any) {
	s.t.Helper()
	if err := s.call(op, args, out); err != nil {
		s.t.Fatal(err)
	}
}
