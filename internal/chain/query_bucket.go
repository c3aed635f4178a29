package chain

import (
	"bytes"
	"fmt"

	"github.com/walrus-go/walrus/internal/bcs"
)

// Bucket query paths (see the Query* constants in query.go). Requests name a bucket by its
// owner and name. Every list is paged with a bounded page size, and a page costs a range
// scan of at most its size plus one record per common prefix, whatever the bucket holds.
const (
	// QueryBucket: request BucketRequest; response Bucket (ErrNoSuchBucket if absent).
	QueryBucket = "/bucket"
	// QueryBuckets: request BucketsRequest; response BucketPage (buckets in name order).
	QueryBuckets = "/buckets"
	// QueryEntry: request EntryRequest; response Entry (ErrNoSuchKey if absent).
	QueryEntry = "/entry"
	// QueryEntries: request ListRequest; response EntryPage.
	QueryEntries = "/entries"
	// QueryUploads: request UploadsRequest; response UploadPage (uploads in key, then
	// upload ID order).
	QueryUploads = "/uploads"
	// QueryUpload: request UploadRequest; response Upload (ErrNoSuchUpload if absent).
	QueryUpload = "/upload"
	// QueryParts: request PartsRequest; response PartPage (the upload and its parts in
	// number order; ErrNoSuchUpload if absent).
	QueryParts = "/parts"
)

// MaxCursorLen bounds a listing cursor (ListRequest.Start, UploadsRequest.Start).
const MaxCursorLen = MaxObjectKeyLen + MaxUploadIDLen + 2

// BucketRequest names a bucket.
type BucketRequest struct {
	Owner Address
	Name  string
}

func (r *BucketRequest) encode(e *bcs.Encoder) { e.Fixed(r.Owner[:]); e.Bytes([]byte(r.Name)) }
func (r *BucketRequest) decode(d *bcs.Decoder) { r.Owner = fixed32(d); r.Name = bucketName(d) }

// Encode returns the BCS encoding of r.
func (r BucketRequest) Encode() []byte { return encodeBCS(&r) }

// DecodeBucket decodes the response of QueryBucket.
func DecodeBucket(b []byte) (Bucket, error) { return decodeBCS[Bucket](b) }

// BucketsRequest asks for an owner's buckets in name order, after the name After (from the
// first if empty), at most Limit (capped at MaxBucketPageSize; 0 means that).
type BucketsRequest struct {
	Owner Address
	After string
	Limit uint32
}

func (r *BucketsRequest) encode(e *bcs.Encoder) {
	e.Fixed(r.Owner[:])
	e.Bytes([]byte(r.After))
	e.U32(r.Limit)
}

func (r *BucketsRequest) decode(d *bcs.Decoder) {
	r.Owner = fixed32(d)
	r.After = bucketName(d)
	r.Limit = d.U32()
}

// Encode returns the BCS encoding of r.
func (r BucketsRequest) Encode() []byte { return encodeBCS(&r) }

// BucketPage is a page of buckets; if HasNext, the next page starts after the last one.
type BucketPage struct {
	Buckets []Bucket
	HasNext bool
}

func (p *BucketPage) encode(e *bcs.Encoder) {
	e.Len(len(p.Buckets))
	for i := range p.Buckets {
		p.Buckets[i].encode(e)
	}
	e.Bool(p.HasNext)
}

func (p *BucketPage) decode(d *bcs.Decoder) {
	n := d.Len(MaxBucketPageSize)
	for i := 0; i < n && d.Err() == nil; i++ {
		var b Bucket
		b.decode(d)
		p.Buckets = append(p.Buckets, b)
	}
	p.HasNext = d.Bool()
}

// DecodeBucketPage decodes the response of QueryBuckets.
func DecodeBucketPage(b []byte) (BucketPage, error) { return decodeBCS[BucketPage](b) }

// EntryRequest names one key of a bucket.
type EntryRequest struct {
	Owner  Address
	Bucket string
	Key    string
}

func (r *EntryRequest) encode(e *bcs.Encoder) {
	e.Fixed(r.Owner[:])
	e.Bytes([]byte(r.Bucket))
	e.Bytes([]byte(r.Key))
}

