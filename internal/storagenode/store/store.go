package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// Errors returned by this package; compare with errors.Is. Errors of the underlying
// database are wrapped with the "store: " prefix.
var (
	// ErrNotFound reports that the requested record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrClosed reports a call on a closed Store or a used Batch.
	ErrClosed = errors.New("store: closed")
	// ErrCorrupt reports a stored record that does not decode.
	ErrCorrupt = errors.New("store: corrupt record")
	// ErrFormat reports a database written with another layout version.
	ErrFormat = errors.New("store: unsupported database format")
)

// Options configures a Store. The zero value is valid: every field has a documented
// default.
type Options struct {
	// FS is the filesystem the database lives on. Nil means the operating system's
	// (vfs.Default). Tests use vfs.NewMem, or vfs.NewCrashableMem to simulate crashes.
	FS vfs.FS
	// Logger receives the database's log lines (informational ones at debug level).
	// Nil discards them.
	Logger *slog.Logger
	// CacheBytes is the size of the block cache. 0 means 64 MiB.
	CacheBytes int64
	// MemTableBytes is the size of a memtable. 0 means 64 MiB. A batch larger than half
	// of it (a large upload) is applied as a memtable of its own.
	MemTableBytes uint64
	// ReadOnly opens an existing database without writing to it; batches fail to commit.
	ReadOnly bool
	// SegmentBytes is the size at which a segment file is closed to appends and a new one
	// started. 0 means 256 MiB. A chunk of a batch (DefaultChunkBytes, or one sliver if
	// larger) is always written to one segment, so a segment can be larger by the size of
	// its last chunk.
	SegmentBytes int64
	// ChunkBytes is the size of the chunks in which a batch writes its slivers to a
	// segment as they are put (see Batch). 0 means DefaultChunkBytes.
	ChunkBytes int
}

// forceBuffered makes stores opened afterwards read and write their segments through the
// page cache even where direct I/O is supported: tests set it to cover the fallback path.
var forceBuffered bool

// Default sizes.
const (
	DefaultCacheBytes    = 64 << 20
	DefaultMemTableBytes = 64 << 20
	DefaultSegmentBytes  = 256 << 20
)

// Store is a storage node's database. See the package documentation.
type Store struct {
	logger *slog.Logger

	// mu guards db and segs against Close: every operation holds it shared, Close
	// exclusively.
	mu     sync.RWMutex
	closed bool
	db     *pebble.DB
	segs   *segments

	// index orders commits that add sliver pointers against compaction: commits hold it
	// shared from their segment append to their index commit, compaction exclusively
	// while it takes its view of the index and while it swaps pointers.
	index sync.RWMutex
	// compacting serializes CompactSegments.
	compacting sync.Mutex
	// chunkBytes is the size of a batch's sliver chunk (Options.ChunkBytes).
	chunkBytes int
}

// Open opens or creates the database in dir.
func Open(dir string, opts Options) (*Store, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	po := &pebble.Options{
		FS:                 opts.FS,
		CacheSize:          opts.CacheBytes,
		MemTableSize:       opts.MemTableBytes,
		ReadOnly:           opts.ReadOnly,
		Logger:             pebbleLogger{logger},
		FormatMajorVersion: pebble.FormatNewest,
	}
	if po.FS == nil {
		po.FS = vfs.Default
	}
	if po.CacheSize <= 0 {
		po.CacheSize = DefaultCacheBytes
	}
	if po.MemTableSize == 0 {
		po.MemTableSize = DefaultMemTableBytes
	}
	// Slivers and hashes are incompressible; bloom filters make the many point lookups of
	// confirmations and status checks cheap.
	po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	s := &Store{logger: logger, db: db, chunkBytes: opts.ChunkBytes}
	if s.chunkBytes <= 0 {
		s.chunkBytes = DefaultChunkBytes
	}
	if err := s.checkFormat(opts.ReadOnly); err != nil {
		db.Close()
		return nil, err
	}
	segBytes := opts.SegmentBytes
	if segBytes <= 0 {
		segBytes = DefaultSegmentBytes
	}
	if s.segs, err = openSegments(po.FS, po.FS.PathJoin(dir, segmentDir), segBytes, opts.ReadOnly, forceBuffered); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) checkFormat(readOnly bool) error {
	v, closer, err := s.db.Get(keyFormat)
	if errors.Is(err, pebble.ErrNotFound) {
		if readOnly {
			return fmt.Errorf("%w: no format record", ErrFormat)
		}
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], formatVersion)
		if err := s.db.Set(keyFormat, b[:], pebble.Sync); err != nil {
			return fmt.Errorf("store: write format: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: read format: %w", err)
	}
	defer closer.Close()
	if len(v) != 4 {
		return fmt.Errorf("%w: format record %x", ErrFormat, v)
	}
	if got := binary.LittleEndian.Uint32(v); got != formatVersion {
		return fmt.Errorf("%w: version %d, this program reads version %d (version 1 kept slivers inside the database; "+
			"start the node on an empty data directory and let it recover its shards from its peers)", ErrFormat, got, formatVersion)
	}
	return nil
}

