// Package quilt implements Walrus's QuiltV1: many small files ("patches") laid out in one
// ordinary RS2 blob so that each can be read alone, byte-compatible with Walrus's
// walrus-core (quilt_encoding.rs) for the same shard count.
//
// # Layout
//
// With R source rows and C source columns (redstuff.Config.SourceSymbols) and a symbol size
// s, a quilt blob is the R×C message matrix of s-byte symbols, row-major, R·C·s bytes long.
// Column c is the data of systematic secondary sliver c, so a patch stored in columns
// [Start, End) is read by fetching those secondary slivers only.
//
// Inside a run of columns, bytes are written column-major: column Start rows 0..R-1, then
// column Start+1, and so on; the bytes of a column are therefore exactly its secondary
// sliver's data.
//
//   - The index occupies the first columns (at most MaxIndexColumns): version byte 0x01, the
//     BCS length of the index as u32 LE, then BCS of QuiltIndexV1
//     {patches: [{end_index u16, identifier String, tags Map<String,String>}]}. Start columns
//     are implicit: the first patch starts after the index, every other where the previous
//     ended.
//   - Patches are sorted by identifier (byte order) before layout; duplicates are rejected.
//   - Each patch is a 6-byte header (version 0x01, u32 LE length of what follows, a mask
//     byte whose bit 0 means "has tags"), u16 LE length of the BCS identifier, the BCS
//     identifier, when tagged u16 LE length of the BCS tags and the BCS tags, then the data.
//     Each patch starts at the top of a fresh column; the rest of its last column is zero.
//   - The symbol size is the smallest even size with which every patch and the index fit in
//     C columns (and the index in MaxIndexColumns), at most redstuff.MaxSymbolSize.
//
// BCS maps are written with their keys sorted by their BCS bytes (length prefix first), as
// the Rust bcs crate does; the decoder rejects other orders.
//
// # Identifiers and IDs
//
// An identifier is valid UTF-8, non-empty, at most MaxIdentifierLen bytes, without control
// characters and without trailing white space (ValidateIdentifier). A patch is addressed
// either by (quilt blob ID, identifier) or by its PatchID: the quilt blob ID followed by the
// 5-byte InternalID (version 0x01, start column u16 LE, end column u16 LE), written as 50
// characters of URL-safe base64 without padding. A PatchID is not content-derived: the same
// file in another quilt has another ID.
//
// # API
//
// Encode builds the quilt blob and its Index from a list of Patch values; store Quilt.Blob
// as an ordinary blob and its blob ID is the quilt ID. To read, IndexColumns tells from
// column 0 how many leading columns hold the index, DecodeIndex parses them, and
// DecodePatch parses the columns [Start, End) of one patch. Columns splits a whole quilt
// blob into its columns for callers that hold the blob.
//
// The package is pure: no I/O, no goroutines, no global state. Encoded blobs and decoded
// patches are owned by the caller; DecodePatch's Data aliases nothing it was given only
// when the patch spans one column (then it is a subslice of that column).
package quilt
