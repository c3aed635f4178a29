package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestExitCodes: exit code 2 and the 'walrus help' hint for usage errors only; every other
// failure is exit code 1 without it.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "xdg"))
	t.Setenv("HOME", filepath.Join(dir, "home"))
	t.Setenv(clientConfigEnv, "")
	dead := "http://" + deadAddr(t)
	const helpHint = "hint: run 'walrus help' for usage"
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string // in stderr ("" for success)
	}{
		{"help", []string{}, 0, ""},
		{"--version", []string{"--version"}, 0, ""},
		{"version", []string{"version"}, 0, ""},
		{"unknown command", []string{"no-such-command"}, 2, `unknown command "no-such-command" for "walrus"`},
		{"misspelt command", []string{"stor"}, 2, "did you mean store or store-quilt?"},
		{"unknown subcommand", []string{"wallet", "fly"}, 2, `unknown command "fly" for "walrus wallet"`},
		{"unknown info section", []string{"info", "weather"}, 2, `unknown command "weather" for "walrus info"`},
		{"unknown flag", []string{"store", "--no-such-flag", "f"}, 2, "unknown flag: --no-such-flag"},
		{"flag needs an argument", []string{"blob-id", "f", "--n-shards"}, 2, "flag needs an argument"},
		{"malformed flag value", []string{"blob-id", "f", "--n-shards", "many"}, 2, `invalid argument "many"`},
		{"missing operand", []string{"blob-id"}, 2, "accepts 1 arg(s), received 0"},
		{"extra operand", []string{"wallet", "address", "x"}, 2, `unknown command "x" for "walrus wallet address"`},
		{"required flag", []string{"chain", "init"}, 2, `required flag(s) "home" not set`},
		{"bad blob ID", []string{"read", "not-an-id"}, 2, `invalid blob ID "not-an-id"`},
		{"unknown context", []string{"--context", "nope", "info"}, 2, "--context nope: no client configuration file"},

		{"missing file", []string{"blob-id", filepath.Join(dir, "none"), "--n-shards", "10"}, 1, "cannot read"},
		{"unreachable chain", []string{"info", "--rpc", dead}, 1, "cannot reach the chain at " + dead},
		{"no configuration", []string{"info"}, 1, "no client configuration: "},
		{"blob-id without a chain", []string{"blob-id", "-"}, 1, "--n-shards N"},
		{"missing wallet", []string{"wallet", "address", "--wallet", filepath.Join(dir, "none.key")}, 1, "no wallet at "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("code %d, want %d; stdout %q, stderr %q", code, tc.code, out, errs)
			}
			if tc.code == 0 {
				if errs != "" || out == "" {
					t.Fatalf("stdout %q, stderr %q", out, errs)
				}
				return
			}
			if out != "" || !strings.HasPrefix(errs, "walrus: error: ") || !strings.Contains(errs, tc.msg) {
				t.Fatalf("stdout %q, stderr %q; want %q", out, errs, tc.msg)
			}
			if got := strings.Contains(errs, helpHint); got != (tc.code == 2) {
				t.Fatalf("help hint %v for exit code %d: %q", got, code, errs)
			}
		})
	}
	out, _, _ := run(t, "--version")
	if !strings.HasPrefix(out, "walrus ") {
		t.Errorf("--version: %q", out)
	}
}
