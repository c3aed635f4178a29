// Package storagenode is the service core of a Walrus storage node: the decisions a node
// makes, as synchronous methods of a Node over its store (package store). The HTTP API
// (package api), the node client (package nodeclient) and the drivers that follow the
// chain, sync blobs and shards and collect garbage are thin shells around it.
//
// # Chain events
//
// The node learns about blobs and epochs only from chain events, which a chain follower
// translates into this package's plain Event structs (BlobRegistered, BlobCertified,
// BlobDeleted, BlobInvalid, EpochChangeStart, EpochChangeDone) and passes, with their
// EventID, to Node.ApplyEvents. The effects of the events and the cursor past them are
// committed in one synced batch, so a crash never loses or repeats an event's effects;
// the follower resumes from Node.Cursor. The package does not import the chain.
//
// # Acceptance rules
//
// Metadata and slivers are accepted (Node.NewUpload) only for blobs that are registered,
// not expired (end epochs are exclusive) and not invalid, and slivers only for shards the
// node owns in the current epoch that are not LockedToMove. Metadata is verified against
// its blob ID and the shard count, every sliver against the metadata (RedStuff sliver
// verification), before anything is stored; an upload is stored in one synced batch.
//
// # Confirmations and attestations
//
// Node.Confirm signs Walrus's storage confirmation (ConfirmationMessage) only when the
// node holds the metadata and both slivers of every shard it owns, and the blob (or, for a
// deletable confirmation, the given Blob object) is registered and live. Node.VerifyInconsistency
// signs an invalid-blob attestation (InvalidBlobMessage) for a valid inconsistency proof.
//
// # Blob sync and shard sync
//
// The daemon (package daemon) repairs and hands over data through the node: NeedsSync
// and CertifiedBlobs say what a certified blob lacks; Upload.AddVerified stores slivers
// rebuilt by RedStuff recovery (already checked against the metadata); ShardSlivers
// serves a shard's slivers page by page to its new owner, whose request
// (SyncShardMessage, signed and checked with VerifySyncShard) must come from the shard's
// owner in the request's epoch; StoreShardSlivers verifies and stores what the new owner
// receives. SetShardStatus and DropShard finish a shard's sync and hand-over.
//
// # Errors
//
// Errors wrap the sentinel errors of errors.go; storage failures are logged and returned
// as ErrInternal. The API maps each sentinel to one HTTP status and Walrus error reason.
//
// # Concurrency
//
// A Node is safe for concurrent use. State changes (events, garbage collection, shard
// changes) are serialized with the commits of uploads, so an upload is never stored after
// an event that would have refused it. Reads do not wait for writes.
package storagenode
