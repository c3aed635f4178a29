package chain

import "github.com/walrus-go/walrus/internal/bcs"

// Bucket payloads. Every one names a bucket of the sender by its name: only the owner
// writes, and a bucket of another account cannot be named.

// CreateBucket creates a bucket (created object 0) owned by the sender. The name must pass
// CheckBucketName and be unused among the sender's buckets.
type CreateBucket struct{ Name string }

// DeleteBucket deletes an empty bucket (no entries, no in-progress uploads).
type DeleteBucket struct{ Name string }

// PutEntries writes up to MaxBatch entries, with distinct keys, in one transaction; each
// gets the block time as its modification time. An entry whose Ref.Object is not zero must
// name a Blob object storing Ref.BlobID. For every key that already had an entry, an
// EntryRemoved event (Overwritten) carries the replaced entry, so that the writer can
// release its blob.
type PutEntries struct {
	Bucket  string
	Entries []EntryData
}

// DeleteEntries removes the entries of up to MaxBatch distinct keys. Keys without an entry
// are skipped, as S3's DeleteObjects does; every removed entry is carried by an
// EntryRemoved event.
type DeleteEntries struct {
	Bucket string
	Keys   []string
}

// CreateUpload starts a multipart upload of Key with the upload ID ID, chosen by the writer
// (CheckUploadID) and unused in the bucket. The content type and metadata are those of the
// entry that CompleteUpload writes.
type CreateUpload struct {
	Bucket      string
	ID          string
	Key         string
	ContentType string
	Metadata    []Attribute
}

// PutPart records part Number (1 to MaxPartNumber) of an upload. A part of the same number
// is replaced, and a PartRemoved event carries it.
type PutPart struct {
	Bucket string
	Upload string
	Number uint32
	Ref    BlobRef
	Size   uint64
	ETag   string
}

// CompleteUpload ends an upload: it writes the entry of the upload's key pointing at Ref
// (typically a chunk manifest of the parts the client chose), with the upload's content type
// and metadata, and removes the upload and all its parts. UploadEnded carries the number of
// parts removed; the writer releases the blobs of parts the entry does not use.
type CompleteUpload struct {
	Bucket string
	Upload string
	Ref    BlobRef
	Size   uint64
	ETag   string
}

// AbortUpload removes an upload and all its parts (UploadEnded, not completed).
type AbortUpload struct {
	Bucket string
	Upload string
}

func (*CreateBucket) variant() uint32   { return 30 }
func (*DeleteBucket) variant() uint32   { return 31 }
func (*PutEntries) variant() uint32     { return 32 }
func (*DeleteEntries) variant() uint32  { return 33 }
func (*CreateUpload) variant() uint32   { return 34 }
func (*PutPart) variant() uint32        { return 35 }
func (*CompleteUpload) variant() uint32 { return 36 }
func (*AbortUpload) variant() uint32    { return 37 }

func bucketName(d *bcs.Decoder) string { return str(d, MaxBucketNameLen) }

func (p *CreateBucket) encode(e *bcs.Encoder) { e.Bytes([]byte(p.Name)) }
func (p *CreateBucket) decode(d *bcs.Decoder) { p.Name = bucketName(d) }

func (p *DeleteBucket) encode(e *bcs.Encoder) { e.Bytes([]byte(p.Name)) }
func (p *DeleteBucket) decode(d *bcs.Decoder) { p.Name = bucketName(d) }

func (p *PutEntries) encode(e *bcs.Encoder) {
	e.Bytes([]byte(p.Bucket))
	e.Len(len(p.Entries))
	for i := range p.Entries {
		p.Entries[i].encode(e)
	}
}

func (p *PutEntries) decode(d *bcs.Decoder) {
	p.Bucket = bucketName(d)
	n := d.Len(MaxBatch)
	for i := 0; i < n && d.Err() == nil; i++ {
		var x EntryData
		x.decode(d)
		p.Entries = append(p.Entries, x)
	}
}

func (p *DeleteEntries) encode(e *bcs.Encoder) {
	e.Bytes([]byte(p.Bucket))
	e.Len(len(p.Keys))
	for _, k := range p.Keys {
		e.Bytes([]byte(k))
	}
}

func (p *DeleteEntries) decode(d *bcs.Decoder) {
	p.Bucket = bucketName(d)
	n := d.Len(MaxBatch)
	for i := 0; i < n && d.Err() == nil; i++ {
		p.Keys = append(p.Keys, str(d, MaxObjectKeyLen))
	}
}

func (p *CreateUpload) encode(e *bcs.Encoder) {
	e.Bytes([]byte(p.Bucket))
	e.Bytes([]byte(p.ID))
	e.Bytes([]byte(p.Key))
	e.Bytes([]byte(p.ContentType))
	encMetadata(e, p.Metadata)
}

func (p *CreateUpload) decode(d *bcs.Decoder) {
	p.Bucket = bucketName(d)
	p.ID = str(d, MaxUploadIDLen)
	p.Key = str(d, MaxObjectKeyLen)
	p.ContentType = str(d, MaxContentTypeLen)
	p.Metadata = decMetadata(d)
}

func (p *PutPart) encode(e *bcs.Encoder) {
	e.Bytes([]byte(p.Bucket))
	e.Bytes([]byte(p.Upload))
	e.U32(p.Number)
	p.Ref.encode(e)
	e.U64(p.Size)
	e.Bytes([]byte(p.ETag))
}

func (p *PutPart) decode(d *bcs.Decoder) {
	p.Bucket = bucketName(d)
	p.Upload = str(d, MaxUploadIDLen)
	p.Number = d.U32()
	p.Ref.decode(d)
	p.Size = d.U64()
	p.ETag = str(d, MaxETagLen)
}

func (p *CompleteUpload) encode(e *bcs.Encoder) {
	e.Bytes([]byte(p.Bucket))
	e.Bytes([]byte(p.Upload))
	p.Ref.encode(e)
	e.U64(p.Size)
	e.Bytes([]byte(p.ETag))
}

func (p *CompleteUpload) decode(d *bcs.Decoder) {
	p.Bucket = bucketName(d)
	p.Upload = str(d, MaxUploadIDLen)
	p.Ref.decode(d)
	p.Size = d.U64()
	p.ETag = str(d, MaxETagLen)
}

func (p *AbortUpload) encode(e *bcs.Encoder) {
	e.Bytes([]byte(p.Bucket))
	e.Bytes([]byte(p.Upload))
}

func (p *AbortUpload) decode(d *bcs.Decoder) {
	p.Bucket = bucketName(d)
	p.Upload = str(d, MaxUploadIDLen)
}
