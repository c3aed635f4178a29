package chain

import (
	"errors"
	"fmt"
)

// Code is the numeric result code of a transaction or query. Codes are part of the protocol:
// they appear in ABCI results and clients match on them, so a code's number never changes and
// retired numbers are not reused. 0 is success.
type Code uint32

// The code table. The comment of each sentinel error ([ErrMalformed] and so on) says when it is
// returned.
const (
	CodeOK                   Code = 0
	CodeMalformed            Code = 1
	CodeBadSignature         Code = 2
	CodeNonce                Code = 3
	CodeFeeTooLow            Code = 4
	CodeInsufficientFunds    Code = 5
	CodeUnknownObject        Code = 6
	CodeNotOwner             Code = 7
	CodeWrongObjectKind      Code = 8
	CodeStorageTooSmall      Code = 9
	CodeExpired              Code = 10
	CodeInvalidEpochs        Code = 11
	CodeCapacityExceeded     Code = 12
	CodeBlobIDMismatch       Code = 13
	CodeUnsupportedEncoding  Code = 14
	CodeBlobTooLarge         Code = 15
	CodeBadCertificate       Code = 16
	CodeNoQuorum             Code = 17
	CodeNotCommitteeMember   Code = 18
	CodeWrongEpoch           Code = 19
	CodeAlreadyCertified     Code = 20
	CodeNotCertified         Code = 21
	CodeNotDeletable         Code = 22
	CodeStorageMismatch      Code = 23
	CodeSharedBlob           Code = 24
	CodeFaucetDisabled       Code = 25
	CodeUnknownNode          Code = 26
	CodeBadProofOfPossession Code = 27
	CodeDuplicateKey         Code = 28
	CodeInvalidArgument      Code = 29
	CodeNotOperator          Code = 30
	CodeWrongEpochState      Code = 31
	CodeAlreadyDone          Code = 32
	CodeNotWithdrawable      Code = 33
	CodeUnknownAttribute     Code = 34
	CodeOverflow             Code = 35
	CodeUnknownQuery         Code = 36
	CodeNotFound             Code = 37
	CodeInvalidBucketName    Code = 38
	CodeBucketExists         Code = 39
	CodeBucketNotEmpty       Code = 40
	CodeNoSuchBucket         Code = 41
	CodeNoSuchKey            Code = 42
	CodeNoSuchUpload         Code = 43
	// 44 to 47 are reserved for other features.
	CodeChallengesDisabled Code = 48
	CodeChallengePhase     Code = 49
	CodeBadReveal          Code = 50
	CodeUnknownProposal    Code = 51
	CodeProposalClosed     Code = 52
	CodeUnknownParameter   Code = 53
)

// Error is an error carrying a result code. The sentinel errors below are *Error values;
// the state machine wraps them with details (fmt.Errorf("%w: ...")), so compare with
// errors.Is and extract the code with [CodeOf].
type Error struct {
	Code Code
	Name string // the sentinel's Go name without "Err", such as "Nonce"
	msg  string
}

// Error returns the message, prefixed "chain: ".
func (e *Error) Error() string { return e.msg }

func newError(c Code, name, msg string) *Error {
	e := &Error{Code: c, Name: name, msg: "chain: " + msg}
	codeTable[c] = e
	return e
}

var codeTable = map[Code]*Error{}

