package redstuff

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"

	"github.com/walrus-go/walrus/internal/merkle"
	"golang.org/x/crypto/blake2b"
)

// BlobID identifies a blob: Blake2b-256(encoding type ‖ length as u64 LE ‖ Merkle root).
type BlobID [32]byte

// DeriveBlobID computes the blob ID from its encoding type, unencoded length and the root
// of the sliver-pair Merkle tree.
func DeriveBlobID(encodingType uint8, length uint64, root merkle.Node) BlobID {
	var buf [1 + 8 + 32]byte
	buf[0] = encodingType
	binary.LittleEndian.PutUint64(buf[1:], length)
	copy(buf[9:], root[:])
	return blake2b.Sum256(buf[:])
}

// String returns the Walrus text form: URL-safe base64 without padding (43 characters).
func (id BlobID) String() string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// Hex returns the ID as lowercase hex.
func (id BlobID) Hex() string { return hex.EncodeToString(id[:]) }

// ParseBlobID parses the text form. It accepts exactly 43 URL-safe base64 characters that
// decode canonically to 32 bytes.
func ParseBlobID(s string) (BlobID, error) {
	var id BlobID
	if len(s) != 43 {
		return id, fmt.Errorf("%w: %q has %d characters, want 43", ErrInvalidBlobID, truncate(s), len(s))
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 32 {
		return id, fmt.Errorf("%w: %q is not URL-safe base64 of 32 bytes", ErrInvalidBlobID, truncate(s))
	}
	copy(id[:], b)
	return id, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// U256 returns the ID as the unsigned 256-bit integer the chain stores: its bytes read
// little-endian.
func (id BlobID) U256() *big.Int { return leU256(id[:]) }

// BlobIDFromU256 converts a decimal u256 (as printed by explorers) back to a blob ID.
func BlobIDFromU256(decimal string) (BlobID, error) {
	var id BlobID
	v, ok := new(big.Int).SetString(decimal, 10)
	if !ok || v.Sign() < 0 || v.BitLen() > 256 {
		return id, fmt.Errorf("%w: %q is not a decimal u256", ErrInvalidBlobID, truncate(decimal))
	}
	be := v.FillBytes(make([]byte, 32))
	for i := range id {
		id[i] = be[31-i]
	}
	return id, nil
}

// leU256 reads 32 bytes as a little-endian unsigned integer.
func leU256(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	return new(big.Int).SetBytes(be)
}

// RootU256 returns a Merkle root as the u256 that register_blob receives (little-endian).
func RootU256(root merkle.Node) *big.Int { return leU256(root[:]) }

// RotationOffset returns the blob ID read as a big-endian integer, mod n: sliver pair p is
// stored on shard (p + offset) mod n.
func (id BlobID) RotationOffset(n int) int {
	var r uint64
	for _, b := range id {
		r = (r<<8 | uint64(b)) % uint64(n)
	}
	return int(r)
}

// PairShard returns the shard that stores sliver pair p of this blob.
func (id BlobID) PairShard(pair, n int) int { return (pair + id.RotationOffset(n)) % n }

// ShardPair returns the sliver pair that shard holds for this blob.
func (id BlobID) ShardPair(shard, n int) int {
	return ((shard-id.RotationOffset(n))%n + n) % n
}
