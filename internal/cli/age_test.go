package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/testnet"
)

// startAggregator runs `walrus aggregator` on a free port until the test ends and returns
// its base URL.
func startAggregator(t *testing.T, n *cliNet) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"--config", n.config, "aggregator", "--bind-address", "127.0.0.1:0", "--metrics-address", "off"},
			strings.NewReader(""), io.Discard, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	apiRe := regexp.MustCompile(`API on (http://[0-9.:]+)\n`)
	deadline := time.Now().Add(time.Minute)
	for {
		if m := apiRe.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("aggregator exited with %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("aggregator did not start: %q", stderr.String())
		}
		time.Sleep(5 * time.Millisecond) // polling the daemon's output, not synchronization
	}
}

// httpGetBlob fetches a blob from an aggregator as curl would.
func httpGetBlob(t *testing.T, agg, id string) []byte {
	t.Helper()
	resp, err := http.Get(agg + "/v1/blobs/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", id, resp.StatusCode, err)
	}
	return body
}

// ageCommand runs the age binary with stdin and returns its standard output.
func ageCommand(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("age")
	if err != nil {
		t.Fatal("the age command is needed for this test (Debian package age; .ci/run installs it)")
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("age %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// storedID stores with the CLI (stdin as given) and returns the new blob's ID.
func (n *cliNet) storedID(t *testing.T, stdin string, args ...string) (string, storeOutput) {
	t.Helper()
	if !slices.Contains(args, "--epochs") {
		args = append([]string{"--epochs", "2"}, args...)
	}
	out, errs, code := runCLI(t, stdin, append([]string{"--config", n.config, "store", "--json"}, args...)...)
	var res []storeOutput
	if code != 0 || json.Unmarshal(out, &res) != nil || len(res) != 1 {
		t.Fatalf("store %q: code %d, %q, %q", args, code, out, errs)
	}
	if ac := res[0].BlobStoreResult.AlreadyCertified; ac != nil {
		return ac.BlobID, res[0]
	}
	return res[0].BlobStoreResult.NewlyCreated.BlobObject.BlobID, res[0]
}

// TestCLIAge checks that encrypted blobs are standard age files, in both directions, with
// the real age command and a real network and aggregator.
func TestCLIAge(t *testing.T) {
	if _, err := exec.LookPath("age"); err != nil {
		t.Fatal("the age command is needed for this test (Debian package age; .ci/run installs it)")
	}
	n := newCLINet(t, testnet.Options{})
	agg := startAggregator(t, n)
	dir := t.TempDir()
	alice, bob := newAgeKey(t), newAgeKey(t)
	aliceKey := filepath.Join(dir, "alice.txt")
	os.WriteFile(aliceKey, []byte("# public key: "+alice.Recipient().String()+"\n"+alice.String()+"\n"), 0o600)
	bobKey := filepath.Join(dir, "bob.txt")
	os.WriteFile(bobKey, []byte(bob.String()+"\n"), 0o600)
	plainPath, plain := writeRandom(t, dir, "plain", 200_000)

	// walrus encrypts, curl and age decrypt.
	id, res := n.storedID(t, "", "--encrypt-to", alice.Recipient().String(), plainPath)
	if res.Encryption != "age" || res.BlobStoreResult.NewlyCreated == nil || res.BlobStoreResult.NewlyCreated.BlobObject.Size <= uint64(len(plain)) {
		t.Fatalf("store --encrypt-to: %+v", res)
	}
	cipher := httpGetBlob(t, agg, id)
	if !bytes.HasPrefix(cipher, []byte(ageMagic)) || bytes.Contains(cipher, plain[:32]) {
		t.Fatal("the stored blob is not an age file, or holds plaintext")
	}
	if got := ageCommand(t, cipher, "-d", "-i", aliceKey); !bytes.Equal(got, plain) {
		t.Fatal("age -d of the blob fetched from the aggregator differs from the file")
	}
	got, errs, code := n.walrus(t, "read", "--identity", aliceKey, "--", id)
	if code != 0 || !bytes.Equal(got, plain) {
		t.Fatalf("read --identity: code %d, %d bytes, %q", code, len(got), errs)
	}
	// Without an identity: the ciphertext, and a hint.
	got, errs, code = n.walrus(t, "read", "--", id)
	if code != 0 || !bytes.Equal(got, cipher) || !strings.Contains(errs, "hint: blob "+id+" is age-encrypted; decrypt it with 'walrus read --identity FILE") {
		t.Fatalf("read without identity: code %d, %q", code, errs)
	}
	out, _, code := n.walrus(t, "read", "--json", "--identity", aliceKey, "--", id)
	var ro readOutput
	if code != 0 || json.Unmarshal(out, &ro) != nil || !ro.Decrypted || !ro.AgeEncrypted || !bytes.Equal(ro.Blob, plain) || ro.BlobSize != int64(len(cipher)) {
		t.Fatalf("read --json --identity: code %d, %+v", code, ro)
	}
	outFile := filepath.Join(dir, "out")
	if _, errs, code = n.walrus(t, "read", "--identity", aliceKey, "--out", outFile, "--", id); code != 0 || !strings.Contains(errs, "decrypted to") {
		t.Fatalf("read --identity --out: %d %q", code, errs)
	}
	if b, _ := os.ReadFile(outFile); !bytes.Equal(b, plain) {
		t.Fatal("read --identity --out: contents differ")
	}

	// age encrypts, walrus stores it as a plain blob and decrypts it.
	ageFile := ageCommand(t, plain, "-r", bob.Recipient().String())
	ageFilePath := filepath.Join(dir, "plain.age")
	os.WriteFile(ageFilePath, ageFile, 0o600)
	id2, res := n.storedID(t, "", ageFilePath)
	if res.Encryption != "" {
		t.Fatalf("a plain store says it encrypted: %+v", res)
	}
	if got, errs, code = n.walrus(t, "read", "-i", bobKey, "--", id2); code != 0 || !bytes.Equal(got, plain) {
		t.Fatalf("read -i of an age-encrypted plain blob: code %d, %q", code, errs)
	}
	// An armored age file too.
	armored := ageCommand(t, plain[:1000], "-a", "-r", bob.Recipient().String())
	id3, _ := n.storedID(t, string(armored), "-")
	if got, errs, code = n.walrus(t, "read", "-i", bobKey, "--", id3); code != 0 || !bytes.Equal(got, plain[:1000]) {
		t.Fatalf("read -i of an armored age file: code %d, %q", code, errs)
	}

	// SSH keys and a recipients file; the file from standard input.
	sshKey, sshPub := newSSHKey(t, dir, "id_ed25519")
	recipients := filepath.Join(dir, "recipients.txt")
	os.WriteFile(recipients, []byte("# the team\n"+sshPub+"\n\n# backup\n"+bob.Recipient().String()+"\n"), 0o600)
	id4, _ := n.storedID(t, string(plain), "--encrypt-to-file", recipients, "-")
	cipher4 := httpGetBlob(t, agg, id4)
	if got := ageCommand(t, cipher4, "-d", "-i", sshKey); !bytes.Equal(got, plain) {
		t.Fatal("age -d -i SSH key of a blob encrypted to the SSH key differs")
	}
	if got, errs, code = n.walrus(t, "read", "--identity", sshKey, "--", id4); code != 0 || !bytes.Equal(got, plain) {
		t.Fatalf("read --identity SSH key: code %d, %q", code, errs)
	}
	if got, errs, code = n.walrus(t, "read", "--identity", bobKey, "--", id4); code != 0 || !bytes.Equal(got, plain) {
		t.Fatalf("read --identity of the second recipient: code %d, %q", code, errs)
	}

	// A passphrase from the environment, Go to Go (age -p needs a terminal). The default
	// scrypt cost takes minutes under the race detector on a loaded machine.
	t.Setenv(passphraseEnv, "correct horse battery staple")
	scryptWorkFactor = 12
	defer func() { scryptWorkFactor = 0 }()
	id5, _ := n.storedID(t, string(plain[:5000]), "--passphrase", "--stdin")
	if got, errs, code = n.walrus(t, "read", "--passphrase", "--", id5); code != 0 || !bytes.Equal(got, plain[:5000]) {
		t.Fatalf("read --passphrase: code %d, %q", code, errs)
	}
	if _, errs, _ = n.walrus(t, "read", "--", id5); !strings.Contains(errs, "'walrus read --passphrase "+id5+"'") {
		t.Fatalf("hint for a passphrase blob: %q", errs)
	}

	// Bad input: a clear error, exit code 1, nothing on stdout and no output file.
	t.Setenv(passphraseEnv, "wrong")
	corrupted := bytes.Clone(ageFile)
	copy(corrupted[len(ageMagic):], "-> X25519 !!!!")
	badHeaderPath := filepath.Join(dir, "bad-header.age")
	os.WriteFile(badHeaderPath, corrupted, 0o600)
	// One store command for three blobs: the machine may be slow.
	out, errs, code = runCLI(t, string(ageFile[:len(ageFile)-1000]), "--config", n.config, "store", "--json", "--epochs", "2", badHeaderPath, "-", plainPath)
	var stored []storeOutput
	if code != 0 || json.Unmarshal(out, &stored) != nil || len(stored) != 3 {
		t.Fatalf("store of bad age files: %d %q %q", code, out, errs)
	}
	badHeader := stored[0].BlobStoreResult.NewlyCreated.BlobObject.BlobID
	truncated := stored[1].BlobStoreResult.NewlyCreated.BlobObject.BlobID
	plainID := stored[2].BlobStoreResult.NewlyCreated.BlobObject.BlobID
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"wrong identity", []string{"read", "--identity", aliceKey, id2}, 1, "cannot decrypt blob " + id2 + ": identity did not match"},
		{"wrong passphrase", []string{"read", "--passphrase", id5}, 1, "incorrect passphrase"},
		{"passphrase for a key", []string{"read", "--passphrase", id2}, 1, "cannot decrypt"},
		{"corrupted header", []string{"read", "--identity", bobKey, badHeader}, 1, "cannot decrypt blob " + badHeader},
		{"truncated", []string{"read", "--identity", bobKey, truncated}, 1, "cannot decrypt blob " + truncated},
		{"not encrypted", []string{"read", "--identity", bobKey, plainID}, 1, "is not age-encrypted"},
		{"missing identity file", []string{"read", "--identity", filepath.Join(dir, "nope"), id2}, 1, "--identity " + filepath.Join(dir, "nope") + ": no such file"},
		{"recipient as identity", []string{"read", "--identity", recipients, id2}, 1, "unknown identity type"},
		{"missing recipients file", []string{"store", "--epochs", "2", "--encrypt-to-file", filepath.Join(dir, "nope"), plainPath}, 1, "no such file"},
		{"invalid recipient", []string{"store", "--epochs", "2", "--encrypt-to", "age1nope", plainPath}, 1, `--encrypt-to "age1nope"`},
		{"secret key as recipient", []string{"store", "--epochs", "2", "--encrypt-to", alice.String(), plainPath}, 1, "this is a secret key"},
		{"passphrase and recipient", []string{"store", "--epochs", "2", "--passphrase", "--encrypt-to", bob.Recipient().String(), plainPath}, 2, "not both"},
		{"range with identity", []string{"read", "--identity", bobKey, "--offset", "5", id2}, 2, "cannot be combined"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, withOut := range []bool{false, true} {
				args := c.args
				outPath := filepath.Join(dir, "bad-"+strings.ReplaceAll(c.name, " ", "-"))
				if withOut {
					args = append([]string{args[0], "--out", outPath}, args[1:]...)
				}
				out, errs, code := n.walrus(t, args...)
				if code != c.code || !strings.Contains(errs, c.want) || !errLine.MatchString(errs) || len(out) != 0 {
					t.Fatalf("%q: code %d (want %d), stdout %d bytes, stderr %q (want %q)", args, code, c.code, len(out), errs, c.want)
				}
				if strings.Contains(errs, alice.String()) || strings.Contains(errs, bob.String()) {
					t.Fatalf("the error shows a secret key: %q", errs)
				}
				if _, err := os.Stat(outPath); withOut && !os.IsNotExist(err) {
					t.Fatalf("%q left an output file: %v", args, err)
				}
				if c.args[0] == "store" {
					break // store has no --out
				}
			}
		})
	}
	// Nothing encrypted badly was stored.
	out, _, _ = n.walrus(t, "list-blobs", "--json")
	if c := bytes.Count(out, []byte(`"blobId"`)); c != 8 {
		t.Fatalf("list-blobs after bad input: %d blobs, want 8", c)
	}
}