func (r *EntryRequest) decode(d *bcs.Decoder) {
	r.Owner = fixed32(d)
	r.Bucket = bucketName(d)
	r.Key = str(d, MaxObjectKeyLen)
}

// Encode returns the BCS encoding of r.
func (r EntryRequest) Encode() []byte { return encodeBCS(&r) }

// DecodeEntry decodes the response of QueryEntry.
func DecodeEntry(b []byte) (Entry, error) { return decodeBCS[Entry](b) }

// ListRequest asks for the entries of a bucket whose keys start with Prefix, from the
// cursor Start on (inclusive; nil for the first page, the previous page's Next for the
// following ones, [StartAfter] of a key for S3's start-after), at most Limit items (entries
// plus common prefixes, capped at MaxEntryPageSize; 0 means that). With a Delimiter, keys
// that contain it after the prefix are rolled up into one common prefix each (the key up
// to and including the first delimiter after the prefix), as S3's ListObjectsV2.
type ListRequest struct {
	Owner     Address
	Bucket    string
	Prefix    string
	Delimiter string
	Start     []byte
	Limit     uint32
}

func (r *ListRequest) encode(e *bcs.Encoder) {
	e.Fixed(r.Owner[:])
	e.Bytes([]byte(r.Bucket))
	e.Bytes([]byte(r.Prefix))
	e.Bytes([]byte(r.Delimiter))
	e.Bytes(r.Start)
	e.U32(r.Limit)
}

func (r *ListRequest) decode(d *bcs.Decoder) {
	r.Owner = fixed32(d)
	r.Bucket = bucketName(d)
	r.Prefix = str(d, MaxObjectKeyLen)
	r.Delimiter = str(d, MaxObjectKeyLen)
	r.Start = bytesCopy(d, MaxCursorLen)
	r.Limit = d.U32()
}

// Encode returns the BCS encoding of r.
func (r ListRequest) Encode() []byte { return encodeBCS(&r) }

// StartAfter returns the cursor that starts a listing right after key.
func StartAfter(key string) []byte { return append([]byte(key), 0) }

// EntryPage is a page of a listing: entries and common prefixes, each in key order (merged,
// they are in key order too). If Truncated, Next is the cursor of the next page.
type EntryPage struct {
	Entries        []Entry
	CommonPrefixes []string
	Truncated      bool
	Next           []byte
}

func (p *EntryPage) encode(e *bcs.Encoder) {
	e.Len(len(p.Entries))
	for i := range p.Entries {
		p.Entries[i].encode(e)
	}
	e.Len(len(p.CommonPrefixes))
	for _, cp := range p.CommonPrefixes {
		e.Bytes([]byte(cp))
	}
	e.Bool(p.Truncated)
	e.Bytes(p.Next)
}

func (p *EntryPage) decode(d *bcs.Decoder) {
	n := d.Len(MaxEntryPageSize)
	for i := 0; i < n && d.Err() == nil; i++ {
		var x Entry
		x.decode(d)
		p.Entries = append(p.Entries, x)
	}
	n = d.Len(MaxEntryPageSize - len(p.Entries))
	for i := 0; i < n && d.Err() == nil; i++ {
		p.CommonPrefixes = append(p.CommonPrefixes, str(d, MaxObjectKeyLen))
	}
	p.Truncated = d.Bool()
	p.Next = bytesCopy(d, MaxCursorLen)
}

// DecodeEntryPage decodes the response of QueryEntries.
func DecodeEntryPage(b []byte) (EntryPage, error) { return decodeBCS[EntryPage](b) }

// UploadsRequest asks for the in-progress uploads of a bucket whose keys start with
// Prefix, in key then upload ID order, from the cursor Start on ([UploadCursor] of S3's
// key and upload ID markers, or the previous page's Next), at most Limit (capped at
// MaxEntryPageSize; 0 means that).
type UploadsRequest struct {
	Owner  Address
	Bucket string
	Prefix string
	Start  []byte
	Limit  uint32
}

func (r *UploadsRequest) encode(e *bcs.Encoder) {
	e.Fixed(r.Owner[:])
	e.Bytes([]byte(r.Bucket))
	e.Bytes([]byte(r.Prefix))
	e.Bytes(r.Start)
	e.U32(r.Limit)
}

