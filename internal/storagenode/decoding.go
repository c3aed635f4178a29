package storagenode

import (
	"errors"
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// DecodingSymbol is a symbol for decoding a source sliver without proofs (Walrus's
// DecodingSymbol, served by GET /v1/blobs/{id}/decodingSymbols): the symbol at position
// target of the orthogonal sliver Index. Axis is the axis of the sliver it helps decode
// (the target's). A reader checks the decoded sliver against the metadata instead of
// each symbol against a commitment.
type DecodingSymbol struct {
	Axis  redstuff.Axis
	Index int
	Data  []byte
}

// DecodingSymbols returns, for each target source sliver of axis a, the decoding symbols
// the node holds: from every stored sliver of the orthogonal axis of the shards it holds,
// the symbol at the target's position, in shard order. Targets must be source slivers
// (index below the number of source symbols of the axis; ErrDecodingOutOfRange), at
// least one (ErrNoTargetSlivers); duplicates are served once. maxBytes bounds the symbol
// bytes of the answer (ErrInvalidFilter beyond it: ask for fewer targets). Slivers the
// node does not have are skipped; a blob it has nothing of gives an empty map; a blob in
// the challenge window gives ErrChallenged.
func (n *Node) DecodingSymbols(id redstuff.BlobID, a redstuff.Axis, targets []int, maxBytes int64) (map[int][]DecodingSymbol, error) {
	if a != redstuff.Primary && a != redstuff.Secondary {
		return nil, fmt.Errorf("%w: axis %d", ErrInvalidFilter, a)
	}
	if len(targets) == 0 {
		return nil, ErrNoTargetSlivers
	}
	source := n.enc.SourceSymbols(a)
	targets = slices.Clone(targets)
	slices.Sort(targets)
	targets = slices.Compact(targets)
	for _, t := range targets {
		if t < 0 || t >= source {
			return nil, fmt.Errorf("%w: target %s sliver %d, %d source slivers", ErrDecodingOutOfRange, a, t, source)
		}
	}
	if err := n.checkChallenged(id); err != nil {
		return nil, err
	}
	st := n.st.Load()
	src := a.Orthogonal()
	out := map[int][]DecodingSymbol{}
	var total int64
	for _, shard := range st.readable {
		b, err := n.store.Sliver(shard, src, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, n.internal("read sliver", err)
		}
		s, err := redstuff.DecodeSliver(b, src, len(b))
		if err != nil {
			return nil, n.internal("decode stored sliver", err)
		}
		total += int64(len(targets)) * int64(s.SymbolSize)
		if total > maxBytes {
			return nil, fmt.Errorf("%w: the answer would exceed %d bytes; ask for fewer target slivers", ErrInvalidFilter, maxBytes)
		}
		for _, t := range targets {
			if (t+1)*s.SymbolSize > len(s.Data) {
				return nil, n.internal("short stored sliver", fmt.Errorf("%s sliver %d of %s has %d bytes", src, s.Index, id, len(s.Data)))
			}
			out[t] = append(out[t], DecodingSymbol{Axis: a, Index: s.Index, Data: s.Data[t*s.SymbolSize : (t+1)*s.SymbolSize]})
		}
	}
	return out, nil
}

// EncodeDecodingSymbols encodes an answer of DecodingSymbols as Walrus does: BCS of a
// map (sorted by target index) from the target's u16 index to a vector of
// ByAxis<DecodingSymbol<Primary>, DecodingSymbol<Secondary>> (variant 0 or 1 by the
// target's axis, then the symbol's u16 index and its bytes).
func EncodeDecodingSymbols(m map[int][]DecodingSymbol) []byte {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e := bcs.NewEncoder(nil)
	e.Len(len(keys))
	for _, k := range keys {
		e.U16(uint16(k))
		e.Len(len(m[k]))
		for _, s := range m[k] {
			e.ULEB128(uint32(s.Axis))
			e.U16(uint16(s.Index))
			e.Bytes(s.Data)
		}
	}
	return e.Out()
}

// DecodeDecodingSymbols decodes an answer of GET /v1/blobs/{id}/decodingSymbols for
// axis a of a system of nShards shards: keys strictly increasing and below nShards,
// every symbol of axis a with an index below nShards and the same size as the others,
// at most nShards symbols per target. The symbols alias b.
func DecodeDecodingSymbols(b []byte, a redstuff.Axis, nShards int) (map[int][]DecodingSymbol, error) {
	d := bcs.NewDecoder(b)
	count := d.Len(nShards)
	out := make(map[int][]DecodingSymbol, min(count, 64))
	prev, size := -1, -1
	for range count {
		k := int(d.U16())
		if d.Err() != nil {
			break
		}
		if k <= prev || k >= nShards {
			return nil, fmt.Errorf("storagenode: decoding symbols: target %d after %d, %d shards", k, prev, nShards)
		}
		prev = k
		syms := d.Len(nShards)
		list := make([]DecodingSymbol, 0, min(syms, 64))
		for range syms {
			v := d.Variant(2)
			idx := int(d.U16())
			data := d.Bytes(redstuff.MaxSymbolSize)
			if d.Err() != nil {
				break
			}
			switch {
			case redstuff.Axis(v) != a:
				return nil, fmt.Errorf("storagenode: decoding symbols: a symbol for a %s sliver, asked for %s", redstuff.Axis(v), a)
			case idx >= nShards:
				return nil, fmt.Errorf("storagenode: decoding symbols: symbol index %d, %d shards", idx, nShards)
			case size >= 0 && len(data) != size || len(data) == 0:
				return nil, fmt.Errorf("storagenode: decoding symbols: symbols of %d and %d bytes", size, len(data))
			}
			size = len(data)
			list = append(list, DecodingSymbol{Axis: a, Index: idx, Data: data})
		}
		out[k] = list
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("storagenode: decoding symbols: %w", err)
	}
	return out, nil
}
