package storagenode

import (
	"container/list"
	"sync"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// cacheKey names a cached value of one blob: its decoded metadata (kind 0) or an expanded
// sliver (kind 1, with axis and sliver index).
type cacheKey struct {
	id    redstuff.BlobID
	kind  uint8
	axis  redstuff.Axis
	index uint16
}

const (
	cacheMetadata uint8 = iota
	cacheExpanded
	cachePairProof // a pair's BCS PairProof, index = pair
	cacheAssembled // full metadata assembled from peers
)

type cacheEntry struct {
	key  cacheKey
	val  any
	size int64
}

// lru is a least-recently-used cache bounded by the total size of its values. It is safe
// for concurrent use. Values are immutable once added.
type lru struct {
	mu     sync.Mutex // guards the fields below
	max    int64
	size   int64
	order  *list.List // front = most recent
	items  map[cacheKey]*list.Element
	byBlob map[redstuff.BlobID]map[cacheKey]struct{}
}

func newLRU(maxBytes int64) *lru {
	return &lru{max: maxBytes, order: list.New(), items: map[cacheKey]*list.Element{}, byBlob: map[redstuff.BlobID]map[cacheKey]struct{}{}}
}

func (c *lru) get(k cacheKey) (any, bool) {
	if c.max <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry).val, true
}

func (c *lru) add(k cacheKey, v any, size int64) {
	if c.max <= 0 || size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.removeLocked(el)
	}
	c.items[k] = c.order.PushFront(&cacheEntry{key: k, val: v, size: size})
	if c.byBlob[k.id] == nil {
		c.byBlob[k.id] = map[cacheKey]struct{}{}
	}
	c.byBlob[k.id][k] = struct{}{}
	c.size += size
	for c.size > c.max {
		c.removeLocked(c.order.Back())
	}
}

// removeBlob drops every value of a blob (its data was deleted).
func (c *lru) removeBlob(id redstuff.BlobID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.byBlob[id] {
		c.removeLocked(c.items[k])
	}
}

func (c *lru) removeLocked(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.order.Remove(el)
	delete(c.items, e.key)
	if m := c.byBlob[e.key.id]; m != nil {
		delete(m, e.key)
		if len(m) == 0 {
			delete(c.byBlob, e.key.id)
		}
	}
	c.size -= e.size
}
