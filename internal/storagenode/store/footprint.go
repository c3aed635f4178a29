package store

import (
	"bytes"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// Footprint is what the store holds for one blob, counted from what is written, not from
// formulas.
type Footprint struct {
	Slivers       int    // slivers stored, both axes, all shards
	SliverBytes   uint64 // their bytes in the segment files
	MetadataBytes uint64 // the blob's metadata values (full or partial) in the index
}

// Total returns the sliver and metadata bytes together.
func (f Footprint) Total() uint64 { return f.SliverBytes + f.MetadataBytes }

// Add returns the sum of two footprints.
func (f Footprint) Add(g Footprint) Footprint {
	return Footprint{Slivers: f.Slivers + g.Slivers, SliverBytes: f.SliverBytes + g.SliverBytes,
		MetadataBytes: f.MetadataBytes + g.MetadataBytes}
}

// BlobFootprint counts the bytes stored for blob id: every sliver of every shard, found by
// scanning all sliver keys, and the metadata values kept under the blob ID. The scan reads
// the whole sliver index, so it is meant for measurements and tests, not for serving.
func (s *Store) BlobFootprint(id redstuff.BlobID) (Footprint, error) {
	var fp Footprint
	for _, prefix := range metadataPrefixes {
		err := s.get(idKey(prefix, id), func(v []byte) error {
			fp.MetadataBytes += uint64(len(v))
			return nil
		})
		if _, err := exists(err); err != nil {
			return Footprint{}, err
		}
	}
	err := s.scan([]byte{prefixSliver}, []byte{prefixSliver + 1}, func(k, v []byte) (bool, error) {
		if len(k) != sliverKeyLen || !bytes.Equal(k[4:], id[:]) {
			return true, nil
		}
		p, err := decodePointer(v)
		if err != nil {
			return false, err
		}
		fp.Slivers++
		fp.SliverBytes += uint64(p.len)
		return true, nil
	})
	return fp, err
}

// metadataPrefixes are the tables whose values hold a blob's metadata, keyed by blob ID.
var metadataPrefixes = []byte{prefixMetadata}
