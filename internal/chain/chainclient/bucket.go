package chainclient

import (
	"context"

	"github.com/walrus-go/walrus/internal/chain"
)

// Queries of the bucket index (chain.QueryBucket and the following). A missing bucket, key
// or upload gives an *Error wrapping chain.ErrNoSuchBucket, chain.ErrNoSuchKey or
// chain.ErrNoSuchUpload. Writes are ordinary payloads (chain.CreateBucket, chain.PutEntries,
// ...) sent with Submit; their results carry the chain.EntryRemoved, chain.PartRemoved and
// chain.UploadEnded events that name what they replaced or removed.

// Bucket returns an owner's bucket of the given name.
func (c *Client) Bucket(ctx context.Context, owner chain.Address, name string) (chain.Bucket, error) {
	return query(ctx, c, chain.QueryBucket, chain.BucketRequest{Owner: owner, Name: name}.Encode(), chain.DecodeBucket)
}

// BucketPage returns one page of an owner's buckets, in name order.
func (c *Client) BucketPage(ctx context.Context, r chain.BucketsRequest) (chain.BucketPage, error) {
	return query(ctx, c, chain.QueryBuckets, r.Encode(), chain.DecodeBucketPage)
}

// Buckets returns every bucket of an owner, in name order, paging through BucketPage. The
// pages are read at possibly different heights.
func (c *Client) Buckets(ctx context.Context, owner chain.Address) ([]chain.Bucket, error) {
	var out []chain.Bucket
	r := chain.BucketsRequest{Owner: owner}
	for {
		page, err := c.BucketPage(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Buckets...)
		if !page.HasNext || len(page.Buckets) == 0 {
			return out, nil
		}
		r.After = page.Buckets[len(page.Buckets)-1].Name
	}
}

// Entry returns the entry of a key in an owner's bucket.
func (c *Client) Entry(ctx context.Context, owner chain.Address, bucket, key string) (chain.Entry, error) {
	return query(ctx, c, chain.QueryEntry, chain.EntryRequest{Owner: owner, Bucket: bucket, Key: key}.Encode(), chain.DecodeEntry)
}

// Entries returns one page of a bucket listing (see chain.ListRequest).
func (c *Client) Entries(ctx context.Context, r chain.ListRequest) (chain.EntryPage, error) {
	return query(ctx, c, chain.QueryEntries, r.Encode(), chain.DecodeEntryPage)
}

// Upload returns a multipart upload in progress.
func (c *Client) Upload(ctx context.Context, r chain.UploadRequest) (chain.Upload, error) {
	return query(ctx, c, chain.QueryUpload, r.Encode(), chain.DecodeUpload)
}

// Uploads returns one page of a bucket's uploads in progress, in key then upload ID order.
func (c *Client) Uploads(ctx context.Context, r chain.UploadsRequest) (chain.UploadPage, error) {
	return query(ctx, c, chain.QueryUploads, r.Encode(), chain.DecodeUploadPage)
}

// Parts returns an upload and one page of its parts, in number order.
func (c *Client) Parts(ctx context.Context, r chain.PartsRequest) (chain.PartPage, error) {
	return query(ctx, c, chain.QueryParts, r.Encode(), chain.DecodePartPage)
}
