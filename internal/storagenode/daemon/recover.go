package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
)

// errBlobInvalid stops the sync of a blob whose encoding turned out to be inconsistent:
// the node submitted (or is submitting) its invalidation instead.
var errBlobInvalid = errors.New("daemon: blob encoding is inconsistent")

// holderSet lists the nodes that may serve metadata and recovery symbols in the node's
// current epoch: this node (index 0, served locally), the members of the current
// committee and, for shards that moved at the start of the epoch, their previous owners,
// which keep serving them until the epoch change is done.
type holderSet struct {
	names   []string             // network addresses; "" for this node
	clients []*nodeclient.Client // nil for this node
	shards  [][]uint16           // shards each holder may serve
}

// holders returns the holder set of the node's current epoch.
func (d *Daemon) holders(ctx context.Context) (*holderSet, error) {
	epoch := d.node.Epoch()
	cur, err := d.view.committee(ctx, epoch)
	if err != nil {
		return nil, err
	}
	hs := &holderSet{names: []string{""}, clients: []*nodeclient.Client{nil}, shards: [][]uint16{nil}}
	for _, s := range d.node.Shards() {
		hs.shards[0] = append(hs.shards[0], s.Shard)
	}
	index := map[peer]int{}
	add := func(m chain.MemberInfo, shards []uint16) error {
		p := peerOf(m)
		i, ok := index[p]
		if !ok {
			c, err := d.view.client(p)
			if err != nil {
				return err
			}
			i = len(hs.names)
			index[p] = i
			addr := p.addr
			hs.names, hs.clients, hs.shards = append(hs.names, addr), append(hs.clients, c), append(hs.shards, nil)
		}
		hs.shards[i] = append(hs.shards[i], shards...)
		return nil
	}
	for i, m := range cur.info.Members {
		if i == cur.self {
			continue
		}
		if err := add(m, m.Shards); err != nil {
			return nil, err
		}
	}
	if epoch > 0 {
		prev, err := d.view.committee(ctx, epoch-1)
		if err != nil {
			return nil, err
		}
		for i, m := range prev.info.Members {
			if i == prev.self {
				continue
			}
			var moved []uint16
			for _, s := range m.Shards {
				if cur.info.Members[cur.owner[s]].PublicKey != m.PublicKey {
					moved = append(moved, s)
				}
			}
			if len(moved) > 0 {
				if err := add(m, moved); err != nil {
					return nil, err
				}
			}
		}
	}
	return hs, nil
}

// order returns the holders in order of preference for blob id: this node first (its
// symbols cost no download), then the others rotated by the blob ID, which spreads the
// load of many blobs over the committee.
func (hs *holderSet) order(id redstuff.BlobID) []int {
	n := len(hs.names)
	out := []int{0}
	if n > 1 {
		start := id.RotationOffset(n - 1)
		for k := 0; k < n-1; k++ {
			out = append(out, 1+(start+k)%(n-1))
		}
	}
	return out
}

// metadata returns the verified metadata of blob id: the stored one, or one fetched from
// peers (not stored).
func (d *Daemon) metadata(ctx context.Context, id redstuff.BlobID, hs *holderSet, stored bool) (*redstuff.Metadata, error) {
	ctx = withByteCounter(ctx, &d.counters.recDownloaded, &d.counters.recMetadata)
	if stored {
		// The stored copy, or (for a partial copy) the full metadata assembled from peers.
		b, err := d.node.MetadataBytes(ctx, id)
		if err != nil {
			return nil, err
		}
		return redstuff.DecodeMetadata(b)
	}
	var lastErr error = fmt.Errorf("daemon: no peer to fetch the metadata of %s from", id)
	for _, h := range hs.order(id)[1:] {
		m, err := peerCall(d, ctx, func(ctx context.Context) (*redstuff.Metadata, error) {
			return hs.clients[h].Metadata(ctx, id)
		})
		if err != nil {
			if errors.Is(err, nodeclient.ErrBadAnswer) {
				d.badPeer("metadata", hs.names[h], id, 1, err)
			}
			lastErr = err
			continue
		}
		if err := d.enc.VerifyMetadata(m); err != nil || m.BlobID != id {
			lastErr = fmt.Errorf("daemon: bad metadata of %s from %s: %v", id, hs.names[h], err)
			d.badPeer("metadata", hs.names[h], id, 1, lastErr)
			continue
		}
		return m, nil
	}
	return nil, lastErr
}