func (r *UploadsRequest) decode(d *bcs.Decoder) {
	r.Owner = fixed32(d)
	r.Bucket = bucketName(d)
	r.Prefix = str(d, MaxObjectKeyLen)
	r.Start = bytesCopy(d, MaxCursorLen)
	r.Limit = d.U32()
}

// Encode returns the BCS encoding of r.
func (r UploadsRequest) Encode() []byte { return encodeBCS(&r) }

// UploadCursor returns the cursor of S3's ListMultipartUploads markers: the uploads after
// (keyMarker, uploadIDMarker), or, with an empty upload ID marker, the uploads of keys after
// keyMarker.
func UploadCursor(keyMarker, uploadIDMarker string) []byte {
	if uploadIDMarker == "" {
		return append([]byte(keyMarker), 1)
	}
	c := append([]byte(keyMarker), 0)
	c = append(c, uploadIDMarker...)
	return append(c, 0)
}

// UploadRequest names an upload of a bucket.
type UploadRequest struct {
	Owner  Address
	Bucket string
	Upload string
}

func (r *UploadRequest) encode(e *bcs.Encoder) {
	e.Fixed(r.Owner[:])
	e.Bytes([]byte(r.Bucket))
	e.Bytes([]byte(r.Upload))
}

func (r *UploadRequest) decode(d *bcs.Decoder) {
	r.Owner = fixed32(d)
	r.Bucket = bucketName(d)
	r.Upload = str(d, MaxUploadIDLen)
}

// Encode returns the BCS encoding of r.
func (r UploadRequest) Encode() []byte { return encodeBCS(&r) }

// DecodeUpload decodes the response of QueryUpload.
func DecodeUpload(b []byte) (Upload, error) { return decodeBCS[Upload](b) }

// UploadPage is a page of uploads; if Truncated, Next is the cursor of the next page.
type UploadPage struct {
	Uploads   []Upload
	Truncated bool
	Next      []byte
}

func (p *UploadPage) encode(e *bcs.Encoder) {
	e.Len(len(p.Uploads))
	for i := range p.Uploads {
		p.Uploads[i].encode(e)
	}
	e.Bool(p.Truncated)
	e.Bytes(p.Next)
}

func (p *UploadPage) decode(d *bcs.Decoder) {
	n := d.Len(MaxEntryPageSize)
	for i := 0; i < n && d.Err() == nil; i++ {
		var u Upload
		u.decode(d)
		p.Uploads = append(p.Uploads, u)
	}
	p.Truncated = d.Bool()
	p.Next = bytesCopy(d, MaxCursorLen)
}

// DecodeUploadPage decodes the response of QueryUploads.
func DecodeUploadPage(b []byte) (UploadPage, error) { return decodeBCS[UploadPage](b) }

// PartsRequest asks for the parts of an upload with numbers above After, at most Limit
// (capped at MaxEntryPageSize; 0 means that).
type PartsRequest struct {
	Owner  Address
	Bucket string
	Upload string
	After  uint32
	Limit  uint32
}

func (r *PartsRequest) encode(e *bcs.Encoder) {
	e.Fixed(r.Owner[:])
	e.Bytes([]byte(r.Bucket))
	e.Bytes([]byte(r.Upload))
	e.U32(r.After)
	e.U32(r.Limit)
}

func (r *PartsRequest) decode(d *bcs.Decoder) {
	r.Owner = fixed32(d)
	r.Bucket = bucketName(d)
	r.Upload = str(d, MaxUploadIDLen)
	r.After = d.U32()
	r.Limit = d.U32()
}

// Encode returns the BCS encoding of r.
func (r PartsRequest) Encode() []byte { return encodeBCS(&r) }

// PartPage is the upload and a page of its parts; if Truncated, the next page starts after
// the last part.
type PartPage struct {
	Upload    Upload
	Parts     []Part
	Truncated bool
}

func (p *PartPage) encode(e *bcs.Encoder) {
	p.Upload.encode(e)
	e.Len(len(p.Parts))
	for i := range p.Parts {
		p.Parts[i].encode(e)
	}
	e.Bool(p.Truncated)
}

func (p *PartPage) decode(d *bcs.Decoder) {
	p.Upload.decode(d)
	n := d.Len(MaxEntryPageSize)
	for i := 0; i < n && d.Err() == nil; i++ {
		var part Part
		part.decode(d)
		p.Parts = append(p.Parts, part)
	}
	p.Truncated = d.Bool()
}

