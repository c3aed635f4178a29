package gateway

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
)

// AuthDomain is the error domain of authentication failures (Walrus's).
const AuthDomain = "auth.publisher.walrus.space"

// Defaults of AuthConfig.
const (
	DefaultJWTAlgorithm    = "HS256"
	DefaultReplayCacheSize = 100_000
	// MaxTokenLength bounds a bearer token; longer ones are refused unparsed.
	MaxTokenLength = 4096
	// clockSkew is how far in the future a token's iat or nbf may lie.
	clockSkew = time.Minute
)

// AuthConfig configures Walrus's authenticated publisher: every store needs a JWT in an
// Authorization: Bearer header, signed with Secret, not expired, with a jti never seen
// before, and the store must comply with the token's claims (epochs, max_epochs, size,
// max_size, send_object_to). Tokens are single-use.
type AuthConfig struct {
	// Secret is the HMAC key tokens are signed with (required, at least 16 bytes).
	Secret []byte
	// Algorithm is the token's signature algorithm: HS256 (DefaultJWTAlgorithm when
	// empty), HS384 or HS512. A token whose header names another algorithm is refused.
	Algorithm string
	// ExpiringSec, if positive, requires tokens to carry iat and to live at most that
	// many seconds (exp - iat <= ExpiringSec), which also bounds how long their jti is
	// remembered. Walrus requires exp - iat to equal it; this accepts shorter lives too.
	ExpiringSec int64
	// ReplayCacheSize bounds the jti remembered until their tokens expire; when it is
	// full of unexpired tokens, stores are refused (503) rather than the bound raised.
	// 0 means DefaultReplayCacheSize.
	ReplayCacheSize int
}

// validate checks c and fills in the defaults.
func (c *AuthConfig) validate() error {
	switch {
	case len(c.Secret) < 16:
		return errors.New("gateway: AuthConfig.Secret must be at least 16 bytes")
	case c.ExpiringSec < 0:
		return errors.New("gateway: AuthConfig.ExpiringSec is negative")
	case c.ReplayCacheSize < 0:
		return errors.New("gateway: AuthConfig.ReplayCacheSize is negative")
	}
	if c.Algorithm == "" {
		c.Algorithm = DefaultJWTAlgorithm
	}
	if jwtHash(c.Algorithm) == nil {
		return fmt.Errorf("gateway: AuthConfig.Algorithm %q: want HS256, HS384 or HS512", c.Algorithm)
	}
	if c.ReplayCacheSize == 0 {
		c.ReplayCacheSize = DefaultReplayCacheSize
	}
	return nil
}

// jwtHash returns the hash of an HMAC JWT algorithm, nil for any other.
func jwtHash(alg string) func() hash.Hash {
	switch alg {
	case "HS256":
		return sha256.New
	case "HS384":
		return sha512.New384
	case "HS512":
		return sha512.New
	}
	return nil
}

// Claims are the claims of a publisher token (Walrus's Claim).
type Claims struct {
	// Exp is the expiry, in Unix seconds (required).
	Exp int64 `json:"exp"`
	// Iat is the issue time, in Unix seconds (required when AuthConfig.ExpiringSec > 0).
	Iat *int64 `json:"iat,omitempty"`
	// Nbf, if present, is the time before which the token is not valid.
	Nbf *int64 `json:"nbf,omitempty"`
	// Jti uniquely identifies the token (required, at most 256 bytes).
	Jti string `json:"jti"`
	// SendObjectTo, if set, is the address the Blob object must be sent to; the
	// request's send_object_to must name it.
	SendObjectTo *string `json:"send_object_to,omitempty"`
	// Epochs is the exact number of epochs to store for; MaxEpochs the maximum. At most
	// one of them.
	Epochs    *uint32 `json:"epochs,omitempty"`
	MaxEpochs *uint32 `json:"max_epochs,omitempty"`
	// Size is the exact size of the blob; MaxSize the maximum. At most one of them.
	Size    *uint64 `json:"size,omitempty"`
	MaxSize *uint64 `json:"max_size,omitempty"`
}

