package storagenode

import (
	"errors"
	"fmt"
)

// Errors returned by the node; compare with errors.Is. They are wrapped with details.
// The node API maps each to an HTTP status and a Walrus error reason in one table
// (package api), and the node client maps responses back to them.
var (
	// ErrInvalidBlobID reports a blob ID that does not parse.
	ErrInvalidBlobID = errors.New("storagenode: invalid blob ID")
	// ErrInvalidObjectID reports an object ID that does not parse.
	ErrInvalidObjectID = errors.New("storagenode: invalid object ID")
	// ErrMalformed reports a request that does not parse: bad BCS, a bad path element or
	// query parameter, trailing bytes.
	ErrMalformed = errors.New("storagenode: malformed request")
	// ErrIndexOutOfRange reports a sliver pair, sliver or symbol index >= the shard count.
	ErrIndexOutOfRange = errors.New("storagenode: index out of range")
	// ErrNotRegistered reports a blob (or, for a deletable confirmation, a Blob object)
	// that has no registration.
	ErrNotRegistered = errors.New("storagenode: blob not registered")
	// ErrBlobExpired reports a blob (or Blob object) whose registrations have all ended.
	ErrBlobExpired = errors.New("storagenode: blob registration expired")
	// ErrInvalidBlob reports a blob ID that the chain has declared invalid.
	ErrInvalidBlob = errors.New("storagenode: blob is invalid")
	// ErrShardNotAssigned reports a shard this node does not hold in the current epoch.
	ErrShardNotAssigned = errors.New("storagenode: shard not assigned to this node")
	// ErrShardLocked reports a shard that is being handed over to its new owner: it
	// serves reads but accepts no writes.
	ErrShardLocked = errors.New("storagenode: shard is locked for migration")
	// ErrMetadataNotFound reports a read of metadata that is not stored.
	ErrMetadataNotFound = errors.New("storagenode: metadata not found")
	// ErrMissingMetadata reports a write or proof that needs the blob's metadata, which is
	// not stored yet.
	ErrMissingMetadata = errors.New("storagenode: blob metadata must be stored first")
	// ErrSliverNotFound reports a read of a sliver that is not stored.
	ErrSliverNotFound = errors.New("storagenode: sliver not found")
	// ErrInvalidMetadata reports metadata that does not verify: wrong blob ID, shard
	// count, length or hashes.
	ErrInvalidMetadata = errors.New("storagenode: invalid metadata")
	// ErrUnsupportedEncoding reports metadata of an encoding type other than RS2.
	ErrUnsupportedEncoding = errors.New("storagenode: unsupported encoding type")
	// ErrInvalidSliver reports a sliver that does not verify against the metadata: wrong
	// index, symbol size, length or hash.
	ErrInvalidSliver = errors.New("storagenode: invalid sliver")
	// ErrMissingSlivers reports a confirmation request for a blob of which the node does
	// not yet hold metadata and both slivers for every shard it owns.
	ErrMissingSlivers = errors.New("storagenode: slivers of some owned shards are not stored")
	// ErrSymbolNotPresent reports a recovery symbol whose source slivers are in no shard
	// of this node.
	ErrSymbolNotPresent = errors.New("storagenode: symbol not present at this node's shards")
	// ErrNoSymbols reports a recovery symbol request naming no symbol.
	ErrNoSymbols = errors.New("storagenode: no symbols specified")
	// ErrNoTargetSlivers reports a decoding symbol request naming no target sliver.
	ErrNoTargetSlivers = errors.New("storagenode: no target slivers specified")
	// ErrDecodingOutOfRange reports a decoding symbol request for a target that is not a
	// source sliver.
	ErrDecodingOutOfRange = errors.New("storagenode: target sliver is not a source sliver")
	// ErrInvalidFilter reports an invalid recovery symbol filter (query).
	ErrInvalidFilter = errors.New("storagenode: invalid symbol filter")
	// ErrInvalidProof reports an inconsistency proof that does not verify or proves
	// nothing.
	ErrInvalidProof = errors.New("storagenode: invalid inconsistency proof")
	// ErrUnauthorized reports a request signed by a node that may not make it: a shard
	// sync request not signed by the shard's owner in the request's epoch.
	ErrUnauthorized = errors.New("storagenode: request not authorized")
	// ErrInvalidEpoch reports a request for an epoch the node has not reached, or, for a
	// shard sync, an epoch other than the node's current or previous one.
	ErrInvalidEpoch = errors.New("storagenode: invalid epoch")
	// ErrTooLarge reports a request body over the limit for its endpoint.
	ErrTooLarge = errors.New("storagenode: request body too large")
	// ErrBodyTimeout reports a request body that did not arrive in time: slower than the
	// node's minimum body rate after its grace period.
	ErrBodyTimeout = errors.New("storagenode: request body too slow")
	// ErrOverloaded reports a node at its concurrency or memory limit; retry later.
	ErrOverloaded = errors.New("storagenode: node overloaded")
	// ErrUnavailable reports a node that cannot serve requests now (shutting down).
	ErrUnavailable = errors.New("storagenode: service unavailable")
	// ErrNotFound reports an unknown API path.
	ErrNotFound = errors.New("storagenode: not found")
	// ErrMethodNotAllowed reports a known API path requested with a method it does not
	// serve.
	ErrMethodNotAllowed = errors.New("storagenode: method not allowed")
	// ErrPendingFull reports a pending upload (of a blob not registered yet) that the
	// node's buffer of pending uploads cannot take now; retry later or after the
	// registration is seen.
	ErrPendingFull = errors.New("storagenode: pending upload buffer is full")
	// ErrChallenged reports a blob whose data the node serves to no one during the
	// storage challenge window (see Challenge); metadata stays readable. Retry after the
	// window, at the latest in the next epoch.
	ErrChallenged = errors.New("storagenode: blob is under storage challenge")
	// ErrChallengeFailed reports a challenge answer that is missing or does not verify.
	ErrChallengeFailed = errors.New("storagenode: challenge answer does not verify")
	// ErrNotAttested reports an attestation the node has not signed (yet): it has not
	// verified that member's challenge answers; retry later.
	ErrNotAttested = errors.New("storagenode: challenge not attested")
	// ErrInternal reports a failure inside the node (storage); details are logged, not
	// returned.
	ErrInternal = errors.New("storagenode: internal error")
)

// EpochError is an ErrInvalidEpoch with the epochs involved, which the API reports in
// the error's metadata (request_epoch, server_epoch), as Walrus's clients read them.
type EpochError struct {
	Request, Server uint32
	Detail          string
}

func (e *EpochError) Error() string {
	return fmt.Sprintf("%v: %s (request epoch %d, node epoch %d)", ErrInvalidEpoch, e.Detail, e.Request, e.Server)
}

// Unwrap returns ErrInvalidEpoch.
func (e *EpochError) Unwrap() error { return ErrInvalidEpoch }
