package cli

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// newSSHKey writes an unencrypted OpenSSH ed25519 private key to dir/name and returns
// its path and its public key line.
func newSSHKey(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "test key")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
}

func newAgeKey(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestParseRecipient(t *testing.T) {
	id := newAgeKey(t)
	_, sshPub := newSSHKey(t, t.TempDir(), "k")
	for _, c := range []struct {
		in   string
		want string // error substring; "" for success
	}{
		{id.Recipient().String(), ""},
		{"  " + id.Recipient().String() + "\n", ""},
		{sshPub, ""},
		{"age1notbech32", "malformed"},
		{"ssh-ed25519 AAAAnot-base64", "SSH public key"},
		{"ssh-dss AAAAB3NzaC1kc3MAAACBAP", "SSH public key"},
		{id.String(), "secret key"},
		{"bob@example.com", "unknown recipient type"},
		{"", "unknown recipient type"},
	} {
		_, err := parseRecipient(c.in)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("parseRecipient(%q) = %v, want %q", c.in, err, c.want)
		}
	}
}

func TestEncryptFlagsRecipients(t *testing.T) {
	dir := t.TempDir()
	a, b := newAgeKey(t), newAgeKey(t)
	_, sshPub := newSSHKey(t, dir, "k")
	good := filepath.Join(dir, "recipients.txt")
	os.WriteFile(good, []byte("# team\n"+a.Recipient().String()+"\n\n  # laptop\n"+sshPub+"\n"), 0o600)
	secret := filepath.Join(dir, "secret.txt")
	os.WriteFile(secret, []byte("# oops\n"+b.String()+"\n"), 0o600)
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, []byte("# nothing\n\n"), 0o600)
	noEnv := passphraseSource{lookupEnv: func(string) (string, bool) { return "", false }}

	for _, c := range []struct {
		name  string
		f     encryptFlags
		n     int
		want  string
		usage bool
	}{
		{"flags", encryptFlags{to: []string{a.Recipient().String(), b.Recipient().String()}}, 2, "", false},
		{"file", encryptFlags{toFiles: []string{good}}, 2, "", false},
		{"both", encryptFlags{to: []string{b.Recipient().String()}, toFiles: []string{good}}, 3, "", false},
		{"missing file", encryptFlags{toFiles: []string{filepath.Join(dir, "nope")}}, 0, "no such file", false},
		{"secret key in file", encryptFlags{toFiles: []string{secret}}, 0, "line 2: this is a secret key", false},
		{"empty file", encryptFlags{toFiles: []string{empty}}, 0, "no recipients", false},
		{"directory", encryptFlags{toFiles: []string{dir}}, 0, dir, false},
		{"bad recipient", encryptFlags{to: []string{"age1xyz"}}, 0, `--encrypt-to "age1xyz"`, false},
		{"secret key flag", encryptFlags{to: []string{b.String()}}, 0, `"AGE-SECRET-KEY-..."`, false},
		{"passphrase and recipients", encryptFlags{to: []string{a.Recipient().String()}, passphrase: true}, 0, "not both", true},
		{"passphrase without terminal", encryptFlags{passphrase: true}, 0, "no terminal", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rs, err := c.f.recipients(noEnv)
			if c.want == "" {
				if err != nil || len(rs) != c.n {
					t.Fatalf("got %d recipients, %v; want %d", len(rs), err, c.n)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || errors.As(err, new(usageError)) != c.usage {
				t.Fatalf("error %v, want %q (usage %v)", err, c.want, c.usage)
			}
			// A secret key never appears in an error.
			if strings.Contains(err.Error(), b.String()) {
				t.Fatalf("error %q echoes a secret key", err)
			}
		})
	}
}

