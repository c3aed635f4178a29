package storagenode

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// Config configures a Node. Fields marked required have no default; the others have the
// documented default when zero.
type Config struct {
	// NShards is the number of shards of the system (required).
	NShards int
	// Key is the node's BLS protocol key, which signs confirmations (required).
	Key *bls.SecretKey
	// Store is the node's database (required). The Node does not close it.
	Store *store.Store
	// Encoding is the RedStuff configuration for NShards; nil builds one.
	Encoding *redstuff.Config
	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock, used for the uptime in health reports and the expiry of pending
	// uploads; nil means time.Now.
	Now func() time.Time
	// VerifyWorkers bounds how many slivers are verified at once across all uploads;
	// 0 means GOMAXPROCS.
	VerifyWorkers int
	// CacheBytes bounds the cache of decoded metadata and expanded slivers that serve
	// recovery symbols; 0 means 64 MiB, negative disables the cache.
	CacheBytes int64
	// MaxSymbolSize is the largest symbol size the node accepts, which caps the size of
	// blobs it stores; 0 means redstuff.MaxSymbolSize (65534), the protocol maximum.
	MaxSymbolSize int
	// Pending bounds the buffer of pending uploads (see NewPendingUpload).
	Pending PendingConfig
	// ForgeChallengeAnswers is a test fault ("forger"): the node answers storage
	// challenges with forged symbols. Never set outside tests.
	ForgeChallengeAnswers bool
}

// DefaultCacheBytes is the default size of the node's cache.
const DefaultCacheBytes = 64 << 20

func (c *Config) validate() error {
	switch {
	case c.NShards < redstuff.MinShards || c.NShards > redstuff.MaxMetadataShards:
		return fmt.Errorf("storagenode: config: NShards %d out of range %d..%d", c.NShards, redstuff.MinShards, redstuff.MaxMetadataShards)
	case c.Key == nil:
		return errors.New("storagenode: config: Key is required")
	case c.Store == nil:
		return errors.New("storagenode: config: Store is required")
	case c.Encoding != nil && c.Encoding.NShards() != c.NShards:
		return fmt.Errorf("storagenode: config: Encoding is for %d shards, NShards is %d", c.Encoding.NShards(), c.NShards)
	case c.VerifyWorkers < 0:
		return fmt.Errorf("storagenode: config: VerifyWorkers %d is negative", c.VerifyWorkers)
	case c.MaxSymbolSize < 0 || c.MaxSymbolSize > redstuff.MaxSymbolSize || c.MaxSymbolSize%2 != 0:
		return fmt.Errorf("storagenode: config: MaxSymbolSize %d is not an even number in 0..%d", c.MaxSymbolSize, redstuff.MaxSymbolSize)
	}
	return nil
}

// Node is a storage node's service core: it applies chain events to its store, accepts
// and verifies uploads, serves metadata, slivers and recovery symbols, and signs
// confirmations and invalid-blob attestations. Its methods are synchronous; it starts no
// goroutines except the bounded sliver verifications of an Upload, which Upload.Commit
// and Upload.Abort wait for. A Node is safe for concurrent use.
type Node struct {
	n        int
	enc      *redstuff.Config
	store    *store.Store
	key      *bls.SecretKey
	pub      bls.PublicKey
	logger   *slog.Logger
	now      func() time.Time
	started  time.Time
	maxSym   int
	cache    *lru
	verifies chan struct{} // one token per running sliver verification
	ingest   ingestTracker
	pending  *pendingBuffer
	flushMu  sync.Mutex // serializes the flushes of pending uploads

	regMu sync.Mutex    // guards regCh
	regCh chan struct{} // closed when a registration has been applied and flushed

	// commit serializes state changes with uploads: an upload holds it shared while it
	// re-checks acceptance and commits; event application, garbage collection and shard
	// changes hold it exclusively while they read, modify and commit. So an upload never
	// lands after the event that would have refused it.
	commit sync.RWMutex

	// st is the current in-memory state, replaced (never modified) under commit.Lock.
	st atomic.Pointer[state]

	chal    atomic.Pointer[challengeState]    // the installed challenge (challenge.go), or nil
	forge   bool                              // Config.ForgeChallengeAnswers
	attest  attestations                      // this node's challenge attestations (challenge.go)
	results atomic.Pointer[[]ChallengeResult] // the daemon's challenge results (challenge.go)
	peers   atomic.Pointer[peersBox]          // SetMetadataPeers (partialmeta.go), or nil
}

// state is the node's view of the chain, as of the event cursor. It is immutable.
type state struct {
	cursor     uint64 // next event sequence number
	epoch      uint32
	changeDone uint32
	status     store.NodeStatus
	shards     map[uint16]store.ShardStatus // shards with a status other than None
	owned      []uint16                     // sorted shards with an Owned status
	readable   []uint16                     // sorted shards with a Readable status
}

func newState(cursor uint64, ns store.NodeState, shards map[uint16]store.ShardStatus) *state {
	s := &state{cursor: cursor, epoch: ns.Epoch, changeDone: ns.ChangeDoneEpoch, status: ns.Status, shards: shards}
	for sh, st := range shards {
		if st.Owned() {
			s.owned = append(s.owned, sh)
		}
		if st.Readable() {
			s.readable = append(s.readable, sh)
		}
	}
	slices.Sort(s.owned)
	slices.Sort(s.readable)
	return s
}

func (s *state) nodeState() store.NodeState {
	return store.NodeState{Status: s.status, Epoch: s.epoch, ChangeDoneEpoch: s.changeDone}
}

