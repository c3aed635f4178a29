package cli

// Client-side encryption of stored blobs with age (https://age-encryption.org/v1). The
// CLI encrypts before anything leaves the machine, so the publisher, the storage nodes and
// anyone who fetches the blob see only a standard age file; `age -d` decrypts it as well
// as `walrus read --identity`. See docs/encryption.md for what is and is not protected.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// passphraseEnv names the environment variable that supplies the passphrase of
// --passphrase (and of an encrypted SSH identity) when no terminal should be asked:
// scripts and tests. When it is unset the passphrase is read from the terminal.
const passphraseEnv = "WALRUS_PASSPHRASE"

// scryptWorkFactor, when not 0, replaces age's default scrypt work factor (2^18, about a
// second and 256 MiB) for --passphrase. Only tests set it, to keep the race detector fast.
var scryptWorkFactor = 0

// maxKeyFileSize bounds recipients and identity files, as age does.
const maxKeyFileSize = 1 << 24

// encryptFlags are store's encryption flags. The zero value encrypts nothing.
type encryptFlags struct {
	to         []string // --encrypt-to, one recipient each
	toFiles    []string // --encrypt-to-file, recipients files
	passphrase bool     // --passphrase
}

func (f *encryptFlags) register(fl *pflag.FlagSet) {
	fl.StringArrayVar(&f.to, "encrypt-to", nil, "encrypt to `RECIPIENT`: an age public key (age1...) or SSH public key (ssh-ed25519 ..., ssh-rsa ...); repeatable")
	fl.StringArrayVar(&f.toFiles, "encrypt-to-file", nil, "encrypt to the recipients listed in `FILE`, one per line, '#' starts a comment; repeatable")
	fl.BoolVar(&f.passphrase, "passphrase", false, "encrypt with a passphrase read from the terminal (or $"+passphraseEnv+")")
}

func (f encryptFlags) enabled() bool {
	return len(f.to) > 0 || len(f.toFiles) > 0 || f.passphrase
}

// recipients resolves the flags into age recipients. A malformed recipient, an unreadable
// recipients file or a passphrase combined with recipients is an error; it never echoes a
// line of a recipients file, which may hold a secret key by mistake.
func (f encryptFlags) recipients(pp passphraseSource) ([]age.Recipient, error) {
	if f.passphrase && (len(f.to) > 0 || len(f.toFiles) > 0) {
		return nil, usageError{errors.New("give either --passphrase or --encrypt-to/--encrypt-to-file, not both")}
	}
	if f.passphrase {
		pass, err := pp.read("passphrase", true)
		if err != nil {
			return nil, err
		}
		r, err := age.NewScryptRecipient(pass)
		if err != nil {
			return nil, fmt.Errorf("--passphrase: %w", err)
		}
		if scryptWorkFactor != 0 {
			r.SetWorkFactor(scryptWorkFactor)
		}
		return []age.Recipient{r}, nil
	}
	var rs []age.Recipient
	for _, s := range f.to {
		r, err := parseRecipient(s)
		if err != nil {
			shown := s
			if strings.Contains(strings.ToUpper(s), "SECRET-KEY") {
				shown = "AGE-SECRET-KEY-..." // never echo a secret key
			}
			return nil, withHint(fmt.Errorf("--encrypt-to %q: %v", shown, err),
				"a recipient is an age public key (age1..., from age-keygen) or an SSH public key line (ssh-ed25519 AAAA...)")
		}
		rs = append(rs, r)
	}
	for _, path := range f.toFiles {
		got, err := readRecipientsFile(path)
		if err != nil {
			return nil, err
		}
		rs = append(rs, got...)
	}
	return rs, nil
}

// parseRecipient parses one recipient: an age X25519 or hybrid public key, or an SSH
// public key in authorized_keys form.
func parseRecipient(s string) (age.Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "age1pq1"):
		return age.ParseHybridRecipient(s)
	case strings.HasPrefix(s, "age1"):
		return age.ParseX25519Recipient(s)
	case strings.HasPrefix(s, "ssh-"):
		r, err := agessh.ParseRecipient(s)
		if err != nil {
			return nil, errors.New("malformed or unsupported SSH public key (ssh-ed25519 and ssh-rsa are supported)")
		}
		return r, nil
	case strings.HasPrefix(s, "AGE-SECRET-KEY-"):
		return nil, errors.New("this is a secret key, not a recipient; give its public key (age-keygen -y)")
	}
	return nil, errors.New("unknown recipient type")
}

// readRecipientsFile reads a recipients file as age -R does: one recipient a line, empty
// lines and lines starting with '#' ignored.
func readRecipientsFile(path string) ([]age.Recipient, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--encrypt-to-file %s: %w", path, unwrapPathError(err))
	}
	defer f.Close()
	lr := &io.LimitedReader{R: f, N: maxKeyFileSize + 1}
	sc := bufio.NewScanner(lr)
	var rs []age.Recipient
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !utf8.ValidString(line) {
			return nil, fmt.Errorf("--encrypt-to-file %s: line %d is not valid UTF-8", path, n)
		}
		r, err := parseRecipient(line)
		if err != nil {
			return nil, fmt.Errorf("--encrypt-to-file %s: line %d: %v", path, n, err)
		}
		rs = append(rs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--encrypt-to-file %s: %w", path, unwrapPathError(err))
	}
	if lr.N == 0 {
		return nil, fmt.Errorf("--encrypt-to-file %s: larger than %d bytes", path, maxKeyFileSize)
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("--encrypt-to-file %s: no recipients in the file", path)
	}
	return rs, nil
}

