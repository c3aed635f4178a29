package chain

import (
	"slices"
	"strings"

	"github.com/walrus-go/walrus/internal/bcs"
	"golang.org/x/crypto/blake2b"
)

// Store is the ordered key-value store that holds the chain state. Keys and values are
// arbitrary byte strings; keys are ordered bytewise.
//
// Ownership: Set may retain key and value, so callers must not modify them afterwards (the
// state machine always passes freshly encoded slices). Get and Iterate return slices that
// callers must not modify; they stay valid until the next write.
//
// Iterate calls fn for every key in [start, end) in ascending order (a nil end means no upper
// bound) until fn returns false. fn must not write to the store.
//
// The methods return no errors: a store backed by fallible storage (the ABCI adapter's pebble
// store) panics on I/O failure, which stops the node; CometBFT replays the missing blocks on
// restart. Implementations need not be safe for concurrent use.
type Store interface {
	Get(key []byte) (value []byte, ok bool)
	Set(key, value []byte)
	Delete(key []byte)
	Iterate(start, end []byte, fn func(key, value []byte) bool)
}

// SortedGetter is a Store that reads many keys faster in one ascending pass than one Get
// at a time (the ABCI adapter's pebble store: one iterator, whose blocks nearby keys share).
type SortedGetter interface {
	// GetSorted returns the values of keys, which must be ascending and distinct: values[i]
	// is the value of keys[i], nil if the key is absent (a present key has a non-nil value).
	GetSorted(keys [][]byte) (values [][]byte)
}

// getSorted reads keys (ascending, distinct) from s: in one pass if s is a SortedGetter,
// else one Get each. Missing keys have nil values, present ones non-nil.
func getSorted(s Store, keys [][]byte) [][]byte {
	if g, ok := s.(SortedGetter); ok {
		return g.GetSorted(keys)
	}
	values := make([][]byte, len(keys))
	for i, k := range keys {
		if v, ok := s.Get(k); ok {
			if v == nil {
				v = []byte{}
			}
			values[i] = v
		}
	}
	return values
}

