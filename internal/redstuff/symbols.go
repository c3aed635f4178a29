package redstuff

import (
	"errors"
	"fmt"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/merkle"
)

// RecoverySymbol is one symbol of the expanded matrix with a Merkle proof, sent by the holder
// of a source sliver to help rebuild a target sliver of the orthogonal axis (Walrus's
// GeneralRecoverySymbol).
//
// For Axis == Primary the symbol is E[Target][Index]: it comes from secondary sliver Index
// and recovers primary sliver Target. For Axis == Secondary it is E[Index][Target]: it comes
// from primary sliver Index and recovers secondary sliver Target. The proof is over the
// source sliver's expanded symbols, at leaf Target.
type RecoverySymbol struct {
	Axis   Axis // axis of the target sliver
	Index  int  // index of the source sliver: the symbol's position in the target's codeword
	Target int  // index of the target sliver
	Data   []byte
	Proof  merkle.Proof
}

// ID returns Walrus's symbol ID, "row-column" of the symbol's position in E.
func (s *RecoverySymbol) ID() string {
	if s.Axis == Primary {
		return fmt.Sprintf("%d-%d", s.Target, s.Index)
	}
	return fmt.Sprintf("%d-%d", s.Index, s.Target)
}

// MarshalBCS appends the GeneralRecoverySymbol form: axis tag ‖ index u16 ‖ data ‖
// target u16 ‖ proof.
func (s *RecoverySymbol) MarshalBCS(e *bcs.Encoder) {
	e.Variant(uint32(s.Axis))
	e.U16(uint16(s.Index))
	e.Bytes(s.Data)
	e.U16(uint16(s.Target))
	s.Proof.MarshalBCS(e)
}

// Bytes returns the GeneralRecoverySymbol BCS.
func (s *RecoverySymbol) Bytes() []byte {
	var e bcs.Encoder
	s.MarshalBCS(&e)
	return e.Out()
}

// marshalRecovery appends the axis-less RecoverySymbol form: index u16 ‖ data ‖ proof.
func (s *RecoverySymbol) marshalRecovery(e *bcs.Encoder) {
	e.U16(uint16(s.Index))
	e.Bytes(s.Data)
	s.Proof.MarshalBCS(e)
}

// RecoveryBytes returns the axis-less RecoverySymbol BCS used inside inconsistency proofs.
func (s *RecoverySymbol) RecoveryBytes() []byte {
	var e bcs.Encoder
	s.marshalRecovery(&e)
	return e.Out()
}

// maxProofLen bounds proof paths: ceil(log2(65535)).
const maxProofLen = 16

// DecodeRecoverySymbol reads a GeneralRecoverySymbol with at most maxData bytes of data.
func DecodeRecoverySymbol(d *bcs.Decoder, maxData int) (RecoverySymbol, error) {
	var s RecoverySymbol
	s.Axis = Axis(d.Variant(2))
	s.Index = int(d.U16())
	s.Data = d.Bytes(maxData)
	s.Target = int(d.U16())
	if d.Err() == nil {
		var err error
		if s.Proof, err = merkle.DecodeProof(d, maxProofLen); err != nil {
			// d already holds the cause; err adds that it is in the proof.
			return RecoverySymbol{}, fmt.Errorf("%w: recovery symbol: %v", ErrMalformed, err)
		}
	}
	if err := d.Err(); err != nil {
		return RecoverySymbol{}, fmt.Errorf("%w: recovery symbol: %v", ErrMalformed, err)
	}
	return s, nil
}

func decodeAxislessSymbol(d *bcs.Decoder, axis Axis, target, maxData int) (RecoverySymbol, error) {
	s := RecoverySymbol{Axis: axis, Target: target}
	s.Index = int(d.U16())
	s.Data = d.Bytes(maxData)
	if d.Err() == nil {
		var err error
		if s.Proof, err = merkle.DecodeProof(d, maxProofLen); err != nil {
			// d already holds the cause; err adds that it is in the proof.
			return RecoverySymbol{}, fmt.Errorf("%w: recovery symbol: %v", ErrMalformed, err)
		}
	}
	if err := d.Err(); err != nil {
		return RecoverySymbol{}, fmt.Errorf("%w: recovery symbol: %v", ErrMalformed, err)
	}
	return s, nil
}

// EncodeSymbolList returns the BCS of a vector of GeneralRecoverySymbols, the body of the
// node API's recovery-symbol responses.
func EncodeSymbolList(syms []RecoverySymbol) []byte {
	var e bcs.Encoder
	e.Len(len(syms))
	for i := range syms {
		syms[i].MarshalBCS(&e)
	}
	return e.Out()
}

// DecodeSymbolList parses a vector of at most maxCount GeneralRecoverySymbols.
func DecodeSymbolList(b []byte, maxCount, maxData int) ([]RecoverySymbol, error) {
	d := bcs.NewDecoder(b)
	n := d.Len(maxCount)
	if d.Err() != nil {
		return nil, fmt.Errorf("%w: symbol list: %v", ErrMalformed, d.Err())
	}
	out := make([]RecoverySymbol, 0, min(n, d.Remaining()/8+1))
	for i := 0; i < n; i++ {
		s, err := DecodeRecoverySymbol(d, maxData)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: symbol list: %v", ErrMalformed, err)
	}
	return out, nil
}

