package testbed

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// ProcessProfile is the CPU profile of one process on a write's path, taken while the first
// client ran its benchmark (stores and reads of every size).
type ProcessProfile struct {
	Process string // host name: c0, v0, n0, n1
	Role    string // client, validator or storage node
	File    string // the profile (gzipped protocol buffers; go tool pprof reads it)
	// Samples is the CPU time the profile sampled.
	Samples time.Duration
	// Classes is the sampled CPU by broad class, largest first.
	Classes []ClassShare
	// Top is the head of `go tool pprof -top`.
	Top string
	// Err says why the profile is missing or was not analysed.
	Err string
}

// ClassShare is the CPU of one class of work in a profile.
type ClassShare struct {
	Class string
	CPU   time.Duration
	Share float64 // of the profile's samples, 0 to 1
}

// profileChunk is the length of each CPU profile taken from a server process; the profiles
// of one process are merged at the end. The collection stops at most one chunk after the
// benchmark.
const profileChunk = 5 * time.Second

// maxProfileBytes bounds one profile read from a process.
const maxProfileBytes = 64 << 20

// collector takes CPU profiles of server processes back to back until stopped.
type collector struct {
	dir  string
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs map[string]error
}

// startProfiles starts profiling each process of targets (host name → pprof address on
// that host) into dir/chunks.
func (r *runner) startProfiles(ctx context.Context, targets map[string]*host, addrs map[string]string) (*collector, error) {
	c := &collector{dir: filepath.Join(r.cfg.ProfileDir, "chunks"), stop: make(chan struct{}), errs: map[string]error{}}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, err
	}
	for name, h := range targets {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.loop(ctx, name, h, addrs[name])
		}()
	}
	return c, nil
}

func (c *collector) loop(ctx context.Context, name string, h *host, addr string) {
	tr := &http.Transport{}
	if h.ns != nil {
		tr.DialContext = h.ns.DialContext
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: profileChunk + 2*time.Minute}
	for i := 0; ; i++ {
		select {
		case <-c.stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		err := c.fetch(ctx, hc, addr, filepath.Join(c.dir, fmt.Sprintf("%s-%04d.pprof", name, i)))
		if err != nil {
			c.mu.Lock()
			c.errs[name] = err
			c.mu.Unlock()
			select { // the process may be busy or restarting; try again
			case <-c.stop:
				return
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

func (c *collector) fetch(ctx context.Context, hc *http.Client, addr, path string) error {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(profileChunk/time.Second))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProfileBytes))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, bytes.TrimSpace(body[:min(len(body), 200)]))
	}
	return os.WriteFile(path, body, 0o600)
}

// finish stops the collection and waits for the profiles in progress.
func (c *collector) finish() {
	close(c.stop)
	c.wg.Wait()
}

// analyse merges the profiles of each process (chunks named NAME-*.pprof in dir/chunks and,
// for the client, NAME-SIZE.pprof written by walrus bench) into dir/NAME.pprof and
// summarizes them with go tool pprof.
func analyse(ctx context.Context, dir string, procs []ProcessProfile, errs map[string]error) []ProcessProfile {
	goCmd, lookErr := exec.LookPath("go")
	for i := range procs {
		p := &procs[i]
		chunks, _ := filepath.Glob(filepath.Join(dir, "chunks", p.Process+"-*.pprof"))
		if len(chunks) == 0 {
			p.Err = "no profile taken"
			if err := errs[p.Process]; err != nil {
				p.Err += ": " + err.Error()
			}
			continue
		}
		if lookErr != nil {
			p.Err = "no go command to analyse the profiles: " + lookErr.Error()
			continue
		}
		p.File = filepath.Join(dir, p.Process+".pprof")
		if out, err := exec.CommandContext(ctx, goCmd, append([]string{"tool", "pprof", "-proto", "-output", p.File}, chunks...)...).CombinedOutput(); err != nil {
			p.Err = fmt.Sprintf("go tool pprof -proto: %v: %s", err, bytes.TrimSpace(out))
			continue
		}
		top, err := exec.CommandContext(ctx, goCmd, "tool", "pprof", "-top", "-nodecount", "15", p.File).Output()
		if err != nil {
			p.Err = fmt.Sprintf("go tool pprof -top: %v", err)
			continue
		}
		p.Top = string(top)
		traces, err := exec.CommandContext(ctx, goCmd, "tool", "pprof", "-traces", p.File).Output()
		if err != nil {
			p.Err = fmt.Sprintf("go tool pprof -traces: %v", err)
			continue
		}
		samples, err := parseTraces(bytes.NewReader(traces))
		if err != nil {
			p.Err = err.Error()
			continue
		}
		p.Samples, p.Classes = classify(samples)
	}
	return procs
}

