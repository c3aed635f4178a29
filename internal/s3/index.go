package s3

import (
	"context"
	"errors"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Errors an Index returns. The gateway maps each to its S3 error (see errors.go); an
// Index wraps them with %w to add context and returns any other error for a failure of
// its own (the gateway answers those with InternalError).
var (
	// ErrNoSuchBucket: the bucket does not exist.
	ErrNoSuchBucket = errors.New("s3: no such bucket")
	// ErrBucketExists: CreateBucket of a name that is taken.
	ErrBucketExists = errors.New("s3: bucket already exists")
	// ErrBucketNotEmpty: DeleteBucket of a bucket that holds objects or uploads.
	ErrBucketNotEmpty = errors.New("s3: bucket not empty")
	// ErrNoSuchKey: the key has no entry.
	ErrNoSuchKey = errors.New("s3: no such key")
	// ErrNoSuchUpload: the multipart upload does not exist (never created, completed or
	// aborted).
	ErrNoSuchUpload = errors.New("s3: no such upload")
)

// Index is where the gateway keeps what S3 calls a bucket's contents: for each key, the
// blob that holds the object's bytes and the object's S3 attributes; and the state of
// multipart uploads. The bytes themselves never pass through an Index.
//
// The production Index lives on the chain (a bucket is a chain object owned by the
// gateway's account, keys are ordered in chain state); MemIndex is an in-memory one for
// tests. Implementations are safe for concurrent use. Each method is atomic: it either
// applies all of its changes or none, and concurrent calls appear in some serial order.
// Every name, key and upload ID an Index is given has already been validated by the
// gateway (ValidBucketName, ValidKey); an Index may refuse others with an error.
//
// Slices and maps passed in are not retained or modified; returned ones are the
// caller's.
type Index interface {
	// ListBuckets returns every bucket, ordered by name.
	ListBuckets(ctx context.Context) ([]Bucket, error)
	// CreateBucket creates an empty bucket. Errors: ErrBucketExists.
	CreateBucket(ctx context.Context, b Bucket) error
	// DeleteBucket deletes an empty bucket. Errors: ErrNoSuchBucket, ErrBucketNotEmpty
	// (the bucket holds an entry or an upload in progress).
	DeleteBucket(ctx context.Context, name string) error
	// HeadBucket returns a bucket. Errors: ErrNoSuchBucket.
	HeadBucket(ctx context.Context, name string) (Bucket, error)

	// GetEntry returns the entry of a key. Errors: ErrNoSuchBucket, ErrNoSuchKey.
	GetEntry(ctx context.Context, bucket, key string) (Entry, error)
	// PutEntries sets the entries of their keys (distinct keys, at most MaxBatch) and
	// returns, at the same positions, the entries they replaced (nil where the key had
	// none). The caller releases the replaced entries' blobs. Errors: ErrNoSuchBucket.
	PutEntries(ctx context.Context, bucket string, entries []Entry) ([]*Entry, error)
	// DeleteKeys removes the entries of keys (at most MaxBatch; absent keys are not an
	// error) and returns the removed entries in the order of keys. The caller releases
	// their blobs. Errors: ErrNoSuchBucket.
	DeleteKeys(ctx context.Context, bucket string, keys []string) ([]Entry, error)
	// List returns one page of a bucket's keys in byte order, as ListObjectsV2 defines
	// it: see ListQuery and ListPage. It reads only the range of keys the page needs
	// (a range scan from the later of Prefix and After), never every key of the bucket.
	// Errors: ErrNoSuchBucket.
	List(ctx context.Context, bucket string, q ListQuery) (ListPage, error)

	// CreateUpload records a new multipart upload; the gateway chooses u.ID (random,
	// unique). Errors: ErrNoSuchBucket.
	CreateUpload(ctx context.Context, bucket string, u Upload) error
	// GetUpload returns an upload in progress. Errors: ErrNoSuchBucket,
	// ErrNoSuchUpload.
	GetUpload(ctx context.Context, bucket, uploadID string) (Upload, error)
	// RecordPart records an uploaded part of an upload; a part with the same number is
	// replaced and returned (nil if none) for the caller to release. Errors:
	// ErrNoSuchBucket, ErrNoSuchUpload.
	RecordPart(ctx context.Context, bucket, uploadID string, p Part) (*Part, error)
	// ListParts returns up to max (1 to 1000) parts of an upload with numbers above
	// after, ordered by number, and whether more follow. Errors: ErrNoSuchBucket, ErrNoSuchUpload.
	ListParts(ctx context.Context, bucket, uploadID string, after, max int) ([]Part, bool, error)
	// ListUploads returns up to q.Max uploads in progress selected by q (see
	// UploadQuery), and whether more follow. Errors: ErrNoSuchBucket.
	ListUploads(ctx context.Context, bucket string, q UploadQuery) ([]Upload, bool, error)
	// CompleteUpload ends an upload: it sets e as the entry of the upload's key (e.Key
	// must be the upload's key) and forgets the upload, in one step. It returns the entry
	// e replaced (nil if none) and every part the upload had recorded; the caller
	// releases the replaced entry's blob and those parts' blobs. Errors:
	// ErrNoSuchBucket, ErrNoSuchUpload.
	CompleteUpload(ctx context.Context, bucket, uploadID string, e Entry) (*Entry, []Part, error)
	// AbortUpload forgets an upload and returns its recorded parts for the caller to
	// release. Errors: ErrNoSuchBucket, ErrNoSuchUpload.
	AbortUpload(ctx context.Context, bucket, uploadID string) ([]Part, error)
}

// MaxBatch bounds the entries of one PutEntries and the keys of one DeleteKeys (S3's
// DeleteObjects limit).
const MaxBatch = 1000

// Bucket is a bucket's record.
type Bucket struct {
	Name    string
	Created time.Time
}

// Blob names the stored bytes of an object or a part.
type Blob struct {
	// ID is the blob's ID; if Manifest, it is a chunk manifest's (package manifest) and
	// the bytes are its chunks' (client.OpenFile reads either form).
	ID       redstuff.BlobID
	Manifest bool
	// Object is the Blob object the gateway's account owns for ID; releasing the bytes
	// deletes it (with its chunks' objects when Manifest). The zero ObjectID means none
	// (an empty object, stored nowhere).
	Object chain.ObjectID
}

// Entry is the record of one object.
type Entry struct {
	Key  string
	Blob Blob
	// Size is the object's length in bytes.
	Size int64
	// ETag is the S3 entity tag without quotes: the lower-case hex MD5 of the content
	// for a single-part upload, the hex MD5 of the parts' binary MD5s followed by "-N"
	// (N parts) for a multipart one.
	ETag        string
	ContentType string
	// Metadata is the user metadata (x-amz-meta-*), names lower-case without the
	// prefix, sorted by name, names distinct.
	Metadata []Meta
	// ModTime is the time the gateway stored the object (the chain has no clock: the
	// gateway chooses it), in UTC with second precision or finer.
	ModTime time.Time
}

// Meta is one user metadata pair.
type Meta struct {
	Name, Value string
}

// ListQuery selects a page of keys. A key is listed if it starts with Prefix and sorts
// after After. With a Delimiter, a listed key that contains Delimiter after Prefix is
// rolled up into the common prefix that ends at the first such Delimiter; a common
// prefix counts once towards Max. If After is itself such a common prefix, every key
// under it is passed over (so ListPage.Next continues past a common prefix whole).
type ListQuery struct {
	Prefix    string
	Delimiter string
	After     string
	// Max is the most entries plus common prefixes to return, 1 to 1000.
	Max int
}

// ListPage is one page of List: the entries and the common prefixes, each in byte
// order (together they are at most ListQuery.Max), and Next, the last key or common
// prefix of the page when more may follow (pass it as ListQuery.After to continue),
// "" when the listing is complete.
type ListPage struct {
	Entries        []Entry
	CommonPrefixes []string
	Next           string
}

// Upload is a multipart upload in progress; what CreateMultipartUpload was given is kept
// for the object CompleteUpload makes.
type Upload struct {
	ID          string
	Key         string
	ContentType string
	Metadata    []Meta
	Initiated   time.Time
}

// UploadQuery selects a page of uploads: those whose key starts with Prefix, ordered by
// (Key, ID), strictly after (AfterKey, AfterID); with AfterID "" every upload of
// AfterKey is passed over (S3's key-marker without an upload-id-marker).
type UploadQuery struct {
	Prefix   string
	AfterKey string
	AfterID  string
	// Max is the most uploads to return, 1 to 1000.
	Max int
}

// Part is one uploaded part of a multipart upload.
type Part struct {
	// Number is the part number, 1 to MaxParts.
	Number int
	Blob   Blob
	Size   int64
	// ETag is the hex MD5 of the part's content, without quotes.
	ETag    string
	ModTime time.Time
}

// Limits of the S3 API the gateway enforces (S3's own where S3 has one).
const (
	// MaxParts is the highest part number of a multipart upload.
	MaxParts = 10000
	// MaxKeyLength is the longest key in bytes.
	MaxKeyLength = 1024
	// MaxListKeys is the most keys one listing returns.
	MaxListKeys = 1000
)
