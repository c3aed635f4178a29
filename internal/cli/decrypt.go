package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/armor"
	"github.com/spf13/pflag"
	"golang.org/x/crypto/ssh"
)

// ageMagic and ageArmorMagic start every age file, binary and armored.
const (
	ageMagic      = "age-encryption.org/v1\n"
	ageArmorMagic = "-----BEGIN AGE ENCRYPTED FILE-----"
)

// decryptFlags are read's decryption flags. The zero value decrypts nothing.
type decryptFlags struct {
	identities []string // --identity files
	passphrase bool     // --passphrase
}

func (f *decryptFlags) register(fl *pflag.FlagSet) {
	fl.StringArrayVarP(&f.identities, "identity", "i", nil, "decrypt an age-encrypted blob with the age identity file or SSH private key `FILE`; repeatable")
	fl.BoolVar(&f.passphrase, "passphrase", false, "decrypt an age-encrypted blob with a passphrase read from the terminal (or $"+passphraseEnv+")")
}

func (f decryptFlags) enabled() bool { return len(f.identities) > 0 || f.passphrase }

// load reads the identity files and the passphrase. It runs before the blob is fetched,
// so that a bad identity file fails fast.
func (f decryptFlags) load(pp passphraseSource) ([]age.Identity, error) {
	var ids []age.Identity
	for _, path := range f.identities {
		got, err := readIdentityFile(path, pp)
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	if f.passphrase {
		pass, err := pp.read("passphrase", false)
		if err != nil {
			return nil, err
		}
		id, err := age.NewScryptIdentity(pass)
		if err != nil {
			return nil, fmt.Errorf("--passphrase: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// readIdentityFile reads an age identity file (AGE-SECRET-KEY-1... lines, '#' comments)
// or an SSH private key (ed25519 or RSA; an encrypted one asks for its passphrase when it
// is first needed). Errors never quote the file, which holds secrets.
func readIdentityFile(path string, pp passphraseSource) ([]age.Identity, error) {
	data, err := readSmallFile(path)
	if err != nil {
		return nil, fmt.Errorf("--identity %s: %w", path, err)
	}
	if bytes.Contains(data, []byte("-----BEGIN")) && bytes.Contains(data, []byte("PRIVATE KEY-----")) {
		id, err := agessh.ParseIdentity(data)
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			pub := missing.PublicKey
			if pub == nil {
				pubData, perr := readSmallFile(path + ".pub")
				if perr != nil {
					return nil, fmt.Errorf("--identity %s: an encrypted SSH key needs its public key in %s.pub: %w", path, path, perr)
				}
				if pub, _, _, _, perr = ssh.ParseAuthorizedKey(pubData); perr != nil {
					return nil, fmt.Errorf("--identity %s: malformed public key in %s.pub", path, path)
				}
			}
			enc, err := agessh.NewEncryptedSSHIdentity(pub, data, func() ([]byte, error) {
				pass, err := pp.read("passphrase of "+path, false)
				return []byte(pass), err
			})
			if err != nil {
				return nil, fmt.Errorf("--identity %s: %v", path, err)
			}
			return []age.Identity{enc}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("--identity %s: not a usable SSH private key (ed25519 and RSA are supported)", path)
		}
		return []age.Identity{id}, nil
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		return nil, withHint(fmt.Errorf("--identity %s: %v", path, err),
			"an identity file holds AGE-SECRET-KEY-1... lines (from age-keygen) or an SSH private key")
	}
	return ids, nil
}

// readSmallFile reads a key file of at most maxKeyFileSize bytes.
func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxKeyFileSize)
	}
	return data, nil
}

// isAgeFile reports whether data starts like an age file, binary or armored.
func isAgeFile(data []byte) bool {
	return bytes.HasPrefix(data, []byte(ageMagic)) ||
		bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(ageArmorMagic))
}

// errNotEncrypted is returned when decryption is asked for a blob that is not an age file.
var errNotEncrypted = errors.New("is not age-encrypted")

// openAge decrypts the age file data with ids and returns the whole plaintext. It reads
// and authenticates every chunk before returning, so a wrong identity, a corrupted header
// or a truncated or altered payload yields an error and no plaintext at all.
func openAge(data []byte, ids []age.Identity) ([]byte, error) {
	if !isAgeFile(data) {
		return nil, errNotEncrypted
	}
	var src io.Reader = bytes.NewReader(data)
	if !bytes.HasPrefix(data, []byte(ageMagic)) {
		src = armor.NewReader(src)
	}
	r, err := age.Decrypt(src, ids...)
	if err != nil {
		return nil, err
	}
	// The plaintext is never longer than the ciphertext.
	var out bytes.Buffer
	out.Grow(len(data))
	if _, err := io.Copy(&out, r); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// decryptBlob decrypts a blob read for `walrus read` and explains failures: which
// identities the blob wants, or that it is not encrypted at all.
func decryptBlob(id string, data []byte, ids []age.Identity) ([]byte, error) {
	plain, err := openAge(data, ids)
	if err == nil {
		return plain, nil
	}
	if errors.Is(err, errNotEncrypted) {
		return nil, withHint(fmt.Errorf("blob %s %w", id, errNotEncrypted), "read it without --identity and --passphrase")
	}
	var nomatch *age.NoIdentityMatchError
	if errors.As(err, &nomatch) {
		if slices.Contains(nomatch.StanzaTypes, "scrypt") && slices.ContainsFunc(ids, isScrypt) {
			return nil, fmt.Errorf("cannot decrypt blob %s: incorrect passphrase", id)
		}
		return nil, withHint(fmt.Errorf("cannot decrypt blob %s: %v", id, err), stanzaHint(nomatch.StanzaTypes))
	}
	return nil, fmt.Errorf("cannot decrypt blob %s: %v", id, err)
}

func isScrypt(id age.Identity) bool {
	_, ok := id.(*age.ScryptIdentity)
	return ok
}

// stanzaHint says what kind of key a blob was encrypted to, from its header's stanza
// types.
func stanzaHint(types []string) string {
	var kinds []string
	seen := map[string]bool{}
	for _, t := range types {
		k := t
		switch t {
		case "X25519":
			k = "an age key (age1...)"
		case "mlkem768x25519":
			k = "a post-quantum age key (age1pq1...)"
		case "ssh-ed25519", "ssh-rsa":
			k = "an SSH key (" + t + ")"
		case "scrypt":
			return "the blob was encrypted with a passphrase; use --passphrase"
		}
		if !seen[k] {
			seen[k] = true
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return "give the identity file that matches one of the blob's recipients"
	}
	return "the blob was encrypted to " + strings.Join(kinds, ", ") + "; give the matching --identity"
}

// encryptedHint is printed when an age-encrypted blob is read without an identity.
func encryptedHint(id string, data []byte) string {
	if bytes.Contains(headerOf(data), []byte("\n-> scrypt ")) {
		return fmt.Sprintf("blob %s is age-encrypted with a passphrase; decrypt it with 'walrus read --passphrase %s' or 'age -d'", id, id)
	}
	return fmt.Sprintf("blob %s is age-encrypted; decrypt it with 'walrus read --identity FILE %s' or 'age -d -i FILE'", id, id)
}

// headerOf returns the part of an age file before its MAC line (at most 64 KiB).
func headerOf(data []byte) []byte {
	h := data[:min(len(data), 64<<10)]
	if i := bytes.Index(h, []byte("\n---")); i >= 0 {
		h = h[:i+1]
	}
	return h
}
