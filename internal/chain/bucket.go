package chain

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Buckets: an S3-style index of keys to blobs, kept as chain state (see doc.go, "Buckets").
//
// A Bucket is an owned object (kind KindBucket) with a name that is unique among its owner's
// buckets. Its entries, in-progress multipart uploads and their parts live under their own
// keys (keys.go), ordered so that listing by prefix is a range scan. Only the owner writes;
// anyone may read.

// Limits of the bucket index. Decoding rejects longer values, and execution checks the
// semantic rules ([CheckBucketName], [CheckObjectKey], [EntryData.Check]).
const (
	// MinBucketNameLen and MaxBucketNameLen bound a bucket name, as S3.
	MinBucketNameLen = 3
	MaxBucketNameLen = 63
	// MaxObjectKeyLen bounds an object key in bytes of UTF-8, as S3.
	MaxObjectKeyLen = 1024
	// MaxETagLen bounds an ETag (without quotes): 32 hex digits of an MD5, or "-N" after
	// them for a multipart upload.
	MaxETagLen = 64
	// MaxContentTypeLen bounds an entry's content type.
	MaxContentTypeLen = 1024
	// MaxMetadataPairs and MaxMetadataBytes bound an entry's user metadata: at most 64
	// pairs, and at most 2 KiB of keys and values together, as S3's user-defined metadata.
	MaxMetadataPairs = 64
	MaxMetadataBytes = 2048
	// MaxUploadIDLen bounds a multipart upload ID.
	MaxUploadIDLen = 64
	// MaxBatch bounds the entries one PutEntries writes and the keys one DeleteEntries
	// removes (S3's DeleteObjects limit). MaxTxSize bounds the batch in bytes as well.
	MaxBatch = 1000
	// MaxPartNumber is the largest part number of a multipart upload, and also the most
	// parts an upload holds at once, as S3.
	MaxPartNumber = 10000
	// MaxEntryPageSize bounds the entries plus common prefixes of one listing page (S3's
	// max-keys limit), and the uploads or parts of one page.
	MaxEntryPageSize = 1000
	// MaxBucketPageSize bounds the buckets of one QueryBuckets page.
	MaxBucketPageSize = 1000
)

// Bucket is a bucket of the S3 index (the variant KindBucket of the object enum). Entries
// and Uploads count its entries and in-progress multipart uploads: it can be deleted only
// when both are zero.
type Bucket struct {
	ID      ObjectID
	Owner   Address
	Name    string
	Created int64 // block time (unix nanoseconds) of the creation
	Entries uint64
	Uploads uint64
}

// Kind implements Object.
func (*Bucket) Kind() ObjectKind { return KindBucket }

// ObjectID implements Object.
func (b *Bucket) ObjectID() ObjectID { return b.ID }

// OwnerAddress implements Object.
func (b *Bucket) OwnerAddress() Address { return b.Owner }

func (b *Bucket) encode(e *bcs.Encoder) {
	e.Fixed(b.ID[:])
	e.Fixed(b.Owner[:])
	e.Bytes([]byte(b.Name))
	e.U64(uint64(b.Created))
	e.U64(b.Entries)
	e.U64(b.Uploads)
}

func (b *Bucket) decode(d *bcs.Decoder) {
	b.ID = fixed32(d)
	b.Owner = fixed32(d)
	b.Name = str(d, MaxBucketNameLen)
	b.Created = int64(d.U64())
	b.Entries = d.U64()
	b.Uploads = d.U64()
}

// BlobRef is what an entry or a part points at: a blob ID, optionally the Blob object that
// stores it (zero if none), and whether the blob is a chunk manifest (package manifest) whose
// chunks hold the data.
type BlobRef struct {
	BlobID   redstuff.BlobID
	Object   ObjectID
	Manifest bool
}

func (r *BlobRef) encode(e *bcs.Encoder) {
	e.Fixed(r.BlobID[:])
	e.Fixed(r.Object[:])
	e.Bool(r.Manifest)
}

func (r *BlobRef) decode(d *bcs.Decoder) {
	r.BlobID = fixed32(d)
	r.Object = fixed32(d)
	r.Manifest = d.Bool()
}

// EntryData is what a writer supplies for one entry: its key, the blob it points at, the
// object's size in bytes, its ETag (without quotes), content type and user metadata (pairs
// sorted by key, keys unique and non-empty).
type EntryData struct {
	Key         string
	Ref         BlobRef
	Size        uint64
	ETag        string
	ContentType string
	Metadata    []Attribute
}

// Entry is an entry of a bucket: the data its writer supplied and the block time of the
// write (unix nanoseconds).
type Entry struct {
	EntryData
	Modified int64
}

