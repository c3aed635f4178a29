// Package s3 is an S3-compatible HTTP gateway in front of walrus-go: the subset of the
// S3 REST API that backup and sync tools (restic, rclone, aws-cli, the S3 SDKs) use,
// authenticated with AWS Signature Version 4.
//
// An object's bytes are stored as a deletable blob through the client SDK (a chunk
// manifest for objects larger than one chunk); what S3 calls a bucket's contents (keys,
// blob IDs, sizes, ETags, metadata, multipart state) is kept in an Index, which in
// production lives on the chain. The gateway releases an object's blob when the object
// is overwritten or deleted, and extends the blobs it owns before they expire.
//
// The pure parts (Signature V4 verification, XML request decoding, ETag and range
// arithmetic, the index's listing rules in MemIndex) are functions of their inputs; the
// Server is the thin HTTP driver around them.
package s3
