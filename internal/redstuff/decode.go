package redstuff

import (
	"fmt"
)

// Consistency selects how Decode checks that the decoded blob is the one the metadata
// commits to.
type Consistency int

const (
	// ConsistencyDefault re-hashes every systematic sliver of the decoding axis that was not
	// received directly and compares it with the metadata (Walrus's default since v1.37).
	ConsistencyDefault Consistency = iota
	// ConsistencyStrict re-encodes the whole blob and compares the blob ID.
	ConsistencyStrict
	// ConsistencySkip performs no check.
	ConsistencySkip
)

// Decode rebuilds a blob from slivers of one axis: any SourceSymbols(a) primary slivers
// (n-2f) or secondary slivers (n-f) with distinct indices. The slivers must already have
// been verified against the metadata (VerifySliver); extra slivers are ignored. When the
// systematic slivers are all present no arithmetic is done. A failed consistency check
// returns ErrInconsistent.
func (c *Config) Decode(m *Metadata, slivers []*Sliver, check Consistency) ([]byte, error) {
	if len(slivers) == 0 {
		return nil, fmt.Errorf("%w: no slivers", ErrNotEnough)
	}
	a := slivers[0].Axis
	code := c.decodingCode(a)
	k, total := code.OriginalCount(), code.OriginalCount()+code.RecoveryCount()
	shards := make([][]byte, total)
	have, sym := 0, 0
	for _, s := range slivers {
		if s.Axis != a {
			return nil, fmt.Errorf("%w: mixed primary and secondary slivers", ErrInvalidSliver)
		}
		ss, err := c.checkSliverShape(m, s)
		if err != nil {
			return nil, err
		}
		sym = ss
		if shards[s.Index] == nil {
			shards[s.Index] = s.Data
			have++
		}
	}
	if have < k {
		return nil, fmt.Errorf("%w: %d distinct %s slivers, need %d", ErrNotEnough, have, a, k)
	}
	received := make([]bool, k)
	for i := 0; i < k; i++ {
		received[i] = shards[i] != nil
	}
	if err := code.Reconstruct(sym, shards); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotEnough, err)
	}
	if check == ConsistencyDefault {
		if err := c.checkSystematic(m, a, sym, shards[:k], received); err != nil {
			return nil, err
		}
	}
	blob := c.assemble(a, sym, shards[:k], m.UnencodedLength)
	if check == ConsistencyStrict {
		got, err := c.ComputeMetadata(blob)
		if err != nil {
			return nil, err
		}
		if got.BlobID != m.BlobID {
			return nil, fmt.Errorf("%w: re-encoding gives blob ID %s, want %s", ErrInconsistent, got.BlobID, m.BlobID)
		}
	}
	return blob, nil
}

// checkSystematic re-hashes the decoded systematic slivers that were not received.
func (c *Config) checkSystematic(m *Metadata, a Axis, sym int, systematic [][]byte, received []bool) error {
	var idx []int
	var datas [][]byte
	for i, d := range systematic {
		if !received[i] {
			idx = append(idx, i)
			datas = append(datas, d)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	roots := c.sliverRoots(a, datas, sym)
	for j, i := range idx {
		if roots[j] != m.SliverHash(a, i) {
			return fmt.Errorf("%w: decoded %s sliver %d does not match its metadata hash", ErrInconsistent, a, i)
		}
	}
	return nil
}

// assemble lays the systematic slivers of axis a out as the blob: primary slivers are the
// rows, secondary slivers the columns of the message matrix.
func (c *Config) assemble(a Axis, sym int, systematic [][]byte, length uint64) []byte {
	R, C := c.rows, c.columns
	out := make([]byte, R*C*sym)
	if a == Primary {
		for r, row := range systematic {
			copy(out[r*C*sym:], row)
		}
	} else {
		for j, col := range systematic {
			for r := 0; r < R; r++ {
				copy(out[(r*C+j)*sym:(r*C+j+1)*sym], col[r*sym:(r+1)*sym])
			}
		}
	}
	return out[:length]
}
