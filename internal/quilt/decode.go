package quilt

import (
	"encoding/binary"
	"fmt"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Columns splits a whole quilt blob into its C columns for cfg's shard count: column c is
// the data of systematic secondary sliver c. The blob's length must be a non-zero multiple
// of R·C; errors wrap ErrMalformed. The columns are new memory.
func Columns(cfg *redstuff.Config, blob []byte) ([][]byte, error) {
	rows := cfg.SourceSymbols(redstuff.Primary)
	cols := cfg.SourceSymbols(redstuff.Secondary)
	cells := rows * cols
	if len(blob) == 0 || len(blob)%cells != 0 || (len(blob)/cells)%2 != 0 {
		return nil, fmt.Errorf("%w: blob of %d bytes is not %d·%d symbols of an even size", ErrMalformed, len(blob), rows, cols)
	}
	sym := len(blob) / cells
	out := make([][]byte, cols)
	buf := make([]byte, len(blob))
	for c := range out {
		col := buf[c*rows*sym : (c+1)*rows*sym]
		for r := 0; r < rows; r++ {
			copy(col[r*sym:(r+1)*sym], blob[r*cols*sym+c*sym:])
		}
		out[c] = col
	}
	return out, nil
}

// IndexColumns reads the index header from column 0 and returns how many leading columns
// hold the index (at least 1, at most MaxIndexColumns). Errors wrap ErrMalformed.
func IndexColumns(col0 []byte) (int, error) {
	if len(col0) < indexPrefixSize {
		return 0, fmt.Errorf("%w: column of %d bytes holds no index header", ErrMalformed, len(col0))
	}
	if col0[0] != Version {
		return 0, fmt.Errorf("%w: version %d, want %d", ErrMalformed, col0[0], Version)
	}
	size := uint64(binary.LittleEndian.Uint32(col0[1:]))
	limit := uint64(len(col0))*MaxIndexColumns - indexPrefixSize
	if size > limit {
		return 0, fmt.Errorf("%w: index of %d bytes, at most %d in %d columns", ErrMalformed, size, limit, MaxIndexColumns)
	}
	return int((size + indexPrefixSize + uint64(len(col0)) - 1) / uint64(len(col0))), nil
}

// DecodeIndex parses the index from the leading columns of a quilt (at least IndexColumns
// of them; more are ignored) of a quilt with nColumns source columns. It checks that every
// patch's range is non-empty and within the quilt. Errors wrap ErrMalformed.
func DecodeIndex(cols [][]byte, nColumns int) (*Index, error) {
	if len(cols) == 0 {
		return nil, fmt.Errorf("%w: no columns", ErrMalformed)
	}
	n, err := IndexColumns(cols[0])
	if err != nil {
		return nil, err
	}
	if len(cols) < n {
		return nil, fmt.Errorf("%w: index spans %d columns, got %d", ErrMalformed, n, len(cols))
	}
	buf, err := concat(cols[:n])
	if err != nil {
		return nil, err
	}
	size := int(binary.LittleEndian.Uint32(buf[1:]))
	d := bcs.NewDecoder(buf[indexPrefixSize : indexPrefixSize+size])
	count := d.Len(max(nColumns-1, 0))
	x := &Index{Columns: n, Patches: make([]PatchInfo, 0, count)}
	start := n
	for i := 0; i < count && d.Err() == nil; i++ {
		end := int(d.U16())
		id := readString(d, MaxIdentifierLen, "identifier")
		tags := readTags(d)
		if d.Err() != nil {
			break
		}
		if err := ValidateIdentifier(id); err != nil {
			return nil, fmt.Errorf("%w: patch %d: %v", ErrMalformed, i, err)
		}
		if end <= start || end > nColumns {
			return nil, fmt.Errorf("%w: patch %d spans columns %d..%d of %d", ErrMalformed, i, start, end, nColumns)
		}
		x.Patches = append(x.Patches, PatchInfo{Identifier: id, Tags: tags, Start: start, End: end})
		start = end
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: index: %v", ErrMalformed, err)
	}
	return x, nil
}

// DecodePatch parses the patch that starts at the top of cols[0] and continues through the
// following columns (pass the columns [Start, End) of its PatchInfo). The patch's Data may
// alias cols. Errors wrap ErrMalformed.
func DecodePatch(cols [][]byte) (*Patch, error) {
	buf, err := concat(cols)
	if err != nil {
		return nil, err
	}
	if len(buf) < PatchHeaderSize {
		return nil, fmt.Errorf("%w: %d bytes hold no patch header", ErrMalformed, len(buf))
	}
	if buf[0] != Version {
		return nil, fmt.Errorf("%w: patch version %d, want %d", ErrMalformed, buf[0], Version)
	}
	length := uint64(binary.LittleEndian.Uint32(buf[1:]))
	mask := buf[5]
	body := buf[PatchHeaderSize:]
	if length > uint64(len(body)) {
		return nil, fmt.Errorf("%w: patch claims %d bytes, its columns hold %d", ErrMalformed, length, len(body))
	}
	body = body[:length]
	p := &Patch{}
	field := func(what string) ([]byte, error) {
		if len(body) < 2 {
			return nil, fmt.Errorf("%w: patch too short for its %s length", ErrMalformed, what)
		}
		n := int(binary.LittleEndian.Uint16(body))
		if n > len(body)-2 {
			return nil, fmt.Errorf("%w: %s of %d bytes overruns the patch", ErrMalformed, what, n)
		}
		f := body[2 : 2+n]
		body = body[2+n:]
		return f, nil
	}
	ib, err := field("identifier")
	if err != nil {
		return nil, err
	}
	d := bcs.NewDecoder(ib)
	p.Identifier = readString(d, MaxIdentifierLen, "identifier")
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: identifier: %v", ErrMalformed, err)
	}
	if err := ValidateIdentifier(p.Identifier); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if mask&tagsMask != 0 {
		tb, err := field("tags")
		if err != nil {
			return nil, err
		}
		d := bcs.NewDecoder(tb)
		p.Tags = readTags(d)
		if err := d.Finish(); err != nil {
			return nil, fmt.Errorf("%w: tags: %v", ErrMalformed, err)
		}
	}
	p.Data = body
	return p, nil
}

// concat joins columns of one length; one column is returned as is.
func concat(cols [][]byte) ([]byte, error) {
	if len(cols) == 0 {
		return nil, fmt.Errorf("%w: no columns", ErrMalformed)
	}
	size := len(cols[0])
	if size == 0 {
		return nil, fmt.Errorf("%w: empty column", ErrMalformed)
	}
	for _, c := range cols {
		if len(c) != size {
			return nil, fmt.Errorf("%w: columns of %d and %d bytes", ErrMalformed, size, len(c))
		}
	}
	if len(cols) == 1 {
		return cols[0], nil
	}
	buf := make([]byte, 0, size*len(cols))
	for _, c := range cols {
		buf = append(buf, c...)
	}
	return buf, nil
}