func TestPassphraseSource(t *testing.T) {
	env := func(v string, set bool) func(string) (string, bool) {
		return func(k string) (string, bool) {
			if k != passphraseEnv {
				t.Errorf("looked up %s", k)
			}
			return v, set
		}
	}
	noTTY := func() (*os.File, error) { return nil, errors.New("no tty") }
	if p, err := (passphraseSource{lookupEnv: env("hunter2", true), terminal: noTTY}).read("passphrase", true); err != nil || p != "hunter2" {
		t.Fatalf("from the environment: %q, %v", p, err)
	}
	if _, err := (passphraseSource{lookupEnv: env("", true), terminal: noTTY}).read("passphrase", true); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty variable: %v", err)
	}
	_, err := (passphraseSource{lookupEnv: env("", false), terminal: noTTY}).read("passphrase", true)
	var h hintError
	if !errors.Is(err, errNoTerminal) || !errors.As(err, &h) || !strings.Contains(h.hint, passphraseEnv) {
		t.Fatalf("no terminal: %v", err)
	}
	// A terminal that is not a terminal: reading the password fails, it does not hang.
	f, err := os.CreateTemp(t.TempDir(), "tty")
	if err != nil {
		t.Fatal(err)
	}
	notTTY := func() (*os.File, error) { return os.OpenFile(f.Name(), os.O_RDWR, 0) }
	if _, err := (passphraseSource{lookupEnv: env("", false), terminal: notTTY}).read("passphrase", false); err == nil {
		t.Fatal("a regular file was read as a terminal")
	}
}

// scryptRecipient is a passphrase recipient with a small work factor, for fast tests.
func scryptRecipient(t testing.TB, pass string) age.Recipient {
	r, err := age.NewScryptRecipient(pass)
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(10)
	return r
}

func scryptIdentity(t testing.TB, pass string) age.Identity {
	id, err := age.NewScryptIdentity(pass)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSealOpen(t *testing.T) {
	dir := t.TempDir()
	alice, bob := newAgeKey(t), newAgeKey(t)
	sshPath, sshPub := newSSHKey(t, dir, "id_ed25519")
	sshRecipient, err := parseRecipient(sshPub)
	if err != nil {
		t.Fatal(err)
	}
	sshIDs, err := readIdentityFile(sshPath, passphraseSource{})
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("walrus "), 30000) // several 64 KiB STREAM chunks
	path := filepath.Join(dir, "plain")
	os.WriteFile(path, plain, 0o600)

	for _, c := range []struct {
		name string
		to   []age.Recipient
		ids  []age.Identity
	}{
		{"x25519", []age.Recipient{alice.Recipient()}, []age.Identity{alice}},
		{"second recipient", []age.Recipient{bob.Recipient(), alice.Recipient()}, []age.Identity{alice}},
		{"ssh", []age.Recipient{sshRecipient}, sshIDs},
		{"passphrase", []age.Recipient{scryptRecipient(t, "correct horse")}, []age.Identity{scryptIdentity(t, "correct horse")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sealed, err := sealInput(path, nil, c.to, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			if !isAgeFile(sealed) || bytes.Contains(sealed, plain[:64]) {
				t.Fatal("sealed data is not an age file, or holds plaintext")
			}
			got, err := openAge(sealed, c.ids)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("open: %v", err)
			}
		})
	}

	sealed, err := sealInput("-", bytes.NewReader(plain), []age.Recipient{alice.Recipient()}, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := openAge(sealed, []age.Identity{alice}); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("from stdin: %v", err)
	}

	// Failures yield no plaintext at all.
	corrupt := func(f func([]byte) []byte) []byte { return f(bytes.Clone(sealed)) }
	for _, c := range []struct {
		name string
		data []byte
		ids  []age.Identity
		want string
	}{
		{"wrong identity", sealed, []age.Identity{bob}, "did not match"},
		{"wrong passphrase", sealed, []age.Identity{scryptIdentity(t, "nope")}, "did not match"},
		{"corrupted stanza", corrupt(func(b []byte) []byte { b[len(ageMagic)+12] ^= 1; return b }), []age.Identity{alice}, ""}, // either malformed or not matching, depending on the byte
		// A MAC character replaced by another base64 character (a flipped bit may make it
		// no base64 at all, which age reports as a malformed header instead).
		{"corrupted MAC", corrupt(func(b []byte) []byte {
			i := bytes.Index(b, []byte("\n--- ")) + 6
			b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
			return b
		}), []age.Identity{alice}, "MAC"},
		{"corrupted header line", corrupt(func(b []byte) []byte { b[len(ageMagic)] = '!'; return b }), []age.Identity{alice}, "header"},
		{"header only", sealed[:bytes.Index(sealed, []byte("\n---"))+1], []age.Identity{alice}, "header"},
		{"truncated tail", sealed[:len(sealed)-100], []age.Identity{alice}, ""},
		{"last chunk dropped", sealed[:len(sealed)-(len(plain)%(64<<10))-16], []age.Identity{alice}, ""},
		{"flipped payload byte", corrupt(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), []age.Identity{alice}, ""},
		{"not age", plain, []age.Identity{alice}, "not age-encrypted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := openAge(c.data, c.ids)
			if err == nil || got != nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %d bytes, %v; want an error with %q", len(got), err, c.want)
			}
		})
	}
	// decryptBlob explains what key the blob wants.
	_, err = decryptBlob("B", sealed, []age.Identity{bob})
	var h hintError
	if !errors.As(err, &h) || !strings.Contains(h.hint, "an age key (age1...)") {
		t.Fatalf("wrong identity: %v", err)
	}
	pw, _ := sealInput(path, nil, []age.Recipient{scryptRecipient(t, "pw")}, 1<<30)
	if _, err = decryptBlob("B", pw, []age.Identity{alice}); !errors.As(err, &h) || !strings.Contains(h.hint, "--passphrase") {
		t.Fatalf("passphrase blob with a key: %v", err)
	}
	if !strings.Contains(encryptedHint("B", pw), "--passphrase") || !strings.Contains(encryptedHint("B", sealed), "--identity") {
		t.Fatal("hints do not say how to decrypt")
	}

	// The ciphertext must fit in a blob.
	if _, err := sealInput(path, nil, []age.Recipient{alice.Recipient()}, uint64(len(plain))); !errors.Is(err, redstuff.ErrDataTooLarge) {
		t.Fatalf("ciphertext over the maximum: %v", err)
	}
	if _, err := sealInput("-", bytes.NewReader(plain), []age.Recipient{alice.Recipient()}, 1000); !errors.Is(err, redstuff.ErrDataTooLarge) {
		t.Fatalf("stdin over the maximum: %v", err)
	}
	if _, err := sealInput(dir, nil, []age.Recipient{alice.Recipient()}, 1<<30); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("directory: %v", err)
	}
}