// Close closes the database. It is idempotent: later calls return nil. Batches not yet
// committed are discarded.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.segs.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// get calls fn with the value of key, valid only during the call.
func (s *Store) get(key []byte, fn func(v []byte) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return getFrom(s.db, key, fn)
}

type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

func getFrom(r reader, key []byte, fn func(v []byte) error) error {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: get: %w", err)
	}
	defer closer.Close()
	return fn(v)
}

func copyValue(dst *[]byte) func([]byte) error {
	return func(v []byte) error {
		*dst = append([]byte(nil), v...)
		return nil
	}
}

func exists(err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}

func nothing([]byte) error { return nil }

// Metadata returns the stored BCS metadata (BlobMetadataWithId) of a blob, or ErrNotFound.
func (s *Store) Metadata(id redstuff.BlobID) ([]byte, error) {
	var out []byte
	err := s.get(metadataKey(id), copyValue(&out))
	return out, err
}

// HasMetadata reports whether a blob's metadata is stored.
func (s *Store) HasMetadata(id redstuff.BlobID) (bool, error) {
	return exists(s.get(metadataKey(id), nothing))
}

// BlobInfo returns the aggregate information of a blob, or ErrNotFound.
func (s *Store) BlobInfo(id redstuff.BlobID) (BlobInfo, error) {
	var info BlobInfo
	err := s.get(blobInfoKey(id), func(v []byte) (err error) {
		info, err = decodeBlobInfo(v)
		return err
	})
	return info, err
}

// ObjectInfo returns the information of one registration (Blob object), or ErrNotFound.
func (s *Store) ObjectInfo(object [32]byte) (ObjectInfo, error) {
	var info ObjectInfo
	err := s.get(objectInfoKey(object), func(v []byte) (err error) {
		info, err = decodeObjectInfo(v)
		return err
	})
	return info, err
}

// Sliver returns the stored BCS sliver (SliverData) of a blob in a shard, or ErrNotFound.
func (s *Store) Sliver(shard uint16, a redstuff.Axis, id redstuff.BlobID) ([]byte, error) {
	return s.AppendSliver(nil, shard, a, id)
}

// AppendSliver is Sliver reading into dst's spare capacity: it returns dst[:0] grown to
// the sliver's length and holding it, so that a caller with a pooled buffer reads without
// allocating. dst is overwritten even on error.
func (s *Store) AppendSliver(dst []byte, shard uint16, a redstuff.Axis, id redstuff.BlobID) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	return s.readSliver(dst, sliverKey(shard, a, id), nil)
}

// readSliver reads the sliver of key into dst. first, if not nil, is the pointer the
// caller already read (from an iterator). s.mu is held shared.
func (s *Store) readSliver(dst, key []byte, first []byte) ([]byte, error) {
	var last pointer
	for try := 0; ; try++ {
		var p pointer
		var err error
		if try == 0 && first != nil {
			p, err = decodePointer(first)
		} else {
			err = getFrom(s.db, key, func(v []byte) (err error) {
				p, err = decodePointer(v)
				return err
			})
		}
		if err != nil {
			return nil, err
		}
		out, err := s.segs.readAt(p, dst)
		if !errors.Is(err, errSegmentGone) {
			return out, err
		}
		// Compaction moved the sliver after its pointer was read: read the pointer again,
		// unless it did not change (then the segment is missing for good).
		if try > 0 && p == last {
			return nil, fmt.Errorf("%w: sliver %x points to missing segment %d", ErrCorrupt, key, p.seg)
		}
		last = p
	}
}

// HasSliver reports whether a blob's sliver of axis a is stored in a shard.
func (s *Store) HasSliver(shard uint16, a redstuff.Axis, id redstuff.BlobID) (bool, error) {
	return exists(s.get(sliverKey(shard, a, id), nothing))
}

// Cursor returns the sequence number of the next chain event to apply: 0 before any.
func (s *Store) Cursor() (uint64, error) {
	var c uint64
	err := s.get(keyCursor, func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("%w: cursor of %d bytes", ErrCorrupt, len(v))
		}
		c = binary.LittleEndian.Uint64(v)
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	return c, err
}