// sample is one stack of a profile (leaf first) and the CPU time sampled in it.
type sample struct {
	cpu   time.Duration
	stack []string
}

// maxTraceLine bounds a line of `go tool pprof -traces` output.
const maxTraceLine = 1 << 20

// parseTraces reads the output of `go tool pprof -traces` for a CPU profile: a header, then
// samples separated by lines of dashes, each a line "VALUE FUNCTION" (VALUE a duration such
// as 10ms or 1.5s) followed by one line per caller, a function marked "(inline)" where it
// was inlined; label lines and the header are skipped.
func parseTraces(r io.Reader) ([]sample, error) {
	var out []sample
	var cur *sample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxTraceLine)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-----------+") {
			cur = nil
			continue
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if cur == nil {
			d, err := time.ParseDuration(f[0])
			if len(f) < 2 || err != nil || d < 0 {
				continue // header or labels
			}
			out = append(out, sample{cpu: d, stack: []string{f[1]}}) // f[2] may be "(inline)"
			cur = &out[len(out)-1]
			continue
		}
		if !strings.HasSuffix(f[0], ":") { // not a label
			cur.stack = append(cur.stack, f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("testbed: pprof traces: %w", err)
	}
	return out, nil
}

// classes are the broad classes of CPU work, checked in order against each frame of a
// stack from the leaf up: the first frame that matches a class decides (so hashing inside
// the encoding is hashing, and a system call made for TLS is a system call). A frame of the
// garbage collector anywhere in the stack makes the sample GC. A frame matches a class when
// it contains one of the class's patterns or equals one of its names.
var classes = []struct {
	name     string
	patterns []string
	names    []string
}{
	{"syscalls/kernel", []string{"syscall.Syscall", "syscall.RawSyscall", "internal/runtime/syscall.", "golang.org/x/sys/unix.Syscall"},
		[]string{"runtime.futex", "runtime.epollwait", "runtime.usleep", "runtime.nanosleep", "runtime.read", "runtime.write1", "runtime.madvise", "runtime.mmap", "runtime.munmap", "runtime.sigprocmask", "runtime.rtsigprocmask", "runtime.osyield", "runtime.tgkill", "runtime.pipe2", "runtime.clone"}},
	{"BLS", []string{"supranational/blst", "walrus/internal/bls."}, nil},
	{"hashing", []string{"sha256", "sha512", "blake2", "walrus/internal/merkle."}, nil},
	{"TLS/crypto", []string{"crypto/", "golang.org/x/crypto/", "filippo.io/"}, nil},
	{"encoding", []string{"walrus/internal/redstuff.", "walrus/internal/rscode."}, nil},
	{"serialization", []string{"encoding/json.", "gogoproto", "google.golang.org/protobuf/", "walrus/internal/bcs.", "encoding/base64.", "encoding/hex."}, nil},
	{"consensus", []string{"cometbft/cometbft/", "walrus/internal/chain."}, nil},
	{"storage engine", []string{"cockroachdb/pebble"}, nil},
	{"HTTP", []string{"net/http."}, nil},
}

// gcFrames mark the garbage collector's work.
var gcFrames = []string{"runtime.gcBgMarkWorker", "runtime.gcAssistAlloc", "runtime.gcDrain", "runtime.markroot", "runtime.scanobject", "runtime.bgsweep", "runtime.bgscavenge", "runtime.sweepone", "runtime.gcStart", "runtime.wbBuf", "runtime.bulkBarrier"}

// classOf returns the class of a stack (leaf first): one of classes, "GC", "Go runtime"
// (a stack of the runtime alone: the scheduler, timers) or "other".
func classOf(stack []string) string {
	for _, fn := range stack {
		for _, g := range gcFrames {
			if strings.HasPrefix(fn, g) {
				return "GC"
			}
		}
	}
	for _, fn := range stack {
		for _, c := range classes {
			for _, p := range c.patterns {
				if strings.Contains(fn, p) {
					return c.name
				}
			}
			for _, n := range c.names {
				if fn == n {
					return c.name
				}
			}
		}
	}
	for _, fn := range stack {
		if !strings.HasPrefix(fn, "runtime.") && !strings.HasPrefix(fn, "internal/runtime/") {
			return "other"
		}
	}
	return "Go runtime"
}

