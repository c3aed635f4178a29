package daemon

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/keyfile"
)

// LoadBLSKey reads a BLS key file: the 32-byte secret scalar as 64 hex digits, optionally
// followed by a newline (the format 'walrus chain init' writes as bls.key). It refuses a
// file that users other than its owner may read or write.
func LoadBLSKey(path string) (*bls.SecretKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("daemon: BLS key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("daemon: BLS key file %s has mode %v (want 0600)", path, st.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("daemon: BLS key file: %w", err)
	}
	text := bytes.TrimSpace(raw)
	b := make([]byte, hex.DecodedLen(len(text)))
	if _, err := hex.Decode(b, text); err != nil || len(b) != bls.SecretKeySize {
		return nil, fmt.Errorf("daemon: BLS key file %s: want %d hex digits", path, 2*bls.SecretKeySize)
	}
	defer clear(b)
	k, err := bls.SecretKeyFromBytes(b)
	if err != nil {
		return nil, fmt.Errorf("daemon: BLS key file %s: %w", path, err)
	}
	return k, nil
}

// SaveBLSKey writes k to a new key file at path (mode 0600), creating its directory. It
// never overwrites a file.
func SaveBLSKey(path string, k *bls.SecretKey) error {
	sk := k.Bytes()
	defer clear(sk[:])
	line := []byte(hex.EncodeToString(sk[:]) + "\n")
	defer clear(line)
	if err := keyfile.WriteNew(path, line); err != nil {
		return fmt.Errorf("daemon: save BLS key: %w", err)
	}
	return nil
}
