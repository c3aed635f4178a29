// Package store is a storage node's persistent state: a pebble v2 database (the index)
// holding blob metadata, aggregate and per-object blob information, shard and node status,
// the cursor of the chain events applied so far and a pointer to every sliver of every
// shard the node holds; the slivers themselves live in append-only segment files.
//
// # Slivers out of the LSM
//
// Slivers are large and written once, so they are kept out of pebble's write path (WAL,
// memtable, flushes, compactions each copy a value again). A batch's slivers are appended
// back to back to the active segment file in the "slivers" directory beside the index, a
// chunk (DefaultChunkBytes, 4 MiB, or one larger sliver) at a time as they are put, without
// syncing; its commit writes the last chunk, syncs the segments it wrote to (one data sync
// each, usually one in all) and only then commits the index; the index maps each sliver
// key to (segment, offset, length, CRC-32C), and reads check the CRC. A batch therefore
// holds a few chunks in memory, not its slivers: the chunk being filled and those with
// slots not yet put (AppendBuffer). A segment is closed to appends at Options.SegmentBytes;
// a store reopened after a crash appends to a new segment, so bytes torn by a crash are
// never extended and never referenced. CompactSegments reclaims the space of deleted
// slivers and of bytes written by batches that were closed without a commit, failed or
// crashed (see there for its bounds); it leaves alone a segment that a batch still being
// filled has written to (the batch pins it until it is committed or closed), since the
// index does not show that batch's slivers yet.
//
// # Direct I/O
//
// On Linux, on a file system that supports it (ext4, XFS, ...; probed at Open), segment
// files are written and read with O_DIRECT: sliver bytes bypass the page cache. A node
// writes each sliver once and reads it rarely, and a buffered write into a new file costs
// the kernel a fresh page-cache page per 4 KiB (most of a node's CPU time per store was
// there); with direct I/O the device reads the chunk straight from the batch's buffer.
// Direct I/O wants memory, file offsets and lengths aligned to 4 KiB: chunk buffers are
// allocated aligned, every write to a segment starts on a 4 KiB boundary and is padded
// with zeros to one, and a sliver of 128 KiB or more starts on a boundary inside its
// chunk too. The padding is garbage like any other unreferenced byte (CompactSegments
// reclaims it). Reads read the 4 KiB blocks enclosing a sliver: a large sliver straight
// into the caller's buffer when that buffer is aligned (a fresh one is), others into a
// pooled aligned buffer from which the sliver is copied. A read therefore comes from the
// device even right after the write (no page-cache hit). The crash contract is
// unchanged: a batch's segment writes are synced (fdatasync) before its index commit.
// Elsewhere (other platforms, tmpfs on older kernels, in-memory file systems, or a file
// system that refuses a direct write) segments are written and read through the page
// cache, unpadded, as before; both kinds of segment files are read either way.
//
// # Key layout
//
// Every key starts with a one-byte table prefix; the tables act as column families:
//
//	0x00 "format"                    format version (u32, now 2), written at creation
//	0x01 ‖ blob ID                   metadata: Walrus's BlobMetadataWithId in BCS
//	0x02 ‖ blob ID                   aggregate blob information (BlobInfo)
//	0x03 ‖ object ID                 per-object blob information (ObjectInfo)
//	0x04 ‖ shard u16 BE ‖ axis u8 ‖ blob ID
//	                                 where a sliver (Walrus's SliverData in BCS) is: segment
//	                                 u32 ‖ offset u64 ‖ length u32 ‖ CRC-32C u32, little-endian
//	0x05 ‖ shard u16 BE              shard status (ShardStatus)
//	0x06                             event cursor: the sequence number of the next event (u64)
//	0x07                             node state (NodeState)
//
// Shards are big-endian so that one shard's slivers of one axis are contiguous and sorted
// by blob ID, which is what shard synchronization pages through (ShardSlivers); deleting a
// whole shard is one range deletion (Batch.DropShard).
//
// # Atomicity and durability
//
// All writes go through a Batch, committed with Batch.Commit: its slivers are written (as
// they are put) and synced (at the commit) to segments, then everything else and the
// sliver pointers are committed as one synced pebble batch, the commit point: after a
// crash either every write of a batch is visible or none is (slivers written before a
// crash but not committed are garbage). Callers rely on this
// to store metadata with all slivers of an upload, and to store the effects of chain events
// together with the new event cursor. A Batch is indexed, so its reads (Batch.BlobInfo,
// Batch.ObjectInfo, ...) see its own uncommitted writes.
//
// # Ownership and concurrency
//
// A Store is safe for concurrent use; a Batch is not. Byte slices returned by reads are
// copies owned by the caller; slices passed to Batch writes are copied by the batch. A
// caller that receives slivers from the network can instead read each one straight into
// the batch's pooled chunk (Batch.AppendBuffer, then Batch.PutSliverAt or
// Batch.TrimBuffer), so that a sliver is neither copied nor read into fresh memory.
// Close is idempotent; after it every method returns ErrClosed. The store makes no policy
// decisions (which blob may be stored, which event changes what): that is the node's job.
package store
