package quilt

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// InternalIDSize is the byte length of an InternalID.
const InternalIDSize = 5

// PatchIDSize is the byte length of a PatchID: a 32-byte blob ID and an InternalID.
const PatchIDSize = 32 + InternalIDSize

// PatchIDTextLen is the length of a PatchID's text form.
const PatchIDTextLen = 50

// InternalID locates a patch inside its quilt: columns [Start, End).
type InternalID struct {
	Start, End uint16
}

// Bytes returns Walrus's layout: version 0x01, Start u16 LE, End u16 LE.
func (id InternalID) Bytes() [InternalIDSize]byte {
	var b [InternalIDSize]byte
	b[0] = Version
	binary.LittleEndian.PutUint16(b[1:], id.Start)
	binary.LittleEndian.PutUint16(b[3:], id.End)
	return b
}

// ParseInternalID parses the 5-byte layout of Bytes. It rejects another length, another
// version byte and an empty or reversed range (Start >= End), wrapping ErrInvalidPatchID.
func ParseInternalID(b []byte) (InternalID, error) {
	if len(b) != InternalIDSize {
		return InternalID{}, fmt.Errorf("%w: internal ID of %d bytes, want %d", ErrInvalidPatchID, len(b), InternalIDSize)
	}
	if b[0] != Version {
		return InternalID{}, fmt.Errorf("%w: version %d, want %d", ErrInvalidPatchID, b[0], Version)
	}
	id := InternalID{Start: binary.LittleEndian.Uint16(b[1:]), End: binary.LittleEndian.Uint16(b[3:])}
	if id.Start >= id.End {
		return InternalID{}, fmt.Errorf("%w: empty column range %d..%d", ErrInvalidPatchID, id.Start, id.End)
	}
	return id, nil
}

// PatchID names one patch globally: the quilt's blob ID and the patch's InternalID.
type PatchID struct {
	Quilt    redstuff.BlobID
	Internal InternalID
}

// Bytes returns the 37-byte form: quilt blob ID ‖ InternalID bytes.
func (id PatchID) Bytes() [PatchIDSize]byte {
	var b [PatchIDSize]byte
	copy(b[:32], id.Quilt[:])
	ib := id.Internal.Bytes()
	copy(b[32:], ib[:])
	return b
}

// String returns the text form: URL-safe base64 without padding of Bytes (50 characters).
func (id PatchID) String() string {
	b := id.Bytes()
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ParsePatchID parses the text form of String. It accepts exactly 50 URL-safe base64
// characters that decode canonically to a blob ID and a valid InternalID; errors wrap
// ErrInvalidPatchID.
func ParsePatchID(s string) (PatchID, error) {
	if len(s) != PatchIDTextLen {
		return PatchID{}, fmt.Errorf("%w: %q has %d characters, want %d", ErrInvalidPatchID, truncate(s), len(s), PatchIDTextLen)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != PatchIDSize {
		return PatchID{}, fmt.Errorf("%w: %q is not URL-safe base64 of %d bytes", ErrInvalidPatchID, truncate(s), PatchIDSize)
	}
	var id PatchID
	copy(id.Quilt[:], b[:32])
	if id.Internal, err = ParseInternalID(b[32:]); err != nil {
		return PatchID{}, err
	}
	return id, nil
}
