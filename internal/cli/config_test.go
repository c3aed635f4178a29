package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveClientConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flat := write("flat/client.yaml", "rpc_url: http://127.0.0.1:1000\nchain_id: c-flat\nwallet: w.key\n")
	ctxs := write("ctx/client.yaml", `contexts:
  a:
    rpc_url: http://127.0.0.1:2001
    wallet: a.key
  b:
    rpc_url: http://127.0.0.1:2002
    chain_id: c-b
    wallet: /abs/b.key
default_context: a
`)
	one := write("one.yaml", "contexts:\n  only: {rpc_url: 'http://127.0.0.1:3000'}\n")
	noDefault := write("nodefault.yaml", "contexts:\n  x: {rpc_url: 'http://h:1'}\n  y: {rpc_url: 'http://h:2'}\n")
	badDefault := write("baddefault.yaml", "contexts:\n  x: {rpc_url: 'http://h:1'}\ndefault_context: z\n")
	mixed := write("mixed.yaml", "rpc_url: http://h:1\ncontexts:\n  x: {rpc_url: 'http://h:1'}\n")
	unknownTop := write("unknown.yaml", "rpc_url: http://h:1\nwalet: x\n")
	unknownInCtx := write("unknownctx.yaml", "contexts:\n  x: {rpc_url: 'http://h:1', chainid: q}\n")
	defaultNoCtx := write("defaultnoctx.yaml", "rpc_url: http://h:1\ndefault_context: x\n")
	noRPC := write("norpc.yaml", "wallet: w.key\n")
	badRPC := write("badrpc.yaml", "rpc_url: 127.0.0.1:5\n")
	home := filepath.Join(dir, "home") // the default directory, holding default.yaml's twin
	write("home/client.yaml", "rpc_url: http://127.0.0.1:4000\n")
	emptyHome := filepath.Join(dir, "nohome")

	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	noEnv := env()

	cases := []struct {
		name    string
		flags   configFlags
		getenv  func(string) string
		home    string
		rpc     string
		chainID string
		wallet  string
		from    string
		context string
		err     string // substring of the error; "" for success
		usage   bool   // the error is a usage error
	}{
		{name: "flat via --config", flags: configFlags{path: flat}, getenv: noEnv, home: home,
			rpc: "http://127.0.0.1:1000", chainID: "c-flat", wallet: filepath.Join(dir, "flat", "w.key"), from: "config"},
		{name: "flat via env", flags: configFlags{}, getenv: env(clientConfigEnv, flat), home: home,
			rpc: "http://127.0.0.1:1000", chainID: "c-flat", wallet: filepath.Join(dir, "flat", "w.key"), from: "config"},
		{name: "--config beats env", flags: configFlags{path: flat}, getenv: env(clientConfigEnv, ctxs), home: home,
			rpc: "http://127.0.0.1:1000", chainID: "c-flat", wallet: filepath.Join(dir, "flat", "w.key"), from: "config"},
		{name: "default path", flags: configFlags{}, getenv: noEnv, home: home,
			rpc: "http://127.0.0.1:4000", wallet: filepath.Join(home, walletFileName), from: "default"},
		{name: "default context", flags: configFlags{path: ctxs}, getenv: noEnv, home: home,
			rpc: "http://127.0.0.1:2001", wallet: filepath.Join(dir, "ctx", "a.key"), from: "config", context: "a"},
		{name: "--context", flags: configFlags{path: ctxs, context: "b"}, getenv: noEnv, home: home,
			rpc: "http://127.0.0.1:2002", chainID: "c-b", wallet: "/abs/b.key", from: "config", context: "b"},
		{name: "the only context", flags: configFlags{path: one}, getenv: noEnv, home: home,
			rpc: "http://127.0.0.1:3000", wallet: filepath.Join(home, walletFileName), from: "default", context: "only"},
		{name: "flags override", flags: configFlags{path: ctxs, context: "b", rpc: "127.0.0.1:9", wallet: "my.key"}, getenv: noEnv, home: home,
			rpc: "http://127.0.0.1:9", chainID: "c-b", wallet: "my.key", from: "--wallet", context: "b"},
		{name: "--rpc without a default file", flags: configFlags{rpc: "http://127.0.0.1:7"}, getenv: noEnv, home: emptyHome,
			rpc: "http://127.0.0.1:7", wallet: filepath.Join(emptyHome, walletFileName), from: "default"},

		{name: "unknown context", flags: configFlags{path: ctxs, context: "c"}, getenv: noEnv, home: home,
			err: `--context "c": no such context in ` + ctxs + ` (it has a, b)`, usage: true},
		{name: "--context on a flat file", flags: configFlags{path: flat, context: "a"}, getenv: noEnv, home: home,
			err: "--context a: " + flat + " has no contexts", usage: true},
		{name: "--context without a file", flags: configFlags{context: "a", rpc: "http://h:1"}, getenv: noEnv, home: emptyHome,
			err: "--context a: no client configuration file", usage: true},
		{name: "no default_context", flags: configFlags{path: noDefault}, getenv: noEnv, home: home,
			err: noDefault + ": default_context is missing and there are 2 contexts"},
		{name: "unknown default_context", flags: configFlags{path: badDefault, context: "x"}, getenv: noEnv, home: home,
			err: badDefault + `: default_context "z": no such context (it has x)`},
		{name: "flat and contexts", flags: configFlags{path: mixed}, getenv: noEnv, home: home,
			err: mixed + ": rpc_url: a file with contexts holds its settings inside them"},
		{name: "unknown field", flags: configFlags{path: unknownTop}, getenv: noEnv, home: home, err: "walet"},
		{name: "unknown field in a context", flags: configFlags{path: unknownInCtx}, getenv: noEnv, home: home, err: "chainid"},
		{name: "default_context without contexts", flags: configFlags{path: defaultNoCtx}, getenv: noEnv, home: home,
			err: `default_context "x": the file has no contexts`},
		{name: "rpc_url missing", flags: configFlags{path: noRPC}, getenv: noEnv, home: home, err: "rpc_url in " + noRPC + " is missing"},
		{name: "rpc_url missing in a context", flags: configFlags{path: write("ctxnorpc.yaml", "contexts:\n  q: {wallet: k}\n")}, getenv: noEnv, home: home,
			err: "contexts.q.rpc_url in "},
		{name: "rpc_url without scheme", flags: configFlags{path: badRPC}, getenv: noEnv, home: home, err: `rpc_url in ` + badRPC + ` "127.0.0.1:5": want http://host:port`},
		{name: "missing --config", flags: configFlags{path: filepath.Join(dir, "none.yaml")}, getenv: noEnv, home: home,
			err: "no client configuration: " + filepath.Join(dir, "none.yaml") + " not found"},
		{name: "missing env file", flags: configFlags{rpc: "http://h:1"}, getenv: env(clientConfigEnv, filepath.Join(dir, "none.yaml")), home: home,
			err: "no client configuration: " + filepath.Join(dir, "none.yaml") + " not found"},
		{name: "no file at all", flags: configFlags{}, getenv: noEnv, home: emptyHome,
			err: "no client configuration: " + filepath.Join(emptyHome, clientConfigName) + " not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := resolveClientConfig(tc.flags, tc.getenv, tc.home)
			if tc.err != "" {
				var u usageError
				if err == nil || !strings.Contains(err.Error(), tc.err) || errors.As(err, &u) != tc.usage {
					t.Fatalf("error %v (usage %v), want %q (usage %v)", err, errors.As(err, &u), tc.err, tc.usage)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.RPCURL != tc.rpc || c.ChainID != tc.chainID || c.Wallet != tc.wallet || c.WalletFrom != tc.from || c.Context != tc.context {
				t.Fatalf("got rpc %q chain %q wallet %q (%s) context %q; want %q %q %q (%s) %q",
					c.RPCURL, c.ChainID, c.Wallet, c.WalletFrom, c.Context, tc.rpc, tc.chainID, tc.wallet, tc.from, tc.context)
			}
		})
	}
}