// bearerToken returns the token of an Authorization: Bearer header.
func bearerToken(r *http.Request) (string, error) {
	h := r.Header.Values("Authorization")
	if len(h) == 0 {
		return "", errNoToken
	}
	if len(h) > 1 {
		return "", errBadToken
	}
	scheme, tok, ok := strings.Cut(h[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", errNoToken
	}
	return strings.TrimSpace(tok), nil
}

// ParseToken checks a compact JWS (header.payload.signature, base64url without padding)
// signed with secret by alg (an HMAC algorithm) and returns its claims; it checks the
// shape of the claims (exp and jti present, at most one of epochs and max_epochs, of
// size and max_size) but not the time. The header's alg must equal alg ("none" and any
// other algorithm are refused) and it must not carry "crit". Tokens longer than
// MaxTokenLength are refused without being decoded.
func ParseToken(token, alg string, secret []byte) (*Claims, error) {
	newHash := jwtHash(alg)
	if newHash == nil {
		return nil, errBadToken
	}
	if len(token) > MaxTokenLength {
		return nil, errBadToken
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errBadToken
	}
	enc := base64.RawURLEncoding.Strict()
	rawHeader, err1 := enc.DecodeString(parts[0])
	rawClaims, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, errBadToken
	}
	var header struct {
		Alg  string          `json:"alg"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := json.Unmarshal(rawHeader, &header); err != nil || header.Alg != alg || header.Crit != nil {
		return nil, errBadToken
	}
	mac := hmac.New(newHash, secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(mac.Sum(nil), sig) {
		return nil, errBadSignature
	}
	var c Claims
	dec := json.NewDecoder(bytes.NewReader(rawClaims))
	if err := dec.Decode(&c); err != nil || dec.More() {
		return nil, errBadToken
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(rawClaims, &probe) != nil || probe["exp"] == nil {
		return nil, errBadToken
	}
	switch {
	case c.Jti == "" || len(c.Jti) > 256:
		return nil, errBadToken
	case c.Epochs != nil && c.MaxEpochs != nil:
		return nil, fail(ErrInconsistentToken, "the JWT has both epochs and max_epochs")
	case c.Size != nil && c.MaxSize != nil:
		return nil, fail(ErrInconsistentToken, "the JWT has both size and max_size")
	}
	return &c, nil
}

// checkTime checks the token's times against now and the configured lifetime.
func (c *Claims) checkTime(now time.Time, expiringSec int64) error {
	t := now.Unix()
	switch {
	case t >= c.Exp:
		return errExpired
	case c.Nbf != nil && *c.Nbf > t+int64(clockSkew/time.Second):
		return errExpired
	case c.Iat != nil && *c.Iat > t+int64(clockSkew/time.Second):
		return errExpired
	}
	if expiringSec > 0 && (c.Iat == nil || c.Exp-*c.Iat > expiringSec || c.Exp < *c.Iat) {
		return fail(ErrClaimExpiration, "the JWT must carry iat and live at most %d seconds", expiringSec)
	}
	return nil
}

// checkStore checks a store against the token's claims; size is the body's length, -1
// when not known yet (then only checkSize applies, once it is).
func (c *Claims) checkStore(epochs uint32, sendTo chain.Address, size int64) error {
	if c.Epochs != nil && epochs != *c.Epochs {
		return fail(ErrClaimEpochs, "the JWT allows exactly %d epochs, the request asks for %d", *c.Epochs, epochs)
	}
	if c.MaxEpochs != nil && epochs > *c.MaxEpochs {
		return fail(ErrClaimEpochs, "the JWT allows at most %d epochs, the request asks for %d", *c.MaxEpochs, epochs)
	}
	if c.SendObjectTo != nil {
		want, err := chain.ParseAddress(*c.SendObjectTo)
		if err != nil {
			return fail(ErrClaimSendObjectTo, "the JWT's send_object_to is not an address")
		}
		if sendTo == (chain.Address{}) {
			return fail(ErrClaimSendObjectTo, "%s", "the JWT requires send_object_to="+want.String())
		}
		if sendTo != want {
			return fail(ErrClaimSendObjectTo, "send_object_to does not match the JWT")
		}
	}
	if size >= 0 {
		return c.checkSize(size)
	}
	return nil
}

// checkSize checks the body's length against the token's size claims.
func (c *Claims) checkSize(size int64) error {
	if c.MaxSize != nil && uint64(size) > *c.MaxSize {
		return fail(ErrClaimSize, "the JWT allows at most %d bytes, the body has %d", *c.MaxSize, size)
	}
	if c.Size != nil && uint64(size) != *c.Size {
		return fail(ErrClaimSize, "the JWT allows exactly %d bytes, the body has %d", *c.Size, size)
	}
	return nil
}

// sizeLimit returns the largest body the token allows, or def.
func (c *Claims) sizeLimit(def int64) int64 {
	for _, p := range []*uint64{c.MaxSize, c.Size} {
		if p != nil && *p < uint64(def) {
			return int64(*p)
		}
	}
	return def
}

// replayCache remembers the jti of used tokens until they expire, up to a bound. It is
// safe for concurrent use.
type replayCache struct {
	max int

	mu   sync.Mutex
	seen map[string]int64 // jti -> exp (Unix seconds)
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, seen: make(map[string]int64)}
}

// use records jti as used until exp; it fails with errTokenUsed if it already is, and
// with errReplayFull if the cache holds max unexpired tokens.
func (c *replayCache) use(jti string, exp int64, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := now.Unix()
	if e, ok := c.seen[jti]; ok && e > t {
		return errTokenUsed
	}
	if len(c.seen) >= c.max {
		for k, e := range c.seen {
			if e <= t {
				delete(c.seen, k)
			}
		}
		if len(c.seen) >= c.max {
			return errReplayFull
		}
	}
	c.seen[jti] = exp
	return nil
}
