package store

import (
	"encoding/binary"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// Table prefixes (see the package documentation).
const (
	prefixFormat     byte = 0x00
	prefixMetadata   byte = 0x01
	prefixBlobInfo   byte = 0x02
	prefixObjectInfo byte = 0x03
	prefixSliver     byte = 0x04
	prefixShard      byte = 0x05
	prefixCursor     byte = 0x06
	prefixNodeState  byte = 0x07
)

var (
	keyFormat    = []byte{prefixFormat, 'f', 'o', 'r', 'm', 'a', 't'}
	keyCursor    = []byte{prefixCursor}
	keyNodeState = []byte{prefixNodeState}
)

// formatVersion is the layout version written at creation; Open refuses other versions.
// Version 1 kept slivers as values in the database; version 2 keeps them in segment files
// and a pointer in the database.
const formatVersion = 2

func idKey(prefix byte, id [32]byte) []byte {
	k := make([]byte, 33)
	k[0] = prefix
	copy(k[1:], id[:])
	return k
}

func metadataKey(id redstuff.BlobID) []byte { return idKey(prefixMetadata, id) }
func blobInfoKey(id redstuff.BlobID) []byte { return idKey(prefixBlobInfo, id) }
func objectInfoKey(id [32]byte) []byte      { return idKey(prefixObjectInfo, id) }

const sliverKeyLen = 1 + 2 + 1 + 32

// sliverPrefix returns the prefix of all slivers of one axis in one shard.
func sliverPrefix(shard uint16, a redstuff.Axis) []byte {
	k := make([]byte, 4, sliverKeyLen)
	k[0] = prefixSliver
	binary.BigEndian.PutUint16(k[1:], shard)
	k[3] = byte(a)
	return k
}

func sliverKey(shard uint16, a redstuff.Axis, id redstuff.BlobID) []byte {
	return append(sliverPrefix(shard, a), id[:]...)
}

// shardRange returns the bounds [lo, hi) of every sliver key of a shard, both axes.
func shardRange(shard uint16) (lo, hi []byte) {
	lo = []byte{prefixSliver, 0, 0}
	binary.BigEndian.PutUint16(lo[1:], shard)
	hi = []byte{prefixSliver, 0, 0}
	if shard == 0xffff {
		hi = []byte{prefixSliver + 1}
	} else {
		binary.BigEndian.PutUint16(hi[1:], shard+1)
	}
	return lo, hi
}

func shardKey(shard uint16) []byte {
	k := []byte{prefixShard, 0, 0}
	binary.BigEndian.PutUint16(k[1:], shard)
	return k
}

// prefixEnd returns the smallest key greater than every key starting with prefix (all
// prefixes used here are short and never all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	panic("store: prefix without an end")
}