// passphraseSource reads passphrases: from the environment variable passphraseEnv when it
// is set, else from the terminal. Its zero value fails; see defaultPassphraseSource.
type passphraseSource struct {
	lookupEnv func(string) (string, bool)
	terminal  func() (*os.File, error) // opens the controlling terminal for reading and writing
}

func defaultPassphraseSource() passphraseSource {
	return passphraseSource{
		lookupEnv: os.LookupEnv,
		terminal:  func() (*os.File, error) { return os.OpenFile("/dev/tty", os.O_RDWR, 0) },
	}
}

// errNoTerminal is returned when a passphrase is needed, none is in the environment and
// there is no terminal to ask.
var errNoTerminal = errors.New("no terminal to read the passphrase from")

// read returns a non-empty passphrase for what; with confirm the terminal asks twice.
func (p passphraseSource) read(what string, confirm bool) (string, error) {
	if p.lookupEnv != nil {
		if v, ok := p.lookupEnv(passphraseEnv); ok {
			if v == "" {
				return "", fmt.Errorf("$%s is set but empty", passphraseEnv)
			}
			return v, nil
		}
	}
	hint := fmt.Sprintf("run in a terminal, or set $%s for non-interactive use", passphraseEnv)
	if p.terminal == nil {
		return "", withHint(errNoTerminal, hint)
	}
	tty, err := p.terminal()
	if err != nil {
		return "", withHint(errNoTerminal, hint)
	}
	defer tty.Close()
	ask := func(prompt string) (string, error) {
		fmt.Fprintf(tty, "%s: ", prompt)
		b, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		if err != nil {
			return "", fmt.Errorf("cannot read the %s: %w", what, err)
		}
		return string(b), nil
	}
	pass, err := ask("Enter " + what)
	if err != nil {
		return "", err
	}
	if pass == "" {
		return "", fmt.Errorf("empty %s", what)
	}
	if confirm {
		again, err := ask("Confirm " + what)
		if err != nil {
			return "", err
		}
		if again != pass {
			return "", fmt.Errorf("the %ss did not match", what)
		}
	}
	return pass, nil
}

// sealInput reads the file at path (standard input for "-") and returns it encrypted to
// recipients as an age file. Encryption streams from the file into one buffer that holds
// only the ciphertext, which must fit in max bytes (the maximum blob size); a regular
// file whose plaintext is already too large is refused before any is read.
func sealInput(path string, stdin io.Reader, recipients []age.Recipient, max uint64) ([]byte, error) {
	src, name := stdin, "standard input"
	if path != "-" {
		f, _, err := openInput(path, max)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		src, name = f, path
	}
	out := &boundedBuffer{max: max}
	w, err := age.Encrypt(out, recipients...)
	if err != nil {
		return nil, fmt.Errorf("cannot encrypt %s: %w", name, err)
	}
	if _, err := io.Copy(w, src); err != nil {
		if errors.Is(err, errCiphertextTooLarge) {
			return nil, fmt.Errorf("%s encrypted is larger than the maximum blob size %d: %w", name, max, redstuff.ErrDataTooLarge)
		}
		return nil, fmt.Errorf("cannot read %s: %w", name, unwrapPathError(err))
	}
	if err := w.Close(); err != nil {
		if errors.Is(err, errCiphertextTooLarge) {
			return nil, fmt.Errorf("%s encrypted is larger than the maximum blob size %d: %w", name, max, redstuff.ErrDataTooLarge)
		}
		return nil, fmt.Errorf("cannot encrypt %s: %w", name, err)
	}
	return out.buf.Bytes(), nil
}

var errCiphertextTooLarge = errors.New("ciphertext too large")

// boundedBuffer is a bytes.Buffer that refuses to grow past max bytes.
type boundedBuffer struct {
	buf bytes.Buffer
	max uint64
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if uint64(b.buf.Len())+uint64(len(p)) > b.max {
		return 0, errCiphertextTooLarge
	}
	return b.buf.Write(p)
}

// printEncrypted adds store's line about encryption to its human output.
func printEncrypted(w io.Writer, recipients []age.Recipient) {
	if len(recipients) == 0 {
		return
	}
	if _, ok := recipients[0].(*age.ScryptRecipient); ok {
		fmt.Fprintln(w, "Encryption: age, with a passphrase (decrypt with 'walrus read --passphrase' or 'age -d')")
		return
	}
	fmt.Fprintf(w, "Encryption: age, to %d recipient(s) (decrypt with 'walrus read --identity FILE' or 'age -d -i FILE')\n", len(recipients))
}
