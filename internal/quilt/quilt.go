package quilt

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Version is the QuiltV1 version byte, the first byte of the index, of every patch header
// and of every InternalID.
const Version = 0x01

// Format constants of QuiltV1.
const (
	// MaxIndexColumns is the most columns the index may occupy.
	MaxIndexColumns = 10
	// MaxIdentifierLen is the longest identifier in bytes.
	MaxIdentifierLen = 1<<16 - 1
	// MaxTagsLen is the longest BCS encoding of one patch's tags.
	MaxTagsLen = 1<<16 - 1
	// PatchHeaderSize is the size of a patch header: version, u32 length, mask.
	PatchHeaderSize = 6
	// indexPrefixSize is the version byte and u32 index length before the BCS index.
	indexPrefixSize = 5
	tagsMask        = 0x01
)

// Errors returned by this package; they are wrapped with details, compare with errors.Is.
var (
	ErrInvalidIdentifier   = errors.New("quilt: invalid identifier")
	ErrDuplicateIdentifier = errors.New("quilt: duplicate identifier")
	ErrTooManyPatches      = errors.New("quilt: too many patches")
	ErrTooLarge            = errors.New("quilt: too large")
	ErrInvalidTags         = errors.New("quilt: invalid tags")
	ErrMalformed           = errors.New("quilt: malformed quilt")
	ErrInvalidPatchID      = errors.New("quilt: invalid quilt patch ID")
	ErrNotFound            = errors.New("quilt: patch not found")
)

// Patch is one file of a quilt: its identifier, optional tags and contents. Encode only
// reads it.
type Patch struct {
	Identifier string
	Tags       map[string]string // nil or empty: no tags
	Data       []byte
}

// PatchInfo is one entry of a quilt's index: where a patch lies and how it is named.
type PatchInfo struct {
	Identifier string
	Tags       map[string]string // never nil after DecodeIndex or Encode
	Start, End int               // columns [Start, End) of the quilt; Start < End
}

// InternalID returns the patch's 5-byte internal ID.
func (p PatchInfo) InternalID() InternalID {
	return InternalID{Start: uint16(p.Start), End: uint16(p.End)}
}

// HasTag reports whether the patch has tag key with value value.
func (p PatchInfo) HasTag(key, value string) bool {
	v, ok := p.Tags[key]
	return ok && v == value
}

// Index is a quilt's index: its patches in layout order (sorted by identifier), and the
// number of leading columns that hold the index itself.
type Index struct {
	Columns int // columns holding the index; the first patch starts here
	Patches []PatchInfo
}

// Lookup returns the patch with the given identifier.
func (x *Index) Lookup(identifier string) (PatchInfo, error) {
	i, ok := slices.BinarySearchFunc(x.Patches, identifier, func(p PatchInfo, id string) int {
		return strings.Compare(p.Identifier, id)
	})
	if ok {
		return x.Patches[i], nil
	}
	// Decoded indexes are normally sorted; fall back to a scan for ones that are not.
	for _, p := range x.Patches {
		if p.Identifier == identifier {
			return p, nil
		}
	}
	return PatchInfo{}, fmt.Errorf("%w: identifier %q", ErrNotFound, truncate(identifier))
}

// ByTag returns the patches that have tag key with value value, in index order.
func (x *Index) ByTag(key, value string) []PatchInfo {
	var out []PatchInfo
	for _, p := range x.Patches {
		if p.HasTag(key, value) {
			out = append(out, p)
		}
	}
	return out
}

// ByInternalID returns the patch whose columns are id's.
func (x *Index) ByInternalID(id InternalID) (PatchInfo, error) {
	for _, p := range x.Patches {
		if p.Start == int(id.Start) && p.End == int(id.End) {
			return p, nil
		}
	}
	return PatchInfo{}, fmt.Errorf("%w: columns %d..%d", ErrNotFound, id.Start, id.End)
}

// ValidateIdentifier checks Walrus's rules for an identifier: valid UTF-8, non-empty, at
// most MaxIdentifierLen bytes, no control characters, no trailing white space. The error
// wraps ErrInvalidIdentifier.
func ValidateIdentifier(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", ErrInvalidIdentifier)
	case len(id) > MaxIdentifierLen:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidIdentifier, len(id), MaxIdentifierLen)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalidIdentifier, truncate(id))
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: %q contains a control character", ErrInvalidIdentifier, truncate(id))
	case strings.TrimRightFunc(id, unicode.IsSpace) != id:
		return fmt.Errorf("%w: %q ends with white space", ErrInvalidIdentifier, truncate(id))
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
