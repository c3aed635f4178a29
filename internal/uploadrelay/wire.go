package uploadrelay

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/walrus-go/walrus/internal/base58"
	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Routes, as Walrus names them.
const (
	UploadRoute    = "/v1/blob-upload-relay"
	TipConfigRoute = "/v1/tip-config"
)

// NonceLen is the length of the nonce whose SHA-256 a tip's memo commits to.
const NonceLen = 32

// Errors of the relay's requests. They map to HTTP statuses in statusOf.
var (
	// ErrBadRequest: a query parameter is missing, unknown or malformed.
	ErrBadRequest = errors.New("uploadrelay: bad request")
	// ErrBlobIDMismatch: the blob encodes to another blob ID than the one given.
	ErrBlobIDMismatch = errors.New("the provided blob ID and the blob ID resulting from the blob encoding do not match")
	// ErrMissingTxIDOrNonce: the relay asks a tip and the request names no tip transaction.
	ErrMissingTxIDOrNonce = errors.New("the query parameters are missing the transaction ID or the nonce, but the relay requires them to check the tip payment")
	// ErrNoTipSent: the transaction paid no tip to the relay (or is unknown or too old).
	ErrNoTipSent = errors.New("no tip was transferred to the relay account")
	// ErrInsufficientTip: the tip is smaller than the relay asks for this blob.
	ErrInsufficientTip = errors.New("the tip is insufficient")
	// ErrTipUsed: the tip transaction already paid for an upload.
	ErrTipUsed = errors.New("the tip transaction was already used")
	// ErrInvalidAuthPackage: the tip's memo is not a hashed auth package.
	ErrInvalidAuthPackage = errors.New("the auth package was found but could not be read")
	// ErrInvalidNonceHash: the nonce does not hash to the tip's commitment.
	ErrInvalidNonceHash = errors.New("the provided nonce hash in the tip transaction is invalid")
	// ErrBlobLengthMismatch, ErrBlobDigestMismatch: the blob is not the one the tip paid for.
	ErrBlobLengthMismatch = errors.New("the provided blob length and the blob length resulting from the uploaded blob do not match")
	ErrBlobDigestMismatch = errors.New("the provided blob digest and the blob digest resulting from the uploaded blob do not match")
	// ErrTooLarge: the body is larger than the relay's limit.
	ErrTooLarge = errors.New("length limit exceeded")
	// ErrBusy: the relay is at its limit of concurrent uploads.
	ErrBusy = errors.New("too many concurrent uploads, try again later")
)

// Params are the query parameters of an upload.
type Params struct {
	// BlobID is the blob's ID (required).
	BlobID redstuff.BlobID
	// TxID is the digest of the tip transaction, zero if none; Nonce the preimage of the
	// nonce digest in its memo. Both are required when the relay asks a tip.
	TxID   [32]byte
	HasTip bool
	Nonce  [NonceLen]byte
	// DeletableBlobObject is the Blob object of a deletable blob; nil for a permanent one.
	DeletableBlobObject *chain.ObjectID
	// EncodingType is the encoding; only RS2 exists.
	EncodingType uint8
}

// Query returns the query string of p, as Walrus's clients write it: the blob ID and
// object in their usual text forms, the transaction digest in Base58 and the nonce in
// URL-safe Base64 without padding.
func (p Params) Query() string {
	q := url.Values{}
	q.Set("blob_id", p.BlobID.String())
	if p.DeletableBlobObject != nil {
		q.Set("deletable_blob_object", p.DeletableBlobObject.String())
	}
	if p.HasTip {
		q.Set("tx_id", base58.Encode(p.TxID[:]))
		q.Set("nonce", base64.RawURLEncoding.EncodeToString(p.Nonce[:]))
	}
	return q.Encode()
}

