package cli

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// TestBlobIDMappedFile: a file large enough to be mapped gets the ID of its bytes, the
// same as through standard input (which is always read), and the mapping does not keep
// the file's bytes from being seen as they are (an odd length, so the last row is
// partial).
func TestBlobIDMappedFile(t *testing.T) {
	data := make([]byte, mapInputMin+12345)
	r := rand.New(rand.NewPCG(7, 11))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	f := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := redstuff.NewConfig(100)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cfg.ComputeMetadata(data)
	if err != nil {
		t.Fatal(err)
	}
	want := "Blob ID: " + m.BlobID.String() + "\n"
	out, errs, code := run(t, "blob-id", f, "--n-shards", "100")
	if code != 0 || !strings.HasPrefix(out, want) {
		t.Fatalf("file: code %d, stdout %q, stderr %q; want %q", code, out, errs, want)
	}
	var stdout, stderr bytes.Buffer
	code = Main(context.Background(), []string{"blob-id", "-", "--n-shards", "100"}, bytes.NewReader(data), &stdout, &stderr)
	if code != 0 || !strings.HasPrefix(stdout.String(), want) {
		t.Fatalf("stdin: code %d, stdout %q, stderr %q; want %q", code, stdout.String(), stderr.String(), want)
	}
	got, release, err := mapOrReadInput(f, cfg.MaxBlobSize(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("mapped bytes differ from the file's")
	}
	release()
}