// New returns a Node over cfg.Store, loading its state (epoch, shards, cursor).
func New(cfg Config) (*Node, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	n := &Node{
		n: cfg.NShards, enc: cfg.Encoding, store: cfg.Store, key: cfg.Key, pub: cfg.Key.PublicKey(),
		logger: cfg.Logger, now: cfg.Now, maxSym: cfg.MaxSymbolSize, forge: cfg.ForgeChallengeAnswers,
	}
	if n.enc == nil {
		var err error
		if n.enc, err = redstuff.NewConfig(cfg.NShards); err != nil {
			return nil, fmt.Errorf("storagenode: config: NShards: %w", err)
		}
	}
	if n.logger == nil {
		n.logger = slog.New(slog.DiscardHandler)
	}
	if n.now == nil {
		n.now = time.Now
	}
	if n.maxSym == 0 {
		n.maxSym = redstuff.MaxSymbolSize
	}
	workers := cfg.VerifyWorkers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	n.verifies = make(chan struct{}, workers)
	cache := cfg.CacheBytes
	if cache == 0 {
		cache = DefaultCacheBytes
	}
	n.cache = newLRU(cache)
	n.pending = newPendingBuffer(cfg.Pending)
	n.regCh = make(chan struct{})
	n.started = n.now()

	cursor, err := n.store.Cursor()
	if err != nil {
		return nil, fmt.Errorf("storagenode: load state: %w", err)
	}
	ns, err := n.store.NodeState()
	if err != nil {
		return nil, fmt.Errorf("storagenode: load state: %w", err)
	}
	list, err := n.store.Shards()
	if err != nil {
		return nil, fmt.Errorf("storagenode: load state: %w", err)
	}
	shards := make(map[uint16]store.ShardStatus, len(list))
	for _, s := range list {
		if int(s.Shard) >= n.n {
			return nil, fmt.Errorf("storagenode: load state: shard %d recorded for a system of %d shards", s.Shard, n.n)
		}
		shards[s.Shard] = s.Status
	}
	n.st.Store(newState(cursor, ns, shards))
	return n, nil
}

// NShards returns the number of shards of the system.
func (n *Node) NShards() int { return n.n }

// Encoding returns the node's RedStuff configuration.
func (n *Node) Encoding() *redstuff.Config { return n.enc }

// PublicKey returns the node's BLS public key.
func (n *Node) PublicKey() bls.PublicKey { return n.pub }

// Epoch returns the current epoch as the node knows it.
func (n *Node) Epoch() uint32 { return n.st.Load().epoch }

// Cursor returns the sequence number of the next chain event the node expects: the chain
// follower resumes from here after a restart.
func (n *Node) Cursor() uint64 { return n.st.Load().cursor }

// Status returns the node status.
func (n *Node) Status() NodeStatus { return n.st.Load().status }

// Shards returns the shards the node holds, with their status, in shard order.
func (n *Node) Shards() []store.ShardState {
	st := n.st.Load()
	out := make([]store.ShardState, 0, len(st.shards))
	for _, sh := range st.readable {
		out = append(out, store.ShardState{Shard: sh, Status: st.shards[sh]})
	}
	return out
}

// OwnedShards returns the shards the node owns in the current epoch, sorted.
func (n *Node) OwnedShards() []uint16 { return slices.Clone(n.st.Load().owned) }

// internal wraps an unexpected (storage) failure: it is logged with its details and
// reported as ErrInternal.
func (n *Node) internal(op string, err error) error {
	n.logger.Error("storage node failure", "op", op, "err", err)
	return fmt.Errorf("%w: %s", ErrInternal, op)
}

// checkPair validates a sliver pair index and returns the shard that stores it for blob
// id, which must be owned (writable) when write is set, or held (readable) otherwise.
func (n *Node) checkPair(st *state, id redstuff.BlobID, pair int, write bool) (uint16, error) {
	if pair < 0 || pair >= n.n {
		return 0, fmt.Errorf("%w: sliver pair %d, %d shards", ErrIndexOutOfRange, pair, n.n)
	}
	shard := uint16(id.PairShard(pair, n.n))
	status := st.shards[shard]
	switch {
	case write && status == store.ShardLockedToMove:
		return 0, fmt.Errorf("%w: shard %d (sliver pair %d) in epoch %d", ErrShardLocked, shard, pair, st.epoch)
	case write && !status.Owned(), !write && !status.Readable():
		return 0, fmt.Errorf("%w: shard %d (sliver pair %d) in epoch %d", ErrShardNotAssigned, shard, pair, st.epoch)
	}
	return shard, nil
}

// checkRegistered returns nil if blob id may be stored in the current epoch: it has a
// registration that has not ended and it is not invalid.
func (n *Node) checkRegistered(st *state, id redstuff.BlobID, info store.BlobInfo, found bool) error {
	switch {
	case !found || !info.Live() && !info.Invalid:
		return fmt.Errorf("%w: %s", ErrNotRegistered, id)
	case info.Invalid:
		return fmt.Errorf("%w: %s (event %d)", ErrInvalidBlob, id, info.InvalidEvent.Seq)
	case !registeredAt(info, st.epoch):
		return fmt.Errorf("%w: %s (epoch %d)", ErrBlobExpired, id, st.epoch)
	}
	return nil
}

// registeredAt reports whether some registration of the blob may still be running in
// epoch (end epochs are exclusive).
func registeredAt(info store.BlobInfo, epoch uint32) bool {
	return info.PermanentTotal > 0 && info.PermanentEndEpoch > epoch ||
		info.DeletableTotal > 0 && info.DeletableEndEpoch > epoch
}

func (n *Node) blobInfo(id redstuff.BlobID) (store.BlobInfo, bool, error) {
	info, err := n.store.BlobInfo(id)
	if errors.Is(err, store.ErrNotFound) {
		return info, false, nil
	}
	if err != nil {
		return info, false, n.internal("read blob info", err)
	}
	return info, true, nil
}