// ExpandedSliver is a sliver with its full row or column of the expanded matrix and the
// Merkle tree over it, ready to serve recovery symbols. It is safe for concurrent use.
type ExpandedSliver struct {
	axis  Axis
	index int
	sym   int
	data  []byte // n symbols
	tree  *merkle.Tree
}

// Expand expands a sliver (checked against the metadata's shape, not its hash) so it can
// produce recovery symbols.
func (c *Config) Expand(m *Metadata, s *Sliver) (*ExpandedSliver, error) {
	sym, err := c.checkSliverShape(m, s)
	if err != nil {
		return nil, err
	}
	data := c.expand(s.Axis, s.Data, sym)
	leaves := merkle.LeafHashes(make([]merkle.Node, 0, c.n), data, sym)
	return &ExpandedSliver{axis: s.Axis, index: s.Index, sym: sym, data: data, tree: merkle.New(leaves)}, nil
}

// Root returns the Merkle root of the expanded sliver: its metadata commitment.
func (x *ExpandedSliver) Root() merkle.Node { return x.tree.Root() }

// RecoverySymbol returns the symbol that helps rebuild sliver target of the orthogonal axis.
func (x *ExpandedSliver) RecoverySymbol(target int) (RecoverySymbol, error) {
	n := len(x.data) / x.sym
	if target < 0 || target >= n {
		return RecoverySymbol{}, fmt.Errorf("%w: target sliver %d out of range for %d shards", ErrInvalidSymbol, target, n)
	}
	proof, err := x.tree.Proof(target)
	if err != nil {
		return RecoverySymbol{}, err
	}
	return RecoverySymbol{
		Axis:   x.axis.Orthogonal(),
		Index:  x.index,
		Target: target,
		Data:   x.data[target*x.sym : (target+1)*x.sym : (target+1)*x.sym],
		Proof:  proof,
	}, nil
}

// VerifyRecoverySymbol checks a symbol's indices, size and Merkle proof against the
// commitment of its source sliver in verified metadata.
func (c *Config) VerifyRecoverySymbol(m *Metadata, s *RecoverySymbol) error {
	sym, err := c.metadataSymbolSize(m)
	if err != nil {
		return err
	}
	if s.Axis != Primary && s.Axis != Secondary {
		return fmt.Errorf("%w: unknown axis %d", ErrInvalidSymbol, s.Axis)
	}
	if s.Index < 0 || s.Index >= c.n || s.Target < 0 || s.Target >= c.n {
		return fmt.Errorf("%w: symbol %s out of range for %d shards", ErrInvalidSymbol, s.ID(), c.n)
	}
	if len(s.Data) != sym {
		return fmt.Errorf("%w: symbol %s has %d bytes, want %d", ErrInvalidSymbol, s.ID(), len(s.Data), sym)
	}
	root := m.SliverHash(s.Axis.Orthogonal(), s.Index)
	if err := s.Proof.Verify(root, merkle.LeafHash(s.Data), s.Target, c.n); err != nil {
		return fmt.Errorf("%w: symbol %s: %v", ErrInvalidSymbol, s.ID(), err)
	}
	return nil
}

// InconsistencyError reports that verified recovery symbols decode to a sliver that does not
// match its commitment: the blob's encoding is inconsistent. Proof shows it to others.
type InconsistencyError struct {
	Proof *InconsistencyProof
}

func (e *InconsistencyError) Error() string {
	return fmt.Sprintf("redstuff: blob encoding is inconsistent: recovered %s sliver %d does not match its metadata hash", e.Proof.Axis, e.Proof.Target)
}

// Unwrap makes errors.Is(err, ErrInconsistent) hold.
func (e *InconsistencyError) Unwrap() error { return ErrInconsistent }

// RecoverSliver rebuilds sliver target of axis a from verified recovery symbols (see
// VerifyRecoverySymbol): any RecoverySymbolsNeeded(a) of them with distinct source indices.
// The result is checked against the metadata; a mismatch returns an *InconsistencyError
// carrying the proof.
func (c *Config) RecoverSliver(m *Metadata, a Axis, target int, symbols []RecoverySymbol) (*Sliver, error) {
	sym, err := c.metadataSymbolSize(m)
	if err != nil {
		return nil, err
	}
	if target < 0 || target >= c.n {
		return nil, fmt.Errorf("%w: target %s sliver %d out of range", ErrInvalidSymbol, a, target)
	}
	need := c.RecoverySymbolsNeeded(a)
	used := make([]RecoverySymbol, 0, need)
	seen := make(map[int]bool, need)
	for _, s := range symbols {
		if len(used) == need {
			break
		}
		if s.Axis != a || s.Target != target {
			return nil, fmt.Errorf("%w: symbol %s is for %s sliver %d, not %s sliver %d", ErrInvalidSymbol, s.ID(), s.Axis, s.Target, a, target)
		}
		if s.Index < 0 || s.Index >= c.n || len(s.Data) != sym {
			return nil, fmt.Errorf("%w: symbol %s has the wrong index or size", ErrInvalidSymbol, s.ID())
		}
		if seen[s.Index] {
			continue
		}
		seen[s.Index] = true
		used = append(used, s)
	}
	if len(used) < need {
		return nil, fmt.Errorf("%w: %d distinct symbols for %s sliver %d, need %d", ErrNotEnough, len(used), a, target, need)
	}
	data, err := c.decodeSymbols(a, sym, used)
	if err != nil {
		return nil, err
	}
	out := &Sliver{Axis: a, Index: target, SymbolSize: sym, Data: data}
	if c.sliverRoot(a, data, sym) != m.SliverHash(a, target) {
		return nil, &InconsistencyError{Proof: &InconsistencyProof{Axis: a, Target: target, Symbols: used}}
	}
	return out, nil
}

