package cli

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
)

func TestBlobIDOperands(t *testing.T) {
	const id = "-R75x1oT9XA2P3quFAoHpCDRtRHEeaAcmdZwUfZnLZE" // a valid blob ID
	const id2 = "--75x1oT9XA2P3quFAoHpCDRtRHEeaAcmdZwUfZnLZE"
	cases := []struct{ in, want []string }{
		{[]string{"read", id}, []string{"read", "--", id}},
		{[]string{"read", id, "--out", "f"}, []string{"read", "--out", "f", "--", id}},
		{[]string{"--json", "read", id2}, []string{"--json", "read", "--", id2}},
		{[]string{"read", "--out=f", id}, []string{"read", "--out=f", "--", id}},
		// Values of flags stay where they are, whatever they look like.
		{[]string{"read", "--out", id, "x"}, []string{"read", "--out", id, "x"}},
		{[]string{"blob-status", "--blob-id", id}, []string{"blob-status", "--blob-id", id}},
		// A boolean flag takes no value, so the ID after it is an operand.
		{[]string{"read", "--skip-consistency-check", id}, []string{"read", "--skip-consistency-check", "--", id}},
		// After "--" everything is an operand already; operands keep their order.
		{[]string{"read", "--", id}, []string{"read", "--", id}},
		{[]string{"store", "a", id, "--", "b"}, []string{"store", "a", "--", id, "b"}},
		// Not blob IDs: left for the flag parser to reject.
		{[]string{"read", "-Rshort"}, []string{"read", "-Rshort"}},
		{[]string{"read", "-é"}, []string{"read", "-é"}},
		{[]string{"nosuchcommand", id}, []string{"nosuchcommand", id}},
	}
	for _, c := range cases {
		root := newRoot(&env{ctx: context.Background()})
		if got := blobIDOperands(root, slices.Clone(c.in)); !slices.Equal(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}

// TestReadDashBlobID runs the whole command line: a blob ID starting with '-' must reach
// the read command (which then fails for want of a network), not the flag parser.
func TestReadDashBlobID(t *testing.T) {
	const id = "-R75x1oT9XA2P3quFAoHpCDRtRHEeaAcmdZwUfZnLZE"
	cfg := t.TempDir() + "/missing.yaml"
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"--config", cfg, "read", id}, strings.NewReader(""), &out, &errb)
	if code == 0 || strings.Contains(errb.String(), "shorthand") || strings.Contains(errb.String(), "unknown flag") {
		t.Fatalf("code %d, stderr %q", code, errb.String())
	}
	code = Main(context.Background(), []string{"read", "-Rshort"}, strings.NewReader(""), &out, &errb)
	if code != 2 {
		t.Fatalf("a bad flag gave code %d, want 2", code)
	}
}
