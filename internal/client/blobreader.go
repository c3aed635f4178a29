package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/walrus-go/walrus/internal/bufpool"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
)

// BlobReader reads parts of a certified blob without fetching all of it. Primary sliver i
// is row i of the blob (SourceSymbols(Secondary) symbols), held by one shard, so a byte
// range lies in a run of consecutive rows: the reader fetches just those slivers and
// verifies each against the blob ID before using its bytes, the guarantee a whole read
// with the default consistency check gives for the slivers it receives. Nodes that send
// each sliver's pair proof (?pair_proof=true, our extension) spare the reader the full
// metadata (2n hashes): it learns the length from a node's proven partial metadata and
// checks each sliver against its proof. With nodes that do not (Walrus's), it fetches the
// full metadata once and verifies against it. A row whose
// sliver cannot be fetched and verified (its node is down, behind or lying) is rebuilt
// from recovery symbols of the other nodes (one small symbol from each secondary sliver,
// each checked against the metadata); if that fails too, or many rows are missing, the
// reader falls back to reading and decoding the whole blob once, as Read does.
//
// A BlobReader is an io.ReadSeeker and an io.ReaderAt for one goroutine at a time. Its
// reads run under the context given to OpenBlob.
type BlobReader struct {
	c    *Client
	ctx  context.Context
	id   redstuff.BlobID
	opts ReadOptions
	view *committeeView
	m    *redstuff.Metadata // nil until needed (loadMetadata); guarded by metaMu
	// metaMu guards m and fetchedMetadata while fetches run in parallel.
	metaMu sync.Mutex

	size   int64
	rowLen int64
	pos    int64
	rows   map[int][]byte  // the rows of the last read
	bufs   map[int]*[]byte // the pooled answer buffers rows alias (see rowBuffers)
	full   []byte          // the whole blob, once read

	requests        atomic.Int64
	fetchedMetadata bool
	slivers         int64
	recovered       int64
	fellBack        bool
	closed          bool
}

// BlobReaderStats describe the work of a BlobReader so far.
type BlobReaderStats struct {
	// HTTPRequests counts the requests to storage nodes (metadata, slivers, and those of a
	// whole read after a fall-back).
	HTTPRequests int64
	// Slivers counts the primary slivers fetched for ranges; Recovered the rows rebuilt
	// from recovery symbols because their own sliver could not be had.
	Slivers, Recovered int64
	// FellBack reports that a sliver could not be had and the whole blob was read.
	FellBack bool
	// Metadata reports that the full metadata was fetched: the nodes sent no pair proofs,
	// or a row had to be rebuilt from recovery symbols.
	Metadata bool
}

