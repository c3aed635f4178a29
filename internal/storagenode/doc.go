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
// # Trust in the chain
//
// A node believes what its chain RPC tells it: the daemon takes the events, committees
// and peer addresses from one CometBFT RPC endpoint (daemon Config.ChainRPC) and checks no
// block signatures or state proofs (there is no light client). Operators must use an RPC
// they trust: a validator or full node of their own. From the RPC the node takes on trust:
//
//   - which blobs are registered, until when, and whether they are deletable: it accepts
//     uploads for them and keeps their data until the registrations end;
//   - which blobs are certified: it recovers those it lacks from its peers;
//   - deletions and invalidations (InvalidBlobID): it deletes that data at garbage
//     collection, without seeing the invalid-blob certificate, which the event does not
//     carry;
//   - the committee of each epoch: which shards it owns (it locks, hands over and finally
//     drops the shards it loses), who owns every other shard and with which BLS key (who
//     may sync a shard from it, and whom it asks for slivers and symbols), and the peers'
//     network addresses;
//   - the results of its own transactions (EpochSyncDone, invalid-blob attestations).
//
// A lying RPC can therefore make the node store data nobody paid for, refuse honest
// uploads, hand a shard's slivers to a node that does not own it (slivers are public
// data), or delete data it should keep: that is the damage it can do, to this node only.
// It cannot make the node store or serve data that does not match its blob ID, nor sign
// what the node has not checked, because the node verifies everything that can be checked
// without the chain: metadata against the blob ID and the shard count, every sliver
// (uploaded, synced from a shard's previous owner or recovered) and every recovery symbol
// against the metadata, inconsistency proofs before it signs an invalid-blob attestation;
// storage confirmations only for data it holds in full. Committees are checked for shape
// (the epoch asked for, every shard held by exactly one member, well-formed keys), and
// shard sync requests are verified against the committee's key of the shard's owner, and
// served only for the node's current or previous epoch, so that unauthenticated requests
// cannot make it look up arbitrary committees. Confirmations and attestations it signs on
// the strength of a false event count for nothing on the real chain, which checks the
// registration and the committee itself.
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