func TestReadIdentityFile(t *testing.T) {
	dir := t.TempDir()
	a := newAgeKey(t)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	good := write("keys.txt", "# created: today\n# public key: "+a.Recipient().String()+"\n"+a.String()+"\n")
	if ids, err := readIdentityFile(good, passphraseSource{}); err != nil || len(ids) != 1 {
		t.Fatalf("age identity file: %d, %v", len(ids), err)
	}
	for _, c := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "nope"), "no such file"},
		{"recipient instead", write("pub.txt", a.Recipient().String()+"\n"), "unknown identity type"},
		{"empty", write("empty.txt", "\n"), "no identities"},
		{"bad pem", write("bad.pem", "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"), "not a usable SSH private key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := readIdentityFile(c.path, passphraseSource{})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--identity") {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestStorePaths(t *testing.T) {
	for _, c := range []struct {
		args  []string
		stdin bool
		want  string // joined paths, or an error substring after "!"
	}{
		{[]string{"a", "b"}, false, "a b"},
		{[]string{"-"}, false, "-"},
		{[]string{"a", "-"}, false, "a -"},
		{nil, true, "-"},
		{nil, false, "!no file to store"},
		{[]string{"a"}, true, "!either --stdin or files"},
		{[]string{"-", "-"}, false, "!only once"},
	} {
		got, err := storePaths(c.args, c.stdin)
		if strings.HasPrefix(c.want, "!") {
			if err == nil || !strings.Contains(err.Error(), c.want[1:]) || !errors.As(err, new(usageError)) {
				t.Errorf("storePaths(%q, %v) = %v, want usage error %q", c.args, c.stdin, err, c.want[1:])
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != c.want {
			t.Errorf("storePaths(%q, %v) = %q, %v", c.args, c.stdin, got, err)
		}
	}
}

// FuzzOpenAge feeds arbitrary blobs to the read path's decryption: it must return either
// the whole plaintext or an error with nothing, and never panic.
func FuzzOpenAge(f *testing.F) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{"", "hello", strings.Repeat("x", 70000)} {
		var buf bytes.Buffer
		w, err := age.Encrypt(&buf, id.Recipient())
		if err != nil {
			f.Fatal(err)
		}
		w.Write([]byte(p))
		w.Close()
		f.Add(buf.Bytes())
	}
	f.Add([]byte(ageMagic))
	f.Add([]byte(ageArmorMagic + "\nYWdl\n-----END AGE ENCRYPTED FILE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := openAge(data, []age.Identity{id})
		if err != nil && got != nil {
			t.Fatalf("error %v with %d bytes of plaintext", err, len(got))
		}
		if err == nil && !isAgeFile(data) {
			t.Fatal("decrypted something that is not an age file")
		}
		_ = encryptedHint("B", data)
	})
}
