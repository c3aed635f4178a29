package cli

import (
	"bufio"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// composeFile is the part of deploy/compose.yaml the test reads.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image      string   `yaml:"image"`
	Entrypoint []string `yaml:"entrypoint"`
	Command    []string `yaml:"command"`
	Volumes    []string `yaml:"volumes"`
	Ports      []string `yaml:"ports"`
	Profiles   []string `yaml:"profiles"`
}

const composeMount = "/walrus"

// TestComposeAgreesWithChainInit runs the compose file's 'walrus chain init' (in a temporary
// directory standing for the shared volume) and checks that every service runs from a
// directory it wrote, publishes the ports its configuration listens on, reaches the
// validators by their service names, and passes the CLI's own flag parsing; a 4-validator,
// 7-node network.
func TestComposeAgreesWithChainInit(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(raw, &cf); err != nil {
		t.Fatal(err)
	}
	if _, ok := cf.Volumes["walrus"]; !ok {
		t.Fatalf("no walrus volume: %v", cf.Volumes)
	}
	var validators, nodes []string
	for name, s := range cf.Services {
		if !slices.Contains(s.Volumes, "walrus:"+composeMount) {
			t.Errorf("service %s does not mount the walrus volume at %s: %v", name, composeMount, s.Volumes)
		}
		switch {
		case strings.HasPrefix(name, "validator-"):
			validators = append(validators, name)
		case strings.HasPrefix(name, "node-"):
			nodes = append(nodes, name)
		}
	}
	if len(validators) != 4 || len(nodes) != 7 {
		t.Fatalf("%d validators and %d storage nodes, want 4 and 7", len(validators), len(nodes))
	}

	// The init service: a shell line ending in the chain init command.
	init := cf.Services["init"]
	if len(init.Command) != 1 {
		t.Fatalf("init command %q: want one shell line", init.Command)
	}
	_, line, ok := strings.Cut(init.Command[0], "|| walrus ")
	if !ok {
		t.Fatalf("init command %q: no '|| walrus ...'", init.Command[0])
	}
	vol := t.TempDir()
	inVolume := func(p string) string {
		t.Helper()
		rest, ok := strings.CutPrefix(p, composeMount+"/")
		if !ok {
			t.Fatalf("path %s is not in the volume %s", p, composeMount)
		}
		return filepath.Join(vol, rest)
	}
	args := strings.Fields(line)
	for i, a := range args {
		if strings.HasPrefix(a, composeMount+"/") {
			args[i] = inVolume(a)
		}
	}
	if out, errs, code := run(t, args...); code != 0 {
		t.Fatalf("walrus %s: code %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}

	containerPort := func(name string, s composeService) map[string]bool {
		ports := map[string]bool{}
		for _, p := range s.Ports {
			i := strings.LastIndex(p, ":")
			ports[p[i+1:]] = true
		}
		return ports
	}
	checkArgs := func(name string, s composeService) {
		t.Helper()
		e := &env{stdout: io.Discard, stderr: io.Discard}
		cmd, rest, err := newRoot(e).Find(s.Command)
		if err != nil {
			t.Fatalf("%s: command %q: %v", name, s.Command, err)
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Fatalf("%s: command %q: %v", name, s.Command, err)
		}
	}
	for _, name := range validators {
		s := cf.Services[name]
		checkArgs(name, s)
		if len(s.Command) != 4 || s.Command[2] != "--home" {
			t.Fatalf("%s: command %q: want chain start --home DIR", name, s.Command)
		}
		cfg, _, err := loadValidatorConfig(inVolume(s.Command[3]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, rpcPort, _ := net.SplitHostPort(cfg.RPCListen)
		if !containerPort(name, s)[rpcPort] {
			t.Errorf("%s: JSON-RPC listens on %s but the service publishes %v", name, cfg.RPCListen, s.Ports)
		}
		for _, p := range cfg.PersistentPeers {
			_, addr, _ := strings.Cut(p, "@")
			host, _, _ := net.SplitHostPort(addr)
			if _, ok := cf.Services[host]; !ok || host == name {
				t.Errorf("%s: peer %s is not another service", name, p)
			}
		}
		if len(cfg.PersistentPeers) != 3 {
			t.Errorf("%s: peers %v", name, cfg.PersistentPeers)
		}
	}
	for _, name := range nodes {
		s := cf.Services[name]
		checkArgs(name, s)
		if len(s.Command) != 3 || s.Command[1] != "--config" {
			t.Fatalf("%s: command %q: want node --config FILE", name, s.Command)
		}
		cfg, err := loadNodeConfig(inVolume(s.Command[2]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || u.Hostname() != name {
			t.Errorf("%s: public URL %s does not name the service", name, cfg.PublicURL)
		}
		_, mport, _ := net.SplitHostPort(cfg.MetricsListen)
		if !containerPort(name, s)[mport] {
			t.Errorf("%s: metrics listen on %s but the service publishes %v", name, cfg.MetricsListen, s.Ports)
		}
		eps := cfg.ChainEndpoints()
		if len(eps) != len(validators) {
			t.Errorf("%s: validators %v, want all %d", name, eps, len(validators))
		}
		for _, ep := range eps {
			u, err := url.Parse(ep)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if _, ok := cf.Services[u.Hostname()]; !ok || !strings.HasPrefix(u.Hostname(), "validator-") {
				t.Errorf("%s: chain RPC %s is not a validator service", name, ep)
			}
		}
	}
	// The client service reads the client configuration chain init wrote.
	var clientCfg string
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "WALRUS_CONFIG: "); ok {
			clientCfg = v
		}
	}
	if _, err := os.Stat(inVolume(clientCfg)); err != nil {
		t.Errorf("client configuration %q: %v", clientCfg, err)
	}
}

// TestSystemdUnits checks that each unit's ExecStart is a walrus command line the CLI
// accepts.
func TestSystemdUnits(t *testing.T) {
	units, err := filepath.Glob(filepath.Join("..", "..", "deploy", "systemd", "*.service"))
	if err != nil || len(units) < 2 {
		t.Fatalf("units %v, %v", units, err)
	}
	for _, u := range units {
		f, err := os.Open(u)
		if err != nil {
			t.Fatal(err)
		}
		var exec string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "ExecStart="); ok {
				exec = v
			}
		}
		f.Close()
		fields := strings.Fields(strings.ReplaceAll(exec, "%i", "storage-node-0"))
		if len(fields) < 2 || filepath.Base(fields[0]) != "walrus" {
			t.Fatalf("%s: ExecStart %q is not a walrus command", u, exec)
		}
		e := &env{stdout: io.Discard, stderr: io.Discard}
		cmd, rest, err := newRoot(e).Find(fields[1:])
		if err == nil {
			err = cmd.ParseFlags(rest)
		}
		if err != nil || cmd.RunE == nil {
			t.Errorf("%s: ExecStart %q: %v", u, exec, err)
		}
	}
}

// TestStorageNodeYAMLFailoverOrder checks that genesis storage nodes spread over the
// validators, each listing all of them.
func TestStorageNodeYAMLFailoverOrder(t *testing.T) {
	urls := []string{"http://a:1", "http://b:1", "http://c:1"}
	for i := range 4 {
		got := rotate(urls, i)
		if got[0] != urls[i%3] || len(got) != 3 {
			t.Errorf("node %d: %v", i, got)
		}
	}
	b, err := storageNodeYAML("n", "h:9185", rotate(urls, 1), deployOptions{bindAll: true, metricsOffset: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"chain_rpc: http://b:1\n", "  - http://c:1\n  - http://a:1\n", "listen: 0.0.0.0:9185\n", "public_url: https://h:9185\n", "metrics_listen: 0.0.0.0:" + strconv.Itoa(9285) + "\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("node.yaml lacks %q:\n%s", want, b)
		}
	}
	if _, err := storageNodeYAML("n", "no-port", urls, deployOptions{}); err == nil {
		t.Error("accepted a network address without a port")
	}
}
