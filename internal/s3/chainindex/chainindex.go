// Package chainindex is the s3.Index that lives on the chain: every bucket of the gateway is
// a chain Bucket object owned by the gateway's account, its entries are ordered in chain
// state (so a listing page is a range scan), and multipart uploads with their parts are kept
// there too, so that the gateway itself is stateless and a restart loses nothing.
//
// Reads are chain queries against the committed state; writes are transactions signed by
// the gateway's account, each waited for until its block is committed, so a read after a
// write sees it. The entries that a write replaced or removed come back from the
// transaction's events (chain.EntryRemoved, chain.PartRemoved), never from a separate read,
// so that two gateways writing the same key each learn exactly what they replaced.
//
// Times come from the chain: an entry's ModTime is the block time of its write (the
// gateway's proposed ModTime is not used), a bucket's Created and an upload's Initiated
// likewise.
package chainindex

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/s3"
)

// Index is an s3.Index on the chain. It is safe for concurrent use (chainclient orders one
// account's transactions by nonce).
type Index struct {
	chain  *chainclient.Client
	signer *chainclient.Signer
	owner  chain.Address
}

var _ s3.Index = (*Index)(nil)

// New returns the index of the buckets owned by signer's account. The account pays the
// fees: chain.Params.MinFeeFor each write, which grows with the bytes it adds to the index
// (Params.IndexByteFee).
func New(c *chainclient.Client, signer *chainclient.Signer) *Index {
	return &Index{chain: c, signer: signer, owner: signer.Address()}
}

// maxPayload bounds the encoded payload of one transaction the index builds: a chain
// transaction is at most chain.MaxTxSize bytes with its sender, nonce, fee and signature.
const maxPayload = chain.MaxTxSize - 256

// mapErr turns the chain's bucket errors into the s3 package's, keeping the chain's
// message.
func mapErr(err error) error {
	for _, m := range []struct {
		chain *chain.Error
		s3    error
	}{
		{chain.ErrNoSuchBucket, s3.ErrNoSuchBucket}, {chain.ErrBucketExists, s3.ErrBucketExists},
		{chain.ErrBucketNotEmpty, s3.ErrBucketNotEmpty}, {chain.ErrNoSuchKey, s3.ErrNoSuchKey},
		{chain.ErrNoSuchUpload, s3.ErrNoSuchUpload},
	} {
		if errors.Is(err, m.chain) {
			return fmt.Errorf("%w: %w", m.s3, err)
		}
	}
	return err
}

func (x *Index) submit(ctx context.Context, p chain.Payload) (*chainclient.TxResult, error) {
	res, err := x.chain.Submit(ctx, x.signer, p)
	if err != nil {
		return nil, mapErr(err)
	}
	return res, nil
}

func chainTime(t int64) time.Time { return time.Unix(0, t).UTC() }

func toMeta(m []chain.Attribute) []s3.Meta {
	if len(m) == 0 {
		return nil
	}
	out := make([]s3.Meta, len(m))
	for i, a := range m {
		out[i] = s3.Meta{Name: a.Key, Value: a.Value}
	}
	return out
}

func fromMeta(m []s3.Meta) []chain.Attribute {
	if len(m) == 0 {
		return nil
	}
	out := make([]chain.Attribute, len(m))
	for i, a := range m {
		out[i] = chain.Attribute{Key: a.Name, Value: a.Value}
	}
	return out
}

func toBlob(r chain.BlobRef) s3.Blob {
	return s3.Blob{ID: r.BlobID, Manifest: r.Manifest, Object: r.Object}
}

func fromBlob(b s3.Blob) chain.BlobRef {
	return chain.BlobRef{BlobID: b.ID, Object: b.Object, Manifest: b.Manifest}
}

func toEntry(e *chain.Entry) s3.Entry {
	return s3.Entry{Key: e.Key, Blob: toBlob(e.Ref), Size: int64(e.Size), ETag: e.ETag, ContentType: e.ContentType,
		Metadata: toMeta(e.Metadata), ModTime: chainTime(e.Modified)}
}

func fromEntry(e *s3.Entry) (chain.EntryData, error) {
	if e.Size < 0 {
		return chain.EntryData{}, fmt.Errorf("chainindex: entry %q has a negative size", e.Key)
	}
	return chain.EntryData{Key: e.Key, Ref: fromBlob(e.Blob), Size: uint64(e.Size), ETag: e.ETag, ContentType: e.ContentType,
		Metadata: fromMeta(e.Metadata)}, nil
}

