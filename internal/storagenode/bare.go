package storagenode

import (
	"fmt"
	"math/bits"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Bare recovery symbols: the answer to GET /v1/blobs/{id}/recoverySymbols?proofs=false
// (our extension; Walrus's clients never send the parameter). A node rebuilding a sliver
// checks the decoded sliver against its hash in the metadata instead of every symbol
// against its source sliver's commitment, so in the common case it needs only the symbol
// bytes; it asks for proofs only when a decoded sliver does not match. The answer lists
// the requested IDs implicitly, in request order, so the framing is a bitmap:
//
//	ULEB128 count ‖ ULEB128 symbol size ‖ bitmap (ceil(count/8) bytes, bit i of byte i/8
//	set when the i-th requested ID is served) ‖ the served symbols' data in request order
//
// A repeated ID is served once (at its first position); an unserved one has its bit clear.

// EncodeBareSymbols encodes the answer to a request for ids from the symbols served
// (RecoverySymbols' result for the same ids): each symbol marks the first request
// position of its ID. Symbols must all have the same size.
func EncodeBareSymbols(ids []SymbolID, syms []redstuff.RecoverySymbol) []byte {
	pos := make(map[SymbolID]int, len(ids))
	for i, s := range ids {
		if _, ok := pos[s]; !ok {
			pos[s] = i
		}
	}
	bitmap := make([]byte, (len(ids)+7)/8)
	data := make([][]byte, len(ids))
	size := 0
	for i := range syms {
		s := &syms[i]
		id := SymbolID{Primary: s.Target, Secondary: s.Index}
		if s.Axis == redstuff.Secondary {
			id = SymbolID{Primary: s.Index, Secondary: s.Target}
		}
		p, ok := pos[id]
		if !ok {
			continue
		}
		bitmap[p/8] |= 1 << (p % 8)
		data[p] = s.Data
		size = len(s.Data)
	}
	e := bcs.NewEncoder(make([]byte, 0, 10+len(bitmap)+len(syms)*size))
	e.ULEB128(uint32(len(ids)))
	e.ULEB128(uint32(size))
	e.Fixed(bitmap)
	for _, d := range data {
		if d != nil {
			e.Fixed(d)
		}
	}
	return e.Out()
}

// DecodeBareSymbols decodes an answer of EncodeBareSymbols to a request for ids of symbols
// from source slivers of axis proofAxis (the target's axis is the orthogonal one). It
// checks the count against the request, the symbol size against wantSize (0: any size up
// to redstuff.MaxSymbolSize, the same for all), and the body length exactly. The
// symbols have no proof; their data aliases b.
func DecodeBareSymbols(b []byte, ids []SymbolID, proofAxis redstuff.Axis, wantSize int) ([]redstuff.RecoverySymbol, error) {
	d := bcs.NewDecoder(b)
	count := int(d.ULEB128())
	size := int(d.ULEB128())
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("storagenode: bare symbols: %w", err)
	}
	if count != len(ids) {
		return nil, fmt.Errorf("storagenode: bare symbols: answer for %d IDs, asked for %d", count, len(ids))
	}
	if size > redstuff.MaxSymbolSize || wantSize > 0 && size != wantSize {
		return nil, fmt.Errorf("storagenode: bare symbols: symbols of %d bytes, want %d", size, wantSize)
	}
	bitmap := d.Fixed((count + 7) / 8)
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("storagenode: bare symbols: %w", err)
	}
	served := 0
	for i, x := range bitmap {
		if i == len(bitmap)-1 && count%8 != 0 && x>>(count%8) != 0 {
			return nil, fmt.Errorf("storagenode: bare symbols: bitmap bits beyond %d IDs", count)
		}
		served += bits.OnesCount8(x)
	}
	if served > 0 && size == 0 {
		return nil, fmt.Errorf("storagenode: bare symbols: %d empty symbols", served)
	}
	if d.Remaining() != served*size {
		return nil, fmt.Errorf("storagenode: bare symbols: %d bytes of data for %d symbols of %d bytes", d.Remaining(), served, size)
	}
	target := proofAxis.Orthogonal()
	out := make([]redstuff.RecoverySymbol, 0, served)
	for i, id := range ids {
		if bitmap[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		s := redstuff.RecoverySymbol{Axis: target, Index: id.Secondary, Target: id.Primary}
		if target == redstuff.Secondary {
			s.Index, s.Target = id.Primary, id.Secondary
		}
		s.Data = d.Fixed(size)
		out = append(out, s)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("storagenode: bare symbols: %w", err)
	}
	return out, nil
}

// BareFraming returns the framing bytes of a bare-symbol answer to count IDs: what it
// carries besides the symbol data.
func BareFraming(count, size int) int {
	return bcs.ULEB128Len(count) + bcs.ULEB128Len(size) + (count+7)/8
}
