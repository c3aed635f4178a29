package client

import "errors"

// Errors returned by the client; they are wrapped with details, compare with errors.Is.
var (
	// ErrNotFound: the blob does not exist (never registered, deleted or expired), or it
	// was registered but never certified.
	ErrNotFound = errors.New("client: blob not found")
	// ErrInvalidBlob: the blob ID was declared invalid, or the blob's encoding is
	// inconsistent (the consistency check failed).
	ErrInvalidBlob = errors.New("client: blob is invalid")
	// ErrUnavailable: not enough nodes answered with valid metadata, slivers or status;
	// the condition may be transient.
	ErrUnavailable = errors.New("client: blob unavailable")
	// ErrInvalidEpochs: the storage duration is zero, given twice, in the past or beyond
	// the system's maximum number of epochs ahead.
	ErrInvalidEpochs = errors.New("client: invalid epochs")
	// ErrNoQuorum: confirmations from a quorum of shards could not be collected.
	ErrNoQuorum = errors.New("client: not enough storage confirmations")
	// ErrNoWallet: the operation sends a transaction but the Client has no Signer.
	ErrNoWallet = errors.New("client: no wallet configured")
	// ErrNotOwned: the blob has no Blob object owned by the wallet.
	ErrNotOwned = errors.New("client: no owned blob object")
	// ErrTooLarge: the blob is larger than the largest blob the system can encode.
	ErrTooLarge = errors.New("client: blob too large")
	// ErrCostOverflow: at the chain's prices the cost of the operation does not fit in a
	// uint64 of FROST (no wallet could pay it).
	ErrCostOverflow = errors.New("client: cost overflows")
	// ErrInvalidOptions: options that contradict each other (StoreOptions.Share with
	// StoreOptions.SendTo).
	ErrInvalidOptions = errors.New("client: invalid options")
	// ErrTipRefused: the upload relay asks a larger tip than StoreOptions.MaxTip allows.
	ErrTipRefused = errors.New("client: upload relay tip refused")
	// ErrInvalidManifest: a blob starts with the manifest magic but is not a valid
	// manifest (truncated, unknown version, sizes that do not add up); read it with
	// ReadOptions.Raw for its bytes.
	ErrInvalidManifest = errors.New("client: invalid chunk manifest")
	// ErrHashMismatch: the chunks of a file do not hash to the SHA-256 in its manifest.
	ErrHashMismatch = errors.New("client: file hash mismatch")
	// ErrExcluded: the upload error of a committee member the caller excluded
	// (StoreOptions.ExcludeNodes).
	ErrExcluded = errors.New("client: node excluded by the caller")
	// ErrReaderClosed: a BlobReader was used after Close.
	ErrReaderClosed = errors.New("client: blob reader closed")
)