// TestWalletHints: the wallet error says where the path came from, and without any
// configuration it says how to point at one before suggesting a new wallet.
func TestWalletHints(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "client.yaml")
	if err := os.WriteFile(cfg, []byte("rpc_url: http://127.0.0.1:1\nwallet: missing.key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "xdg"))
	t.Setenv("HOME", filepath.Join(dir, "home"))
	t.Setenv(clientConfigEnv, "")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"configured wallet", []string{"--config", cfg, "wallet", "address"},
			[]string{"no wallet at " + filepath.Join(dir, "missing.key") + " (wallet in " + cfg + ")", "hint: check 'wallet' in " + cfg}},
		{"no configuration", []string{"wallet", "balance"},
			[]string{"no client configuration at ", "hint: point at your configuration with WALRUS_CONFIG=FILE or --config FILE", "'walrus wallet new'"}},
		{"no configuration, faucet", []string{"faucet"},
			[]string{"hint: point at your configuration with WALRUS_CONFIG=FILE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := run(t, tc.args...)
			if code != 1 || out != "" {
				t.Fatalf("code %d, stdout %q, stderr %q", code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q lacks %q", errs, w)
				}
			}
			if strings.Index(errs, "WALRUS_CONFIG") > strings.Index(errs, "wallet new") && strings.Contains(errs, "wallet new") {
				t.Errorf("stderr suggests a new wallet before the configuration: %q", errs)
			}
		})
	}
}