// ParseParams parses an upload's query. Like Walrus it refuses unknown parameters and
// repeated ones. tx_id is accepted in Base58 (Walrus's form) or hex; nonce in URL-safe
// Base64 with or without padding. tx_id and nonce come together or not at all. Errors
// wrap ErrBadRequest.
func ParseParams(q url.Values) (Params, error) {
	var p Params
	bad := func(format string, args ...any) (Params, error) {
		return Params{}, fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
	}
	for k, v := range q {
		switch k {
		case "blob_id", "tx_id", "nonce", "deletable_blob_object", "encoding_type":
		default:
			return bad("unknown field `%s`, expected one of `blob_id`, `tx_id`, `nonce`, `deletable_blob_object`, `encoding_type`", k)
		}
		if len(v) != 1 {
			return bad("duplicate field `%s`", k)
		}
	}
	id := q.Get("blob_id")
	if id == "" {
		return bad("missing field `blob_id`")
	}
	var err error
	if p.BlobID, err = redstuff.ParseBlobID(id); err != nil {
		return bad("blob_id: %v", err)
	}
	tx, nonce := q.Get("tx_id"), q.Get("nonce")
	if (tx == "") != (nonce == "") {
		return Params{}, ErrMissingTxIDOrNonce
	}
	if tx != "" {
		if p.TxID, err = ParseTxDigest(tx); err != nil {
			return bad("tx_id: %v", err)
		}
		n, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(nonce, "="))
		if err != nil || len(n) != NonceLen {
			return bad("nonce: want %d bytes in URL-safe Base64", NonceLen)
		}
		copy(p.Nonce[:], n)
		p.HasTip = true
	}
	if o := q.Get("deletable_blob_object"); o != "" {
		obj, err := chain.ParseObjectID(o)
		if err != nil {
			return bad("deletable_blob_object: %v", err)
		}
		p.DeletableBlobObject = &obj
	}
	p.EncodingType = redstuff.EncodingRS2
	if e := q.Get("encoding_type"); e != "" {
		switch strings.ToLower(strings.TrimSpace(e)) {
		case "rs2", "reed-solomon", "redstuff/reed-solomon":
		default:
			return bad("encoding_type: unknown encoding %q", e)
		}
	}
	return p, nil
}

// ParseTxDigest parses a transaction digest in Base58 (as Sui and Walrus write it) or in
// hex (with or without 0x).
func ParseTxDigest(s string) ([32]byte, error) {
	if h := strings.TrimPrefix(s, "0x"); len(h) == 64 {
		var d [32]byte
		if _, err := hex.Decode(d[:], []byte(h)); err == nil {
			return d, nil
		}
	}
	d, err := base58.Decode32(s)
	if err != nil {
		return d, fmt.Errorf("not a transaction digest in Base58 or hex: %w", err)
	}
	return d, nil
}

// Response is the answer to an upload.
type Response struct {
	BlobID      redstuff.BlobID
	Certificate Certificate
}

// Certificate is Walrus's ConfirmationCertificate: the committee indices of the signers,
// the signed message and the aggregated BLS signature.
type Certificate struct {
	Signers           []uint16
	SerializedMessage []byte
	Signature         [96]byte
}

type certificateJSON struct {
	Signers           []uint16 `json:"signers"`
	SerializedMessage []uint16 `json:"serialized_message"`
	Signature         string   `json:"signature"`
}

type responseJSON struct {
	BlobID                  []uint16        `json:"blob_id"`
	ConfirmationCertificate certificateJSON `json:"confirmation_certificate"`
}

// byteNumbers is b as JSON numbers (serde's form of a byte vector).
func byteNumbers(b []byte) []uint16 {
	out := make([]uint16, len(b))
	for i, c := range b {
		out[i] = uint16(c)
	}
	return out
}

func numberBytes(n []uint16) ([]byte, error) {
	out := make([]byte, len(n))
	for i, v := range n {
		if v > 255 {
			return nil, fmt.Errorf("byte %d is %d", i, v)
		}
		out[i] = byte(v)
	}
	return out, nil
}

// MarshalJSON writes Walrus's form: the blob ID and message as arrays of numbers, the
// signature in standard Base64.
func (r Response) MarshalJSON() ([]byte, error) {
	return json.Marshal(responseJSON{
		BlobID: byteNumbers(r.BlobID[:]),
		ConfirmationCertificate: certificateJSON{
			Signers:           nonNil(r.Certificate.Signers),
			SerializedMessage: byteNumbers(r.Certificate.SerializedMessage),
			Signature:         base64.StdEncoding.EncodeToString(r.Certificate.Signature[:]),
		},
	})
}

