package portal

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/walrus-go/walrus/internal/chain"
)

// MaxBase36Len is the length of the longest base36 form of an object ID (36^50 > 2^256).
const MaxBase36Len = 50

// ErrBadBase36 is wrapped by ParseBase36's errors.
var ErrBadBase36 = errors.New("portal: not a base36 object ID")

// Base36 returns an object ID in base36 (digits and lower-case letters, no leading zeros),
// as Walrus Sites' portals name sites in a subdomain: it fits a 63-character DNS label and
// survives browsers lower-casing host names.
func Base36(id chain.ObjectID) string {
	return new(big.Int).SetBytes(id[:]).Text(36)
}

// ParseBase36 parses the form of Base36: 1 to MaxBase36Len digits and lower-case letters of
// a number below 2^256. Errors wrap ErrBadBase36.
func ParseBase36(s string) (chain.ObjectID, error) {
	var id chain.ObjectID
	if s == "" || len(s) > MaxBase36Len {
		return id, fmt.Errorf("%w: %d characters, want 1 to %d", ErrBadBase36, len(s), MaxBase36Len)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return id, fmt.Errorf("%w: %q: only digits and lower-case letters", ErrBadBase36, s)
		}
	}
	n, ok := new(big.Int).SetString(s, 36)
	if !ok || n.BitLen() > 256 {
		return id, fmt.Errorf("%w: %q is larger than an object ID", ErrBadBase36, s)
	}
	n.FillBytes(id[:])
	return id, nil
}