// prefixEnd returns the smallest key greater than every key with the given prefix, or nil if
// there is none (the prefix is all 0xff bytes).
func prefixEnd(prefix []byte) []byte {
	end := slices.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// iteratePrefix iterates over the keys of s that start with prefix.
func iteratePrefix(s Store, prefix []byte, fn func(key, value []byte) bool) {
	s.Iterate(prefix, prefixEnd(prefix), fn)
}

// MemStore is an in-memory Store ordered by key, for tests and tools. It is a treap whose node
// priorities are a fixed hash of the key, so its shape, like its contents, depends only on the
// operations applied. The zero value is an empty store. A MemStore is not safe for concurrent
// use.
type MemStore struct {
	root *treapNode
	n    int
}

type treapNode struct {
	key         string
	value       []byte
	prio        uint64
	left, right *treapNode
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{} }

// Len returns the number of keys in the store.
func (m *MemStore) Len() int { return m.n }

func keyPriority(k string) uint64 {
	// FNV-1a followed by a finalizer (splitmix64) so that similar keys spread out.
	h := uint64(14695981039346656037)
	for i := 0; i < len(k); i++ {
		h ^= uint64(k[i])
		h *= 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// Get implements Store.
func (m *MemStore) Get(key []byte) ([]byte, bool) {
	n := m.root
	for n != nil {
		switch c := strings.Compare(string(key), n.key); {
		case c < 0:
			n = n.left
		case c > 0:
			n = n.right
		default:
			return n.value, true
		}
	}
	return nil, false
}

// Set implements Store.
func (m *MemStore) Set(key, value []byte) {
	if value == nil {
		value = []byte{}
	}
	m.root = m.insert(m.root, string(key), value)
}

func (m *MemStore) insert(n *treapNode, key string, value []byte) *treapNode {
	if n == nil {
		m.n++
		return &treapNode{key: key, value: value, prio: keyPriority(key)}
	}
	switch c := strings.Compare(key, n.key); {
	case c < 0:
		n.left = m.insert(n.left, key, value)
		if n.left.prio > n.prio {
			l := n.left
			n.left, l.right = l.right, n
			return l
		}
	case c > 0:
		n.right = m.insert(n.right, key, value)
		if n.right.prio > n.prio {
			r := n.right
			n.right, r.left = r.left, n
			return r
		}
	default:
		n.value = value
	}
	return n
}

// Delete implements Store.
func (m *MemStore) Delete(key []byte) { m.root = m.remove(m.root, string(key)) }

func (m *MemStore) remove(n *treapNode, key string) *treapNode {
	if n == nil {
		return nil
	}
	switch c := strings.Compare(key, n.key); {
	case c < 0:
		n.left = m.remove(n.left, key)
	case c > 0:
		n.right = m.remove(n.right, key)
	default:
		m.n--
		return merge(n.left, n.right)
	}
	return n
}

// merge joins two treaps whose keys are all smaller in a than in b.
func merge(a, b *treapNode) *treapNode {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.prio > b.prio:
		a.right = merge(a.right, b)
		return a
	default:
		b.left = merge(a, b.left)
		return b
	}
}

// Iterate implements Store.
func (m *MemStore) Iterate(start, end []byte, fn func(key, value []byte) bool) {
	walk(m.root, start, end, fn)
}

func walk(n *treapNode, start, end []byte, fn func(key, value []byte) bool) bool {
	if n == nil {
		return true
	}
	afterStart := start == nil || n.key >= string(start)
	beforeEnd := end == nil || n.key < string(end)
	if afterStart && !walk(n.left, start, end, fn) {
		return false
	}
	if afterStart && beforeEnd && !fn([]byte(n.key), n.value) {
		return false
	}
	if beforeEnd {
		return walk(n.right, start, end, fn)
	}
	return true
}

// Write is one state change of a block: a Set of Key to Value, or a Delete of Key.
type Write struct {
	Key     []byte
	Value   []byte // nil for a delete
	Deleted bool
}

// WriteSet is the list of writes of a block, sorted by key, one per key (the last write to a
// key wins). It is what the ABCI adapter persists and hashes.
type WriteSet []Write

// Hash returns the application hash after this write set, chained to prev (the previous
// application hash, zero for the first): Blake2b-256 of the BCS encoding of
// ("walrus-go/app-hash/v1", prev, writes), where each write is (key bytes, Option<value bytes>)
// with None for a delete. Two nodes that applied the same blocks therefore report the same
// hash, and the hash commits to the whole history of state writes.
func (ws WriteSet) Hash(prev [32]byte) [32]byte {
	h, _ := blake2b.New256(nil)
	e := bcs.NewEncoder(nil)
	e.Bytes([]byte("walrus-go/app-hash/v1"))
	e.Fixed(prev[:])
	e.Len(len(ws))
	h.Write(e.Out())
	for _, w := range ws {
		e.Reset()
		e.Bytes(w.Key)
		e.Option(!w.Deleted)
		if !w.Deleted {
			e.Bytes(w.Value)
		}
		h.Write(e.Out())
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Overlay is a Store that buffers writes on top of a parent Store: reads see the buffered
// writes first, Iterate merges both in key order, and nothing reaches the parent until Flush.
// The state machine uses one Overlay per block (whose Writes are the block's write set) and one
// per transaction (discarded when the transaction fails). An Overlay is not safe for
// concurrent use, and the parent must not change while the Overlay is in use.
type Overlay struct {
	parent Store
	writes map[string]overlayEntry
}

type overlayEntry struct {
	value   []byte
	deleted bool
}

// NewOverlay returns an empty Overlay on top of parent.
func NewOverlay(parent Store) *Overlay {
	return &Overlay{parent: parent, writes: make(map[string]overlayEntry)}
}

// Get implements Store.
func (o *Overlay) Get(key []byte) ([]byte, bool) {
	if e, ok := o.writes[string(key)]; ok {
		if e.deleted {
			return nil, false
		}
		return e.value, true
	}
	return o.parent.Get(key)
}

// Set implements Store.
func (o *Overlay) Set(key, value []byte) {
	if value == nil {
		value = []byte{}
	}
	o.writes[string(key)] = overlayEntry{value: value}
}

// Delete implements Store.
func (o *Overlay) Delete(key []byte) { o.writes[string(key)] = overlayEntry{deleted: true} }

// sortedKeys returns the buffered keys in [start, end), sorted.
func (o *Overlay) sortedKeys(start, end []byte) []string {
	keys := make([]string, 0, len(o.writes))
	for k := range o.writes {
		if (start == nil || k >= string(start)) && (end == nil || k < string(end)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // the map's order never escapes: the keys are sorted here
	return keys
}

// Iterate implements Store.
func (o *Overlay) Iterate(start, end []byte, fn func(key, value []byte) bool) {
	keys := o.sortedKeys(start, end)
	i := 0
	// emit yields buffered keys below limit (all of them if limit is nil).
	emit := func(limit []byte) bool {
		for i < len(keys) && (limit == nil || keys[i] < string(limit)) {
			e := o.writes[keys[i]]
			i++
			if !e.deleted && !fn([]byte(keys[i-1]), e.value) {
				return false
			}
		}
		return true
	}
	stopped := false
	o.parent.Iterate(start, end, func(k, v []byte) bool {
		if !emit(k) {
			stopped = true
			return false
		}
		if i < len(keys) && keys[i] == string(k) {
			return true // shadowed by a buffered write, emitted on the next call
		}
		if !fn(k, v) {
			stopped = true
			return false
		}
		return true
	})
	if !stopped {
		emit(nil)
	}
}

// Len returns the number of buffered writes.
func (o *Overlay) Len() int { return len(o.writes) }

// Writes returns the buffered writes sorted by key.
func (o *Overlay) Writes() WriteSet {
	keys := o.sortedKeys(nil, nil)
	ws := make(WriteSet, len(keys))
	for i, k := range keys {
		e := o.writes[k]
		ws[i] = Write{Key: []byte(k), Value: e.value, Deleted: e.deleted}
	}
	return ws
}

// Flush applies the buffered writes to the parent in key order and empties the Overlay.
func (o *Overlay) Flush() {
	for _, w := range o.Writes() {
		if w.Deleted {
			o.parent.Delete(w.Key)
		} else {
			o.parent.Set(w.Key, w.Value)
		}
	}
	clear(o.writes)
}

// Discard drops the buffered writes.
func (o *Overlay) Discard() { clear(o.writes) }

// Apply applies a write set to s in order.
func Apply(s Store, ws WriteSet) {
	for _, w := range ws {
		if w.Deleted {
			s.Delete(w.Key)
		} else {
			s.Set(w.Key, w.Value)
		}
	}
}

// StateHash returns a digest of the whole content of s: Blake2b-256 over the BCS encoding of
// every (key, value) pair in key order. Unlike the chained [WriteSet.Hash] it depends only on
// the current state; tests and tools use it to compare states.
func StateHash(s Store) [32]byte {
	h, _ := blake2b.New256(nil)
	e := bcs.NewEncoder(nil)
	s.Iterate(nil, nil, func(k, v []byte) bool {
		e.Reset()
		e.Bytes(k)
		e.Bytes(v)
		h.Write(e.Out())
		return true
	})
	var out [32]byte
	h.Sum(out[:0])
	return out
}
