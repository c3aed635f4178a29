package redstuff

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/rscode"
)

// EncodingRS2 is the encoding type byte of RS2, the only encoding Walrus supports.
const EncodingRS2 = 1

// MaxSymbolSize is the largest symbol size, u16::MAX - 1 (symbol sizes are even).
const MaxSymbolSize = 65534

// MinShards is the smallest supported shard count.
const MinShards = 4

// Errors returned by this package; they are wrapped with details, compare with errors.Is.
var (
	ErrShardCount      = errors.New("redstuff: unsupported number of shards")
	ErrDataTooLarge    = errors.New("redstuff: data too large to encode")
	ErrEncodingType    = errors.New("redstuff: unsupported encoding type")
	ErrInvalidMetadata = errors.New("redstuff: invalid metadata")
	ErrBlobIDMismatch  = errors.New("redstuff: blob ID does not match metadata")
	ErrInvalidSliver   = errors.New("redstuff: invalid sliver")
	ErrSliverHash      = errors.New("redstuff: sliver does not match its metadata hash")
	ErrInvalidSymbol   = errors.New("redstuff: invalid recovery symbol")
	ErrNotEnough       = errors.New("redstuff: not enough slivers or symbols")
	ErrInconsistent    = errors.New("redstuff: blob encoding is inconsistent")
	ErrInvalidBlobID   = errors.New("redstuff: invalid blob ID")
	ErrMalformed       = errors.New("redstuff: malformed encoding")
)

// Axis names one of the two sliver kinds.
type Axis uint8

// The two axes. A primary sliver is a row of the column-expanded matrix, a secondary sliver
// a column of the row-expanded matrix.
const (
	Primary   Axis = 0
	Secondary Axis = 1
)

func (a Axis) String() string {
	switch a {
	case Primary:
		return "primary"
	case Secondary:
		return "secondary"
	}
	return fmt.Sprintf("axis(%d)", uint8(a))
}

// ParseAxis parses "primary" or "secondary".
func ParseAxis(s string) (Axis, error) {
	switch s {
	case "primary":
		return Primary, nil
	case "secondary":
		return Secondary, nil
	}
	return 0, fmt.Errorf("%w: unknown sliver type %q", ErrMalformed, s)
}

// Orthogonal returns the other axis.
func (a Axis) Orthogonal() Axis { return 1 - a }

// Config holds the encoding parameters for one shard count and the codes of both axes. It is
// safe for concurrent use (Parallelism aside, which must be set before sharing it).
type Config struct {
	n, f          int
	rows, columns int          // R = n-2f source symbols of the primary axis, C = n-f of the secondary
	primary       *rscode.Code // column code: R originals, 2f recovery
	secondary     *rscode.Code // row code: C originals, f recovery

	// Parallelism is the number of goroutines a call may use; 0 means GOMAXPROCS.
	Parallelism int

	encMu sync.Mutex
	enc   *Encoder // cached for Encode and ComputeMetadata; nil while a call holds it
}

// NewConfig returns the encoding configuration for nShards shards. nShards must be at least
// MinShards and small enough for both axis codes and for 16-bit sliver indices.
func NewConfig(nShards int) (*Config, error) {
	if nShards < MinShards || nShards > 1<<16-1 {
		return nil, fmt.Errorf("%w: %d (want %d..65535)", ErrShardCount, nShards, MinShards)
	}
	f := (nShards - 1) / 3
	c := &Config{n: nShards, f: f, rows: nShards - 2*f, columns: nShards - f}
	var err error
	if c.primary, err = rscode.New(c.rows, 2*f); err != nil {
		return nil, fmt.Errorf("%w: %d: %v", ErrShardCount, nShards, err)
	}
	if c.secondary, err = rscode.New(c.columns, f); err != nil {
		return nil, fmt.Errorf("%w: %d: %v", ErrShardCount, nShards, err)
	}
	return c, nil
}

// NShards returns n, the number of shards.
func (c *Config) NShards() int { return c.n }

// MaxFaulty returns f = floor((n-1)/3).
func (c *Config) MaxFaulty() int { return c.f }

// SourceSymbols returns the number of source symbols of an axis: n-2f for the primary axis
// (the rows of the message matrix, and the symbols in a secondary sliver) and n-f for the
// secondary axis (the columns, and the symbols in a primary sliver).
func (c *Config) SourceSymbols(a Axis) int {
	if a == Primary {
		return c.rows
	}
	return c.columns
}

// SliverSymbols returns the number of symbols in a sliver of axis a.
func (c *Config) SliverSymbols(a Axis) int { return c.SourceSymbols(a.Orthogonal()) }

// RecoverySymbolsNeeded returns how many recovery symbols rebuild a sliver of axis a: the
// source symbol count of the orthogonal axis.
func (c *Config) RecoverySymbolsNeeded(a Axis) int { return c.SourceSymbols(a.Orthogonal()) }

// MaxBlobSize returns the largest blob that can be encoded: R·C·65534 bytes.
func (c *Config) MaxBlobSize() uint64 {
	return uint64(c.rows) * uint64(c.columns) * MaxSymbolSize
}

// SymbolSize returns the symbol size for a blob of length bytes: ceil(max(length,1)/(R·C))
// rounded up to even. It fails with ErrDataTooLarge above MaxBlobSize.
func (c *Config) SymbolSize(length uint64) (int, error) {
	if length > c.MaxBlobSize() {
		return 0, fmt.Errorf("%w: %d bytes, at most %d with %d shards", ErrDataTooLarge, length, c.MaxBlobSize(), c.n)
	}
	cells := uint64(c.rows) * uint64(c.columns)
	s := (max(length, 1) + cells - 1) / cells
	s += s % 2
	return int(s), nil
}