func toPart(p *chain.Part) s3.Part {
	return s3.Part{Number: int(p.Number), Blob: toBlob(p.Ref), Size: int64(p.Size), ETag: p.ETag, ModTime: chainTime(p.Modified)}
}

func toUpload(u *chain.Upload) s3.Upload {
	return s3.Upload{ID: u.ID, Key: u.Key, ContentType: u.ContentType, Metadata: toMeta(u.Metadata), Initiated: chainTime(u.Initiated)}
}

// ListBuckets implements s3.Index.
func (x *Index) ListBuckets(ctx context.Context) ([]s3.Bucket, error) {
	bs, err := x.chain.Buckets(ctx, x.owner)
	if err != nil {
		return nil, err
	}
	out := make([]s3.Bucket, len(bs))
	for i, b := range bs {
		out[i] = s3.Bucket{Name: b.Name, Created: chainTime(b.Created)}
	}
	return out, nil
}

// CreateBucket implements s3.Index. The bucket's creation time is the block time, not
// b.Created.
func (x *Index) CreateBucket(ctx context.Context, b s3.Bucket) error {
	_, err := x.submit(ctx, &chain.CreateBucket{Name: b.Name})
	return err
}

// DeleteBucket implements s3.Index.
func (x *Index) DeleteBucket(ctx context.Context, name string) error {
	_, err := x.submit(ctx, &chain.DeleteBucket{Name: name})
	return err
}

// HeadBucket implements s3.Index.
func (x *Index) HeadBucket(ctx context.Context, name string) (s3.Bucket, error) {
	b, err := x.chain.Bucket(ctx, x.owner, name)
	if err != nil {
		return s3.Bucket{}, mapErr(err)
	}
	return s3.Bucket{Name: b.Name, Created: chainTime(b.Created)}, nil
}

// GetEntry implements s3.Index.
func (x *Index) GetEntry(ctx context.Context, bucket, key string) (s3.Entry, error) {
	e, err := x.chain.Entry(ctx, x.owner, bucket, key)
	if err != nil {
		return s3.Entry{}, mapErr(err)
	}
	return toEntry(&e), nil
}

// PutEntries implements s3.Index. The entries go in one transaction; a batch whose
// encoding exceeds a transaction is refused. Each entry's ModTime is the block time.
func (x *Index) PutEntries(ctx context.Context, bucket string, entries []s3.Entry) ([]*s3.Entry, error) {
	p := &chain.PutEntries{Bucket: bucket}
	for i := range entries {
		d, err := fromEntry(&entries[i])
		if err != nil {
			return nil, err
		}
		p.Entries = append(p.Entries, d)
	}
	res, err := x.submit(ctx, p)
	if err != nil {
		return nil, err
	}
	replaced := map[string]*s3.Entry{}
	for _, ev := range res.Events {
		if r, ok := ev.Body.(*chain.EntryRemoved); ok && r.Overwritten {
			e := toEntry(&r.Entry)
			replaced[e.Key] = &e
		}
	}
	out := make([]*s3.Entry, len(entries))
	for i := range entries {
		out[i] = replaced[entries[i].Key]
	}
	return out, nil
}

// DeleteKeys implements s3.Index. Keys that do not fit one transaction are removed in
// several, sent together; each removal is applied once whatever the others do (as S3's
// DeleteObjects reports keys one by one), and if one transaction fails, the error is
// returned after the others were waited for.
func (x *Index) DeleteKeys(ctx context.Context, bucket string, keys []string) ([]s3.Entry, error) {
	var batches []*chain.DeleteEntries
	size := 0
	for _, k := range keys {
		n := len(k) + 3 // the key's bytes and its length
		if len(batches) == 0 || size+n > maxPayload-chain.MaxBucketNameLen-8 {
			batches = append(batches, &chain.DeleteEntries{Bucket: bucket})
			size = 0
		}
		b := batches[len(batches)-1]
		b.Keys = append(b.Keys, k)
		size += n
	}
	pending := make([]*chainclient.Pending, len(batches))
	var firstErr error
	for i, b := range batches {
		p, err := x.chain.SubmitAsync(ctx, x.signer, b, 0)
		if err != nil {
			firstErr = mapErr(err)
			break
		}
		pending[i] = p
	}
	removed := map[string]s3.Entry{}
	for _, p := range pending {
		if p == nil {
			break
		}
		res, err := p.Wait(ctx)
		if err != nil {
			if firstErr == nil {
				firstErr = mapErr(err)
			}
			continue
		}
		for _, ev := range res.Events {
			if r, ok := ev.Body.(*chain.EntryRemoved); ok {
				removed[r.Entry.Key] = toEntry(&r.Entry)
			}
		}
	}
	var out []s3.Entry
	for _, k := range keys {
		if e, ok := removed[k]; ok {
			out = append(out, e)
			delete(removed, k)
		}
	}
	return out, firstErr
}

