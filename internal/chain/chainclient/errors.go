package chainclient

import (
	"errors"
	"fmt"

	"github.com/walrus-go/walrus/internal/chain"
)

// Errors of the client itself. Errors of the chain (a rejected or failed transaction, a
// failed query) are *Error values that wrap the chain's sentinel for their code, so
// errors.Is(err, chain.ErrNonce) and chain.CodeOf(err) work on them.
var (
	// ErrClosed is returned by calls on a closed Client.
	ErrClosed = errors.New("chainclient: client closed")
	// ErrDuplicateTx: the node's mempool has already seen these exact transaction bytes.
	ErrDuplicateTx = errors.New("chainclient: transaction already in the mempool cache")
	// ErrMempoolFull: the node's mempool is full; retry later.
	ErrMempoolFull = errors.New("chainclient: mempool full")
	// ErrOutcomeUnknown: the client stopped waiting for a transaction (its context ended)
	// before seeing it in a block; it may still be committed.
	ErrOutcomeUnknown = errors.New("chainclient: transaction outcome unknown")
	// ErrTxDropped: a transaction admitted by a node can no longer be committed: the
	// sender's committed nonce passed its nonce (another transaction used it) and the
	// blocks up to there do not hold it. It was dropped from the mempools (a validator
	// died with it, or a node evicted it when the nonce became stale).
	ErrTxDropped = errors.New("chainclient: transaction dropped: another transaction used its nonce")
	// ErrEventGap: the chain returned events that do not continue the cursor (a different
	// chain, or a corrupt node).
	ErrEventGap = errors.New("chainclient: event log does not continue the cursor")
	// ErrChainID: the node serves a chain whose ID is not the one the client was
	// configured for (Options.ChainID); the client signs nothing for it.
	ErrChainID = errors.New("chainclient: the node serves another chain")
)

// Error is a chain error reported by the node: a transaction rejected at admission
// (CheckTx) or failed in its block, or a failed query. It wraps the chain's sentinel error
// of its code.
type Error struct {
	Code chain.Code
	// Log is the chain's error message.
	Log string
	// Query is the query path for a query error, "" for a transaction.
	Query string
	// Height is the block of a failed transaction, 0 for one rejected at admission (never
	// included in a block), or the committed height a query was answered at.
	Height int64
}

func (e *Error) Error() string {
	what := "transaction rejected"
	switch {
	case e.Query != "":
		what = "query " + e.Query
	case e.Height > 0:
		what = fmt.Sprintf("transaction failed in block %d", e.Height)
	}
	return fmt.Sprintf("chainclient: %s: %s (code %d): %s", what, chain.CodeName(e.Code), e.Code, e.Log)
}

// Unwrap returns the chain's sentinel error of the code (nil for an unknown code).
func (e *Error) Unwrap() error {
	if s, ok := sentinels[e.Code]; ok {
		return s
	}
	return nil
}

// sentinels maps every code of the chain's table to its sentinel error.
var sentinels = func() map[chain.Code]*chain.Error {
	m := make(map[chain.Code]*chain.Error)
	for _, e := range []*chain.Error{
		chain.ErrMalformed, chain.ErrBadSignature, chain.ErrNonce, chain.ErrFeeTooLow,
		chain.ErrInsufficientFunds, chain.ErrUnknownObject, chain.ErrNotOwner, chain.ErrWrongObjectKind,
		chain.ErrStorageTooSmall, chain.ErrExpired, chain.ErrInvalidEpochs, chain.ErrCapacityExceeded,
		chain.ErrBlobIDMismatch, chain.ErrUnsupportedEncoding, chain.ErrBlobTooLarge, chain.ErrBadCertificate,
		chain.ErrNoQuorum, chain.ErrNotCommitteeMember, chain.ErrWrongEpoch, chain.ErrAlreadyCertified,
		chain.ErrNotCertified, chain.ErrNotDeletable, chain.ErrStorageMismatch, chain.ErrSharedBlob,
		chain.ErrFaucetDisabled, chain.ErrUnknownNode, chain.ErrBadProofOfPossession, chain.ErrDuplicateKey,
		chain.ErrInvalidArgument, chain.ErrNotOperator, chain.ErrWrongEpochState, chain.ErrAlreadyDone,
		chain.ErrNotWithdrawable, chain.ErrUnknownAttribute, chain.ErrOverflow, chain.ErrUnknownQuery,
		chain.ErrNotFound, chain.ErrInvalidBucketName, chain.ErrBucketExists, chain.ErrBucketNotEmpty,
		chain.ErrNoSuchBucket, chain.ErrNoSuchKey, chain.ErrNoSuchUpload,
	} {
		m[e.Code] = e
	}
	return m
}()