// peerCall runs one request to a peer within the peer request limit.
func peerCall[T any](d *Daemon, ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	select {
	case d.peerSem <- struct{}{}:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	defer func() { <-d.peerSem }()
	return fn(ctx)
}

// busyRetries bounds the retries of a symbol request that a peer refused as overloaded.
const busyRetries = 4

// peerCallBusy is peerCall that repeats a call the peer refused as overloaded (429), after
// a backoff from Config.RetryMin doubling up to Config.RetryMax, at most busyRetries
// times: a busy peer's symbols are still the ones the plan wants, whereas asking others
// for other symbols would leave the targets short when every peer is busy.
func peerCallBusy[T any](d *Daemon, ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	delay := d.cfg.RetryMin
	for attempt := 0; ; attempt++ {
		v, err := peerCall(d, ctx, fn)
		var e *nodeclient.Error
		if err == nil || attempt == busyRetries || !errors.As(err, &e) || e.Code != http.StatusTooManyRequests {
			return v, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, err
		case <-t.C:
		}
		delay = min(2*delay, d.cfg.RetryMax)
	}
}

// recoverBlob fetches what the node lacks of blob id (need): its metadata from a peer, and
// the missing slivers rebuilt from recovery symbols of other nodes (RedStuff recovery).
// Slivers that could be rebuilt are stored even if others could not; the error then says
// what is still missing. An inconsistent encoding starts the invalidation of the blob and
// returns errBlobInvalid.
func (d *Daemon) recoverBlob(ctx context.Context, id redstuff.BlobID, need sn.SyncNeed) error {
	hs, err := d.holders(ctx)
	if err != nil {
		return err
	}
	return d.recoverFrom(ctx, hs, id, need)
}

// recoverFrom is recoverBlob with the given holders.
//
// Symbols are fetched without proofs (bare), so the common case downloads the symbol
// bytes and a bitmap per request. Each decoded sliver is checked against its hash in the
// metadata before it is stored. When one does not match, the node fetches the proofs of
// that sliver's unproven symbols only, distrusts the holders whose symbols fail them (or
// who do not prove what they served), and fetches replacements: each round of
// proofs finds at least one liar, who is asked for symbols with proofs from then on, so a
// Byzantine peer costs a retry, never a wrong sliver. A sliver that does not match although all its symbols are proven shows that the
// encoding is inconsistent; its symbols are the inconsistency proof.
func (d *Daemon) recoverFrom(ctx context.Context, hs *holderSet, id redstuff.BlobID, need sn.SyncNeed) error {
	m, err := d.metadata(ctx, id, hs, !need.MetadataMissing)
	if err != nil {
		return err
	}
	if need.MetadataMissing {
		u, err := d.node.NewUpload(id, m)
		if err != nil {
			return err
		}
		if _, err := u.Commit(); err != nil {
			return err
		}
	}
	if len(need.Slivers) == 0 {
		return nil
	}
	p := newSymbolPlanner(d.enc, id, hs.shards, hs.order(id))
	for _, ref := range need.Slivers {
		pair := id.ShardPair(int(ref.Shard), d.n)
		index := pair
		if ref.Axis == redstuff.Secondary {
			index = d.n - 1 - pair
		}
		p.addTarget(ref.Axis, index)
	}
	done := make([]bool, len(p.targets))
	var missing error
	for {
		for !p.complete() {
			reqs := p.next(d.maxSymbolIDs)
			if len(reqs) == 0 {
				break
			}
			if err := d.fetchSymbols(ctx, id, m, hs, reqs, p); err != nil {
				return err
			}
		}
		bad, miss, err := d.rebuild(ctx, id, m, p, done)
		if err != nil {
			return err
		}
		missing = miss
		if bad < 0 {
			break
		}
		// Target bad decoded to a sliver that does not match the metadata.
		if p.proven(bad) {
			_, err := d.enc.RecoverSliver(m, p.targets[bad].axis, p.targets[bad].index, p.symbols(bad))
			var ie *redstuff.InconsistencyError
			if !errors.As(err, &ie) {
				return fmt.Errorf("daemon: %s sliver %d of %s: proven symbols decode differently: %v", p.targets[bad].axis, p.targets[bad].index, id, err)
			}
			d.log.Warn("inconsistent blob encoding found by recovery; invalidating it", "blob", id, "axis", ie.Proof.Axis, "sliver", ie.Proof.Target)
			if err := d.invalidate(ctx, id, ie.Proof); err != nil {
				return fmt.Errorf("daemon: invalidating %s: %w", id, err)
			}
			return errBlobInvalid
		}
		if err := d.proveTarget(ctx, id, m, hs, p, bad, done); err != nil {
			return err
		}
	}
	return missing
}

// fetchSymbols runs one round of symbol requests in parallel and records the symbols in
// p: bare ones from peers as unproven, this node's own (with proofs, verified) as proven.
func (d *Daemon) fetchSymbols(ctx context.Context, id redstuff.BlobID, m *redstuff.Metadata, hs *holderSet, reqs []symbolRequest, p *symbolPlanner) error {
	ctx = withByteCounter(ctx, &d.counters.recDownloaded)
	sym, err := d.enc.SymbolSize(m.UnencodedLength)
	if err != nil {
		return err
	}
	results := make([][]redstuff.RecoverySymbol, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			axis := r.proofAxis
			if hs.clients[r.holder] == nil {
				syms, err := d.node.RecoverySymbols(id, r.ids, &axis)
				if err != nil {
					d.log.Debug("own recovery symbols not served", "blob", id, "err", err)
					return
				}
				results[i] = d.verifySymbols(id, m, hs.names[r.holder], axis, syms, false)
				return
			}
			if r.proofs {
				syms, err := peerCallBusy(d, ctx, func(ctx context.Context) ([]redstuff.RecoverySymbol, error) {
					return hs.clients[r.holder].RecoverySymbols(ctx, id, r.ids, &axis)
				})
				if errors.Is(err, nodeclient.ErrBadAnswer) {
					d.badPeer("recovery_symbol", hs.names[r.holder], id, 1, err)
				}
				if err != nil {
					d.log.Debug("recovery symbols not served", "blob", id, "holder", hs.names[r.holder], "err", err)
					return
				}
				results[i] = d.verifySymbols(id, m, hs.names[r.holder], axis, syms, true)
				return
			}
			syms, err := peerCallBusy(d, ctx, func(ctx context.Context) ([]redstuff.RecoverySymbol, error) {
				return hs.clients[r.holder].BareRecoverySymbols(ctx, id, r.ids, r.proofAxis, sym)
			})
			if errors.Is(err, nodeclient.ErrBadAnswer) {
				d.badPeer("recovery_symbol", hs.names[r.holder], id, 1, err)
			}
			if err != nil {
				d.log.Debug("recovery symbols not served", "blob", id, "holder", hs.names[r.holder], "err", err)
				return
			}
			d.counters.recFraming.Add(int64(sn.BareFraming(len(r.ids), sym)))
			d.counters.recSymbols.Add(int64(len(syms) * sym))
			results[i] = syms
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, syms := range results {
		proven := hs.clients[reqs[i].holder] == nil || reqs[i].proofs
		for _, s := range syms {
			if !p.add(s, reqs[i].holder, proven) {
				d.metrics.badResponse(&d.counters, "recovery_symbol")
			}
		}
	}
	return nil
}

// verifySymbols returns the symbols of syms that are for the orthogonal axis of proofAxis
// and verify against their proofs, counting (remote) and reporting the others.
func (d *Daemon) verifySymbols(id redstuff.BlobID, m *redstuff.Metadata, holder string, proofAxis redstuff.Axis, syms []redstuff.RecoverySymbol, remote bool) []redstuff.RecoverySymbol {
	var ok []redstuff.RecoverySymbol
	var bad int
	var badErr error
	for _, s := range syms {
		if remote {
			d.counters.recSymbols.Add(int64(len(s.Data)))
			d.counters.recProofs.Add(int64(symbolOverhead(&s)))
		}
		if s.Axis != proofAxis.Orthogonal() {
			bad, badErr = bad+1, fmt.Errorf("symbol of the %s axis, asked for %s", s.Axis, proofAxis.Orthogonal())
			continue
		}
		if err := d.enc.VerifyRecoverySymbol(m, &s); err != nil {
			bad, badErr = bad+1, err
			continue
		}
		ok = append(ok, s)
	}
	if bad > 0 {
		d.badPeer("recovery_symbol", holder, id, bad, badErr)
	}
	return ok
}

// proveTarget fetches the proofs of target i's unproven symbols from their holders, keeps
// the symbols that verify and match what was served bare, and excludes every holder that
// served one that does not (or does not answer): their unproven symbols leave every
// target not yet done, and they are asked for symbols with proofs from then on.
func (d *Daemon) proveTarget(ctx context.Context, id redstuff.BlobID, m *redstuff.Metadata, hs *holderSet, p *symbolPlanner, i int, done []bool) error {
	d.counters.recProofRounds.Add(1)
	ctx = withByteCounter(ctx, &d.counters.recDownloaded)
	reqs := p.unproven(i, d.maxSymbolIDs)
	results := make([][]redstuff.RecoverySymbol, len(reqs))
	var wg sync.WaitGroup
	for k, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			axis := r.proofAxis
			syms, err := peerCall(d, ctx, func(ctx context.Context) ([]redstuff.RecoverySymbol, error) {
				return hs.clients[r.holder].RecoverySymbols(ctx, id, r.ids, &axis)
			})
			if err != nil {
				d.badPeer("recovery_symbol", hs.names[r.holder], id, 1, fmt.Errorf("proofs of symbols it served: %w", err))
				return
			}
			results[k] = d.verifySymbols(id, m, hs.names[r.holder], axis, syms, true)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	t := p.targets[i]
	liars := map[int]bool{}
	for k, r := range reqs {
		for _, s := range results[k] {
			if bare := t.got[s.Index]; bare.Data != nil && !t.proof[s.Index] && string(bare.Data) != string(s.Data) {
				liars[r.holder] = true
			}
			p.prove(i, r.holder, s)
		}
	}
	for k := range reqs {
		for _, sid := range reqs[k].ids {
			src := sid.Secondary
			if t.axis == redstuff.Secondary {
				src = sid.Primary
			}
			if !t.proof[src] {
				liars[reqs[k].holder] = true // served it bare, did not prove it
			}
		}
	}
	if len(liars) == 0 {
		return nil // every symbol proven: the next decode settles it
	}
	for h := range liars {
		dropped := p.distrust(h, done)
		d.badPeer("recovery_symbol", hs.names[h], id, 1, fmt.Errorf("symbols served without proof did not match their proofs; %d dropped, the rest of this blob's symbols asked with proofs", dropped))
	}
	return nil
}

// rebuild decodes every complete target of p not yet done, and stores the slivers that
// match the metadata (marking them done). It returns the first target whose decoded
// sliver does not match (-1 if none) and the error of a target that could not be decoded
// (too few symbols).
func (d *Daemon) rebuild(ctx context.Context, id redstuff.BlobID, m *redstuff.Metadata, p *symbolPlanner, done []bool) (bad int, missing error, err error) {
	type result struct {
		s   *redstuff.Sliver
		err error
	}
	results := make([]result, len(p.targets))
	var todo []int
	for i := range p.targets {
		if !done[i] {
			todo = append(todo, i)
		}
	}
	var wg sync.WaitGroup
	work := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				t := p.targets[i]
				if t.have < p.need[t.axis] {
					results[i].err = fmt.Errorf("daemon: %s sliver %d of %s: %d of %d recovery symbols", t.axis, t.index, id, t.have, p.need[t.axis])
					continue
				}
				results[i].s, results[i].err = d.enc.RecoverSliver(m, t.axis, t.index, p.symbols(i))
			}
		}()
	}
	for _, i := range todo {
		work <- i
	}
	close(work)
	wg.Wait()

	bad = -1
	var slivers []*redstuff.Sliver
	var idx []int
	for _, i := range todo {
		r := results[i]
		var ie *redstuff.InconsistencyError
		switch {
		case errors.As(r.err, &ie):
			if bad < 0 {
				bad = i
			}
		case r.err != nil:
			missing = r.err
		default:
			slivers, idx = append(slivers, r.s), append(idx, i)
		}
	}
	if len(slivers) > 0 {
		if err := d.storeRecovered(id, slivers); err != nil {
			return -1, nil, err
		}
		for _, i := range idx {
			done[i] = true
		}
	}
	return bad, missing, nil
}

