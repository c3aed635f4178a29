// Package manifest is the format of a chunk manifest: the small blob that stands for a
// file stored as several blobs (chunks) because it is larger than one chunk. The
// manifest lists the chunks' blob IDs and sizes, in file order, and the SHA-256 of the
// whole file; its blob ID is what a user gets back for the file.
//
// # Format, version 1
//
// All integers are big-endian; there is no padding and nothing after the last chunk.
//
//	offset  size  field
//	0       8     magic: 0x89 'W' 'M' 'F' '\r' '\n' 0x1a '\n'
//	8       1     version: 1
//	9       1     hash algorithm: 1 = SHA-256 of the whole file
//	10      2     reserved, zero
//	12      8     chunk size C (bytes, > 0)
//	20      8     file size S (bytes, > 0)
//	28      4     chunk count N (1 ≤ N ≤ MaxChunks)
//	32      32    file hash
//	64      40×N  chunks: blob ID (32 bytes) and size (8 bytes)
//
// Every chunk but the last is exactly C bytes; the last is 1 to C bytes; the sizes add up
// to S, so N = ⌈S/C⌉. A decoder accepts nothing else: a wrong magic, an unknown version,
// algorithm or non-zero reserved field, a count or size that does not add up, a length
// other than 64+40×N, all fail with an error wrapping ErrInvalid (or ErrNotManifest for a
// wrong magic). Decode never allocates more than MaxSize bytes' worth of chunks.
//
// # Telling a manifest from user data
//
// A manifest is an ordinary blob. The magic starts with a byte above 0x7f followed by
// CR LF, SUB and LF (as PNG's signature does), so no text file and no file mangled by
// line-ending conversion starts with it. Readers treat a blob as a manifest only when it
// is at most MaxSize bytes, starts with the magic and decodes strictly; a blob that
// starts with the magic and does not decode is reported as a corrupt manifest, never
// returned as data, so that a truncated manifest cannot pass for a file. A user who
// stored such bytes on purpose reads them raw (client.ReadOptions.Raw). Chunks are always
// read raw: a manifest never refers to another manifest's content.
package manifest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Magic starts every manifest.
var Magic = [8]byte{0x89, 'W', 'M', 'F', '\r', '\n', 0x1a, '\n'}

// Format constants.
const (
	// Version is the version this package writes and the only one it reads.
	Version = 1
	// HashSHA256 is the hash algorithm of version 1: SHA-256 of the whole file.
	HashSHA256 = 1
	// HeaderSize is the length of the fixed part.
	HeaderSize = 64
	// ChunkEntrySize is the length of one chunk entry.
	ChunkEntrySize = 40
	// MaxChunks bounds the chunks of one manifest (with 32 MiB chunks, 2 TiB).
	MaxChunks = 1 << 16
	// MaxSize is the length of the largest manifest.
	MaxSize = HeaderSize + MaxChunks*ChunkEntrySize
	// HashSize is the length of the file hash.
	HashSize = 32
	// IDSize is the length of a chunk's blob ID.
	IDSize = 32
)

// Errors of Decode and Manifest.Validate.
var (
	// ErrNotManifest: the data does not start with Magic.
	ErrNotManifest = errors.New("manifest: not a manifest")
	// ErrInvalid: the data starts with Magic but is not a valid manifest.
	ErrInvalid = errors.New("manifest: invalid manifest")
)

// Chunk is one part of the file: a blob and its length.
type Chunk struct {
	BlobID [IDSize]byte
	Size   uint64
}

// Manifest describes a file stored as chunks. Its zero value is not valid.
type Manifest struct {
	// ChunkSize is the length of every chunk but the last.
	ChunkSize uint64
	// Size is the length of the file.
	Size uint64
	// Hash is the SHA-256 of the file.
	Hash [HashSize]byte
	// Chunks are the parts of the file, in order.
	Chunks []Chunk
}

// Offset returns the offset in the file of chunk i.
func (m *Manifest) Offset(i int) uint64 { return uint64(i) * m.ChunkSize }