func nonNil(s []uint16) []uint16 {
	if s == nil {
		return []uint16{}
	}
	return s
}

// UnmarshalJSON reads Walrus's form; the signature may be standard or URL-safe Base64.
func (r *Response) UnmarshalJSON(b []byte) error {
	var j responseJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	id, err := numberBytes(j.BlobID)
	if err != nil || len(id) != len(r.BlobID) {
		return fmt.Errorf("uploadrelay: response: blob_id is not %d bytes", len(r.BlobID))
	}
	msg, err := numberBytes(j.ConfirmationCertificate.SerializedMessage)
	if err != nil {
		return fmt.Errorf("uploadrelay: response: serialized_message: %w", err)
	}
	s := strings.NewReplacer("-", "+", "_", "/").Replace(strings.TrimRight(j.ConfirmationCertificate.Signature, "="))
	sig, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil || len(sig) != 96 {
		return fmt.Errorf("uploadrelay: response: signature is not 96 bytes in Base64")
	}
	copy(r.BlobID[:], id)
	r.Certificate = Certificate{Signers: j.ConfirmationCertificate.Signers, SerializedMessage: msg}
	copy(r.Certificate.Signature[:], sig)
	return nil
}

// CertificateOf converts a chain certificate (signer bitmap) to Walrus's form (signer
// indices, ascending).
func CertificateOf(c chain.Certificate) Certificate {
	var signers []uint16
	for i := 0; i < 8*len(c.Signers); i++ {
		if c.Signers[i/8]&(1<<(i%8)) != 0 {
			signers = append(signers, uint16(i))
		}
	}
	return Certificate{Signers: signers, SerializedMessage: slices.Clone(c.Message), Signature: c.Signature}
}

// Chain converts the certificate to the chain's form. Repeated signers are an error.
func (c Certificate) Chain() (chain.Certificate, error) {
	var bitmap []byte
	for _, s := range c.Signers {
		for int(s)/8 >= len(bitmap) {
			bitmap = append(bitmap, 0)
		}
		if bitmap[s/8]&(1<<(s%8)) != 0 {
			return chain.Certificate{}, fmt.Errorf("uploadrelay: certificate: signer %d repeated", s)
		}
		bitmap[s/8] |= 1 << (s % 8)
	}
	return chain.Certificate{Signers: bitmap, Message: slices.Clone(c.SerializedMessage), Signature: c.Signature}, nil
}

// TipConfig is what a relay asks: no tip (Address zero and Kind nil), or Kind paid to
// Address.
type TipConfig struct {
	Address chain.Address
	Kind    TipKind
}

// TipKind computes a tip. Const is a constant tip; Linear charges Base plus PerKiB per
// KiB (rounded up) of the encoded blob.
type TipKind struct {
	Const  *uint64
	Linear *LinearTip
}

// LinearTip is Walrus's linear tip: base + ceil(encoded size / 1024) × per KiB.
type LinearTip struct {
	Base   uint64 `json:"base"`
	PerKiB uint64 `json:"encoded_size_mul_per_kib"`
}

// RequiresTip reports whether the relay asks for a tip.
func (t TipConfig) RequiresTip() bool { return t.Kind.Const != nil || t.Kind.Linear != nil }

// Tip returns the tip for a blob of encodedLength encoded bytes; false if it overflows.
func (t TipConfig) Tip(encodedLength uint64) (uint64, bool) {
	switch {
	case t.Kind.Const != nil:
		return *t.Kind.Const, true
	case t.Kind.Linear != nil:
		kib := encodedLength/1024 + min(encodedLength%1024, 1)
		hi, lo := mul64(kib, t.Kind.Linear.PerKiB)
		sum := lo + t.Kind.Linear.Base
		if hi != 0 || sum < lo {
			return 0, false
		}
		return sum, true
	}
	return 0, true
}