// prefixEnd returns the smallest byte string above every string that starts with p (p
// is UTF-8, so it never ends in 0xff bytes only).
func prefixEnd(p string) []byte {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return b[:i+1]
		}
	}
	return nil
}

// cursor returns the chain cursor of a ListQuery's After: right after the key, or, if
// After is a common prefix of the query, after every key under it.
func cursor(q *s3.ListQuery) []byte {
	switch {
	case q.After == "":
		return nil
	case q.Delimiter != "" && strings.HasPrefix(q.After, q.Prefix) && strings.HasSuffix(q.After, q.Delimiter) &&
		strings.Contains(q.After[len(q.Prefix):], q.Delimiter):
		return prefixEnd(q.After)
	}
	return chain.StartAfter(q.After)
}

// List implements s3.Index with one chain query: a range scan of the page.
func (x *Index) List(ctx context.Context, bucket string, q s3.ListQuery) (s3.ListPage, error) {
	max := q.Max
	if max <= 0 || max > chain.MaxEntryPageSize {
		max = chain.MaxEntryPageSize
	}
	page, err := x.chain.Entries(ctx, chain.ListRequest{Owner: x.owner, Bucket: bucket, Prefix: q.Prefix, Delimiter: q.Delimiter,
		Start: cursor(&q), Limit: uint32(max)})
	if err != nil {
		return s3.ListPage{}, mapErr(err)
	}
	out := s3.ListPage{CommonPrefixes: page.CommonPrefixes}
	for i := range page.Entries {
		out.Entries = append(out.Entries, toEntry(&page.Entries[i]))
	}
	if page.Truncated {
		// Next is the page's last item, an entry or a common prefix.
		if n := len(out.Entries); n > 0 {
			out.Next = out.Entries[n-1].Key
		}
		if n := len(out.CommonPrefixes); n > 0 && out.CommonPrefixes[n-1] > out.Next {
			out.Next = out.CommonPrefixes[n-1]
		}
	}
	return out, nil
}

// CreateUpload implements s3.Index. The upload's Initiated time is the block time.
func (x *Index) CreateUpload(ctx context.Context, bucket string, u s3.Upload) error {
	_, err := x.submit(ctx, &chain.CreateUpload{Bucket: bucket, ID: u.ID, Key: u.Key, ContentType: u.ContentType,
		Metadata: fromMeta(u.Metadata)})
	return err
}

// GetUpload implements s3.Index.
func (x *Index) GetUpload(ctx context.Context, bucket, uploadID string) (s3.Upload, error) {
	u, err := x.chain.Upload(ctx, chain.UploadRequest{Owner: x.owner, Bucket: bucket, Upload: uploadID})
	if err != nil {
		return s3.Upload{}, mapErr(err)
	}
	return toUpload(&u), nil
}

// RecordPart implements s3.Index.
func (x *Index) RecordPart(ctx context.Context, bucket, uploadID string, p s3.Part) (*s3.Part, error) {
	if p.Number < 1 || p.Number > chain.MaxPartNumber || p.Size < 0 {
		return nil, fmt.Errorf("chainindex: part %d of %d bytes out of range", p.Number, p.Size)
	}
	res, err := x.submit(ctx, &chain.PutPart{Bucket: bucket, Upload: uploadID, Number: uint32(p.Number), Ref: fromBlob(p.Blob),
		Size: uint64(p.Size), ETag: p.ETag})
	if err != nil {
		return nil, err
	}
	for _, ev := range res.Events {
		if r, ok := ev.Body.(*chain.PartRemoved); ok {
			old := toPart(&r.Part)
			return &old, nil
		}
	}
	return nil, nil
}

