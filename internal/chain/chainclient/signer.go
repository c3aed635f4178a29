package chainclient

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/keyfile"
)

// Signer holds an account's ed25519 key and signs its transactions. It is immutable and
// safe for concurrent use. Nonces are managed by the Client, per address.
type Signer struct {
	key  ed25519.PrivateKey
	addr chain.Address
}

// NewSigner returns a Signer for key. The Signer keeps key; the caller must not modify it.
func NewSigner(key ed25519.PrivateKey) *Signer {
	return &Signer{key: key, addr: chain.AddressOf(key.Public().(ed25519.PublicKey))}
}

// GenerateSigner returns a Signer with a new key drawn from rand (crypto/rand.Reader in
// production).
func GenerateSigner(rand io.Reader) (*Signer, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(rand, seed); err != nil {
		return nil, fmt.Errorf("chainclient: generate key: %w", err)
	}
	return NewSigner(ed25519.NewKeyFromSeed(seed)), nil
}

// Address returns the account address of the key.
func (s *Signer) Address() chain.Address { return s.addr }

// PublicKey returns the public key.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign sets tx's sender to this key and signs it for chainID.
func (s *Signer) Sign(chainID string, tx *chain.Tx) { tx.Sign(chainID, s.key) }

// String returns the address; the key never prints.
func (s *Signer) String() string { return "Signer(" + s.addr.String() + ")" }

// Key file format: a JSON object, written with permissions 0600,
//
//	{"type": "ed25519", "seed": "<32-byte seed, hex>", "address": "0x…"}
//
// The address is informational and checked against the key when loading.
type keyFile struct {
	Type    string `json:"type"`
	Seed    string `json:"seed"`
	Address string `json:"address"`
}

// ErrKeyPermissions is returned by LoadSigner for a key file readable or writable by others
// than its owner.
var ErrKeyPermissions = errors.New("chainclient: key file is accessible by other users")

// LoadSigner reads a key file (see SaveNew). It refuses a file whose permissions let users
// other than the owner read or write it.
func LoadSigner(path string) (*Signer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("chainclient: key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %v (want 0600)", ErrKeyPermissions, path, st.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("chainclient: key file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var kf keyFile
	if err := dec.Decode(&kf); err != nil {
		return nil, fmt.Errorf("chainclient: key file %s: %w", path, err)
	}
	if kf.Type != "ed25519" {
		return nil, fmt.Errorf("chainclient: key file %s: key type %q, want ed25519", path, kf.Type)
	}
	seed, err := hex.DecodeString(kf.Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("chainclient: key file %s: seed is not %d hex bytes", path, ed25519.SeedSize)
	}
	s := NewSigner(ed25519.NewKeyFromSeed(seed))
	if kf.Address != "" && kf.Address != s.addr.String() {
		return nil, fmt.Errorf("chainclient: key file %s: address %s does not match the key (%s)", path, kf.Address, s.addr)
	}
	return s, nil
}

// SaveNew writes the key to a new file at path with permissions 0600, creating the
// directory (0700) if needed. It fails if the file exists, so a key is never overwritten.
func (s *Signer) SaveNew(path string) error {
	raw, err := json.MarshalIndent(keyFile{Type: "ed25519", Seed: hex.EncodeToString(s.key.Seed()), Address: s.addr.String()}, "", "  ")
	if err != nil {
		return fmt.Errorf("chainclient: save key: %w", err)
	}
	defer clear(raw)
	if err := keyfile.WriteNew(path, append(raw, '\n')); err != nil {
		return fmt.Errorf("chainclient: save key: %w", err)
	}
	return nil
}
