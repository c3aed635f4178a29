package redstuff

import (
	"errors"
	"fmt"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/merkle"
)

// PairHashes are the commitments of one sliver pair: the Merkle root of the expanded primary
// sliver p and of the expanded secondary sliver n-1-p.
type PairHashes struct {
	Primary   merkle.Node
	Secondary merkle.Node
}

// Metadata is Walrus's BlobMetadataWithId (V1): what every node stores for a blob and what
// readers verify slivers against.
type Metadata struct {
	BlobID          BlobID
	EncodingType    uint8
	UnencodedLength uint64
	Hashes          []PairHashes // one per sliver pair, n in all
}

// Root returns the Merkle root over the pair leaves H(0x00 ‖ primary ‖ secondary).
func (m *Metadata) Root() merkle.Node {
	leaves := make([]merkle.Node, len(m.Hashes))
	var buf [2 * merkle.Size]byte
	for i, h := range m.Hashes {
		copy(buf[:merkle.Size], h.Primary[:])
		copy(buf[merkle.Size:], h.Secondary[:])
		leaves[i] = merkle.LeafHash(buf[:])
	}
	return merkle.RootInto(leaves, leaves)
}

// ComputeBlobID derives the blob ID the metadata commits to.
func (m *Metadata) ComputeBlobID() BlobID {
	return DeriveBlobID(m.EncodingType, m.UnencodedLength, m.Root())
}

// SliverHash returns the commitment of sliver index of axis a: primary sliver i sits in pair
// i, secondary sliver j in pair n-1-j.
func (m *Metadata) SliverHash(a Axis, index int) merkle.Node {
	if a == Primary {
		return m.Hashes[index].Primary
	}
	return m.Hashes[len(m.Hashes)-1-index].Secondary
}

// Verify checks received metadata against this configuration: RS2 encoding, one pair of
// hashes per shard, a length within the maximum blob size, and a blob ID that matches.
func (c *Config) VerifyMetadata(m *Metadata) error {
	if m.EncodingType != EncodingRS2 {
		return fmt.Errorf("%w: %d", ErrEncodingType, m.EncodingType)
	}
	if len(m.Hashes) != c.n {
		return fmt.Errorf("%w: %d sliver pair hashes for %d shards", ErrInvalidMetadata, len(m.Hashes), c.n)
	}
	if m.UnencodedLength > c.MaxBlobSize() {
		return fmt.Errorf("%w: length %d exceeds the maximum %d", ErrInvalidMetadata, m.UnencodedLength, c.MaxBlobSize())
	}
	if got := m.ComputeBlobID(); got != m.BlobID {
		return fmt.Errorf("%w: metadata commits to %s, claimed %s", ErrBlobIDMismatch, got, m.BlobID)
	}
	return nil
}

// MarshalBCS appends the BCS form of BlobMetadataWithId: blob ID ‖ variant 0 (V1) ‖
// encoding type ‖ length (u64) ‖ vector of {primary Node, secondary Node}.
func (m *Metadata) MarshalBCS(e *bcs.Encoder) {
	e.Fixed(m.BlobID[:])
	e.Variant(0)
	e.U8(m.EncodingType)
	e.U64(m.UnencodedLength)
	e.Len(len(m.Hashes))
	for _, h := range m.Hashes {
		merkle.EncodeNode(e, merkle.DigestNode(h.Primary))
		merkle.EncodeNode(e, merkle.DigestNode(h.Secondary))
	}
}

// Bytes returns the BCS form of the metadata.
func (m *Metadata) Bytes() []byte {
	var e bcs.Encoder
	m.MarshalBCS(&e)
	return e.Out()
}

// MaxMetadataShards bounds the hash vector a decoder accepts (sliver indices are u16).
const MaxMetadataShards = 1<<16 - 1

// DecodeMetadata parses the BCS form of BlobMetadataWithId strictly: unknown variants, empty
// hash nodes and trailing bytes are rejected. It does not verify the blob ID; use
// Config.VerifyMetadata.
func DecodeMetadata(b []byte) (*Metadata, error) {
	d := bcs.NewDecoder(b)
	m, err := decodeMetadata(d)
	if err != nil {
		return nil, err
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: metadata: %v", ErrMalformed, err)
	}
	return m, nil
}

var errEmptyHash = errors.New("empty sliver hash")

func decodeMetadata(d *bcs.Decoder) (*Metadata, error) {
	m := &Metadata{}
	copy(m.BlobID[:], d.Fixed(32))
	d.Variant(1)
	m.EncodingType = d.U8()
	m.UnencodedLength = d.U64()
	// Each pair takes at least 2 bytes, which bounds the allocation by the input size.
	n := d.Len(MaxMetadataShards)
	if d.Err() == nil && n*2 > d.Remaining() {
		return nil, fmt.Errorf("%w: metadata: %d hash pairs in %d bytes", ErrMalformed, n, d.Remaining())
	}
	if d.Err() == nil {
		m.Hashes = make([]PairHashes, n)
		for i := range m.Hashes {
			p, s := merkle.DecodeNode(d), merkle.DecodeNode(d)
			if d.Err() != nil {
				break
			}
			if p.IsEmpty() || s.IsEmpty() {
				d.Fail(fmt.Errorf("pair %d: %w", i, errEmptyHash))
				break
			}
			m.Hashes[i] = PairHashes{Primary: p.Value(), Secondary: s.Value()}
		}
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("%w: metadata: %v", ErrMalformed, err)
	}
	return m, nil
}