// ListParts implements s3.Index.
func (x *Index) ListParts(ctx context.Context, bucket, uploadID string, after, max int) ([]s3.Part, bool, error) {
	if after < 0 {
		after = 0
	}
	if max <= 0 || max > chain.MaxEntryPageSize {
		max = chain.MaxEntryPageSize
	}
	page, err := x.chain.Parts(ctx, chain.PartsRequest{Owner: x.owner, Bucket: bucket, Upload: uploadID,
		After: uint32(min(after, chain.MaxPartNumber)), Limit: uint32(max)})
	if err != nil {
		return nil, false, mapErr(err)
	}
	out := make([]s3.Part, len(page.Parts))
	for i := range page.Parts {
		out[i] = toPart(&page.Parts[i])
	}
	return out, page.Truncated, nil
}

// ListUploads implements s3.Index.
func (x *Index) ListUploads(ctx context.Context, bucket string, q s3.UploadQuery) ([]s3.Upload, bool, error) {
	max := q.Max
	if max <= 0 || max > chain.MaxEntryPageSize {
		max = chain.MaxEntryPageSize
	}
	r := chain.UploadsRequest{Owner: x.owner, Bucket: bucket, Prefix: q.Prefix, Limit: uint32(max)}
	if q.AfterKey != "" || q.AfterID != "" {
		r.Start = chain.UploadCursor(q.AfterKey, q.AfterID)
	}
	page, err := x.chain.Uploads(ctx, r)
	if err != nil {
		return nil, false, mapErr(err)
	}
	out := make([]s3.Upload, len(page.Uploads))
	for i := range page.Uploads {
		out[i] = toUpload(&page.Uploads[i])
	}
	return out, page.Truncated, nil
}

// allParts returns the upload and every part it holds (at most chain.MaxPartNumber).
func (x *Index) allParts(ctx context.Context, bucket, uploadID string) (chain.Upload, []s3.Part, error) {
	var parts []s3.Part
	r := chain.PartsRequest{Owner: x.owner, Bucket: bucket, Upload: uploadID}
	for {
		page, err := x.chain.Parts(ctx, r)
		if err != nil {
			return chain.Upload{}, nil, mapErr(err)
		}
		for i := range page.Parts {
			parts = append(parts, toPart(&page.Parts[i]))
		}
		if !page.Truncated || len(page.Parts) == 0 {
			return page.Upload, parts, nil
		}
		r.After = page.Parts[len(page.Parts)-1].Number
	}
}

// CompleteUpload implements s3.Index. The parts it returns are those recorded when it
// read them, just before the completing transaction: a part recorded for the same upload
// in between is removed without being returned (its blob then lives until it expires).
// The entry gets the upload's content type and metadata (those CreateUpload was given).
func (x *Index) CompleteUpload(ctx context.Context, bucket, uploadID string, e s3.Entry) (*s3.Entry, []s3.Part, error) {
	u, parts, err := x.allParts(ctx, bucket, uploadID)
	if err != nil {
		return nil, nil, err
	}
	if e.Key != u.Key {
		return nil, nil, fmt.Errorf("chainindex: upload %s is of key %q, not %q", uploadID, u.Key, e.Key)
	}
	if e.Size < 0 {
		return nil, nil, fmt.Errorf("chainindex: entry %q has a negative size", e.Key)
	}
	res, err := x.submit(ctx, &chain.CompleteUpload{Bucket: bucket, Upload: uploadID, Ref: fromBlob(e.Blob), Size: uint64(e.Size), ETag: e.ETag})
	if err != nil {
		return nil, nil, err
	}
	var replaced *s3.Entry
	for _, ev := range res.Events {
		if r, ok := ev.Body.(*chain.EntryRemoved); ok && r.Overwritten {
			old := toEntry(&r.Entry)
			replaced = &old
		}
	}
	return replaced, parts, nil
}

// AbortUpload implements s3.Index. As for CompleteUpload, the parts returned are those
// read just before the aborting transaction.
func (x *Index) AbortUpload(ctx context.Context, bucket, uploadID string) ([]s3.Part, error) {
	_, parts, err := x.allParts(ctx, bucket, uploadID)
	if err != nil {
		return nil, err
	}
	if _, err := x.submit(ctx, &chain.AbortUpload{Bucket: bucket, Upload: uploadID}); err != nil {
		return nil, err
	}
	return parts, nil
}
