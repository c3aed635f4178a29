package quilt

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Quilt is an encoded quilt: the blob to store and its index.
type Quilt struct {
	// Blob is the quilt blob, R·C·SymbolSize bytes; store it as an ordinary blob. Its blob
	// ID is the quilt ID.
	Blob       []byte
	SymbolSize int
	Rows, Cols int // R source rows and C source columns of the shard count
	Index      Index
}

// ColumnSize returns the byte length of one column (one secondary sliver's data).
func (q *Quilt) ColumnSize() int { return q.SymbolSize * q.Rows }

// PatchID returns the ID of the patch p of this quilt once stored as quiltID.
func (q *Quilt) PatchID(quiltID redstuff.BlobID, p PatchInfo) PatchID {
	return PatchID{Quilt: quiltID, Internal: p.InternalID()}
}

// MaxPatches returns the most patches a quilt can hold with cfg's shard count: C - 1.
func MaxPatches(cfg *redstuff.Config) int { return cfg.SourceSymbols(redstuff.Secondary) - 1 }

// Encode lays patches out as a QuiltV1 blob for cfg's shard count, exactly as Walrus does.
// The patches are sorted by identifier; the order given does not matter. Errors wrap
// ErrInvalidIdentifier, ErrDuplicateIdentifier, ErrInvalidTags, ErrTooManyPatches (more
// than MaxPatches) or ErrTooLarge (a patch over 4 GiB, or a symbol size over
// redstuff.MaxSymbolSize). Encode only reads patches; the returned blob is new memory.
func Encode(cfg *redstuff.Config, patches []Patch) (*Quilt, error) {
	rows := cfg.SourceSymbols(redstuff.Primary)
	cols := cfg.SourceSymbols(redstuff.Secondary)
	if len(patches) > cols-1 {
		return nil, fmt.Errorf("%w: %d, at most %d with %d shards", ErrTooManyPatches, len(patches), cols-1, cfg.NShards())
	}
	sorted := make([]*Patch, len(patches))
	for i := range patches {
		sorted[i] = &patches[i]
		if err := ValidateIdentifier(patches[i].Identifier); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(sorted, func(a, b *Patch) int { return cmp.Compare(a.Identifier, b.Identifier) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Identifier == sorted[i-1].Identifier {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateIdentifier, truncate(sorted[i].Identifier))
		}
	}

	prefixes := make([][]byte, len(sorted))
	sizes := make([]int, 1+len(sorted))
	for i, p := range sorted {
		pre, err := patchPrefix(p)
		if err != nil {
			return nil, err
		}
		prefixes[i] = pre
		sizes[1+i] = len(pre) + len(p.Data)
	}
	q := &Quilt{Index: Index{Patches: make([]PatchInfo, len(sorted))}}
	for i, p := range sorted {
		tags := make(map[string]string, len(p.Tags))
		for k, v := range p.Tags {
			tags[k] = v
		}
		q.Index.Patches[i] = PatchInfo{Identifier: p.Identifier, Tags: tags}
	}
	indexLen := len(marshalIndex(&q.Index)) // end columns are fixed-size: the length is final
	if uint64(indexLen) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: index of %d bytes", ErrTooLarge, indexLen)
	}
	sizes[0] = indexPrefixSize + indexLen

	sym, err := symbolSize(sizes, cols, rows, MaxIndexColumns)
	if err != nil {
		return nil, err
	}
	colSize := sym * rows
	q.SymbolSize, q.Rows, q.Cols = sym, rows, cols
	q.Blob = make([]byte, rows*cols*sym)
	q.Index.Columns = ceilDiv(sizes[0], colSize)
	cur := q.Index.Columns
	for i, p := range sorted {
		writeColumns(q.Blob, sym, rows, cols, cur, 0, prefixes[i])
		writeColumns(q.Blob, sym, rows, cols, cur, len(prefixes[i]), p.Data)
		n := ceilDiv(sizes[1+i], colSize)
		q.Index.Patches[i].Start, q.Index.Patches[i].End = cur, cur+n
		cur += n
	}
	idx := make([]byte, indexPrefixSize, sizes[0])
	idx[0] = Version
	binary.LittleEndian.PutUint32(idx[1:], uint32(indexLen))
	idx = append(idx, marshalIndex(&q.Index)...)
	writeColumns(q.Blob, sym, rows, cols, 0, 0, idx)
	return q, nil
}

