package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/walrus-go/walrus/internal/quilt"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// QuiltStoreResult is the result of StoreQuilt: the quilt blob's store result and the
// stored patches with their IDs, in index order (sorted by identifier).
type QuiltStoreResult struct {
	BlobStoreResult  *StoreResult       `json:"blobStoreResult"`
	StoredQuiltBlobs []StoredQuiltPatch `json:"storedQuiltBlobs"`
}

// StoredQuiltPatch is one patch of a stored quilt (Walrus's StoredQuiltPatch).
type StoredQuiltPatch struct {
	Identifier   string `json:"identifier"`
	QuiltPatchID string `json:"quiltPatchId"`
}

// StoreQuilt lays the patches out as a QuiltV1 quilt for the current shard count and stores
// it as one blob with opts. Errors: those of quilt.Encode (bad identifiers, duplicates, too
// many patches, too large) before anything is sent, then those of Store. With
// opts.DryRun, nothing is stored and the patch IDs are those the quilt would have.
func (c *Client) StoreQuilt(ctx context.Context, patches []quilt.Patch, opts StoreOptions) (*QuiltStoreResult, error) {
	params, err := c.chain.Params(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	enc, err := c.Encoding(int(params.NShards))
	if err != nil {
		return nil, err
	}
	q, err := quilt.Encode(enc, patches)
	if err != nil {
		return nil, err
	}
	res, err := c.Store(ctx, q.Blob, opts)
	if err != nil {
		return nil, err
	}
	var text string
	switch {
	case res.NewlyCreated != nil:
		text = res.NewlyCreated.BlobObject.BlobID
	case res.AlreadyCertified != nil:
		text = res.AlreadyCertified.BlobID
	case res.DryRun != nil:
		text = res.DryRun.BlobID
	}
	id, err := redstuff.ParseBlobID(text)
	if err != nil {
		return nil, fmt.Errorf("client: store result: %w", err)
	}
	out := &QuiltStoreResult{BlobStoreResult: res}
	for _, p := range q.Index.Patches {
		out.StoredQuiltBlobs = append(out.StoredQuiltBlobs, StoredQuiltPatch{
			Identifier: p.Identifier, QuiltPatchID: q.PatchID(id, p).String(),
		})
	}
	return out, nil
}

// QuiltReader reads patches of a certified quilt by fetching only the secondary slivers of
// their columns: OpenQuilt learns the blob's length (as OpenBlob does) and fetches the
// index columns, ReadPatch the columns of one patch. Every sliver is verified against the
// blob ID (its pair proof, or the full metadata) before its bytes are used. When a column cannot be had from its node, the reader reads and
// decodes the whole quilt once (as Read does) and serves every later patch from it.
//
// A QuiltReader is for one goroutine at a time; its reads run under the context given to
// OpenQuilt.
type QuiltReader struct {
	br    *BlobReader
	enc   *redstuff.Config
	index *quilt.Index
	cols  map[int][]byte // columns fetched so far
	full  [][]byte       // every column, after a fall-back

	sliverBytes atomic.Int64
	slivers     atomic.Int64
}

// QuiltReaderStats describe the work of a QuiltReader so far.
type QuiltReaderStats struct {
	// HTTPRequests counts requests to storage nodes (metadata and slivers).
	HTTPRequests int64
	// Slivers and SliverBytes count the secondary slivers fetched and their data bytes.
	Slivers, SliverBytes int64
	// QuiltSize is the size of the whole quilt blob.
	QuiltSize int64
	// FellBack reports that the whole quilt was read.
	FellBack bool
}

// OpenQuilt opens quilt id and reads its index. Errors: those of OpenBlob, and
// quilt.ErrMalformed when the blob is not a quilt.
func (c *Client) OpenQuilt(ctx context.Context, id redstuff.BlobID, opts ReadOptions) (*QuiltReader, error) {
	if opts.Consistency == redstuff.ConsistencyStrict {
		opts.Consistency = redstuff.ConsistencyDefault // strict needs the whole blob: the reader would hold it
	}
	br, err := c.OpenBlob(ctx, id, opts)
	if err != nil {
		return nil, err
	}
	q := &QuiltReader{br: br, enc: br.view.enc, cols: map[int][]byte{}}
	nCols := q.enc.SourceSymbols(redstuff.Secondary)
	col0, err := q.columns(0, 1)
	if err != nil {
		return nil, err
	}
	n, err := quilt.IndexColumns(col0[0])
	if err != nil {
		return nil, fmt.Errorf("client: blob %s is not a quilt: %w", id, err)
	}
	cols, err := q.columns(0, n)
	if err != nil {
		return nil, err
	}
	if q.index, err = quilt.DecodeIndex(cols, nCols); err != nil {
		return nil, fmt.Errorf("client: blob %s is not a quilt: %w", id, err)
	}
	return q, nil
}

// Index returns the quilt's index; the caller must not modify it.
func (q *QuiltReader) Index() *quilt.Index { return q.index }

// ID returns the quilt's blob ID.
func (q *QuiltReader) ID() redstuff.BlobID { return q.br.id }

// ColumnSize returns the byte length of one column (one secondary sliver's data).
func (q *QuiltReader) ColumnSize() int64 {
	return q.br.rowLen / int64(q.enc.SourceSymbols(redstuff.Secondary)) * int64(q.enc.SourceSymbols(redstuff.Primary))
}

// Size returns the size of the quilt blob.
func (q *QuiltReader) Size() int64 { return q.br.size }

// Stats returns what the reader has done so far.
func (q *QuiltReader) Stats() QuiltReaderStats {
	return QuiltReaderStats{HTTPRequests: q.br.requests.Load(), Slivers: q.slivers.Load(), SliverBytes: q.sliverBytes.Load(),
		QuiltSize: q.br.size, FellBack: q.full != nil}
}

// ReadPatch reads the patch p of the index. Errors: quilt.ErrMalformed when its columns do
// not hold a patch, and read errors.
func (q *QuiltReader) ReadPatch(p quilt.PatchInfo) (*quilt.Patch, error) {
	cols, err := q.columns(p.Start, p.End)
	if err != nil {
		return nil, err
	}
	return quilt.DecodePatch(cols)
}

// ReadInternalID reads the patch whose columns are id's; the range must be one of the
// index (quilt.ErrNotFound otherwise).
func (q *QuiltReader) ReadInternalID(id quilt.InternalID) (quilt.PatchInfo, *quilt.Patch, error) {
	p, err := q.index.ByInternalID(id)
	if err != nil {
		return p, nil, err
	}
	data, err := q.ReadPatch(p)
	return p, data, err
}

// columns returns columns [start, end), fetching those it does not hold.
func (q *QuiltReader) columns(start, end int) ([][]byte, error) {
	nCols := q.enc.SourceSymbols(redstuff.Secondary)
	if start < 0 || end > nCols || start >= end {
		return nil, fmt.Errorf("%w: columns %d..%d of %d", quilt.ErrMalformed, start, end, nCols)
	}
	if q.full != nil {
		return q.full[start:end], nil
	}
	var todo []int
	for c := start; c < end; c++ {
		if _, ok := q.cols[c]; !ok {
			todo = append(todo, c)
		}
	}
	if err := q.fetch(todo); err != nil {
		if err := q.fallBack(); err != nil {
			return nil, err
		}
		return q.full[start:end], nil
	}
	out := make([][]byte, 0, end-start)
	for c := start; c < end; c++ {
		out = append(out, q.cols[c])
	}
	return out, nil
}

// fetch fetches and verifies secondary slivers (the columns) todo.
func (q *QuiltReader) fetch(todo []int) error {
	r := q.br
	got := make([]*redstuff.Sliver, len(todo))
	errs := make([]error, len(todo))
	sem := make(chan struct{}, max(r.c.cfg.MaxConcurrentSliverReads, 1))
	var wg sync.WaitGroup
	for j, col := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s, err := r.fetchSliver(redstuff.Secondary, col)
			if err != nil {
				errs[j] = err
				return
			}
			got[j] = s
			q.slivers.Add(1)
			q.sliverBytes.Add(int64(len(s.Data)))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for j, col := range todo {
		q.cols[col] = got[j].Data
	}
	return nil
}

// fallBack reads the whole quilt and splits it into columns.
func (q *QuiltReader) fallBack() error {
	if err := q.br.readAll(); err != nil {
		return err
	}
	cols, err := quilt.Columns(q.enc, q.br.full)
	if err != nil {
		return fmt.Errorf("client: blob %s is not a quilt: %w", q.br.id, err)
	}
	q.full, q.cols = cols, nil
	return nil
}
