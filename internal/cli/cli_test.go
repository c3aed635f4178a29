package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestBlobID(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "reg.txt")
	// Walrus's own blob ID regression test (n = 10).
	if err := os.WriteFile(f, []byte("walrus blob id v1 regression test"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run(t, "blob-id", f, "--n-shards", "10")
	if code != 0 || !strings.Contains(out, "Blob ID: RcU82Mwf-CFkv1LaI_2qcpANwpGUuG3TMwnVzZxD2kY\n") {
		t.Fatalf("code %d, stdout %q, stderr %q", code, out, errs)
	}
	out, _, code = run(t, "blob-id", "--json", f, "--n-shards", "10")
	var res blobIDResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("code %d, output %q", code, out)
	}
	want := blobIDResult{BlobID: "RcU82Mwf-CFkv1LaI_2qcpANwpGUuG3TMwnVzZxD2kY", UnencodedLength: 33,
		EncodedLength: 4700, WalrusEncodedLength: 6940, SymbolSize: 2, RootHash: res.RootHash, NShards: 10}
	if res != want || len(res.RootHash) != 64 {
		t.Fatalf("json %+v, want %+v", res, want)
	}
	// The empty blob at n = 1000 (the default) has a published ID.
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, "blob-id", empty, "--n-shards", "1000")
	if code != 0 || !strings.Contains(out, "3GPQL3HZNnFhN_F7l5Aa-X1VOtAKwIsg9zuWk8R81v4") {
		t.Fatalf("empty blob: code %d, %q", code, out)
	}
}

func TestBlobIDErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	// n = 4 holds at most 2*3*65534 bytes.
	if err := os.WriteFile(big, make([]byte, 393205), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"blob-id", filepath.Join(dir, "missing")}, 1, "cannot read"},
		{[]string{"blob-id", dir}, 1, "is a directory"},
		{[]string{"blob-id", big, "--n-shards", "4"}, 1, "data too large"},
		{[]string{"blob-id", big, "--n-shards", "3"}, 2, "unsupported number of shards"},
		{[]string{"blob-id"}, 2, "accepts 1 arg"},
		{[]string{"no-such-command"}, 2, "unknown command"},
		{[]string{"convert-blob-id", "12x"}, 2, "not a decimal u256"},
	}
	for _, tc := range cases {
		out, errs, code := run(t, tc.args...)
		if code != tc.code || out != "" || !strings.HasPrefix(errs, "walrus: error: ") || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: code %d, stdout %q, stderr %q; want code %d and %q", tc.args, code, out, errs, tc.code, tc.msg)
		}
	}
}

func TestConvertBlobID(t *testing.T) {
	out, _, code := run(t, "convert-blob-id", "46269954626831698189342469164469112511517843773769981308926739591706762839432")
	if code != 0 || out != "iIWkkUTzPZx-d1E_A7LqUynnYFD-ztk39_tP8MLdS2Y\n" {
		t.Fatalf("code %d, %q", code, out)
	}
}