// classify sums the samples by class, largest first.
func classify(samples []sample) (time.Duration, []ClassShare) {
	by := map[string]time.Duration{}
	var total time.Duration
	for _, s := range samples {
		by[classOf(s.stack)] += s.cpu
		total += s.cpu
	}
	var out []ClassShare
	for c, d := range by {
		cs := ClassShare{Class: c, CPU: d}
		if total > 0 {
			cs.Share = float64(d) / float64(total)
		}
		out = append(out, cs)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CPU != out[j].CPU {
			return out[i].CPU > out[j].CPU
		}
		return out[i].Class < out[j].Class
	})
	return total, out
}

// printProfiles writes each profile's classes and the head of its top list.
func printProfiles(w io.Writer, profiles []ProcessProfile) {
	if len(profiles) == 0 {
		return
	}
	fmt.Fprintf(w, "\nCPU profiles of the first client's benchmark (go tool pprof FILE for more)\n")
	for _, p := range profiles {
		fmt.Fprintf(w, "\n%s (%s): ", p.Process, p.Role)
		if p.Err != "" && p.Classes == nil {
			fmt.Fprintf(w, "%s\n", p.Err)
			continue
		}
		fmt.Fprintf(w, "%v sampled, %s\n  ", p.Samples.Round(10*time.Millisecond), p.File)
		for i, c := range p.Classes {
			if i > 0 {
				fmt.Fprint(w, ", ")
			}
			fmt.Fprintf(w, "%s %.0f%%", c.Class, 100*c.Share)
		}
		fmt.Fprintln(w)
		for _, line := range strings.Split(strings.TrimRight(p.Top, "\n"), "\n") {
			if strings.HasPrefix(line, "File:") || strings.HasPrefix(line, "Build ID:") || strings.HasPrefix(line, "Type:") || strings.HasPrefix(line, "Time:") {
				continue
			}
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
}

// enableProfiles turns on the runtime profiles of validator 0 (pprof_listen in its
// chain.yaml) and storage nodes 0 and 1 (pprof on their metrics listener, which node 1
// gets for it); port gives each an address on its host.
func (r *runner) enableProfiles(validators, nodes []*host, port func(*host, int) (string, error)) error {
	home := filepath.Join(r.cfg.Dir, "net")
	v := validators[0]
	addr, err := port(v, 6060)
	if err != nil {
		return err
	}
	if err := appendFile(filepath.Join(home, "validator-0", "chain.yaml"), "pprof_listen: "+addr+"\n"); err != nil {
		return err
	}
	r.pprof[v.name] = addr
	for i, n := range nodes[:min(2, len(nodes))] {
		yml := filepath.Join(home, "storage-nodes", fmt.Sprintf("storage-node-%d", i), "node.yaml")
		addr := r.metrics
		if i > 0 {
			if addr, err = port(n, 9285); err != nil {
				return err
			}
			raw, err := os.ReadFile(yml)
			if err != nil {
				return err
			}
			if err := os.WriteFile(yml, bytes.Replace(raw, []byte("metrics_listen: off"), []byte("metrics_listen: "+addr), 1), 0o600); err != nil {
				return err
			}
		}
		if err := appendFile(yml, "pprof: true\n"); err != nil {
			return err
		}
		r.pprof[n.name] = addr
	}
	return nil
}

// appendFile appends line to the file at path (which ends with a newline).
func appendFile(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// profileWritePath starts profiling the processes on client c's write path: its validator
// v and storage nodes 0 and 1 (from now until the collector finishes); the client profiles
// itself (walrus bench --cpuprofile into the collector's directory). It returns the
// profiles to analyse at the end.
func (r *runner) profileWritePath(ctx context.Context, c, v *host, nodes []*host) (*collector, []ProcessProfile, error) {
	targets := map[string]*host{v.name: v}
	procs := []ProcessProfile{{Process: c.name, Role: "client"}, {Process: v.name, Role: "validator"}}
	for _, n := range nodes[:min(2, len(nodes))] {
		targets[n.name] = n
		procs = append(procs, ProcessProfile{Process: n.name, Role: "storage node"})
	}
	col, err := r.startProfiles(ctx, targets, r.pprof)
	if err != nil {
		return nil, nil, err
	}
	r.cfg.Log.Info("testbed: profiling", "client", c.name, "validator", v.name, "dir", r.cfg.ProfileDir)
	return col, procs, nil
}
