package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/portal"
)

// TestSiteBadInput: every site command refuses bad operands and flags before it touches the
// network, with the usage exit code and a message naming what is wrong.
func TestSiteBadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	badCfg := filepath.Join(dir, "badcfg")
	os.MkdirAll(badCfg, 0o755)
	os.WriteFile(filepath.Join(badCfg, "ws-resources.json"), []byte(`{"routes": {"app": "/index.html"}}`), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"site", "deploy"}, 2, "accepts 1 arg"},
		{[]string{"site", "deploy", dir}, 2, `"epochs" not set`},
		{[]string{"site", "deploy", dir, "--epochs", "0"}, 2, "--epochs must be at least 1"},
		{[]string{"site", "deploy", filepath.Join(dir, "missing"), "--epochs", "1"}, 2, "is not a directory"},
		{[]string{"site", "deploy", file, "--epochs", "1"}, 2, "is not a directory"},
		{[]string{"site", "deploy", dir, "--epochs", "1", "--site-object", "nope"}, 2, "invalid site object ID"},
		{[]string{"site", "deploy", dir, "--epochs", "1", "--site-name", strings.Repeat("n", 300)}, 2, "--site-name"},
		{[]string{"site", "deploy", badCfg, "--epochs", "1"}, 1, "bad ws-resources.json"},
		{[]string{"site", "sitemap"}, 2, "accepts 1 arg"},
		{[]string{"site", "sitemap", "0x12"}, 2, "invalid site object ID"},
		{[]string{"site", "destroy", "short"}, 2, "invalid site object ID"},
		{[]string{"site", "convert", "NOT-AN-ID"}, 2, "invalid site object ID"},
		{[]string{"site", "name", "set", "Bad_Name", "0x" + strings.Repeat("1", 64)}, 2, "invalid site name"},
		{[]string{"site", "name", "set", "good", "bad"}, 2, "invalid site object ID"},
		{[]string{"site", "name", "set", "good"}, 2, "accepts 2 arg"},
		{[]string{"site", "list", "extra"}, 2, "unknown command"},
		{[]string{"portal", "--max-concurrent", "0"}, 2, "must be positive"},
		{[]string{"portal", "extra"}, 2, "unknown command"},
	} {
		_, errs, code := run(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) || !strings.HasPrefix(errs, "walrus: error: ") {
			t.Errorf("%v: exit %d, stderr:\n%s\nwant exit %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}

func TestSiteConvert(t *testing.T) {
	id := chain.ObjectID{0x12, 0x34, 31: 0xff}
	b36 := portal.Base36(id)
	out, errs, code := run(t, "site", "convert", id.String())
	if code != 0 || strings.TrimSpace(out) != b36 {
		t.Fatalf("convert %s: %d %q %s", id, code, out, errs)
	}
	out, _, code = run(t, "site", "convert", b36)
	if code != 0 || strings.TrimSpace(out) != id.String() {
		t.Fatalf("convert %s: %d %q", b36, code, out)
	}
	out, _, code = run(t, "site", "convert", b36, "--json")
	if code != 0 || !strings.Contains(out, `"base36": "`+b36+`"`) || !strings.Contains(out, `"objectId": "`+id.String()+`"`) {
		t.Fatalf("convert --json: %d %s", code, out)
	}
}