// TestCLIReadGlitches: read --out DIR says the path is a directory, and a range read
// reports the blob's size, not the range's.
func TestCLIReadGlitches(t *testing.T) {
	n := newCLINet(t, testnet.Options{})
	dir := t.TempDir()
	p, data := writeRandom(t, dir, "f", 5000)
	id, _ := n.storedID(t, "", p)

	_, errs, code := n.walrus(t, "read", "--out", dir, "--", id)
	if code != 1 || !strings.Contains(errs, "walrus: error: --out "+dir+" is a directory") || strings.Contains(errs, ".walrus-read") {
		t.Fatalf("read --out DIR: %d %q", code, errs)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("read --out DIR left files: %v", ents)
	}
	outFile := filepath.Join(dir, "part")
	_, errs, code = n.walrus(t, "read", "--offset", "100", "--length", "200", "--out", outFile, "--", id)
	if code != 0 || !strings.Contains(errs, fmt.Sprintf("Bytes 100-300 of blob %s (200 B of 4.88 KiB) written to %s", id, outFile)) {
		t.Fatalf("range read --out: %d %q", code, errs)
	}
	if b, _ := os.ReadFile(outFile); !bytes.Equal(b, data[100:300]) {
		t.Fatal("range read --out: contents differ")
	}
	out, errs, code := n.walrus(t, "read", "--json", "--offset", "4900", "--length", "200", "--", id)
	var ro readOutput
	if code != 0 || json.Unmarshal(out, &ro) != nil || ro.BlobSize != 5000 || ro.Range == nil || *ro.Range != (rangeOutput{4900, 100}) || !bytes.Equal(ro.Blob, data[4900:]) {
		t.Fatalf("range read --json: %d %s %q", code, out, errs)
	}
	out, _, code = n.walrus(t, "read", "--json", "--", id)
	ro = readOutput{}
	if code != 0 || json.Unmarshal(out, &ro) != nil || ro.BlobSize != 5000 || ro.Range != nil {
		t.Fatalf("read --json: %d %s", code, out)
	}
	// store --stdin and store - read standard input.
	id2, _ := n.storedID(t, string(data), "--stdin")
	id3, _ := n.storedID(t, string(data), "-")
	if id2 != id || id3 != id {
		t.Fatalf("stdin stores gave %s and %s, the file %s", id2, id3, id)
	}
}
