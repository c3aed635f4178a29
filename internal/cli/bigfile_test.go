package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/walrus-go/walrus/internal/manifest"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestCLILargeFile stores a file larger than a chunk (1 MiB at 10 shards), reads it back
// to a file and to standard output, refuses a truncated manifest with nothing on standard
// output, and deletes every part.
func TestCLILargeFile(t *testing.T) {
	n := newCLINet(t, testnet.Options{Shards: 10})
	dir := t.TempDir()
	path, data := writeRandom(t, dir, "large", 2<<20+1234) // 3 chunks
	out, stderr, code := n.walrus(t, "store", "--epochs", "2", path)
	if code != 0 || !strings.Contains(string(out), "stored as 3 chunks") {
		t.Fatalf("store: %d\n%s\n%s", code, out, stderr)
	}
	id := regexp.MustCompile(`Blob ID: (\S+)`).FindSubmatch(out)
	if id == nil {
		t.Fatalf("no blob ID in\n%s", out)
	}
	blob := string(id[1])
	got, stderr, code := n.walrus(t, "read", blob)
	if code != 0 || !bytes.Equal(got, data) {
		t.Fatalf("read to stdout: %d, %d bytes\n%s", code, len(got), stderr)
	}
	dst := filepath.Join(dir, "copy")
	if _, stderr, code = n.walrus(t, "read", blob, "--out", dst); code != 0 {
		t.Fatalf("read --out: %d %s", code, stderr)
	}
	if b, err := os.ReadFile(dst); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("read --out: %v, equal %v", err, bytes.Equal(b, data))
	}

	// From standard input, whose size is unknown, the same bytes are chunked as they arrive
	// and give the same file.
	out, stderr, code = runCLI(t, string(data), "--config", n.config, "store", "--epochs", "2", "-")
	sid := regexp.MustCompile(`Blob ID: (\S+)`).FindSubmatch(out)
	if code != 0 || sid == nil || !strings.Contains(string(out), "stored as 3 chunks") {
		t.Fatalf("store -: %d\n%s\n%s", code, out, stderr)
	}
	if got, stderr, code = n.walrus(t, "read", string(sid[1])); code != 0 || !bytes.Equal(got, data) {
		t.Fatalf("read of the file from stdin: %d, %d bytes\n%s", code, len(got), stderr)
	}

	// Encrypted, the same file is sealed as it is chunked: the chunks in order are one age
	// file. A plain read streams the ciphertext with a hint; --identity decrypts it.
	key, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.txt")
	if err := os.WriteFile(keyFile, []byte(key.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = n.walrus(t, "store", "--epochs", "2", "--encrypt-to", key.Recipient().String(), path)
	eid := regexp.MustCompile(`Blob ID: (\S+)`).FindSubmatch(out)
	if code != 0 || eid == nil || !strings.Contains(string(out), "stored as 3 chunks") {
		t.Fatalf("encrypted store: %d\n%s\n%s", code, out, stderr)
	}
	sealed, stderr, code := n.walrus(t, "read", string(eid[1]))
	if code != 0 || !bytes.HasPrefix(sealed, []byte("age-encryption.org/v1\n")) || !strings.Contains(stderr, "age-encrypted") {
		t.Fatalf("read of the encrypted file: %d, %d bytes\n%s", code, len(sealed), stderr)
	}
	if r, err := age.Decrypt(bytes.NewReader(sealed), key); err != nil {
		t.Fatalf("the stored chunks are not one age file: %v", err)
	} else if plain, err := io.ReadAll(r); err != nil || !bytes.Equal(plain, data) {
		t.Fatalf("decrypted stored chunks: %v, equal %v", err, bytes.Equal(plain, data))
	}
	got, stderr, code = n.walrus(t, "read", "--identity", keyFile, string(eid[1]))
	if code != 0 || !bytes.Equal(got, data) {
		t.Fatalf("read --identity: %d, %d bytes\n%s", code, len(got), stderr)
	}

	// A truncated manifest stored as a plain blob: a clear error, nothing on stdout.
	raw := append(append([]byte{}, manifest.Magic[:]...), 1, 1, 0, 0, 0, 0)
	trunc := filepath.Join(dir, "trunc")
	if err := os.WriteFile(trunc, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = n.walrus(t, "store", "--epochs", "2", trunc)
	tid := regexp.MustCompile(`Blob ID: (\S+)`).FindSubmatch(out)
	if code != 0 || tid == nil {
		t.Fatalf("store truncated manifest: %d %s", code, stderr)
	}
	got, stderr, code = n.walrus(t, "read", string(tid[1]))
	if code == 0 || len(got) != 0 || !strings.Contains(stderr, "invalid chunk manifest") || !strings.Contains(stderr, "truncated") {
		t.Fatalf("read of a truncated manifest: %d, %d bytes on stdout\n%s", code, len(got), stderr)
	}

	// Delete removes the manifest and the three chunks; the file is gone.
	out, stderr, code = n.walrus(t, "delete", "--blob-id", blob, "--yes")
	if code != 0 || strings.Count(string(out), "Deleted blob object") != 4 {
		t.Fatalf("delete: %d\n%s\n%s", code, out, stderr)
	}
	got, stderr, code = n.walrus(t, "read", blob)
	if code == 0 || len(got) != 0 {
		t.Fatalf("read after delete: %d, %d bytes\n%s", code, len(got), stderr)
	}
}
