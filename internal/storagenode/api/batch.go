package api

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// The batched upload: PUT /v1/blobs/{blob_id}/slivers stores a blob's metadata and all the
// sliver pairs a node holds for it in one request and one synced batch, so that storing a
// blob costs one request per node instead of two or three per shard. The body is BCS:
//
//	BlobMetadata                     exactly the body of PUT .../metadata: variant 0 (V1) ‖
//	                                 encoding type u8 ‖ unencoded length u64 ‖
//	                                 vector<{primary Node, secondary Node}> (n entries)
//	ULEB128 count                    number of pairs, at most the shards the node owns
//	count × {
//	    pair index u16               strictly increasing
//	    primary SliverData           ULEB128 length ‖ symbols ‖ symbol size u16 ‖ index u16
//	    secondary SliverData         the same; index is n-1-pair
//	}
//
// Every SliverData must have exactly the length the metadata implies. The request must
// carry a Content-Length. A client may spread a node's pairs over several requests (each
// with the metadata), for instance to stay under the node's upload budget
// (Options.MaxUploadBytes), which a larger body exceeds with 403 (SIZE_EXCEEDED). The node reads the body as a stream, verifies the pairs as they
// arrive (in parallel with reading), writes them to its segment file in chunks of a few
// MiB as they are verified (so an upload holds a few chunks, not the body) and makes
// nothing visible unless the whole body is valid. A pending upload of a blob not
// registered yet whose pairs exceed what the node buffers for one blob is refused after
// the pair count, before the pairs are read.
// The response is the success envelope with an UploadResult: 201 if anything was stored,
// 200 if everything was already there.

// EncodeBatch returns the body of a batched upload as a list of byte slices to send in
// order (the sliver data is not copied) and its total length. Pairs are sent in pair
// order; the caller passes only pairs of shards the receiving node owns.
func EncodeBatch(m *redstuff.Metadata, pairs []*redstuff.SliverPair) (segments [][]byte, size int64) {
	sorted := slices.Clone(pairs)
	slices.SortFunc(sorted, func(a, b *redstuff.SliverPair) int { return cmp.Compare(a.Index, b.Index) })
	head := bcs.NewEncoder(nil)
	head.Fixed(sn.MetadataBody(m))
	head.Len(len(sorted))
	segments = append(segments, head.Out())
	for _, p := range sorted {
		e := bcs.NewEncoder(make([]byte, 0, 16))
		e.U16(uint16(p.Index))
		e.Len(len(p.Primary.Data))
		segments = append(segments, e.Out(), p.Primary.Data)
		e = bcs.NewEncoder(make([]byte, 0, 16))
		e.U16(uint16(p.Primary.SymbolSize))
		e.U16(uint16(p.Primary.Index))
		e.Len(len(p.Secondary.Data))
		segments = append(segments, e.Out(), p.Secondary.Data)
		e = bcs.NewEncoder(make([]byte, 0, 4))
		e.U16(uint16(p.Secondary.SymbolSize))
		e.U16(uint16(p.Secondary.Index))
		segments = append(segments, e.Out())
	}
	for _, s := range segments {
		size += int64(len(s))
	}
	return segments, size
}

// batchReader reads a batched upload body.
type batchReader struct {
	r *bufio.Reader
}

// readErr maps a body read error: over the size limit, too slow (the read deadline),
// over the memory budget, truncated, or a broken connection.
func readErr(err error, what string) error {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return fmt.Errorf("%w: more than %d bytes", sn.ErrTooLarge, tooLarge.Limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w: reading %s: %v", sn.ErrBodyTimeout, what, err)
	case errors.Is(err, sn.ErrOverloaded):
		return err
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: body ends inside %s", sn.ErrMalformed, what)
	}
	return fmt.Errorf("%w: reading %s: %v", sn.ErrMalformed, what, err)
}

func (br *batchReader) full(b []byte, what string) error {
	if _, err := io.ReadFull(br.r, b); err != nil {
		return readErr(err, what)
	}
	return nil
}

// uleb reads a canonical ULEB128 u32 and appends its bytes to raw.
func (br *batchReader) uleb(raw []byte, what string) (uint32, []byte, error) {
	var v uint64
	for i := 0; i < 5; i++ {
		c, err := br.r.ReadByte()
		if err != nil {
			return 0, raw, readErr(err, what)
		}
		raw = append(raw, c)
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			if c == 0 && i > 0 || v > 1<<32-1 {
				return 0, raw, fmt.Errorf("%w: %s: non-canonical ULEB128", sn.ErrMalformed, what)
			}
			return uint32(v), raw, nil
		}
	}
	return 0, raw, fmt.Errorf("%w: %s: ULEB128 longer than 5 bytes", sn.ErrMalformed, what)
}