// decodeSymbols decodes the sliver data of axis a from exactly enough symbols with distinct
// indices and the right size.
func (c *Config) decodeSymbols(a Axis, sym int, used []RecoverySymbol) ([]byte, error) {
	code := c.expansionCode(a)
	shards := make([][]byte, c.n)
	for _, s := range used {
		shards[s.Index] = s.Data
	}
	if err := code.Reconstruct(sym, shards); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotEnough, err)
	}
	k := code.OriginalCount()
	data := make([]byte, 0, k*sym)
	for i := 0; i < k; i++ {
		data = append(data, shards[i]...)
	}
	return data, nil
}

// InconsistencyProof shows that a blob's metadata does not commit to a consistent encoding:
// verified recovery symbols for one sliver decode to data whose hash differs from the
// sliver's commitment. The axis travels in the request path.
type InconsistencyProof struct {
	Axis    Axis
	Target  int
	Symbols []RecoverySymbol
}

// Bytes returns Walrus's InconsistencyProof BCS: target u16 ‖ vector of RecoverySymbol.
func (p *InconsistencyProof) Bytes() []byte {
	var e bcs.Encoder
	e.U16(uint16(p.Target))
	e.Len(len(p.Symbols))
	for i := range p.Symbols {
		p.Symbols[i].marshalRecovery(&e)
	}
	return e.Out()
}

// DecodeInconsistencyProof parses a proof for axis a with at most maxSymbols symbols of at
// most maxData bytes each.
func DecodeInconsistencyProof(b []byte, a Axis, maxSymbols, maxData int) (*InconsistencyProof, error) {
	d := bcs.NewDecoder(b)
	p := &InconsistencyProof{Axis: a, Target: int(d.U16())}
	n := d.Len(maxSymbols)
	if d.Err() != nil {
		return nil, fmt.Errorf("%w: inconsistency proof: %v", ErrMalformed, d.Err())
	}
	for i := 0; i < n; i++ {
		s, err := decodeAxislessSymbol(d, a, p.Target, maxData)
		if err != nil {
			return nil, err
		}
		p.Symbols = append(p.Symbols, s)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: inconsistency proof: %v", ErrMalformed, err)
	}
	return p, nil
}

// ErrProofNotInconsistent means an inconsistency proof's symbols decode to the committed
// sliver: it proves nothing.
var ErrProofNotInconsistent = errors.New("redstuff: proof does not show an inconsistency")

// VerifyInconsistencyProof returns nil when the proof is valid, that is, when exactly the
// required number of symbols with distinct indices all verify against the metadata and
// decode to a sliver whose hash differs from its commitment.
func (c *Config) VerifyInconsistencyProof(m *Metadata, p *InconsistencyProof) error {
	if p.Target < 0 || p.Target >= c.n {
		return fmt.Errorf("%w: target %d out of range", ErrInvalidSymbol, p.Target)
	}
	if _, err := c.metadataSymbolSize(m); err != nil {
		return err
	}
	need := c.RecoverySymbolsNeeded(p.Axis)
	if len(p.Symbols) != need {
		return fmt.Errorf("%w: proof has %d symbols, need exactly %d", ErrInvalidSymbol, len(p.Symbols), need)
	}
	seen := make(map[int]bool, need)
	for i := range p.Symbols {
		s := &p.Symbols[i]
		if s.Axis != p.Axis || s.Target != p.Target {
			return fmt.Errorf("%w: symbol %s does not target %s sliver %d", ErrInvalidSymbol, s.ID(), p.Axis, p.Target)
		}
		if err := c.VerifyRecoverySymbol(m, s); err != nil {
			return err
		}
		if seen[s.Index] {
			return fmt.Errorf("%w: duplicate symbol index %d", ErrInvalidSymbol, s.Index)
		}
		seen[s.Index] = true
	}
	sym, _ := c.SymbolSize(m.UnencodedLength)
	data, err := c.decodeSymbols(p.Axis, sym, p.Symbols)
	if err != nil {
		return err
	}
	if c.sliverRoot(p.Axis, data, sym) == m.SliverHash(p.Axis, p.Target) {
		return ErrProofNotInconsistent
	}
	return nil
}