// SliverSize returns the byte length of a sliver of axis a for symbol size s.
func (c *Config) SliverSize(a Axis, symbolSize int) int { return c.SliverSymbols(a) * symbolSize }

// WalrusEncodedLength returns the encoded size Walrus bills for a blob of length bytes:
// n·((R+C)·s + 64n + 32), slivers plus one copy of the full metadata per shard. It is shown
// beside EncodedLength where output mirrors Walrus's; nothing is billed by it.
func (c *Config) WalrusEncodedLength(length uint64) (uint64, error) {
	s, err := c.SymbolSize(length)
	if err != nil {
		return 0, err
	}
	n := uint64(c.n)
	return n * (uint64(c.rows+c.columns)*uint64(s) + c.MetadataSize()), nil
}

// MetadataSize returns the size the accounting gives one full copy of a blob's metadata:
// 64n + 32, two 32-byte sliver hashes per pair and the blob ID (Walrus's figure).
func (c *Config) MetadataSize() uint64 { return 64*uint64(c.n) + 32 }

// PairShareSize is the size the accounting gives one shard's own commitments: the primary and
// secondary sliver hashes of its pair.
const PairShareSize = 64

// BillingNodes returns the number of nodes the accounting assumes the n shards are spread
// over: ceil(n/100), at least 4 and at most n. A thousand shards are billed as ten nodes of
// a hundred shards.
func BillingNodes(nShards int) int {
	return min(nShards, max(4, (nShards+99)/100))
}

// StorageLayout is how the accounting sees the metadata of one blob spread over a committee:
// every shard keeps its pair's hashes, every node one Merkle multiproof from its pairs to
// the blob's root, and Holders nodes the full metadata.
type StorageLayout struct {
	Nodes       int // nodes holding shards
	Holders     int // nodes keeping the full metadata: the fewest whose shards exceed 2f
	ProofHashes int // sibling hashes of all nodes' multiproofs together (an upper bound)
}

// Layout returns the layout of nodes nodes with the n shards spread evenly (nodes is
// clamped to 1..n). Holders counts the smallest nodes first, so it holds for any choice of
// holders; ProofHashes bounds each node's multiproof by the largest node's shard count k:
// at most min(2^(l-1), k) siblings on level l of the tree, for every level l.
func (c *Config) Layout(nodes int) StorageLayout {
	nodes = min(max(nodes, 1), c.n)
	small, large := c.n/nodes, (c.n+nodes-1)/nodes
	holders := min(nodes, 2*c.f/small+1)
	depth := merkle.Depth(c.n)
	perNode := 0
	for l := 1; l <= depth; l++ {
		perNode += min(1<<(l-1), large)
	}
	return StorageLayout{Nodes: nodes, Holders: holders, ProofHashes: nodes * perNode}
}

// StoredLength returns the bytes a committee with layout l stores for a blob of length
// bytes: the n sliver pairs, each shard's pair hashes, every node's multiproof (32 bytes a
// hash) and the full metadata on the holders.
func (c *Config) StoredLength(length uint64, l StorageLayout) (uint64, error) {
	s, err := c.SymbolSize(length)
	if err != nil {
		return 0, err
	}
	slivers := uint64(c.n) * uint64(c.rows+c.columns) * uint64(s)
	return slivers + c.StoredMetadataSize(l), nil
}

// StoredMetadataSize returns the metadata bytes of one blob a committee with layout l stores:
// each shard's pair hashes, every node's multiproof (32 bytes a hash) and the full metadata
// on the holders. It does not depend on the blob's length.
func (c *Config) StoredMetadataSize(l StorageLayout) uint64 {
	return uint64(c.n)*PairShareSize + uint64(l.ProofHashes)*merkle.Size + uint64(l.Holders)*c.MetadataSize()
}

// BilledMetadataSize returns the part of EncodedLength that is metadata, the same for every
// blob: StoredMetadataSize with the layout of BillingNodes(n) nodes.
func (c *Config) BilledMetadataSize() uint64 {
	return c.StoredMetadataSize(c.Layout(BillingNodes(c.n)))
}

// EncodedLength returns the encoded size the chain bills and accounts storage space by for a
// blob of length bytes: StoredLength with the layout of BillingNodes(n) nodes. It depends on
// the length and n only, so a storage resource fits the same blobs in every epoch.
func (c *Config) EncodedLength(length uint64) (uint64, error) {
	return c.StoredLength(length, c.Layout(BillingNodes(c.n)))
}

func (c *Config) workers() int {
	if c.Parallelism > 0 {
		return c.Parallelism
	}
	return runtime.GOMAXPROCS(0)
}

// code returns the code that expands a sliver of axis a to its n symbols: a primary sliver
// (a row) is expanded by the row code, a secondary sliver (a column) by the column code.
func (c *Config) expansionCode(a Axis) *rscode.Code {
	if a == Primary {
		return c.secondary
	}
	return c.primary
}

// decodingCode returns the code along which slivers of axis a are decoded into the blob:
// primary slivers are symbols of the column code, secondary slivers of the row code.
func (c *Config) decodingCode(a Axis) *rscode.Code {
	if a == Primary {
		return c.primary
	}
	return c.secondary
}