func encMetadata(e *bcs.Encoder, m []Attribute) {
	e.Len(len(m))
	for _, a := range m {
		e.Bytes([]byte(a.Key))
		e.Bytes([]byte(a.Value))
	}
}

// decMetadata reads metadata pairs, which must be sorted by key with unique keys and within
// MaxMetadataPairs and MaxMetadataBytes.
func decMetadata(d *bcs.Decoder) []Attribute {
	n := d.Len(MaxMetadataPairs)
	var m []Attribute
	total := 0
	for i := 0; i < n && d.Err() == nil; i++ {
		a := Attribute{Key: str(d, MaxMetadataBytes), Value: str(d, MaxMetadataBytes)}
		total += len(a.Key) + len(a.Value)
		if i > 0 && a.Key <= m[i-1].Key {
			d.Fail(fmt.Errorf("%w: metadata not sorted", bcs.ErrInvalidVariant))
		}
		if total > MaxMetadataBytes {
			d.Fail(fmt.Errorf("%w: metadata of more than %d bytes", bcs.ErrInvalidVariant, MaxMetadataBytes))
		}
		m = append(m, a)
	}
	return m
}

// encodeValue writes everything but the key: in the state the key is part of the store key.
func (x *EntryData) encodeValue(e *bcs.Encoder) {
	x.Ref.encode(e)
	e.U64(x.Size)
	e.Bytes([]byte(x.ETag))
	e.Bytes([]byte(x.ContentType))
	encMetadata(e, x.Metadata)
}

func (x *EntryData) decodeValue(d *bcs.Decoder) {
	x.Ref.decode(d)
	x.Size = d.U64()
	x.ETag = str(d, MaxETagLen)
	x.ContentType = str(d, MaxContentTypeLen)
	x.Metadata = decMetadata(d)
}

func (x *EntryData) encode(e *bcs.Encoder) {
	e.Bytes([]byte(x.Key))
	x.encodeValue(e)
}

func (x *EntryData) decode(d *bcs.Decoder) {
	x.Key = str(d, MaxObjectKeyLen)
	x.decodeValue(d)
}

func (x *Entry) encode(e *bcs.Encoder) {
	x.EntryData.encode(e)
	e.U64(uint64(x.Modified))
}

func (x *Entry) decode(d *bcs.Decoder) {
	x.EntryData.decode(d)
	x.Modified = int64(d.U64())
}

// storedEntry is the state record of an entry: an Entry without its key.
type storedEntry struct{ Entry }

func (x *storedEntry) encode(e *bcs.Encoder) {
	x.encodeValue(e)
	e.U64(uint64(x.Modified))
}

func (x *storedEntry) decode(d *bcs.Decoder) {
	x.decodeValue(d)
	x.Modified = int64(d.U64())
}

// Upload is an in-progress multipart upload of Key: its ID (chosen by the writer, unique in
// the bucket, see CheckUploadID), the content type and metadata the completed entry gets,
// the block time it was created and the number of parts it holds.
type Upload struct {
	ID          string
	Key         string
	ContentType string
	Metadata    []Attribute
	Initiated   int64
	Parts       uint32
}

func (u *Upload) encode(e *bcs.Encoder) {
	e.Bytes([]byte(u.ID))
	u.encodeValue(e)
}

func (u *Upload) decode(d *bcs.Decoder) {
	u.ID = str(d, MaxUploadIDLen)
	u.decodeValue(d)
}

// encodeValue writes the state record: the ID is in the store key.
func (u *Upload) encodeValue(e *bcs.Encoder) {
	e.Bytes([]byte(u.Key))
	e.Bytes([]byte(u.ContentType))
	encMetadata(e, u.Metadata)
	e.U64(uint64(u.Initiated))
	e.U32(u.Parts)
}

func (u *Upload) decodeValue(d *bcs.Decoder) {
	u.Key = str(d, MaxObjectKeyLen)
	u.ContentType = str(d, MaxContentTypeLen)
	u.Metadata = decMetadata(d)
	u.Initiated = int64(d.U64())
	u.Parts = d.U32()
}

type storedUpload struct{ Upload }

func (u *storedUpload) encode(e *bcs.Encoder) { u.encodeValue(e) }
func (u *storedUpload) decode(d *bcs.Decoder) { u.decodeValue(d) }

// Part is one part of a multipart upload: its number (1 to MaxPartNumber), the blob it is
// stored in, its size, ETag and the block time it was written.
type Part struct {
	Number   uint32
	Ref      BlobRef
	Size     uint64
	ETag     string
	Modified int64
}

