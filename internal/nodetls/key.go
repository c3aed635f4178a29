package nodetls

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"

	"github.com/walrus-go/walrus/internal/keyfile"
)

// KeySize is the size of a network public key.
const KeySize = ed25519.PublicKeySize

// GenerateKey returns a new network key read from r (crypto/rand if nil).
func GenerateKey(r io.Reader) (ed25519.PrivateKey, error) {
	if r == nil {
		r = rand.Reader
	}
	_, k, err := ed25519.GenerateKey(r)
	if err != nil {
		return nil, fmt.Errorf("nodetls: generate key: %w", err)
	}
	return k, nil
}

// PublicKey returns the public key of k as registered on chain.
func PublicKey(k ed25519.PrivateKey) [KeySize]byte {
	return [KeySize]byte(k.Public().(ed25519.PublicKey))
}

// LoadKey reads a network key file: an ed25519 private key as PKCS#8 PEM ("PRIVATE KEY").
// It refuses a file that users other than its owner may read or write.
func LoadKey(path string) (ed25519.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("nodetls: network key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("nodetls: network key file %s has mode %v (want 0600)", path, st.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nodetls: network key file: %w", err)
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("nodetls: network key file %s: want a PEM PRIVATE KEY block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("nodetls: network key file %s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("nodetls: network key file %s: want an ed25519 key, got %T", path, k)
	}
	return ek, nil
}

// SaveKey writes k to a new key file at path (mode 0600), creating its directory. It never
// overwrites a file.
func SaveKey(path string, k ed25519.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return fmt.Errorf("nodetls: save key: %w", err)
	}
	defer clear(der)
	buf := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	defer clear(buf)
	if err := keyfile.WriteNew(path, buf); err != nil {
		return fmt.Errorf("nodetls: save key: %w", err)
	}
	return nil
}