// storeRecovered stores rebuilt slivers (checked against the metadata) and counts them.
func (d *Daemon) storeRecovered(id redstuff.BlobID, slivers []*redstuff.Sliver) error {
	u, err := d.node.NewUpload(id, nil)
	if err != nil {
		return err
	}
	defer u.Abort()
	var bytes, added int64
	for _, s := range slivers {
		pair := s.Pair(d.n)
		if st, err := d.node.SliverStatus(id, pair, s.Axis); err == nil && st == sn.StatusStored {
			continue // stored meanwhile (by an upload or another sync)
		}
		if err := u.AddVerified(pair, s, s.Bytes()); err != nil {
			return err
		}
		bytes += int64(len(s.Data))
		added++
	}
	res, err := u.Commit()
	if err != nil {
		return err
	}
	if res.SliversCreated > 0 {
		d.counters.recovered.Add(bytes * int64(res.SliversCreated) / added)
		d.counters.recoveredSlivers.Add(int64(res.SliversCreated))
	}
	return nil
}

// symbolOverhead returns the bytes of a GeneralRecoverySymbol's encoding other than its
// symbol data: axis, indices, length prefixes and the Merkle proof.
func symbolOverhead(s *redstuff.RecoverySymbol) int {
	size := 1 + 2 + bcs.ULEB128Len(len(s.Data)) + 2 + bcs.ULEB128Len(len(s.Proof.Path))
	for _, p := range s.Proof.Path {
		size++
		if !p.IsEmpty() {
			size += merkle.Size
		}
	}
	return size
}