// NodeState returns the stored node state; the zero NodeState before any is stored.
func (s *Store) NodeState() (NodeState, error) {
	var st NodeState
	err := s.get(keyNodeState, func(v []byte) (err error) {
		st, err = decodeNodeState(v)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return NodeState{}, nil
	}
	return st, err
}

// Shards returns every shard with a status other than None, in shard order.
func (s *Store) Shards() ([]ShardState, error) {
	var out []ShardState
	err := s.scan([]byte{prefixShard}, []byte{prefixShard + 1}, func(k, v []byte) (bool, error) {
		if len(k) != 3 || len(v) != 1 || ShardStatus(v[0]) >= numShardStatuses {
			return false, fmt.Errorf("%w: shard record %x=%x", ErrCorrupt, k, v)
		}
		out = append(out, ShardState{Shard: binary.BigEndian.Uint16(k[1:]), Status: ShardStatus(v[0])})
		return true, nil
	})
	return out, err
}

// ShardSlivers calls fn with the slivers of axis a stored in a shard, in blob ID order,
// starting at the first blob ID >= from, until fn returns false or an error. The sliver
// passed to fn is valid only during the call. fn must not call
// methods of the Store (they may deadlock with Close).
func (s *Store) ShardSlivers(shard uint16, a redstuff.Axis, from redstuff.BlobID, fn func(id redstuff.BlobID, sliver []byte) (bool, error)) error {
	prefix := sliverPrefix(shard, a)
	lo := append(append([]byte(nil), prefix...), from[:]...)
	var buf []byte
	return s.scan(lo, prefixEnd(prefix), func(k, v []byte) (bool, error) {
		if len(k) != sliverKeyLen {
			return false, fmt.Errorf("%w: sliver key %x", ErrCorrupt, k)
		}
		var id redstuff.BlobID
		copy(id[:], k[4:])
		sliver, err := s.readSliver(buf, k, v)
		if errors.Is(err, ErrNotFound) {
			return true, nil // deleted since the iterator started
		}
		if err != nil {
			return false, err
		}
		buf = sliver
		return fn(id, sliver)
	})
}

// BlobInfos calls fn with the aggregate information of every blob, in blob ID order,
// starting at the first blob ID >= from, until fn returns false or an error. fn must not
// call methods of the Store (they may deadlock with Close).
func (s *Store) BlobInfos(from redstuff.BlobID, fn func(id redstuff.BlobID, info BlobInfo) (bool, error)) error {
	return s.scan(blobInfoKey(from), []byte{prefixBlobInfo + 1}, func(k, v []byte) (bool, error) {
		info, err := decodeBlobInfo(v)
		if err != nil || len(k) != 33 {
			return false, fmt.Errorf("%w: blob info %x", ErrCorrupt, k)
		}
		return fn(redstuff.BlobID(k[1:]), info)
	})
}

// Blobs calls fn with the ID of every blob whose metadata is stored, in blob ID order,
// starting at the first blob ID >= from, until fn returns false or an error. fn must not
// call methods of the Store (they may deadlock with Close).
func (s *Store) Blobs(from redstuff.BlobID, fn func(id redstuff.BlobID) (bool, error)) error {
	return s.scan(metadataKey(from), []byte{prefixMetadata + 1}, func(k, _ []byte) (bool, error) {
		if len(k) != 33 {
			return false, fmt.Errorf("%w: metadata key %x", ErrCorrupt, k)
		}
		return fn(redstuff.BlobID(k[1:]))
	})
}

// ObjectInfos calls fn with every registration, in object ID order, starting at the first
// object ID >= from, until fn returns false or an error. fn must not call
// methods of the Store (they may deadlock with Close).
func (s *Store) ObjectInfos(from [32]byte, fn func(object [32]byte, info ObjectInfo) (bool, error)) error {
	return s.scan(objectInfoKey(from), []byte{prefixObjectInfo + 1}, func(k, v []byte) (bool, error) {
		info, err := decodeObjectInfo(v)
		if err != nil || len(k) != 33 {
			return false, fmt.Errorf("%w: object info %x", ErrCorrupt, k)
		}
		return fn([32]byte(k[1:]), info)
	})
}

func (s *Store) scan(lo, hi []byte, fn func(k, v []byte) (bool, error)) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("store: iterate: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("store: iterate: %w", err)
		}
		more, err := fn(it.Key(), v)
		if err != nil || !more {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("store: iterate: %w", err)
	}
	return nil
}

// pebbleLogger routes pebble's log lines to slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

// Fatalf is called by pebble on errors it cannot continue from (it expects the process to
// exit); logging and panicking stops the process the same way.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "component", "pebble", "fatal", true)
	panic("store: pebble: " + msg)
}