// Validate checks the invariants of the format and names the first one broken; the
// error wraps ErrInvalid.
func (m *Manifest) Validate() error {
	n := len(m.Chunks)
	switch {
	case m.ChunkSize == 0:
		return fmt.Errorf("%w: chunk size is zero", ErrInvalid)
	case m.Size == 0:
		return fmt.Errorf("%w: file size is zero", ErrInvalid)
	case n == 0:
		return fmt.Errorf("%w: no chunks", ErrInvalid)
	case n > MaxChunks:
		return fmt.Errorf("%w: %d chunks, more than the maximum of %d", ErrInvalid, n, MaxChunks)
	}
	if want := (m.Size-1)/m.ChunkSize + 1; want != uint64(n) {
		return fmt.Errorf("%w: a file of %d bytes in chunks of %d bytes has %d chunks, not %d", ErrInvalid, m.Size, m.ChunkSize, want, n)
	}
	for i, c := range m.Chunks[:n-1] {
		if c.Size != m.ChunkSize {
			return fmt.Errorf("%w: chunk %d is %d bytes, want the chunk size %d", ErrInvalid, i, c.Size, m.ChunkSize)
		}
	}
	if last, want := m.Chunks[n-1].Size, m.Size-uint64(n-1)*m.ChunkSize; last != want {
		return fmt.Errorf("%w: last chunk is %d bytes, want %d", ErrInvalid, last, want)
	}
	return nil
}

// Encode returns the version 1 encoding of m after validating it.
func (m *Manifest) Encode() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b := make([]byte, HeaderSize, HeaderSize+ChunkEntrySize*len(m.Chunks))
	copy(b, Magic[:])
	b[8], b[9] = Version, HashSHA256
	binary.BigEndian.PutUint64(b[12:], m.ChunkSize)
	binary.BigEndian.PutUint64(b[20:], m.Size)
	binary.BigEndian.PutUint32(b[28:], uint32(len(m.Chunks)))
	copy(b[32:], m.Hash[:])
	for _, c := range m.Chunks {
		b = append(b, c.BlobID[:]...)
		b = binary.BigEndian.AppendUint64(b, c.Size)
	}
	return b, nil
}

// HasMagic reports whether b starts with Magic (b may be a prefix of a blob).
func HasMagic(b []byte) bool { return bytes.HasPrefix(b, Magic[:]) }

// Decode parses a manifest strictly (see the package documentation). Errors wrap
// ErrNotManifest (no magic) or ErrInvalid (anything else).
func Decode(b []byte) (*Manifest, error) {
	if !HasMagic(b) {
		return nil, ErrNotManifest
	}
	if len(b) < HeaderSize {
		return nil, fmt.Errorf("%w: truncated: %d bytes, the header alone is %d", ErrInvalid, len(b), HeaderSize)
	}
	if b[8] != Version {
		return nil, fmt.Errorf("%w: version %d, this client reads version %d", ErrInvalid, b[8], Version)
	}
	if b[9] != HashSHA256 {
		return nil, fmt.Errorf("%w: unknown hash algorithm %d", ErrInvalid, b[9])
	}
	if b[10] != 0 || b[11] != 0 {
		return nil, fmt.Errorf("%w: reserved bytes are not zero", ErrInvalid)
	}
	n := binary.BigEndian.Uint32(b[28:])
	if n == 0 || n > MaxChunks {
		return nil, fmt.Errorf("%w: %d chunks, want 1 to %d", ErrInvalid, n, MaxChunks)
	}
	if want := HeaderSize + int(n)*ChunkEntrySize; len(b) != want {
		if len(b) < want {
			return nil, fmt.Errorf("%w: truncated: %d bytes, %d chunks need %d", ErrInvalid, len(b), n, want)
		}
		return nil, fmt.Errorf("%w: %d bytes after the last chunk", ErrInvalid, len(b)-want)
	}
	m := &Manifest{
		ChunkSize: binary.BigEndian.Uint64(b[12:]),
		Size:      binary.BigEndian.Uint64(b[20:]),
		Chunks:    make([]Chunk, n),
	}
	copy(m.Hash[:], b[32:HeaderSize])
	for i := range m.Chunks {
		e := b[HeaderSize+i*ChunkEntrySize:]
		copy(m.Chunks[i].BlobID[:], e[:IDSize])
		m.Chunks[i].Size = binary.BigEndian.Uint64(e[IDSize:])
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}