// patchPrefix returns a patch's header, identifier and tags: everything before its data.
func patchPrefix(p *Patch) ([]byte, error) {
	ident := bcsString(p.Identifier)
	if len(ident) >= MaxIdentifierLen {
		return nil, fmt.Errorf("%w: %d bytes encoded, at most %d", ErrInvalidIdentifier, len(ident), MaxIdentifierLen-1)
	}
	var tags []byte
	mask := byte(0)
	if len(p.Tags) > 0 {
		for k, v := range p.Tags {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, fmt.Errorf("%w: %q: tags must be valid UTF-8", ErrInvalidTags, truncate(p.Identifier))
			}
		}
		tags = tagsBytes(p.Tags)
		if len(tags) > MaxTagsLen {
			return nil, fmt.Errorf("%w: %q: %d bytes of tags, at most %d", ErrInvalidTags, truncate(p.Identifier), len(tags), MaxTagsLen)
		}
		mask |= tagsMask
	}
	rest := 2 + len(ident) + len(p.Data)
	if tags != nil {
		rest += 2 + len(tags)
	}
	if uint64(rest) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: patch %q of %d bytes, at most %d", ErrTooLarge, truncate(p.Identifier), rest, uint64(math.MaxUint32))
	}
	out := make([]byte, 0, PatchHeaderSize+rest-len(p.Data))
	out = append(out, Version)
	out = binary.LittleEndian.AppendUint32(out, uint32(rest))
	out = append(out, mask)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(ident)))
	out = append(out, ident...)
	if tags != nil {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(tags)))
		out = append(out, tags...)
	}
	return out, nil
}

// marshalIndex returns the BCS QuiltIndexV1 of x (start columns are not written).
func marshalIndex(x *Index) []byte {
	var e bcs.Encoder
	e.Len(len(x.Patches))
	for _, p := range x.Patches {
		e.U16(uint16(p.End))
		putString(&e, p.Identifier)
		putTags(&e, p.Tags)
	}
	return e.Out()
}

// symbolSize returns the smallest even symbol size with which blocks of the given sizes
// (the index first) each fit in whole columns of rows symbols, all within cols columns,
// the index within maxIndexCols. It follows walrus-core's compute_symbol_size.
func symbolSize(sizes []int, cols, rows, maxIndexCols int) (int, error) {
	if len(sizes) > cols {
		return 0, fmt.Errorf("%w: %d, at most %d", ErrTooManyPatches, len(sizes)-1, cols-1)
	}
	total := 0
	largest := 0
	for _, s := range sizes {
		total += s
		largest = max(largest, s)
	}
	lo := max(ceilDiv(total, cols*rows), ceilDiv(sizes[0], rows*maxIndexCols), ceilDiv(indexPrefixSize, rows))
	hi := ceilDiv(largest, cols/len(sizes)*rows)
	for lo < hi {
		mid := (lo + hi) / 2
		if fits(sizes, cols, mid*rows) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	sym := lo + lo%2
	if sym > redstuff.MaxSymbolSize {
		return 0, fmt.Errorf("%w: needs symbol size %d, at most %d; remove some files", ErrTooLarge, sym, redstuff.MaxSymbolSize)
	}
	return sym, nil
}

func fits(sizes []int, cols, colSize int) bool {
	need := 0
	for _, s := range sizes {
		need += ceilDiv(s, colSize)
		if need > cols {
			return false
		}
	}
	return true
}

// writeColumns writes b column-major into the row-major blob, starting skip bytes into
// column start.
func writeColumns(blob []byte, sym, rows, cols, start, skip int, b []byte) {
	rowSize := sym * cols
	colSize := sym * rows
	col := start + skip/colSize
	k := skip % colSize
	for len(b) > 0 {
		row, off := k/sym, k%sym
		n := copy(blob[row*rowSize+col*sym+off:row*rowSize+col*sym+sym], b)
		b = b[n:]
		k += n
		if k == colSize {
			k = 0
			col++
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