// DecodePartPage decodes the response of QueryParts.
func DecodePartPage(b []byte) (PartPage, error) { return decodeBCS[PartPage](b) }

func entryPageLimit(l uint32) int {
	if l == 0 || l > MaxEntryPageSize {
		return MaxEntryPageSize
	}
	return int(l)
}

// Bucket returns an owner's bucket of the given name.
func (v *View) Bucket(owner Address, name string) (Bucket, error) {
	b, err := lookupBucket(v.s, owner, name)
	if err != nil {
		return Bucket{}, err
	}
	return *b, nil
}

// Buckets returns a page of an owner's buckets in name order.
func (v *View) Buckets(r BucketsRequest) BucketPage {
	limit := int(r.Limit)
	if limit == 0 || limit > MaxBucketPageSize {
		limit = MaxBucketPageSize
	}
	prefix := keyBucketNamePrefix(r.Owner)
	start := prefix
	if r.After != "" {
		start = append(keyBucketName(r.Owner, r.After), 0)
	}
	var page BucketPage
	var ids []ObjectID
	v.s.Iterate(start, prefixEnd(prefix), func(_, val []byte) bool {
		if len(ids) == limit {
			page.HasNext = true
			return false
		}
		ids = append(ids, ObjectID(val))
		return true
	})
	for _, id := range ids {
		o, ok := getObject(v.s, id)
		b, isBucket := o.(*Bucket)
		if !ok || !isBucket {
			panic(fmt.Sprintf("chain: bucket name index points at %s, not a bucket", id))
		}
		page.Buckets = append(page.Buckets, *b)
	}
	return page
}

// Entry returns the entry of a key.
func (v *View) Entry(owner Address, bucket, key string) (Entry, error) {
	b, err := lookupBucket(v.s, owner, bucket)
	if err != nil {
		return Entry{}, err
	}
	x, ok := getEntry(v.s, b.ID, key)
	if !ok {
		return Entry{}, errorf(ErrNoSuchKey, "%q in bucket %q", key, bucket)
	}
	return x, nil
}

// Entries returns a page of a listing (see ListRequest). It scans the keys of the page and,
// for each common prefix, restarts the scan after it, so a page costs at most Limit + 1
// short scans.
func (v *View) Entries(r ListRequest) (EntryPage, error) {
	b, err := lookupBucket(v.s, r.Owner, r.Bucket)
	if err != nil {
		return EntryPage{}, err
	}
	limit := entryPageLimit(r.Limit)
	base := keyEntryPrefix(b.ID)
	end := prefixEnd(append(bytes.Clone(base), r.Prefix...))
	lo := []byte(r.Prefix)
	if bytes.Compare(r.Start, lo) > 0 {
		lo = r.Start
	}
	var page EntryPage
	n := 0
	for {
		var restart []byte
		v.s.Iterate(append(bytes.Clone(base), lo...), end, func(k, val []byte) bool {
			key := string(k[len(base):])
			if n == limit {
				page.Truncated, page.Next = true, []byte(key)
				return false
			}
			n++
			if r.Delimiter != "" {
				if i := bytes.Index(k[len(base)+len(r.Prefix):], []byte(r.Delimiter)); i >= 0 {
					cp := key[:len(r.Prefix)+i+len(r.Delimiter)]
					page.CommonPrefixes = append(page.CommonPrefixes, cp)
					restart = prefixEnd([]byte(cp))
					return false
				}
			}
			x, err := decodeBCS[storedEntry](val)
			if err != nil {
				panic(fmt.Sprintf("chain: corrupt entry %q: %v", k, err))
			}
			x.Key = key
			page.Entries = append(page.Entries, x.Entry)
			return true
		})
		if restart == nil {
			return page, nil
		}
		lo = restart
	}
}

// Upload returns an upload in progress.
func (v *View) Upload(r UploadRequest) (Upload, error) {
	b, err := lookupBucket(v.s, r.Owner, r.Bucket)
	if err != nil {
		return Upload{}, err
	}
	u, ok := getUpload(v.s, b.ID, r.Upload)
	if !ok {
		return Upload{}, errorf(ErrNoSuchUpload, "%q", r.Upload)
	}
	return u, nil
}