// metadata reads the BlobMetadata of blob id for a system of n shards.
func (br *batchReader) metadata(id redstuff.BlobID, n int) (*redstuff.Metadata, error) {
	head := make([]byte, 10, 10+5)
	if err := br.full(head, "metadata"); err != nil {
		return nil, err
	}
	count, head, err := br.uleb(head, "metadata")
	if err != nil {
		return nil, err
	}
	if int64(count) != int64(n) {
		return nil, fmt.Errorf("%w: %d sliver pair hashes for %d shards", sn.ErrInvalidMetadata, count, n)
	}
	body := make([]byte, len(head)+n*2*(1+merkle.Size))
	copy(body, head)
	if err := br.full(body[len(head):], "metadata"); err != nil {
		return nil, err
	}
	return sn.DecodeMetadataBody(id, body)
}

// sliver reads one SliverData of axis a whose data must be exactly dataLen bytes into the
// upload's write buffer (or, where the upload has none, fresh memory). It returns the
// decoded sliver and its BCS bytes (which it aliases).
func (br *batchReader) sliver(u *sn.Upload, a redstuff.Axis, dataLen int) (*redstuff.Sliver, []byte, error) {
	what := a.String() + " sliver"
	var pre [5]byte
	l, prefix, err := br.uleb(pre[:0], what)
	if err != nil {
		return nil, nil, err
	}
	if int64(l) != int64(dataLen) {
		return nil, nil, fmt.Errorf("%w: %s of %d bytes, the metadata implies %d", sn.ErrInvalidSliver, what, l, dataLen)
	}
	size := len(prefix) + dataLen + 4
	enc := u.SliverBuffer(size)
	if enc == nil {
		enc = make([]byte, size)
	}
	copy(enc, prefix)
	if err := br.full(enc[len(prefix):], what); err != nil {
		return nil, nil, err
	}
	s, err := redstuff.DecodeSliver(enc, a, dataLen)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", sn.ErrMalformed, err)
	}
	return s, enc, nil
}

// readBatch streams a batched upload body into an upload of blob id: metadata, then the
// pairs, each verified as it arrives. The caller commits or aborts the returned upload.
// A pending upload (storagenode.Node.NewPendingUpload) may be of a blob whose registration
// the node has not seen yet.
func readBatch(ctx context.Context, node *sn.Node, id redstuff.BlobID, body io.Reader, pending bool) (*sn.Upload, error) {
	br := &batchReader{r: bufio.NewReaderSize(body, 64<<10)}
	m, err := br.metadata(id, node.NShards())
	if err != nil {
		return nil, err
	}
	var u *sn.Upload
	if pending {
		u, err = node.NewPendingUpload(id, m)
	} else {
		u, err = node.NewUpload(id, m)
	}
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			u.Abort()
		}
	}()
	count, _, err := br.uleb(nil, "pair count")
	if err != nil {
		return nil, err
	}
	if owned := len(node.OwnedShards()); int64(count) > int64(owned) {
		return nil, fmt.Errorf("%w: %d sliver pairs, the node owns %d shards", sn.ErrMalformed, count, owned)
	}
	if err := u.CheckPairCount(int(count)); err != nil {
		return nil, err
	}
	n, sym := node.NShards(), u.SymbolSize()
	enc := node.Encoding()
	prev := -1
	var idx [2]byte
	for i := 0; i < int(count); i++ {
		if err := br.full(idx[:], "pair index"); err != nil {
			return nil, err
		}
		pair := int(binary.LittleEndian.Uint16(idx[:]))
		if pair >= n {
			return nil, fmt.Errorf("%w: sliver pair %d, %d shards", sn.ErrIndexOutOfRange, pair, n)
		}
		if pair <= prev {
			return nil, fmt.Errorf("%w: sliver pair %d after %d: pairs must be in increasing order", sn.ErrMalformed, pair, prev)
		}
		prev = pair
		if err := u.CheckPair(pair); err != nil {
			return nil, err
		}
		for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
			s, b, err := br.sliver(u, a, enc.SliverSize(a, sym))
			if err != nil {
				return nil, err
			}
			if err := u.Add(ctx, pair, s, b); err != nil {
				return nil, err
			}
		}
	}
	if _, err := br.r.ReadByte(); err == nil {
		return nil, fmt.Errorf("%w: bytes after the last sliver pair", sn.ErrMalformed)
	} else if err != io.EOF {
		return nil, readErr(err, "end of body")
	}
	ok = true
	return u, nil
}

// maxBatchSize returns the largest batched upload body the node can accept now.
func maxBatchSize(node *sn.Node) int64 { return batchSizeFor(node, len(node.OwnedShards())) }

// batchSizeFor is the largest batched upload of the slivers of the given number of shards.
func batchSizeFor(node *sn.Node, shards int) int64 {
	pair := int64(2 + node.MaxSliverSize(redstuff.Primary) + node.MaxSliverSize(redstuff.Secondary))
	return int64(node.MetadataSize()) + 5 + int64(shards)*pair
}