// OpenBlob checks that blob id is certified and readable and fetches its verified metadata,
// for reading parts of it with the returned BlobReader. With ConsistencyStrict the whole
// blob is read at once (the check needs all of it).
func (c *Client) OpenBlob(ctx context.Context, id redstuff.BlobID, opts ReadOptions) (*BlobReader, error) {
	r := &BlobReader{c: c, id: id, opts: opts}
	r.ctx = withCounter(ctx, &r.requests)
	if opts.Consistency == redstuff.ConsistencyStrict {
		if err := r.readAll(); err != nil {
			return nil, err
		}
		r.size = int64(len(r.full))
		return r, nil
	}
	epochs, err := c.readEpochs(r.ctx, id)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, e := range epochs {
		view, err := c.committee(r.ctx, e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// The length, proven by the blob ID, is all a range read needs up front when the
		// nodes send each sliver's pair proof; otherwise the full metadata is fetched.
		var m *redstuff.Metadata
		length, err := c.provenLength(r.ctx, view, id)
		if err != nil {
			if m, err = c.metadata(r.ctx, view, id); err == nil {
				length = m.UnencodedLength
			}
		}
		if err != nil {
			if !errors.Is(err, ErrUnavailable) || ctx.Err() != nil {
				return nil, err
			}
			errs = append(errs, fmt.Errorf("epoch %d: %w", e, err))
			continue
		}
		sym, err := view.enc.SymbolSize(length)
		if err != nil {
			return nil, fmt.Errorf("client: blob %s: %w", id, err)
		}
		r.view, r.m, r.fetchedMetadata = view, m, m != nil
		r.size = int64(length)
		r.rowLen = int64(view.enc.SourceSymbols(redstuff.Secondary) * sym)
		return r, nil
	}
	return nil, errors.Join(errs...)
}

// Size returns the length of the blob.
func (r *BlobReader) Size() int64 { return r.size }

// RowSize returns the length of a row (a primary sliver): reads fetch whole rows, so a
// range of n bytes holds up to n+2*RowSize()-2 bytes of the blob in memory. It is 0 when
// the reader holds the whole blob (ConsistencyStrict).
func (r *BlobReader) RowSize() int64 {
	if r.full != nil {
		return 0
	}
	return r.rowLen
}

// Close drops the rows (or the whole blob) the reader holds; reads after Close fail with
// ErrReaderClosed. Close is idempotent and always returns nil.
func (r *BlobReader) Close() error {
	r.releaseRows(nil)
	r.closed, r.rows, r.full = true, nil, nil
	return nil
}

// rowBuffers holds the buffers sliver answers are read into, so that the rows of a
// window reuse those of the windows before instead of allocating (and faulting in) a
// fresh buffer per sliver. A buffer goes back when its row is dropped; up to 32 stay
// alive across garbage collections (an aggregator's 16 MiB window of 2 MB rows, twice).
var rowBuffers = bufpool.New(32)

// keepRows keeps the held rows first to last and gives the buffers of the others back
// (releaseRows).
func (r *BlobReader) keepRows(first, last int) {
	rows := make(map[int][]byte, last-first+1)
	for i := first; i <= last; i++ {
		if d, ok := r.rows[i]; ok {
			rows[i] = d
		}
	}
	r.releaseRows(rows)
	r.rows = rows
	if r.bufs == nil {
		r.bufs = make(map[int]*[]byte)
	}
}

// releaseRows gives the pooled buffers of the rows not in keep back to rowBuffers and
// forgets them; the rows themselves must be dropped by the caller.
func (r *BlobReader) releaseRows(keep map[int][]byte) {
	for row, b := range r.bufs {
		if _, ok := keep[row]; !ok {
			rowBuffers.Put(b)
			delete(r.bufs, row)
		}
	}
}

// Stats returns what the reader has done so far.
func (r *BlobReader) Stats() BlobReaderStats {
	return BlobReaderStats{HTTPRequests: r.requests.Load(), Slivers: r.slivers, Recovered: r.recovered, FellBack: r.fellBack, Metadata: r.fetchedMetadata}
}

// Read implements io.Reader.
func (r *BlobReader) Read(p []byte) (int, error) {
	n, err := r.ReadAt(p, r.pos)
	r.pos += int64(n)
	return n, err
}

// Seek implements io.Seeker.
func (r *BlobReader) Seek(offset int64, whence int) (int64, error) {
	var pos int64
	switch whence {
	case io.SeekStart:
		pos = offset
	case io.SeekCurrent:
		pos = r.pos + offset
	case io.SeekEnd:
		pos = r.size + offset
	default:
		return r.pos, fmt.Errorf("client: seek: invalid whence %d", whence)
	}
	if pos < 0 {
		return r.pos, fmt.Errorf("client: seek to %d: negative position", pos)
	}
	r.pos = pos
	return pos, nil
}

// ReadAt implements io.ReaderAt: it reads len(p) bytes at off, or up to the end of the
// blob with io.EOF.
func (r *BlobReader) ReadAt(p []byte, off int64) (int, error) {
	if r.closed {
		return 0, ErrReaderClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("client: read at %d: negative offset", off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), r.size-off))
	if n == 0 {
		return 0, nil
	}
	if err := r.Prefetch(off, int64(n)); err != nil {
		return 0, err
	}
	if r.full != nil {
		copy(p[:n], r.full[off:])
	} else {
		for done := 0; done < n; {
			at := off + int64(done)
			row, in := int(at/r.rowLen), at%r.rowLen
			done += copy(p[done:n], r.rows[row][in:])
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Prefetch fetches, in parallel, the slivers holding bytes [off, off+n) (clipped to the
// blob), so that the reads of that range that follow need no request. The rows held for
// earlier ranges are dropped first. A caller that knows the range it will read
// sequentially (an HTTP Range request) calls it first; otherwise each read fetches the
// rows it lacks when it needs them. When a row can be neither fetched nor rebuilt, the
// reader reads the whole blob instead, unless it is larger than ReadOptions.MaxWholeRead
// (then the error wraps ErrUnavailable).
func (r *BlobReader) Prefetch(off, n int64) error {
	if r.closed {
		return ErrReaderClosed
	}
	if off < 0 || n <= 0 || off >= r.size || r.full != nil {
		return nil
	}
	n = min(n, r.size-off)
	if err := r.fetchRows(off, n); err != nil {
		if r.ctx.Err() != nil {
			return r.ctx.Err()
		}
		if !r.mayReadWhole() {
			return fmt.Errorf("%w: blob %s: bytes [%d, %d): %w", ErrUnavailable, r.id, off, off+n, err)
		}
		r.c.log.Info("client: range read falls back to a whole read", "blob", r.id, "err", err)
		return r.readAll()
	}
	return nil
}

// WriteRange writes bytes [off, off+n) of the blob (clipped to its end) to w, in order,
// and returns the bytes written. It fetches rows ahead while it writes earlier ones: at
// most window bytes of rows (rounded down to whole rows, at least one) are in flight or
// held at once, and a row's bytes go to w as soon as the row and those before it are in
// (one Write per row), instead of after a whole window. Every row is verified against
// the blob ID before the first of its bytes is written, as for ReadAt: a row whose sliver
// cannot be fetched and verified is rebuilt from recovery symbols, or the reader falls
// back to a whole read (as Prefetch does, within ReadOptions.MaxWholeRead); if neither
// works WriteRange stops with the error (wrapping ErrUnavailable), having written
// exactly the rows before that row, so w never receives a byte that did not verify.
// A failing w stops it with w's error. Rows held from an earlier Prefetch within the
// range are used; every row is dropped once written.
func (r *BlobReader) WriteRange(w io.Writer, off, n, window int64) (int64, error) {
	if r.closed {
		return 0, ErrReaderClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("client: write range at %d: negative offset", off)
	}
	if n <= 0 || off >= r.size {
		return 0, nil
	}
	n = min(n, r.size-off)
	if r.full != nil {
		k, err := w.Write(r.full[off : off+n])
		return int64(k), err
	}
	end := off + n
	first, last := int(off/r.rowLen), int((end-1)/r.rowLen)
	r.keepRows(first, last)
	ahead := int(max(1, min(window/r.rowLen, int64(max(r.c.cfg.MaxConcurrentSliverReads, 1)))))

	type fetched struct {
		s   *redstuff.Sliver
		buf *[]byte
		err error
	}
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	results := make([]chan fetched, last-first+1)
	answer := sliverAnswerSize(int(r.rowLen))
	next := first // the next row to launch
	launch := func(row int) {
		ch := make(chan fetched, 1)
		results[row-first] = ch
		if _, ok := r.rows[row]; ok {
			return
		}
		go func() {
			b := rowBuffers.Get(answer)
			s, err := r.fetchSliverInto(ctx, *b, redstuff.Primary, row)
			ch <- fetched{s: s, buf: b, err: err}
		}()
	}
	// stop cancels the fetches launched for rows from row on and waits for them, giving
	// their buffers back; then no goroutine of this call runs.
	stop := func(row int) {
		cancel()
		for i := row; i < next; i++ {
			if _, ok := r.rows[i]; ok {
				continue
			}
			if f := <-results[i-first]; f.buf != nil {
				rowBuffers.Put(f.buf)
			}
		}
		next = row
	}
	drop := func(row int) {
		if b, ok := r.bufs[row]; ok {
			rowBuffers.Put(b)
			delete(r.bufs, row)
		}
		delete(r.rows, row)
	}
	var written int64
	failed := 0
	for row := first; row <= last; row++ {
		for next <= last && next < row+ahead {
			launch(next)
			next++
		}
		d, ok := r.rows[row]
		if !ok {
			f := <-results[row-first]
			switch {
			case f.err == nil:
				d = f.s.Data
				r.bufs[row] = f.buf
				r.slivers++
			default:
				rowBuffers.Put(f.buf)
				cause := f.err
				// Beyond maxRecoveredRows failed rows a whole read is cheaper, if allowed.
				if failed++; failed <= maxRecoveredRows || !r.mayReadWhole() {
					rd, err := r.recoverRow(row)
					if err == nil {
						d = rd
						r.recovered++
					} else {
						cause = errors.Join(cause, err)
					}
				}
				if d == nil {
					stop(row + 1)
					k, err := r.writeRangeWhole(w, off+written, end, cause)
					return written + k, err
				}
			}
		}
		lo, hi := max(off, int64(row)*r.rowLen), min(end, int64(row+1)*r.rowLen)
		k, err := w.Write(d[lo-int64(row)*r.rowLen : hi-int64(row)*r.rowLen])
		written += int64(k)
		drop(row)
		if err == nil && int64(k) < hi-lo {
			err = io.ErrShortWrite
		}
		if err != nil {
			stop(row + 1)
			return written, err
		}
	}
	return written, nil
}

// writeRangeWhole finishes a WriteRange that could neither fetch nor rebuild a row
// (cause): it reads the whole blob if ReadOptions.MaxWholeRead allows and writes bytes
// [at, end) of it to w, else it fails with ErrUnavailable, writing nothing.
func (r *BlobReader) writeRangeWhole(w io.Writer, at, end int64, cause error) (int64, error) {
	if r.ctx.Err() != nil {
		return 0, r.ctx.Err()
	}
	if !r.mayReadWhole() {
		return 0, fmt.Errorf("%w: blob %s: bytes [%d, %d): %w", ErrUnavailable, r.id, at, end, cause)
	}
	r.c.log.Info("client: range read falls back to a whole read", "blob", r.id, "err", cause)
	if err := r.readAll(); err != nil {
		return 0, err
	}
	k, err := w.Write(r.full[at:end])
	if err == nil && int64(k) < end-at {
		err = io.ErrShortWrite
	}
	return int64(k), err
}

// mayReadWhole reports whether ReadOptions.MaxWholeRead lets the reader fall back to a
// whole read.
func (r *BlobReader) mayReadWhole() bool {
	return r.opts.MaxWholeRead <= 0 || r.size <= r.opts.MaxWholeRead
}

// readAll reads the whole blob, as Read does, for the rest of the reader's life.
func (r *BlobReader) readAll() error {
	var st ReadStats
	data, err := r.c.read(r.ctx, r.id, ReadOptions{Consistency: r.opts.Consistency}, &st)
	if err != nil {
		return err
	}
	r.releaseRows(nil)
	r.full, r.rows, r.fellBack = data, nil, r.view != nil
	return nil
}

// fetchRows fetches and verifies the primary slivers holding bytes [off, off+n) that the
// reader does not hold. Unless it holds them all, it then keeps just those rows.
func (r *BlobReader) fetchRows(off, n int64) error {
	first, last := int(off/r.rowLen), int((off+n-1)/r.rowLen)
	var todo []int
	for i := first; i <= last; i++ {
		if _, ok := r.rows[i]; !ok {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return nil // all held (fetched by the last miss or a Prefetch)
	}
	// Rows outside the range are not needed any more: let them go before fetching.
	r.keepRows(first, last)
	slivers := make([]*redstuff.Sliver, len(todo))
	bufs := make([]*[]byte, len(todo))
	errs := make([]error, len(todo))
	answer := sliverAnswerSize(int(r.rowLen))
	sem := make(chan struct{}, max(r.c.cfg.MaxConcurrentSliverReads, 1))
	var wg sync.WaitGroup
	for j, row := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			b := rowBuffers.Get(answer)
			bufs[j] = b
			slivers[j], errs[j] = r.fetchSliverInto(r.ctx, *b, redstuff.Primary, row)
		}()
	}
	wg.Wait()
	var failed []int
	var failures []error
	for j, row := range todo {
		if errs[j] != nil {
			rowBuffers.Put(bufs[j])
			failed, failures = append(failed, row), append(failures, errs[j])
			continue
		}
		r.rows[row] = slivers[j].Data
		r.bufs[row] = bufs[j]
		r.slivers++
	}
	if len(failed) > maxRecoveredRows && r.mayReadWhole() {
		return errors.Join(failures...)
	}
	for _, row := range failed {
		d, err := r.recoverRow(row)
		if err != nil {
			return errors.Join(append(failures, err)...)
		}
		r.rows[row] = d
		r.recovered++
	}
	return nil
}

// maxRecoveredRows bounds the rows one read rebuilds from recovery symbols (each costs a
// request to every node); beyond it a whole read is cheaper, unless MaxWholeRead forbids
// one: then every row is rebuilt.
const maxRecoveredRows = 4

// recoverRow rebuilds primary sliver row from recovery symbols. It first asks every
// member for the symbols of the row from the secondary slivers of its shards without
// proofs (bare), and checks the row decoded from the first RecoverySymbolsNeeded(Primary)
// against its commitment. Only if that fails (too few answers, or a row that does not
// match: a lying node) does it ask again for symbols with proofs (recoverRowProven), so a
// Byzantine node costs one retry, never a wrong row.
func (r *BlobReader) recoverRow(row int) ([]byte, error) {
	if err := r.loadMetadata(); err != nil {
		return nil, err
	}
	d, err := r.recoverRowBare(row)
	if err == nil {
		return d, nil
	}
	d, err2 := r.recoverRowProven(row)
	if err2 != nil {
		return nil, errors.Join(err, err2)
	}
	return d, nil
}

// recoverRowBare is recoverRow without proofs.
func (r *BlobReader) recoverRowBare(row int) ([]byte, error) {
	enc := r.view.enc
	n := enc.NShards()
	need := enc.RecoverySymbolsNeeded(redstuff.Primary)
	sym, err := enc.SymbolSize(r.m.UnencodedLength)
	if err != nil {
		return nil, err
	}
	type answer struct {
		syms []redstuff.RecoverySymbol
		err  error
	}
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	answers := make(chan answer, len(r.view.members))
	for _, mb := range r.view.members {
		go func() {
			if mb.node == nil || len(mb.info.Shards) == 0 {
				answers <- answer{err: fmt.Errorf("node %s unreachable: %w", mb.info.Name, mb.err)}
				return
			}
			ids := make([]sn.SymbolID, 0, len(mb.info.Shards))
			for _, s := range mb.info.Shards {
				ids = append(ids, sn.SymbolID{Primary: row, Secondary: n - 1 - r.id.ShardPair(int(s), n)})
			}
			syms, err := mb.node.BareRecoverySymbols(ctx, r.id, ids, redstuff.Secondary, sym)
			if errors.Is(err, nodeclient.ErrBadAnswer) {
				r.c.badResponse(badSliver, mb.info.Name, r.id, err)
			}
			if err != nil {
				err = fmt.Errorf("node %s: %w", mb.info.Name, err)
			}
			answers <- answer{syms: syms, err: err}
		}()
	}
	var syms []redstuff.RecoverySymbol
	seen := map[int]bool{}
	var errs []error
	for range r.view.members {
		a := <-answers
		if a.err != nil {
			errs = append(errs, a.err)
			continue
		}
		for _, s := range a.syms {
			if !seen[s.Index] {
				seen[s.Index] = true
				syms = append(syms, s)
			}
		}
		if len(syms) >= need {
			s, err := enc.RecoverSliver(r.m, redstuff.Primary, row, syms)
			if err != nil {
				return nil, fmt.Errorf("rebuilding primary sliver %d from symbols without proofs: %w", row, err)
			}
			return s.Data, nil
		}
	}
	return nil, fmt.Errorf("primary sliver %d: %d of the %d recovery symbols needed: %w", row, len(syms), need, errors.Join(errs...))
}

// recoverRowProven rebuilds primary sliver row from recovery symbols: every member is
// asked for the symbols it serves for that row (E[row][j] of each secondary sliver j it
// holds), each symbol is verified against the metadata, and the row is decoded from the
// first RecoverySymbolsNeeded(Primary) distinct ones and checked against its commitment.
func (r *BlobReader) recoverRowProven(row int) ([]byte, error) {
	enc := r.view.enc
	need := enc.RecoverySymbolsNeeded(redstuff.Primary)
	type answer struct {
		syms []redstuff.RecoverySymbol
		err  error
	}
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	answers := make(chan answer, len(r.view.members))
	for _, mb := range r.view.members {
		go func() {
			if mb.node == nil {
				answers <- answer{err: fmt.Errorf("node %s unreachable: %w", mb.info.Name, mb.err)}
				return
			}
			syms, err := mb.node.RecoverySymbolsFor(ctx, r.id, redstuff.Primary, row)
			if err != nil {
				if errors.Is(err, nodeclient.ErrBadAnswer) {
					r.c.badResponse(badSliver, mb.info.Name, r.id, err)
				}
				answers <- answer{err: fmt.Errorf("node %s: %w", mb.info.Name, err)}
				return
			}
			ok := syms[:0]
			for _, s := range syms {
				err := enc.VerifyRecoverySymbol(r.m, &s)
				if err == nil && (s.Axis != redstuff.Primary || s.Target != row) {
					err = fmt.Errorf("%w: symbol %s for %s sliver %d, asked for primary sliver %d", redstuff.ErrInvalidSymbol, s.ID(), s.Axis, s.Target, row)
				}
				if err != nil {
					r.c.badResponse(badSliver, mb.info.Name, r.id, err)
					continue
				}
				ok = append(ok, s)
			}
			answers <- answer{syms: ok}
		}()
	}
	var syms []redstuff.RecoverySymbol
	seen := map[int]bool{}
	var errs []error
	for range r.view.members {
		a := <-answers
		if a.err != nil {
			errs = append(errs, a.err)
			continue
		}
		for _, s := range a.syms {
			if !seen[s.Index] {
				seen[s.Index] = true
				syms = append(syms, s)
			}
		}
		if len(syms) >= need {
			s, err := enc.RecoverSliver(r.m, redstuff.Primary, row, syms)
			if err != nil {
				return nil, fmt.Errorf("rebuilding primary sliver %d: %w", row, err)
			}
			return s.Data, nil
		}
	}
	return nil, fmt.Errorf("primary sliver %d: %d of the %d recovery symbols needed: %w", row, len(syms), need, errors.Join(errs...))
}

// fetchSliver fetches sliver index of axis a (primary sliver i is in pair i, secondary
// sliver i in pair n-1-i) from the node holding its pair's shard. The answer must be that
// sliver and must verify against the blob's metadata; a node's bad answer is reported
// (badResponse). Errors name the node and the sliver.
func (r *BlobReader) fetchSliver(a redstuff.Axis, index int) (*redstuff.Sliver, error) {
	return r.fetchSliverInto(r.ctx, nil, a, index)
}

// sliverAnswerSize returns the length of a node's answer holding a sliver of data bytes
// (BCS SliverData: the length-prefixed data, the symbol size and the index).
func sliverAnswerSize(data int) int {
	n := data + 4
	for v := data; ; v >>= 7 {
		n++
		if v < 0x80 {
			return n
		}
	}
}

// fetchSliverInto is fetchSliver under ctx (r.ctx or one derived from it), reading the
// answer into dst's capacity when it fits (nodeclient.Client.SliverInto): the sliver's
// data then aliases dst. It may run in several goroutines at once.
func (r *BlobReader) fetchSliverInto(ctx context.Context, dst []byte, a redstuff.Axis, index int) (*redstuff.Sliver, error) {
	pair := index
	if a == redstuff.Secondary {
		pair = r.view.n - 1 - index
	}
	mb := r.view.owner[r.id.PairShard(pair, r.view.n)]
	if mb.node == nil {
		return nil, fmt.Errorf("%s sliver %d: node unreachable: %w", a, index, mb.err)
	}
	var s *redstuff.Sliver
	var proof *redstuff.PairProof
	var err error
	if m := r.metadata(); m == nil {
		s, proof, err = mb.node.SliverWithProof(ctx, dst, r.id, pair, a)
	} else {
		s, err = mb.node.SliverInto(ctx, dst, r.id, pair, a)
	}
	switch {
	case err != nil:
		if errors.Is(err, nodeclient.ErrBadAnswer) {
			r.c.badResponse(badSliver, mb.info.Name, r.id, err)
		}
	case s.Axis != a || s.Index != index:
		err = fmt.Errorf("%w: %s sliver %d, asked for %s sliver %d", redstuff.ErrInvalidSliver, s.Axis, s.Index, a, index)
		r.c.badResponse(badSliver, mb.info.Name, r.id, err)
	case proof != nil:
		if err = r.view.enc.VerifySliverAgainstProof(r.id, proof, s); err != nil {
			r.c.badResponse(badSliver, mb.info.Name, r.id, err)
		}
	default:
		// A node that sends no proof: verify against the full metadata (fetched once).
		if err = r.loadMetadata(); err == nil {
			if err = r.view.enc.VerifySliver(r.metadata(), s); err != nil {
				r.c.badResponse(badSliver, mb.info.Name, r.id, err)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("node %s: %s sliver %d: %w", mb.info.Name, a, index, err)
	}
	return s, nil
}

// metadata returns the full metadata if the reader has it, else nil.
func (r *BlobReader) metadata() *redstuff.Metadata {
	r.metaMu.Lock()
	defer r.metaMu.Unlock()
	return r.m
}

// loadMetadata fetches and verifies the blob's full metadata if the reader has not yet: a
// node that sends no pair proof, and rebuilding a row from recovery symbols, need it.
// It may run in several goroutines at once (fetches of rows in parallel); once it has
// returned nil, r.m is set for good and may be read without the lock.
func (r *BlobReader) loadMetadata() error {
	r.metaMu.Lock()
	defer r.metaMu.Unlock()
	if r.m != nil {
		return nil
	}
	m, err := r.c.metadata(r.ctx, r.view, r.id)
	if err != nil {
		return err
	}
	if int64(m.UnencodedLength) != r.size {
		return fmt.Errorf("client: blob %s: metadata of %d bytes, the blob ID proved %d", r.id, m.UnencodedLength, r.size)
	}
	r.m, r.fetchedMetadata = m, true
	return nil
}
