package abciapp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/walrus-go/walrus/internal/chain"
)

// Key layout of the database. The chain state and the adapter's own records live in disjoint
// key spaces, so that iterating the state never meets a record of the adapter:
//
//	0x00 "commit"   height u64 big-endian ‖ app hash [32]u8 (the last commit)
//	0x00 "genesis"  genesis digest [32]u8 (written with the genesis state)
//	0x00 "format"   layout version u32 big-endian
//	0x01 ‖ key      chain state: value of the chain key
const (
	spaceMeta  = 0x00
	spaceState = 0x01
	// formatVersion is the version of the layout above; Open refuses other versions.
	formatVersion = 1
)

var (
	keyCommit  = []byte("\x00commit")
	keyGenesis = []byte("\x00genesis")
	keyFormat  = []byte("\x00format")
)

// ErrClosed is returned by calls on a closed Store or App.
var ErrClosed = errors.New("abciapp: closed")

// ErrFormat is returned by Open for a database written with another layout version.
var ErrFormat = errors.New("abciapp: unsupported database format")

// StoreOptions configures a Store. The zero value is valid except for the directory passed to
// OpenStore.
type StoreOptions struct {
	// FS is the filesystem the database lives on; nil means the operating system's
	// (vfs.Default). Tests use vfs.NewCrashableMem to simulate crashes.
	FS vfs.FS
	// Logger receives the database's log lines (informational ones at debug level); nil
	// discards them.
	Logger *slog.Logger
	// CacheBytes is the size of the block cache; 0 means 32 MiB.
	CacheBytes int64
}

// DefaultCacheBytes is the default block cache size of a Store.
const DefaultCacheBytes = 32 << 20

// Commit is the (height, app hash) record of the last committed block. Height 0 with a
// non-zero hash is the genesis state.
type Commit struct {
	Height  int64
	AppHash [32]byte
}

// Store is a chain.Store backed by a pebble database. Reads see the committed state only;
// writes (Set, Delete) accumulate in a pending batch that CommitBlock writes to disk
// together with the block's Commit record, in one atomic batch, so that after a crash the
// database holds exactly the state of one of its Commit records: the last one written if
// the batch was synced (the genesis), possibly an earlier one otherwise (see
// CommitBlock).
//
// Reads (Get, Iterate, LastCommit) are safe for concurrent use with each other and with
// writes to the pending batch; writes and CommitBlock must come from one goroutine at a
// time, and the caller must keep reads that need a consistent view across several keys from
// running during CommitBlock (the App does so with a read-write lock). Get and Iterate panic
// if the database fails, as chain.Store requires.
type Store struct {
	db     *pebble.DB
	logger *slog.Logger

	batch *pebble.Batch // pending writes; guarded by the single-writer contract

	mu     sync.RWMutex // guards closed and last against Close and CommitBlock
	closed bool
	last   Commit
	hasGen bool // a genesis state exists
}

var _ chain.Store = (*Store)(nil)

// OpenStore opens or creates the database in dir.
func OpenStore(dir string, opts StoreOptions) (*Store, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	po := &pebble.Options{
		FS:                 opts.FS,
		CacheSize:          opts.CacheBytes,
		Logger:             pebbleLogger{logger},
		FormatMajorVersion: pebble.FormatNewest,
	}
	if po.FS == nil {
		po.FS = vfs.Default
	}
	if po.CacheSize <= 0 {
		po.CacheSize = DefaultCacheBytes
	}
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("abciapp: open %s: %w", dir, err)
	}
	s := &Store{db: db, logger: logger}
	if err := s.load(); err != nil {
		db.Close()
		return nil, err
	}
	s.batch = db.NewBatch()
	return s, nil
}

func (s *Store) load() error {
	v, ok, err := s.getRaw(keyFormat)
	if err != nil {
		return err
	}
	if !ok {
		if _, found, err := s.getRaw(keyCommit); err != nil || found {
			return fmt.Errorf("%w: commit record without format record", ErrFormat)
		}
		if err := s.db.Set(keyFormat, binary.BigEndian.AppendUint32(nil, formatVersion), pebble.Sync); err != nil {
			return fmt.Errorf("abciapp: write format: %w", err)
		}
		return nil
	}
	if len(v) != 4 || binary.BigEndian.Uint32(v) != formatVersion {
		return fmt.Errorf("%w: format record %x, want version %d", ErrFormat, v, formatVersion)
	}
	v, ok, err = s.getRaw(keyCommit)
	if err != nil {
		return err
	}
	if ok {
		if len(v) != 40 {
			return fmt.Errorf("abciapp: corrupt commit record %x", v)
		}
		s.last.Height = int64(binary.BigEndian.Uint64(v))
		copy(s.last.AppHash[:], v[8:])
		s.hasGen = true
	}
	return nil
}

// getRaw reads a raw database key, copying the value.
func (s *Store) getRaw(k []byte) ([]byte, bool, error) {
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("abciapp: read %q: %w", k, err)
	}
	out := bytes.Clone(v)
	closer.Close()
	if out == nil {
		out = []byte{}
	}
	return out, true, nil
}

func stateKey(k []byte) []byte {
	out := make([]byte, 1+len(k))
	out[0] = spaceState
	copy(out[1:], k)
	return out
}

