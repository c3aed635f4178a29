package daemon

import (
	"slices"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// symbolPlanner decides which recovery symbols to fetch from whom to rebuild some slivers
// of one blob. It is pure bookkeeping, driven in rounds: next plans the requests of a
// round, add records each symbol received, and the next round asks other holders for what
// is still missing. Each round asks for exactly the symbols still needed, so when every
// holder answers the node downloads one symbol per symbol of the slivers it rebuilds:
// bandwidth proportional to what it lost.
//
// Symbols from peers come without proofs (bare) and are recorded as unproven; the caller
// checks each decoded sliver against the metadata instead. When one does not match, it
// fetches proofs for that target's unproven symbols (unproven, prove) and distrusts the
// holders whose symbols fail: distrust drops their unproven symbols everywhere, and later
// rounds ask them again, for symbols with proofs only.
//
// The symbols for rebuilding primary sliver p are E[p][j], one from each of n-f secondary
// slivers j; those for rebuilding secondary sliver t are E[r][t], one from each of n-2f
// primary slivers r (walrus-spec §1.7). Source sliver j of axis A is stored by the shard
// that holds sliver pair j (primary) or n-1-j (secondary).
type symbolPlanner struct {
	n       int
	id      redstuff.BlobID
	need    [2]int     // symbols needed to rebuild a sliver of each axis
	holders [][]uint16 // shards each holder serves
	order   []int      // holders in order of preference
	targets []*plannedTarget
	round   int32
	liar    []bool // holders asked for proofs: they served symbols that failed them
}

// plannedTarget is one sliver to rebuild.
type plannedTarget struct {
	axis  redstuff.Axis
	index int
	got   []redstuff.RecoverySymbol // symbols by source index (nil Data: none)
	from  []int                     // holder each symbol of got came from
	proof []bool                    // whether each symbol of got was verified against its proof
	have  int                       // symbols in got
	asked []int32                   // round in which each source index was last asked
	tried [][]int                   // holders asked for each source index
}

// symbolRequest is one request of a round: symbol IDs for one holder, all from source
// slivers of proofAxis, with Merkle proofs or bare.
type symbolRequest struct {
	holder    int
	proofAxis redstuff.Axis
	ids       []sn.SymbolID
	proofs    bool
}

func newSymbolPlanner(enc *redstuff.Config, id redstuff.BlobID, holders [][]uint16, order []int) *symbolPlanner {
	return &symbolPlanner{
		n: enc.NShards(), id: id, holders: holders, order: order,
		need: [2]int{enc.RecoverySymbolsNeeded(redstuff.Primary), enc.RecoverySymbolsNeeded(redstuff.Secondary)},
		liar: make([]bool, len(holders)),
	}
}

// addTarget adds sliver index of axis a to rebuild.
func (p *symbolPlanner) addTarget(a redstuff.Axis, index int) {
	p.targets = append(p.targets, &plannedTarget{axis: a, index: index, got: make([]redstuff.RecoverySymbol, p.n),
		from: make([]int, p.n), proof: make([]bool, p.n), asked: make([]int32, p.n), tried: make([][]int, p.n)})
}

// sourceIndex returns the index of the source sliver (of the axis orthogonal to target
// axis a) that shard stores.
func (p *symbolPlanner) sourceIndex(a redstuff.Axis, shard uint16) int {
	pair := p.id.ShardPair(int(shard), p.n)
	if a.Orthogonal() == redstuff.Secondary {
		return p.n - 1 - pair
	}
	return pair
}

// symbolID returns the ID of the symbol from source sliver src for target t.
func symbolID(t *plannedTarget, src int) sn.SymbolID {
	if t.axis == redstuff.Primary {
		return sn.SymbolID{Primary: t.index, Secondary: src}
	}
	return sn.SymbolID{Primary: src, Secondary: t.index}
}

// next plans a round: for every target still short of symbols, the missing number of
// symbols from source slivers not yet asked of their holders, taking holders in order of
// preference. Requests carry at most maxIDs IDs. It returns nil when nothing is left to
// ask (every target is complete, or no holder is left for an incomplete one).
func (p *symbolPlanner) next(maxIDs int) []symbolRequest {
	type key struct {
		holder int
		axis   redstuff.Axis
	}
	// The proof flag follows the holder: key need not carry it.
	byKey := map[key]*symbolRequest{}
	var keys []key
	p.round++
	for _, t := range p.targets {
		missing := p.need[t.axis] - t.have
		for _, h := range p.order {
			if missing <= 0 {
				break
			}
			for _, shard := range p.holders[h] {
				if missing <= 0 {
					break
				}
				src := p.sourceIndex(t.axis, shard)
				if t.got[src].Data != nil || t.asked[src] == p.round || slices.Contains(t.tried[src], h) {
					continue
				}
				t.tried[src] = append(t.tried[src], h)
				t.asked[src] = p.round
				missing--
				k := key{h, t.axis.Orthogonal()}
				r, ok := byKey[k]
				if !ok {
					r = &symbolRequest{holder: h, proofAxis: k.axis, proofs: p.liar[h]}
					byKey[k] = r
					keys = append(keys, k)
				}
				r.ids = append(r.ids, symbolID(t, src))
			}
		}
	}
	// Interleave the holders, so that the requests a caller starts first (within its
	// concurrency limit) spread over them rather than queue at one.
	var out []symbolRequest
	for left := true; left; {
		left = false
		for _, k := range keys {
			r := byKey[k]
			if len(r.ids) == 0 {
				continue
			}
			m := min(len(r.ids), maxIDs)
			out = append(out, symbolRequest{holder: r.holder, proofAxis: r.proofAxis, ids: r.ids[:m:m], proofs: r.proofs})
			r.ids = r.ids[m:]
			left = true
		}
	}
	return out
}

// add records a symbol from holder, verified against its proof or not (proven). It
// returns false if no target asked for it in the current round (an answer with symbols
// nobody asked for).
func (p *symbolPlanner) add(s redstuff.RecoverySymbol, holder int, proven bool) bool {
	for _, t := range p.targets {
		if t.axis != s.Axis || t.index != s.Target {
			continue
		}
		if s.Index < 0 || s.Index >= p.n || t.asked[s.Index] != p.round || t.got[s.Index].Data != nil {
			return false
		}
		if t.have < p.need[t.axis] {
			t.got[s.Index], t.from[s.Index], t.proof[s.Index] = s, holder, proven
			t.have++
		}
		return true
	}
	return false
}

// unproven returns the requests for proofs of target i's unproven symbols, one per holder
// (at most maxIDs IDs each).
func (p *symbolPlanner) unproven(i, maxIDs int) []symbolRequest {
	t := p.targets[i]
	byHolder := map[int]int{}
	var out []symbolRequest
	for src, s := range t.got {
		if s.Data == nil || t.proof[src] {
			continue
		}
		h := t.from[src]
		k, ok := byHolder[h]
		if !ok || len(out[k].ids) >= maxIDs {
			k = len(out)
			byHolder[h] = k
			out = append(out, symbolRequest{holder: h, proofAxis: t.axis.Orthogonal(), proofs: true})
		}
		out[k].ids = append(out[k].ids, symbolID(t, src))
	}
	return out
}

// prove replaces an unproven symbol of target i with s, verified against its proof. It
// returns false when target i has no unproven symbol from holder at s.Index.
func (p *symbolPlanner) prove(i, holder int, s redstuff.RecoverySymbol) bool {
	t := p.targets[i]
	if s.Axis != t.axis || s.Target != t.index || s.Index < 0 || s.Index >= p.n {
		return false
	}
	if t.got[s.Index].Data == nil || t.proof[s.Index] || t.from[s.Index] != holder {
		return false
	}
	t.got[s.Index], t.proof[s.Index] = s, true
	return true
}

// proven reports whether every symbol of target i was verified against its proof.
func (p *symbolPlanner) proven(i int) bool {
	t := p.targets[i]
	for src, s := range t.got {
		if s.Data != nil && !t.proof[src] {
			return false
		}
	}
	return true
}

// distrust makes later rounds ask holder h for symbols with proofs only, and drops its
// unproven symbols from every target not yet done (they may be asked again, with
// proofs); it returns the number of symbols dropped.
func (p *symbolPlanner) distrust(h int, done []bool) int {
	p.liar[h] = true
	dropped := 0
	for i, t := range p.targets {
		if done[i] {
			continue
		}
		for src, s := range t.got {
			if s.Data != nil && !t.proof[src] && t.from[src] == h {
				t.got[src] = redstuff.RecoverySymbol{}
				t.tried[src] = slices.DeleteFunc(t.tried[src], func(x int) bool { return x == h })
				t.have--
				dropped++
			}
		}
	}
	return dropped
}

// complete reports whether every target has enough symbols.
func (p *symbolPlanner) complete() bool {
	for _, t := range p.targets {
		if t.have < p.need[t.axis] {
			return false
		}
	}
	return true
}

// symbols returns the symbols collected for target i.
func (p *symbolPlanner) symbols(i int) []redstuff.RecoverySymbol {
	t := p.targets[i]
	out := make([]redstuff.RecoverySymbol, 0, t.have)
	for _, s := range t.got {
		if s.Data != nil {
			out = append(out, s)
		}
	}
	return out
}