func (p *Part) encode(e *bcs.Encoder) {
	e.U32(p.Number)
	p.Ref.encode(e)
	e.U64(p.Size)
	e.Bytes([]byte(p.ETag))
	e.U64(uint64(p.Modified))
}

func (p *Part) decode(d *bcs.Decoder) {
	p.Number = d.U32()
	p.Ref.decode(d)
	p.Size = d.U64()
	p.ETag = str(d, MaxETagLen)
	p.Modified = int64(d.U64())
}

// CheckBucketName checks S3's bucket naming rules: 3 to 63 characters of lowercase letters,
// digits, dots and hyphens, beginning and ending with a letter or digit, no two adjacent
// dots, not an IPv4 address, not beginning with "xn--" or "sthree-" and not ending with
// "-s3alias" or "--ol-s3". Errors wrap ErrInvalidBucketName.
func CheckBucketName(name string) error {
	bad := func(why string) error { return errorf(ErrInvalidBucketName, "%q: %s", name, why) }
	if len(name) < MinBucketNameLen || len(name) > MaxBucketNameLen {
		return bad(fmt.Sprintf("want %d to %d characters", MinBucketNameLen, MaxBucketNameLen))
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	for i := 0; i < len(name); i++ {
		if c := name[i]; !alnum(c) && c != '.' && c != '-' {
			return bad("only lowercase letters, digits, dots and hyphens")
		}
	}
	switch {
	case !alnum(name[0]) || !alnum(name[len(name)-1]):
		return bad("must begin and end with a letter or digit")
	case strings.Contains(name, ".."):
		return bad("two adjacent dots")
	case isIPv4(name):
		return bad("formatted as an IP address")
	case strings.HasPrefix(name, "xn--") || strings.HasPrefix(name, "sthree-"):
		return bad("reserved prefix")
	case strings.HasSuffix(name, "-s3alias") || strings.HasSuffix(name, "--ol-s3"):
		return bad("reserved suffix")
	}
	return nil
}

func isIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

// CheckObjectKey checks an object key: 1 to MaxObjectKeyLen bytes of UTF-8 without a NUL
// byte. (S3 allows NUL but its XML listings cannot carry it; excluding it lets upload
// records be keyed by key ‖ 0x00 ‖ upload ID in key order.) Errors wrap ErrInvalidArgument.
func CheckObjectKey(key string) error {
	switch {
	case key == "" || len(key) > MaxObjectKeyLen:
		return errorf(ErrInvalidArgument, "object key of %d bytes, want 1 to %d", len(key), MaxObjectKeyLen)
	case !utf8.ValidString(key):
		return errorf(ErrInvalidArgument, "object key is not UTF-8")
	case strings.IndexByte(key, 0) >= 0:
		return errorf(ErrInvalidArgument, "object key contains a NUL byte")
	}
	return nil
}

// CheckUploadID checks a multipart upload ID: 1 to MaxUploadIDLen bytes of printable ASCII
// without spaces (no NUL, so that the parts of one upload are one key range). Errors wrap
// ErrInvalidArgument.
func CheckUploadID(id string) error {
	if id == "" || len(id) > MaxUploadIDLen {
		return errorf(ErrInvalidArgument, "upload ID of %d bytes, want 1 to %d", len(id), MaxUploadIDLen)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return errorf(ErrInvalidArgument, "upload ID %q: want printable ASCII without spaces", id)
		}
	}
	return nil
}

func checkETag(etag string) error {
	if etag == "" || len(etag) > MaxETagLen {
		return errorf(ErrInvalidArgument, "ETag of %d bytes, want 1 to %d", len(etag), MaxETagLen)
	}
	for i := 0; i < len(etag); i++ {
		if c := etag[i]; c <= ' ' || c > '~' || c == '"' {
			return errorf(ErrInvalidArgument, "ETag %q: want printable ASCII without quotes or spaces", etag)
		}
	}
	return nil
}

// checkMeta checks a content type and metadata (the decoder already bounded and sorted
// them).
func checkMeta(contentType string, m []Attribute) error {
	if !utf8.ValidString(contentType) {
		return errorf(ErrInvalidArgument, "content type is not UTF-8")
	}
	for _, a := range m {
		if a.Key == "" {
			return errorf(ErrInvalidArgument, "empty metadata key")
		}
	}
	return nil
}

// Check checks an entry's key, ETag, content type and metadata.
func (x *EntryData) Check() error {
	if err := CheckObjectKey(x.Key); err != nil {
		return err
	}
	if err := checkETag(x.ETag); err != nil {
		return err
	}
	return checkMeta(x.ContentType, x.Metadata)
}