// TestConfigWalletNew: 'wallet new' writes the configuration's wallet, relative to its file.
func TestConfigWalletNew(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "client.yaml")
	if err := os.WriteFile(cfg, []byte("contexts:\n  dev: {rpc_url: 'http://127.0.0.1:1', wallet: keys/dev.key}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(clientConfigEnv, cfg)
	if err := os.Mkdir(filepath.Join(dir, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run(t, "wallet", "new")
	if code != 0 || !strings.Contains(out, filepath.Join(dir, "keys", "dev.key")) {
		t.Fatalf("wallet new: code %d, %q, %q", code, out, errs)
	}
	addr, errs, code := run(t, "wallet", "address")
	if code != 0 || !strings.HasPrefix(addr, "0x") || !strings.Contains(out, strings.TrimSpace(addr)) {
		t.Fatalf("wallet address: code %d, %q, %q", code, addr, errs)
	}
}

func TestDropPackagePrefixes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"chainclient: transaction failed in block 7: ErrNotDeletable (code 23): blob is not deletable",
			"transaction failed in block 7: ErrNotDeletable (code 23): blob is not deletable"},
		{"client: deleting 0xab: chainclient: transaction rejected: x (code 1): y", "deleting 0xab: transaction rejected: x (code 1): y"},
		{"nodeclient: node 3: chain: epoch", "node 3: epoch"},
		{"a subclient: is kept", "a subclient: is kept"},
		{"", ""},
	} {
		if got := dropPackagePrefixes(tc.in); got != tc.want {
			t.Errorf("dropPackagePrefixes(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestLoadClientConfig: the compatibility accessor returns the selected context's settings
// with the flags applied, as the flat form.
func TestLoadClientConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "client.yaml")
	if err := os.WriteFile(cfg, []byte("contexts:\n  a: {rpc_url: 'http://127.0.0.1:1', wallet: a.key, chain_id: ca}\n  b: {rpc_url: 'http://127.0.0.1:2'}\ndefault_context: a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ce := &clientEnv{env: &env{}, configPath: cfg, walletFlag: "w.key"}
	f, path, err := ce.loadClientConfig()
	if err != nil || path != cfg || f.RPCURL != "http://127.0.0.1:1" || f.ChainID != "ca" || f.Wallet != "w.key" || f.Contexts != nil {
		t.Fatalf("%+v %q %v", f, path, err)
	}
}
