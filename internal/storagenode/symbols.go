package storagenode

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// SymbolID names the symbol at row Primary and column Secondary of the expanded matrix:
// it belongs to primary sliver Primary and to secondary sliver Secondary. Its text form is
// Walrus's "P-S".
type SymbolID struct {
	Primary, Secondary int
}

func (s SymbolID) String() string { return fmt.Sprintf("%d-%d", s.Primary, s.Secondary) }

// ParseSymbolID parses "P-S" with decimal u16 indices.
func ParseSymbolID(s string) (SymbolID, error) {
	p, q, ok := strings.Cut(s, "-")
	a, err1 := strconv.ParseUint(p, 10, 16)
	b, err2 := strconv.ParseUint(q, 10, 16)
	if !ok || err1 != nil || err2 != nil {
		return SymbolID{}, fmt.Errorf("%w: symbol ID %q, want PRIMARY-SECONDARY", ErrInvalidFilter, s)
	}
	return SymbolID{int(a), int(b)}, nil
}

// RecoverySymbols returns the recovery symbols with the given IDs that the node can serve,
// each with a Merkle proof against the commitment of the sliver it comes from. A symbol
// E[P][S] can come from primary sliver P (it then helps recover secondary sliver S) or
// from secondary sliver S (it helps recover primary sliver P); proofAxis, if not nil,
// demands the source axis, otherwise the primary sliver is preferred. IDs are served in
// order, duplicates once; those whose source slivers the node does not hold are skipped.
// If none can be served the error is ErrSymbolNotPresent (no source shard held) or
// ErrSliverNotFound (source slivers missing); a blob in the challenge window gives
// ErrChallenged.
func (n *Node) RecoverySymbols(id redstuff.BlobID, ids []SymbolID, proofAxis *redstuff.Axis) ([]redstuff.RecoverySymbol, error) {
	if len(ids) == 0 {
		return nil, ErrNoSymbols
	}
	for _, s := range ids {
		if s.Primary < 0 || s.Primary >= n.n || s.Secondary < 0 || s.Secondary >= n.n {
			return nil, fmt.Errorf("%w: symbol %s, %d shards", ErrIndexOutOfRange, s, n.n)
		}
	}
	if err := n.checkChallenged(id); err != nil {
		return nil, err
	}
	st := n.st.Load()
	m, err := n.metadataForRead(id)
	if err != nil {
		return nil, err
	}
	seen := make(map[SymbolID]bool, len(ids))
	var out []redstuff.RecoverySymbol
	var missing error = fmt.Errorf("%w: %s", ErrSymbolNotPresent, id)
	for _, s := range ids {
		if seen[s] {
			continue
		}
		seen[s] = true
		// Candidate sources: primary sliver s.Primary (pair s.Primary), secondary sliver
		// s.Secondary (pair n-1-s.Secondary).
		for _, src := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
			if proofAxis != nil && *proofAxis != src {
				continue
			}
			index, target := s.Primary, s.Secondary
			if src == redstuff.Secondary {
				index, target = s.Secondary, s.Primary
			}
			sym, err := n.symbolFrom(st, m, id, src, index, target)
			if errors.Is(err, ErrShardNotAssigned) {
				continue
			}
			if errors.Is(err, ErrSliverNotFound) {
				missing = err
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, sym)
			break
		}
	}
	if len(out) == 0 {
		return nil, missing
	}
	return out, nil
}

// RecoverySymbolsFor returns every recovery symbol the node can serve for rebuilding
// sliver target of axis a: one from each sliver of the orthogonal axis it holds, in shard
// order. Errors are as for RecoverySymbols.
func (n *Node) RecoverySymbolsFor(id redstuff.BlobID, a redstuff.Axis, target int) ([]redstuff.RecoverySymbol, error) {
	if target < 0 || target >= n.n {
		return nil, fmt.Errorf("%w: target sliver %d, %d shards", ErrIndexOutOfRange, target, n.n)
	}
	if a != redstuff.Primary && a != redstuff.Secondary {
		return nil, fmt.Errorf("%w: axis %d", ErrInvalidFilter, a)
	}
	if err := n.checkChallenged(id); err != nil {
		return nil, err
	}
	st := n.st.Load()
	if len(st.readable) == 0 {
		return nil, fmt.Errorf("%w: the node holds no shard", ErrSymbolNotPresent)
	}
	m, err := n.metadataForRead(id)
	if err != nil {
		return nil, err
	}
	src := a.Orthogonal()
	var out []redstuff.RecoverySymbol
	var missing error
	for _, shard := range st.readable {
		pair := id.ShardPair(int(shard), n.n)
		index := pair
		if src == redstuff.Secondary {
			index = n.n - 1 - pair
		}
		sym, err := n.symbolFrom(st, m, id, src, index, target)
		if errors.Is(err, ErrSliverNotFound) {
			missing = err
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sym)
	}
	if len(out) == 0 {
		return nil, missing
	}
	return out, nil
}

// metadataForRead returns the decoded metadata for serving reads: a missing one is
// ErrMetadataNotFound.
func (n *Node) metadataForRead(id redstuff.BlobID) (*redstuff.Metadata, error) {
	m, err := n.metadata(id)
	if errors.Is(err, ErrMissingMetadata) {
		return nil, fmt.Errorf("%w: %s", ErrMetadataNotFound, id)
	}
	return m, err
}

// symbolFrom returns the symbol of source sliver index (axis src) at position target.
func (n *Node) symbolFrom(st *state, m *redstuff.Metadata, id redstuff.BlobID, src redstuff.Axis, index, target int) (redstuff.RecoverySymbol, error) {
	pair := index
	if src == redstuff.Secondary {
		pair = n.n - 1 - index
	}
	shard, err := n.checkPair(st, id, pair, false)
	if err != nil {
		return redstuff.RecoverySymbol{}, err
	}
	x, err := n.expanded(m, id, shard, src, index)
	if err != nil {
		return redstuff.RecoverySymbol{}, err
	}
	sym, err := x.RecoverySymbol(target)
	if err != nil {
		return redstuff.RecoverySymbol{}, fmt.Errorf("%w: %v", ErrIndexOutOfRange, err)
	}
	return sym, nil
}

// expanded returns the expansion of a stored sliver, from the cache if possible.
func (n *Node) expanded(m *redstuff.Metadata, id redstuff.BlobID, shard uint16, a redstuff.Axis, index int) (*redstuff.ExpandedSliver, error) {
	k := cacheKey{id: id, kind: cacheExpanded, axis: a, index: uint16(index)}
	if v, ok := n.cache.get(k); ok {
		return v.(*redstuff.ExpandedSliver), nil
	}
	b, err := n.store.Sliver(shard, a, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s sliver %d of %s", ErrSliverNotFound, a, index, id)
	}
	if err != nil {
		return nil, n.internal("read sliver", err)
	}
	s, err := redstuff.DecodeSliver(b, a, len(b))
	if err != nil {
		return nil, n.internal("decode stored sliver", err)
	}
	x, err := n.enc.Expand(m, s)
	if err != nil {
		return nil, n.internal("expand stored sliver", err)
	}
	// The expansion keeps n symbols and a tree of about 2n nodes.
	n.cache.add(k, x, int64(n.n*s.SymbolSize+2*n.n*merkle.Size+256))
	return x, nil
}