func mul64(a, b uint64) (hi, lo uint64) {
	if a == 0 || b == 0 {
		return 0, 0
	}
	lo = a * b
	if lo/b != a {
		return 1, lo
	}
	return 0, lo
}

type sendTipJSON struct {
	Address string          `json:"address"`
	Kind    json.RawMessage `json:"kind"`
}

type kindJSON struct {
	Const  *uint64    `json:"const,omitempty"`
	Linear *LinearTip `json:"linear,omitempty"`
}

// MarshalJSON writes Walrus's form: "no_tip", or {"send_tip": {"address": "0x…", "kind":
// {"const": N} | {"linear": {"base": B, "encoded_size_mul_per_kib": K}}}}.
func (t TipConfig) MarshalJSON() ([]byte, error) {
	if !t.RequiresTip() {
		return json.Marshal("no_tip")
	}
	kind, err := json.Marshal(kindJSON(t.Kind))
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]sendTipJSON{"send_tip": {Address: t.Address.String(), Kind: kind}})
}

// UnmarshalJSON reads Walrus's form.
func (t *TipConfig) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != "no_tip" {
			return fmt.Errorf("uploadrelay: tip config %q", s)
		}
		*t = TipConfig{}
		return nil
	}
	var m struct {
		SendTip *sendTipJSON `json:"send_tip"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("uploadrelay: tip config: %w", err)
	}
	if m.SendTip == nil {
		return errors.New("uploadrelay: tip config: neither no_tip nor send_tip")
	}
	addr, err := chain.ParseAddress(m.SendTip.Address)
	if err != nil {
		return fmt.Errorf("uploadrelay: tip config: %w", err)
	}
	var k kindJSON
	if err := json.Unmarshal(m.SendTip.Kind, &k); err != nil {
		return fmt.Errorf("uploadrelay: tip config: kind: %w", err)
	}
	if (k.Const == nil) == (k.Linear == nil) {
		return errors.New("uploadrelay: tip config: kind is neither const nor linear")
	}
	*t = TipConfig{Address: addr, Kind: TipKind(k)}
	return nil
}

// AuthPackage is what a tip commits to: the blob's SHA-256, the SHA-256 of a nonce and the
// blob's length (Walrus's HashedAuthPackage). A tip's memo is its BCS encoding.
type AuthPackage struct {
	BlobDigest      [32]byte
	NonceDigest     [32]byte
	UnencodedLength uint64
}

// NewAuthPackage returns the package for blob and nonce.
func NewAuthPackage(blob []byte, nonce [NonceLen]byte) AuthPackage {
	return AuthPackage{BlobDigest: sha256.Sum256(blob), NonceDigest: sha256.Sum256(nonce[:]), UnencodedLength: uint64(len(blob))}
}

// Encode returns the BCS encoding (72 bytes).
func (a AuthPackage) Encode() []byte {
	e := bcs.NewEncoder(nil)
	e.Fixed(a.BlobDigest[:])
	e.Fixed(a.NonceDigest[:])
	e.U64(a.UnencodedLength)
	return e.Out()
}

// DecodeAuthPackage decodes a memo; errors wrap ErrInvalidAuthPackage.
func DecodeAuthPackage(b []byte) (AuthPackage, error) {
	var a AuthPackage
	d := bcs.NewDecoder(b)
	copy(a.BlobDigest[:], d.Fixed(32))
	copy(a.NonceDigest[:], d.Fixed(32))
	a.UnencodedLength = d.U64()
	if err := d.Finish(); err != nil {
		return AuthPackage{}, fmt.Errorf("%w: %w", ErrInvalidAuthPackage, err)
	}
	return a, nil
}

// Check reports whether blob and nonce are what the package commits to.
func (a AuthPackage) Check(blob []byte, nonce [NonceLen]byte) error {
	switch {
	case sha256.Sum256(nonce[:]) != a.NonceDigest:
		return ErrInvalidNonceHash
	case uint64(len(blob)) != a.UnencodedLength:
		return ErrBlobLengthMismatch
	case sha256.Sum256(blob) != a.BlobDigest:
		return ErrBlobDigestMismatch
	}
	return nil
}
