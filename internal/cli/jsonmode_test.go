package cli

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestExpandMultiValueFlags(t *testing.T) {
	pairs := map[string]string{"attr": "attr-value"}
	greedy := map[string]bool{"keys": true}
	cases := []struct{ in, want []string }{
		{[]string{"OBJ", "--attr", "k", "v"}, []string{"OBJ", "--attr", "k", "--attr-value", "v"}},
		{[]string{"--attr", "k1", "v1", "--attr", "k2", "v2", "OBJ"}, []string{"--attr", "k1", "--attr-value", "v1", "--attr", "k2", "--attr-value", "v2", "OBJ"}},
		{[]string{"--attr=k", "v", "OBJ"}, []string{"--attr=k", "--attr-value", "v", "OBJ"}},
		{[]string{"OBJ", "--attr", "k"}, []string{"OBJ", "--attr", "k"}},
		{[]string{"OBJ", "--attr"}, []string{"OBJ", "--attr"}},
		{[]string{"OBJ", "--keys", "a", "b,c", "d e", "--json"}, []string{"OBJ", "--keys=a", "--keys=b,c", "--keys=d e", "--json"}},
		{[]string{"--keys=a", "b", "--", "--keys", "x"}, []string{"--keys=a", "--keys=b", "--", "--keys", "x"}},
		{[]string{"--keys", "--json"}, []string{"--keys", "--json"}},
		{[]string{"--config", "c.yaml", "OBJ"}, []string{"--config", "c.yaml", "OBJ"}},
	}
	for _, c := range cases {
		if got := expandMultiValueFlags(c.in, pairs, greedy); !slices.Equal(got, c.want) {
			t.Errorf("expand %q = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestJSONCommandLine(t *testing.T) {
	root := newRoot(&env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, stdin: strings.NewReader("")})
	cases := []struct {
		in   string
		want []string
	}{
		{`{"config": "c.yaml", "command": {"store": {"files": ["a", "-b"], "epochs": "max", "deletable": true, "force": false}}}`,
			[]string{"--json", "--config=c.yaml", "store", "--deletable", "--epochs=max", "--", "a", "-b"}},
		{`{"command": {"blobStatus": {"blobId": "X"}}}`, []string{"--json", "blob-status", "--blob-id=X"}},
		{`{"command": {"read": {"blobId": "-X", "out": "o"}}}`, []string{"--json", "read", "--out=o", "--", "-X"}},
		{`{"command": {"delete": {"objectIds": ["1", "2"], "yes": true}}}`, []string{"--json", "delete", "--object-ids=1", "--object-ids=2", "--yes"}},
		{`{"command": {"requestWithdrawStake": {"nodeId": "N", "stakedWalIds": ["S1", "S2"], "dryRun": true}}}`,
			[]string{"--json", "request-withdraw-stake", "--dry-run", "--", "N", "S1", "S2"}},
		{`{"command": {"setBlobAttribute": {"blobObjId": "O", "attributes": ["k", "v"]}}}`, []string{"--json", "set-blob-attribute", "--attr", "k", "v", "--", "O"}},
		{`{"command": {"health": {"nodeIds": ["A"], "sortBy": "name"}}}`, []string{"--json", "health", "--node-ids=A", "--sort-by=name"}},
		{`{"command": {"listBlobs": null}}`, []string{"--json", "list-blobs"}},
		{`{"command": {"stake": {"nodeIds": ["A"], "amounts": [5]}}}`, []string{"--json", "stake", "--amounts=5", "--node-ids=A"}},
	}
	for _, c := range cases {
		got, err := jsonCommandLine(root, []byte(c.in))
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// FuzzJSONCommandLine: any input gives a command line or an error, never a panic, and a
// command line always asks for JSON output and never runs json itself.
func FuzzJSONCommandLine(f *testing.F) {
	for _, s := range []string{
		`{"config": "c.yaml", "command": {"store": {"files": ["a"], "epochs": 2}}}`,
		`{"command": {"setBlobAttribute": {"blobObjId": "O", "attributes": ["k", "v"]}}}`,
		`{"command": {"removeBlobAttributeFields": {"blobObjId": "O", "keys": ["k"]}}}`,
		`{"command": {"json": {}}}`, `{"command": 5}`, `[]`, `{"command": {"read": {"blobId": [1, {"a": 2}]}}}`,
	} {
		f.Add([]byte(s))
	}
	root := newRoot(&env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, stdin: strings.NewReader("")})
	f.Fuzz(func(t *testing.T, in []byte) {
		line, err := jsonCommandLine(root, in)
		if err != nil {
			return
		}
		if len(line) < 2 || line[0] != "--json" || slices.Contains(line, "json") && line[slices.Index(line, "json")-1] != "--" {
			t.Fatalf("%s gave %q", in, line)
		}
	})
}

func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "bash completion V2 for walrus", "zsh": "#compdef walrus", "fish": "fish completion for walrus", "powershell": "powershell completion for walrus"} {
		out, errs, code := runCLI(t, "", "completion", "--shell", shell)
		if code != 0 || !strings.Contains(string(out), want) {
			t.Errorf("completion --shell %s: %d, %d bytes, %q", shell, code, len(out), errs)
		}
	}
	if out, _, code := runCLI(t, "", "completion", "fish"); code != 0 || !bytes.Contains(out, []byte("fish completion")) {
		t.Errorf("completion fish: %d", code)
	}
	wantFail(t, 2, `no completion for shell "tcsh"`, "completion", "--shell", "tcsh")
	wantFail(t, 2, "disagree", "completion", "--shell", "zsh", "bash")
	t.Setenv("SHELL", "")
	os.Unsetenv("SHELL")
	wantFail(t, 2, "$SHELL is not set", "completion")
}