// Sentinel errors, one per code.
var (
	// ErrMalformed: the transaction or query is not canonical BCS, is too large, or a field
	// is out of its syntactic range (an invalid UTF-8 string, a zero amount where one is
	// required, an unknown enum variant).
	ErrMalformed = newError(CodeMalformed, "Malformed", "malformed input")
	// ErrBadSignature: the ed25519 signature does not verify for the sender key and chain ID.
	ErrBadSignature = newError(CodeBadSignature, "BadSignature", "bad transaction signature")
	// ErrNonce: the nonce is not the sender account's next nonce (replay or gap).
	ErrNonce = newError(CodeNonce, "Nonce", "wrong nonce")
	// ErrFeeTooLow: the fee is below the genesis minimum fee.
	ErrFeeTooLow = newError(CodeFeeTooLow, "FeeTooLow", "fee too low")
	// ErrInsufficientFunds: the balance cannot pay the fee, a price or an amount.
	ErrInsufficientFunds = newError(CodeInsufficientFunds, "InsufficientFunds", "insufficient funds")
	// ErrUnknownObject: no object, account record or pool has the given ID.
	ErrUnknownObject = newError(CodeUnknownObject, "UnknownObject", "unknown object")
	// ErrNotOwner: the sender does not own the object.
	ErrNotOwner = newError(CodeNotOwner, "NotOwner", "sender does not own the object")
	// ErrWrongObjectKind: the object exists but is not of the kind the operation needs.
	ErrWrongObjectKind = newError(CodeWrongObjectKind, "WrongObjectKind", "wrong object kind")
	// ErrStorageTooSmall: the Storage resource is smaller than the blob's encoded size, or a
	// split size is out of range.
	ErrStorageTooSmall = newError(CodeStorageTooSmall, "StorageTooSmall", "storage too small")
	// ErrExpired: the storage or blob period does not cover the current epoch (it ended, or
	// has not started).
	ErrExpired = newError(CodeExpired, "Expired", "expired or not yet valid")
	// ErrInvalidEpochs: an epoch count or epoch is out of range (zero, beyond max epochs
	// ahead, outside a resource's period).
	ErrInvalidEpochs = newError(CodeInvalidEpochs, "InvalidEpochs", "invalid epochs")
	// ErrCapacityExceeded: reserving the space would exceed the system capacity in some
	// epoch.
	ErrCapacityExceeded = newError(CodeCapacityExceeded, "CapacityExceeded", "storage capacity exceeded")
	// ErrBlobIDMismatch: the blob ID is not Blake2b-256(encoding type || size || root hash),
	// or a certificate names another blob.
	ErrBlobIDMismatch = newError(CodeBlobIDMismatch, "BlobIDMismatch", "blob ID mismatch")
	// ErrUnsupportedEncoding: the encoding type is not RS2 (1).
	ErrUnsupportedEncoding = newError(CodeUnsupportedEncoding, "UnsupportedEncoding", "unsupported encoding type")
	// ErrBlobTooLarge: the blob is larger than the largest encodable blob.
	ErrBlobTooLarge = newError(CodeBlobTooLarge, "BlobTooLarge", "blob too large")
	// ErrBadCertificate: the certificate message is malformed or of the wrong intent or
	// persistence, or the aggregate signature does not verify.
	ErrBadCertificate = newError(CodeBadCertificate, "BadCertificate", "bad certificate")
	// ErrNoQuorum: the signers' shard weight is below the threshold (3w >= 2n+1 for
	// certificates, 3w >= n+1 for invalid-blob certificates, a quorum for slashing).
	ErrNoQuorum = newError(CodeNoQuorum, "NoQuorum", "signers do not reach the threshold")
	// ErrNotCommitteeMember: the node (or a bit of the signer bitmap) is not a member of the
	// committee the operation needs.
	ErrNotCommitteeMember = newError(CodeNotCommitteeMember, "NotCommitteeMember", "not a committee member")
	// ErrWrongEpoch: the epoch named by a certificate or message is not the current epoch.
	ErrWrongEpoch = newError(CodeWrongEpoch, "WrongEpoch", "wrong epoch")
	// ErrAlreadyCertified: the blob object is already certified.
	ErrAlreadyCertified = newError(CodeAlreadyCertified, "AlreadyCertified", "blob already certified")
	// ErrNotCertified: the operation (extension, sharing) needs a certified blob.
	ErrNotCertified = newError(CodeNotCertified, "NotCertified", "blob not certified")
	// ErrNotDeletable: delete of a permanent blob.
	ErrNotDeletable = newError(CodeNotDeletable, "NotDeletable", "blob is not deletable")
	// ErrStorageMismatch: two Storage resources cannot be fused (neither the same period nor
	// the same size and adjacent), or an extension resource does not continue the blob's.
	ErrStorageMismatch = newError(CodeStorageMismatch, "StorageMismatch", "storage resources do not match")
	// ErrSharedBlob: the operation is not allowed on a shared blob, or needs one.
	ErrSharedBlob = newError(CodeSharedBlob, "SharedBlob", "operation not allowed for this blob's sharing state")
	// ErrFaucetDisabled: a faucet request on a chain without a faucet, or above its limit.
	ErrFaucetDisabled = newError(CodeFaucetDisabled, "FaucetDisabled", "faucet disabled or amount above its limit")
	// ErrUnknownNode: no staking pool has the given node ID.
	ErrUnknownNode = newError(CodeUnknownNode, "UnknownNode", "unknown storage node")
	// ErrBadProofOfPossession: the BLS key or its proof of possession is invalid.
	ErrBadProofOfPossession = newError(CodeBadProofOfPossession, "BadProofOfPossession", "bad BLS key or proof of possession")
	// ErrDuplicateKey: the BLS public key is already registered by another node.
	ErrDuplicateKey = newError(CodeDuplicateKey, "DuplicateKey", "BLS key already registered")
	// ErrInvalidArgument: a value is semantically out of range (commission above 100%, name
	// or address too long, transfer to self of a shared object, ...).
	ErrInvalidArgument = newError(CodeInvalidArgument, "InvalidArgument", "invalid argument")
	// ErrNotOperator: the sender is not the operator of the storage node.
	ErrNotOperator = newError(CodeNotOperator, "NotOperator", "sender is not the node operator")
	// ErrWrongEpochState: the operation is not allowed in the current epoch state.
	ErrWrongEpochState = newError(CodeWrongEpochState, "WrongEpochState", "wrong epoch state")
	// ErrAlreadyDone: the node already signalled epoch sync or voted.
	ErrAlreadyDone = newError(CodeAlreadyDone, "AlreadyDone", "already done")
	// ErrNotWithdrawable: the stake cannot be withdrawn (yet), or withdrawal was already
	// requested.
	ErrNotWithdrawable = newError(CodeNotWithdrawable, "NotWithdrawable", "stake not withdrawable")
	// ErrUnknownAttribute: the blob has no attribute with the given key.
	ErrUnknownAttribute = newError(CodeUnknownAttribute, "UnknownAttribute", "unknown attribute")
	// ErrOverflow: an amount or price computation overflows 64 bits.
	ErrOverflow = newError(CodeOverflow, "Overflow", "arithmetic overflow")
	// ErrUnknownQuery: the query path is not known.
	ErrUnknownQuery = newError(CodeUnknownQuery, "UnknownQuery", "unknown query path")
	// ErrNotFound: a query names something that does not exist.
	ErrNotFound = newError(CodeNotFound, "NotFound", "not found")
	// ErrInvalidBucketName: a bucket name breaks S3's naming rules (CheckBucketName).
	ErrInvalidBucketName = newError(CodeInvalidBucketName, "InvalidBucketName", "invalid bucket name")
	// ErrBucketExists: the owner (or the recipient of a transfer) already has a bucket of
	// that name.
	ErrBucketExists = newError(CodeBucketExists, "BucketExists", "bucket already exists")
	// ErrBucketNotEmpty: delete of a bucket that holds entries or in-progress uploads.
	ErrBucketNotEmpty = newError(CodeBucketNotEmpty, "BucketNotEmpty", "bucket not empty")
	// ErrNoSuchBucket: the owner has no bucket of that name.
	ErrNoSuchBucket = newError(CodeNoSuchBucket, "NoSuchBucket", "no such bucket")
	// ErrNoSuchKey: a query names a key the bucket has no entry for.
	ErrNoSuchKey = newError(CodeNoSuchKey, "NoSuchKey", "no such key")
	// ErrNoSuchUpload: no in-progress multipart upload has that ID and key in the bucket.
	ErrNoSuchUpload = newError(CodeNoSuchUpload, "NoSuchUpload", "no such upload")
	// ErrChallengesDisabled: a challenge transaction or query on a chain whose genesis did
	// not enable storage challenges (Params.Challenge), or a governance change of a
	// challenge parameter there.
	ErrChallengesDisabled = newError(CodeChallengesDisabled, "ChallengesDisabled", "storage challenges are not enabled on this chain")
	// ErrChallengePhase: the challenge is not in the phase the operation needs (a reveal
	// after the reveal deadline; a certificate before the seed is final or for a node that
	// did not reveal).
	ErrChallengePhase = newError(CodeChallengePhase, "ChallengePhase", "wrong challenge phase")
	// ErrBadReveal: a challenge reveal is not the member's BLS signature over
	// ChallengeRevealMessage.
	ErrBadReveal = newError(CodeBadReveal, "BadReveal", "bad challenge reveal")
	// ErrUnknownProposal: no governance proposal has the given ID.
	ErrUnknownProposal = newError(CodeUnknownProposal, "UnknownProposal", "unknown proposal")
	// ErrProposalClosed: a vote on a proposal that is decided or of an earlier epoch.
	ErrProposalClosed = newError(CodeProposalClosed, "ProposalClosed", "proposal closed")
	// ErrUnknownParameter: a proposal names a parameter that is not governed.
	ErrUnknownParameter = newError(CodeUnknownParameter, "UnknownParameter", "unknown governed parameter")
)

// CodeOf returns the code of err: CodeOK for nil, the code of the *Error it wraps, or
// CodeMalformed for any other error (which the state machine does not produce for valid
// input).
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeMalformed
}

// CodeName returns the name of a code ("OK", "Nonce", ...) or "Code(n)" for an unknown one.
func CodeName(c Code) string {
	if c == CodeOK {
		return "OK"
	}
	if e, ok := codeTable[c]; ok {
		return e.Name
	}
	return fmt.Sprintf("Code(%d)", uint32(c))
}

// errorf wraps a sentinel with details.
func errorf(sentinel *Error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