// Get implements chain.Store: it reads the committed value of key. The result is a copy.
func (s *Store) Get(key []byte) ([]byte, bool) {
	v, ok, err := s.getRaw(stateKey(key))
	if err != nil {
		panic(err)
	}
	return v, ok
}

// Iterate implements chain.Store over the committed state. Keys and values passed to fn are
// copies.
func (s *Store) Iterate(start, end []byte, fn func(key, value []byte) bool) {
	lower := stateKey(start)
	upper := []byte{spaceState + 1}
	if end != nil {
		upper = stateKey(end)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		panic(fmt.Errorf("abciapp: iterate: %w", err))
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			panic(fmt.Errorf("abciapp: iterate: %w", err))
		}
		if !fn(bytes.Clone(it.Key()[1:]), append([]byte{}, v...)) {
			break
		}
	}
	if err := it.Error(); err != nil {
		panic(fmt.Errorf("abciapp: iterate: %w", err))
	}
}

// GetSorted implements chain.SortedGetter over the committed state: one iterator seeks
// the keys in ascending order, so that it reuses its position and the table blocks that
// nearby keys share, where each Get sets up a lookup of its own. Values are copies.
func (s *Store) GetSorted(keys [][]byte) [][]byte {
	values := make([][]byte, len(keys))
	if len(keys) == 0 {
		return values
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{spaceState}, UpperBound: []byte{spaceState + 1}})
	if err != nil {
		panic(fmt.Errorf("abciapp: read: %w", err))
	}
	defer it.Close()
	var sk []byte
	for i, k := range keys {
		sk = append(append(sk[:0], spaceState), k...)
		if !it.SeekPrefixGE(sk) || !bytes.Equal(it.Key(), sk) {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			panic(fmt.Errorf("abciapp: read: %w", err))
		}
		values[i] = append([]byte{}, v...)
	}
	if err := it.Error(); err != nil {
		panic(fmt.Errorf("abciapp: read: %w", err))
	}
	return values
}

var _ chain.SortedGetter = (*Store)(nil)

// Set implements chain.Store: it adds a write to the pending batch.
func (s *Store) Set(key, value []byte) {
	if err := s.batch.Set(stateKey(key), value, nil); err != nil {
		panic(fmt.Errorf("abciapp: set: %w", err))
	}
}

// Delete implements chain.Store: it adds a delete to the pending batch.
func (s *Store) Delete(key []byte) {
	if err := s.batch.Delete(stateKey(key), nil); err != nil {
		panic(fmt.Errorf("abciapp: delete: %w", err))
	}
}

// DiscardPending drops the writes accumulated since the last CommitBlock.
func (s *Store) DiscardPending() { s.batch.Reset() }

// CommitBlock writes the pending writes and the commit record c in one atomic batch. With
// genesis set it also records the genesis digest (the commit of InitChain) and syncs the
// batch. A block's batch (genesis nil) is not synced: a crash of the machine may lose the
// last blocks' batches, whole and in order, and the database then holds the state of an
// earlier commit record, which it reports; CometBFT, whose block store and state are
// synced before the application commits a block, replays the lost blocks at the next
// start (the handshake). So may a crash of the process: pebble writes an unsynced batch to
// its log in the background. After CommitBlock returns, reads see the new state.
func (s *Store) CommitBlock(c Commit, genesis *[32]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	rec := binary.BigEndian.AppendUint64(make([]byte, 0, 40), uint64(c.Height))
	rec = append(rec, c.AppHash[:]...)
	if err := s.batch.Set(keyCommit, rec, nil); err != nil {
		return fmt.Errorf("abciapp: commit: %w", err)
	}
	if genesis != nil {
		if err := s.batch.Set(keyGenesis, genesis[:], nil); err != nil {
			return fmt.Errorf("abciapp: commit: %w", err)
		}
	}
	opts := pebble.NoSync
	if genesis != nil {
		opts = pebble.Sync
	}
	err := s.batch.Commit(opts)
	s.batch.Close()
	s.batch = s.db.NewBatch()
	if err != nil {
		return fmt.Errorf("abciapp: commit height %d: %w", c.Height, err)
	}
	s.last = c
	if genesis != nil {
		s.hasGen = true
	}
	return nil
}

// LastCommit returns the record of the last commit and whether the state has a genesis.
func (s *Store) LastCommit() (Commit, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.last, s.hasGen
}

// GenesisDigest returns the digest of the genesis the state was initialized with.
func (s *Store) GenesisDigest() ([32]byte, bool, error) {
	var d [32]byte
	v, ok, err := s.getRaw(keyGenesis)
	if err != nil || !ok {
		return d, false, err
	}
	if len(v) != 32 {
		return d, false, fmt.Errorf("abciapp: corrupt genesis record %x", v)
	}
	copy(d[:], v)
	return d, true, nil
}

// Close closes the database, discarding pending writes. It is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.batch.Close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("abciapp: close: %w", err)
	}
	return nil
}

// pebbleLogger sends pebble's log lines to slog: informational lines at debug level.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) { p.l.Debug(fmt.Sprintf(format, args...)) }
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg)
	panic("abciapp: pebble: " + msg)
}
