package chain

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/crypto/blake2b"
)

// Address identifies an account: Blake2b-256(0x00 || ed25519 public key), as Sui derives
// addresses of ed25519 keys. It prints as 0x-hex.
type Address [32]byte

// AddressOf returns the address of an ed25519 public key.
func AddressOf(pub ed25519.PublicKey) Address {
	var buf [1 + ed25519.PublicKeySize]byte
	copy(buf[1:], pub)
	return Address(blake2b.Sum256(buf[:]))
}

// String returns the 0x-hex form.
func (a Address) String() string { return "0x" + hex.EncodeToString(a[:]) }

// ParseAddress parses the 0x-hex form (the 0x prefix is optional).
func ParseAddress(s string) (Address, error) {
	var a Address
	if err := parseHex32(s, (*[32]byte)(&a)); err != nil {
		return Address{}, fmt.Errorf("chain: bad address %q: %w", s, err)
	}
	return a, nil
}

// ObjectID identifies an object (a Storage resource, a Blob, a StakedWal or a staking pool,
// whose ID is also its node ID): Blake2b-256(creating tx digest || creation index as u64
// little-endian). It prints as 0x-hex.
type ObjectID [32]byte

// String returns the 0x-hex form.
func (id ObjectID) String() string { return "0x" + hex.EncodeToString(id[:]) }

// ParseObjectID parses the 0x-hex form (the 0x prefix is optional).
func ParseObjectID(s string) (ObjectID, error) {
	var id ObjectID
	if err := parseHex32(s, (*[32]byte)(&id)); err != nil {
		return ObjectID{}, fmt.Errorf("chain: bad object ID %q: %w", s, err)
	}
	return id, nil
}

// DeriveObjectID returns the ID of the index-th object created by the transaction with the
// given digest.
func DeriveObjectID(txDigest [32]byte, index uint64) ObjectID {
	var buf [40]byte
	copy(buf[:32], txDigest[:])
	binary.LittleEndian.PutUint64(buf[32:], index)
	return ObjectID(blake2b.Sum256(buf[:]))
}

func parseHex32(s string, out *[32]byte) error {
	s = strings.TrimPrefix(s, "0x")
	if len(s) != 64 {
		return fmt.Errorf("want 64 hex digits, got %d", len(s))
	}
	_, err := hex.Decode(out[:], []byte(s))
	return err
}

// Units of WAL.
const (
	// FrostPerWAL is the number of FROST in one WAL.
	FrostPerWAL = 1_000_000_000
	// BytesPerUnit is the size of the unit storage and write prices are quoted in: 1 MiB of
	// encoded size.
	BytesPerUnit = 1 << 20
)

// StorageUnits returns the number of price units of an encoded size: ceil(size / 1 MiB).
func StorageUnits(size uint64) uint64 { return size/BytesPerUnit + min(size%BytesPerUnit, 1) }
