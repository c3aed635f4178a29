package chain

import "github.com/walrus-go/walrus/internal/bcs"

// BucketCreated is emitted when a bucket is created.
type BucketCreated struct {
	Bucket ObjectID
	Owner  Address
	Name   string
}

// BucketDeleted is emitted when an empty bucket is deleted.
type BucketDeleted struct {
	Bucket ObjectID
	Owner  Address
	Name   string
}

// EntryRemoved is emitted for every entry that a PutEntries or CompleteUpload replaced
// (Overwritten) or a DeleteEntries removed. Entry is the removed entry: its writer releases
// the blob it points at (unless another entry still uses it).
type EntryRemoved struct {
	Bucket      ObjectID
	Entry       Entry
	Overwritten bool
}

// PartRemoved is emitted when a PutPart replaces a part of the same number.
type PartRemoved struct {
	Bucket ObjectID
	Upload string
	Part   Part
}

// UploadEnded is emitted when a multipart upload is completed or aborted; Parts is the
// number of parts it held, all of which were removed.
type UploadEnded struct {
	Bucket    ObjectID
	Upload    string
	Key       string
	Parts     uint32
	Completed bool
}

func (*BucketCreated) eventVariant() uint32 { return 16 }
func (*BucketDeleted) eventVariant() uint32 { return 17 }
func (*EntryRemoved) eventVariant() uint32  { return 18 }
func (*PartRemoved) eventVariant() uint32   { return 19 }
func (*UploadEnded) eventVariant() uint32   { return 20 }

func (v *BucketCreated) encode(e *bcs.Encoder) {
	e.Fixed(v.Bucket[:])
	e.Fixed(v.Owner[:])
	e.Bytes([]byte(v.Name))
}

func (v *BucketCreated) decode(d *bcs.Decoder) {
	v.Bucket = fixed32(d)
	v.Owner = fixed32(d)
	v.Name = bucketName(d)
}

func (v *BucketCreated) fields() []field {
	return []field{{"bucket", v.Bucket}, {"owner", v.Owner}, {"name", v.Name}}
}

func (v *BucketDeleted) encode(e *bcs.Encoder) {
	e.Fixed(v.Bucket[:])
	e.Fixed(v.Owner[:])
	e.Bytes([]byte(v.Name))
}

func (v *BucketDeleted) decode(d *bcs.Decoder) {
	v.Bucket = fixed32(d)
	v.Owner = fixed32(d)
	v.Name = bucketName(d)
}

func (v *BucketDeleted) fields() []field {
	return []field{{"bucket", v.Bucket}, {"owner", v.Owner}, {"name", v.Name}}
}

func (v *EntryRemoved) encode(e *bcs.Encoder) {
	e.Fixed(v.Bucket[:])
	v.Entry.encode(e)
	e.Bool(v.Overwritten)
}

func (v *EntryRemoved) decode(d *bcs.Decoder) {
	v.Bucket = fixed32(d)
	v.Entry.decode(d)
	v.Overwritten = d.Bool()
}

func (v *EntryRemoved) fields() []field {
	return append(refFields(v.Entry.Ref, []field{{"bucket", v.Bucket}, {"key", v.Entry.Key}}),
		field{"size", v.Entry.Size}, field{"etag", v.Entry.ETag}, field{"overwritten", v.Overwritten})
}

// refFields appends the fields of a blob reference, the object and manifest flag only when
// set.
func refFields(r BlobRef, f []field) []field {
	f = append(f, field{"blob", r.BlobID})
	if r.Object != (ObjectID{}) {
		f = append(f, field{"object", r.Object})
	}
	if r.Manifest {
		f = append(f, field{"manifest", true})
	}
	return f
}

func (v *PartRemoved) encode(e *bcs.Encoder) {
	e.Fixed(v.Bucket[:])
	e.Bytes([]byte(v.Upload))
	v.Part.encode(e)
}

func (v *PartRemoved) decode(d *bcs.Decoder) {
	v.Bucket = fixed32(d)
	v.Upload = str(d, MaxUploadIDLen)
	v.Part.decode(d)
}

func (v *PartRemoved) fields() []field {
	return append(refFields(v.Part.Ref, []field{{"bucket", v.Bucket}, {"upload", v.Upload}, {"part", v.Part.Number}}),
		field{"size", v.Part.Size}, field{"etag", v.Part.ETag})
}

func (v *UploadEnded) encode(e *bcs.Encoder) {
	e.Fixed(v.Bucket[:])
	e.Bytes([]byte(v.Upload))
	e.Bytes([]byte(v.Key))
	e.U32(v.Parts)
	e.Bool(v.Completed)
}

func (v *UploadEnded) decode(d *bcs.Decoder) {
	v.Bucket = fixed32(d)
	v.Upload = str(d, MaxUploadIDLen)
	v.Key = str(d, MaxObjectKeyLen)
	v.Parts = d.U32()
	v.Completed = d.Bool()
}

func (v *UploadEnded) fields() []field {
	return []field{{"bucket", v.Bucket}, {"upload", v.Upload}, {"key", v.Key}, {"parts", v.Parts}, {"completed", v.Completed}}
}
