package redstuff

import (
	"fmt"

	"github.com/walrus-go/walrus/internal/rscode"
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
	systematic, blob := c.systematicBuffers(a, sym, shards[:k])
	if err := c.reconstruct(code, sym, shards, systematic); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotEnough, err)
	}
	if check == ConsistencyDefault {
		if err := c.checkSystematic(m, a, sym, systematic, received); err != nil {
			return nil, err
		}
	}
	if blob == nil {
		blob = c.assemble(a, sym, systematic, m.UnencodedLength)
	} else {
		blob = blob[:m.UnencodedLength]
	}
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

// systematicBuffers returns the buffers the k systematic slivers of axis a are decoded
// into. Primary slivers are the rows of the blob, so they are cut from one buffer that is
// returned as the blob; received rows are copied into it. Secondary slivers (columns) get
// their own buffers when missing and alias the received ones otherwise, and blob is nil.
func (c *Config) systematicBuffers(a Axis, sym int, received [][]byte) (systematic [][]byte, blob []byte) {
	k := len(received)
	systematic = make([][]byte, k)
	if a == Primary {
		rowLen := c.columns * sym
		blob = make([]byte, k*rowLen)
		for i := range systematic {
			systematic[i] = blob[i*rowLen : (i+1)*rowLen : (i+1)*rowLen]
		}
		parallelFor(c.workers(), k, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				if received[i] != nil {
					copy(systematic[i], received[i])
				}
			}
		})
		return systematic, blob
	}
	size := c.rows * sym
	missing := 0
	for _, d := range received {
		if d == nil {
			missing++
		}
	}
	buf := make([]byte, missing*size)
	for i, d := range received {
		if d != nil {
			systematic[i] = d
		} else {
			systematic[i], buf = buf[:size:size], buf[size:]
		}
	}
	return systematic, blob
}

// reconstruct decodes the missing originals of shards into dst, splitting the codewords
// (the symbols of the shards) among the workers.
func (c *Config) reconstruct(code *rscode.Code, sym int, shards, dst [][]byte) error {
	var missing bool
	size := 0
	for i, s := range shards {
		if s != nil {
			size = len(s)
		} else if i < len(dst) {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	count := size / sym
	workers := max(1, min(c.workers(), count))
	errs := make([]error, workers)
	parallelFor(workers, workers, func(lo, hi int) {
		for w := lo; w < hi; w++ {
			b0, b1 := w*count/workers*sym, (w+1)*count/workers*sym
			sub := make([][]byte, len(shards))
			for i, s := range shards {
				if s != nil {
					sub[i] = s[b0:b1:b1]
				}
			}
			out := make([][]byte, len(dst))
			for i, d := range dst {
				if shards[i] == nil {
					out[i] = d[b0:b1:b1]
				}
			}
			errs[w] = code.ReconstructInto(sym, sub, out)
		}
	})
	for i := range dst {
		if shards[i] == nil {
			shards[i] = dst[i]
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
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
