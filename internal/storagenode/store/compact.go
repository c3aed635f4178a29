package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// CompactStats reports what CompactSegments did.
type CompactStats struct {
	SegmentsRemoved int   // segment files deleted
	BytesReclaimed  int64 // their size
	SliversMoved    int   // live slivers rewritten into the active segment
	BytesMoved      int64 // their size
}

// compactChunkBytes bounds the live data one compaction step reads into memory before it
// writes it to the active segment and swaps the pointers.
const compactChunkBytes = 32 << 20

// CompactSegments reclaims the space of slivers that were deleted (by DeleteBlobData and
// DropShard) or overwritten. It looks at every segment except the one appends go to:
//
//   - a segment without live slivers is deleted;
//   - a segment at most half of whose bytes are live has its live slivers rewritten, in
//     index order, into the active segment (one sequential write and one sync per step of
//     at most 32 MiB), their pointers swapped in one synced index commit per step, and is
//     then deleted;
//   - other segments are left alone.
//
// A pass rewrites each live sliver at most once, and only out of segments at least half
// garbage, so every byte it rewrites frees at least one byte: the data written by
// compaction never exceeds the data deleted. (With direct I/O a step's write is padded to
// a 4 KiB boundary and large slivers start on one, as in batches: that padding, under
// 4 KiB per step and per sliver of 128 KiB or more, is written on top, and counts as
// garbage in the segment written to.) Blobs stored together and expiring together
// leave whole segments without live slivers, which cost no rewrite at all.
//
// It is safe to run alongside every other method; concurrent calls run one after the
// other. A sliver deleted while it is being moved stays deleted. ctx is checked between
// steps; a cancelled or failed pass leaves the store consistent and may simply be run
// again.
func (s *Store) CompactSegments(ctx context.Context) (CompactStats, error) {
	var stats CompactStats
	s.compacting.Lock()
	defer s.compacting.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return stats, ErrClosed
	}
	if s.segs.readOnly {
		return stats, fmt.Errorf("store: compact: read-only store")
	}

	// Commits hold s.index shared from their last append to their index commit, and a
	// batch's earlier appends pin their segments until it is committed or closed, so once
	// it is held exclusively every sliver in an unpinned segment before the active one is
	// in the index: the snapshot sees exactly what lives there (later deletions only
	// shrink it, and new data only goes to the active segment or later ones).
	s.index.Lock()
	snap := s.db.NewSnapshot()
	sizes, active, pinned := s.segs.snapshot()
	s.index.Unlock()
	defer snap.Close()

	live := map[uint32]int64{}
	err := scanPointers(snap, func(_ []byte, p pointer) error {
		live[p.seg] += int64(p.len)
		return nil
	})
	if err != nil {
		return stats, err
	}
	var empty, sparse []uint32
	for seg, size := range sizes {
		switch {
		case seg >= active, pinned[seg]:
		case live[seg] == 0:
			empty = append(empty, seg)
		case 2*live[seg] <= size:
			sparse = append(sparse, seg)
		}
	}
	slices.Sort(empty)
	slices.Sort(sparse)
	for _, seg := range empty {
		if err := s.segs.remove(seg); err != nil {
			return stats, err
		}
		stats.SegmentsRemoved++
		stats.BytesReclaimed += sizes[seg]
	}
	if len(sparse) == 0 {
		return stats, nil
	}

	type move struct {
		key []byte
		old pointer
		off int // in buf
	}
	var moves []move
	var buf []byte // aligned, so that a direct write needs no copy
	flush := func() error {
		if len(moves) == 0 {
			return nil
		}
		seg, off, err := s.segs.append(buf)
		if err != nil {
			return err
		}
		s.index.Lock()
		defer s.index.Unlock()
		b := s.db.NewBatch()
		defer b.Close()
		var v [pointerLen]byte
		for _, m := range moves {
			var cur pointer
			err := getFrom(s.db, m.key, func(v []byte) (err error) {
				cur, err = decodePointer(v)
				return err
			})
			if err != nil || cur != m.old {
				continue // deleted or replaced meanwhile
			}
			np := pointer{seg: seg, off: off + int64(m.off), len: m.old.len, crc: m.old.crc}
			if err := b.Set(m.key, np.encode(v[:0]), nil); err != nil {
				return fmt.Errorf("store: compact: %w", err)
			}
			stats.SliversMoved++
			stats.BytesMoved += int64(m.old.len)
		}
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("store: compact: %w", err)
		}
		moves, buf = moves[:0], buf[:0]
		return nil
	}
	err = scanPointers(snap, func(key []byte, p pointer) error {
		if _, ok := slices.BinarySearch(sparse, p.seg); !ok {
			return nil
		}
		if len(buf) > 0 && len(buf)+int(p.len) > compactChunkBytes {
			if err := flush(); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if buf == nil {
			buf = alignedBytes(max(compactChunkBytes, int(p.len)))
		}
		// Room for the padding, and for the sliver's whole blocks, which a direct read
		// reads into buf.
		buf = growAligned(buf, 2*directAlign+int(p.len))
		if p.len >= alignedSliverMin && s.segs.direct.Load() {
			// As Batch.AppendBuffer does: a large sliver starts on a block boundary.
			at := len(buf)
			buf = buf[:alignUp(int64(at))]
			clear(buf[at:])
		}
		off := len(buf)
		data, err := s.segs.readAt(p, buf[off:])
		if err != nil {
			return err
		}
		if sameStart(data, buf[off:]) {
			buf = buf[:off+len(data)]
		} else {
			buf = append(buf[:off], data...)
		}
		moves = append(moves, move{key: append([]byte(nil), key...), old: p, off: off})
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return stats, err
	}
	for _, seg := range sparse {
		if err := s.segs.remove(seg); err != nil {
			return stats, err
		}
		stats.SegmentsRemoved++
		stats.BytesReclaimed += sizes[seg]
	}
	return stats, nil
}

// scanPointers calls fn with every sliver key and pointer of a snapshot, in key order.
func scanPointers(snap *pebble.Snapshot, fn func(key []byte, p pointer) error) error {
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixSliver}, UpperBound: []byte{prefixSliver + 1}})
	if err != nil {
		return fmt.Errorf("store: iterate: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("store: iterate: %w", err)
		}
		p, err := decodePointer(v)
		if err == nil {
			err = fn(it.Key(), p)
		}
		if err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("store: iterate: %w", err)
	}
	return nil
}