// Uploads returns a page of a bucket's in-progress uploads.
func (v *View) Uploads(r UploadsRequest) (UploadPage, error) {
	b, err := lookupBucket(v.s, r.Owner, r.Bucket)
	if err != nil {
		return UploadPage{}, err
	}
	limit := entryPageLimit(r.Limit)
	base := keyUploadByKeyPrefix(b.ID)
	lo := []byte(r.Prefix)
	if bytes.Compare(r.Start, lo) > 0 {
		lo = r.Start
	}
	var page UploadPage
	var ids []string
	v.s.Iterate(append(bytes.Clone(base), lo...), prefixEnd(append(bytes.Clone(base), r.Prefix...)), func(k, _ []byte) bool {
		rest := k[len(base):]
		if len(ids) == limit {
			page.Truncated, page.Next = true, bytes.Clone(rest)
			return false
		}
		i := bytes.IndexByte(rest, 0)
		if i < 0 {
			panic(fmt.Sprintf("chain: corrupt upload index key %q", k))
		}
		ids = append(ids, string(rest[i+1:]))
		return true
	})
	for _, id := range ids {
		u, ok := getUpload(v.s, b.ID, id)
		if !ok {
			panic(fmt.Sprintf("chain: upload index names a missing upload %q", id))
		}
		page.Uploads = append(page.Uploads, u)
	}
	return page, nil
}

// Parts returns an upload and a page of its parts.
func (v *View) Parts(r PartsRequest) (PartPage, error) {
	u, err := v.Upload(UploadRequest{Owner: r.Owner, Bucket: r.Bucket, Upload: r.Upload})
	if err != nil {
		return PartPage{}, err
	}
	b, _ := lookupBucket(v.s, r.Owner, r.Bucket)
	limit := entryPageLimit(r.Limit)
	page := PartPage{Upload: u}
	prefix := keyPartPrefix(b.ID, u.ID)
	start := prefix
	if r.After > 0 {
		if r.After >= MaxPartNumber {
			return page, nil
		}
		start = keyPart(b.ID, u.ID, r.After+1)
	}
	v.s.Iterate(start, prefixEnd(prefix), func(_, val []byte) bool {
		if len(page.Parts) == limit {
			page.Truncated = true
			return false
		}
		p, err := decodeBCS[Part](val)
		if err != nil {
			panic(fmt.Sprintf("chain: corrupt part: %v", err))
		}
		page.Parts = append(page.Parts, p)
		return true
	})
	return page, nil
}

// queryBucket answers the bucket queries; ok is false for another path.
func (v *View) queryBucket(path string, data []byte) (out []byte, ok bool, err error) {
	answer := func(val bcsValue, err error) ([]byte, bool, error) {
		if err != nil {
			return nil, true, err
		}
		return encodeBCS(val), true, nil
	}
	switch path {
	case QueryBucket:
		r, err := decodeBCS[BucketRequest](data)
		if err != nil {
			return nil, true, err
		}
		b, err := v.Bucket(r.Owner, r.Name)
		return answer(&b, err)
	case QueryBuckets:
		r, err := decodeBCS[BucketsRequest](data)
		if err != nil {
			return nil, true, err
		}
		page := v.Buckets(r)
		return answer(&page, nil)
	case QueryEntry:
		r, err := decodeBCS[EntryRequest](data)
		if err != nil {
			return nil, true, err
		}
		x, err := v.Entry(r.Owner, r.Bucket, r.Key)
		return answer(&x, err)
	case QueryEntries:
		r, err := decodeBCS[ListRequest](data)
		if err != nil {
			return nil, true, err
		}
		page, err := v.Entries(r)
		return answer(&page, err)
	case QueryUploads:
		r, err := decodeBCS[UploadsRequest](data)
		if err != nil {
			return nil, true, err
		}
		page, err := v.Uploads(r)
		return answer(&page, err)
	case QueryUpload:
		r, err := decodeBCS[UploadRequest](data)
		if err != nil {
			return nil, true, err
		}
		u, err := v.Upload(r)
		return answer(&u, err)
	case QueryParts:
		r, err := decodeBCS[PartsRequest](data)
		if err != nil {
			return nil, true, err
		}
		page, err := v.Parts(r)
		return answer(&page, err)
	}
	return nil, false, nil
}
