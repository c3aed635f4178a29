package committee

import "fmt"

// Quorum reports whether weight is a quorum of n shards: 3·weight >= 2n+1, that is more than
// two thirds. Certificates of storage and epoch-change completion need a quorum.
func Quorum(weight, n int) bool { return 3*weight >= 2*n+1 }

// Validity reports whether weight guarantees at least one honest member among n shards when
// at most f = floor((n-1)/3) are faulty: 3·weight >= n+1. Invalid-blob certificates need it.
func Validity(weight, n int) bool { return 3*weight >= n+1 }

// checkBitmap enforces Walrus's signer bitmap rules: bit i of byte k (least significant bit
// first) stands for member 8k+i; the bitmap may be shorter than ceil(Len()/8) bytes (missing
// bytes are non-signers) but not longer, and bits for members that do not exist must be 0.
func (c *Committee) checkBitmap(bitmap []byte) error {
	n := len(c.members)
	if limit := (n + 7) / 8; len(bitmap) > limit {
		return fmt.Errorf("%w: %d bytes for %d members (at most %d)", ErrInvalidBitmap, len(bitmap), n, limit)
	}
	if len(bitmap) == (n+7)/8 && n%8 != 0 {
		if extra := bitmap[len(bitmap)-1] >> (n % 8); extra != 0 {
			return fmt.Errorf("%w: bits set beyond member %d", ErrInvalidBitmap, n-1)
		}
	}
	return nil
}

func signed(bitmap []byte, i int) bool {
	k := i / 8
	return k < len(bitmap) && bitmap[k]>>(i%8)&1 == 1
}

// WeightOfSigners returns the total weight of the members whose bits are set in bitmap (see
// [Committee.Signers] for the format). It returns an error wrapping [ErrInvalidBitmap] if the
// bitmap breaks the rules.
func (c *Committee) WeightOfSigners(bitmap []byte) (int, error) {
	if err := c.checkBitmap(bitmap); err != nil {
		return 0, err
	}
	w := 0
	for i := range c.members {
		if signed(bitmap, i) {
			w += len(c.members[i].Shards)
		}
	}
	return w, nil
}

// Signers returns the ascending indices of the members whose bits are set in bitmap. Bit i of
// byte k (least significant bit first) stands for member 8k+i in node ID order. The bitmap may
// be shorter than ceil(Len()/8) bytes, the missing bytes counting as non-signers, but not
// longer, and bits beyond the last member must be 0; otherwise the error wraps
// [ErrInvalidBitmap].
func (c *Committee) Signers(bitmap []byte) ([]int, error) {
	return c.split(bitmap, true)
}

// NonSigners returns the ascending indices of the members whose bits are not set in bitmap:
// the keys a verifier subtracts from the committee's aggregate key. Errors are as for
// [Committee.Signers].
func (c *Committee) NonSigners(bitmap []byte) ([]int, error) {
	return c.split(bitmap, false)
}

func (c *Committee) split(bitmap []byte, want bool) ([]int, error) {
	if err := c.checkBitmap(bitmap); err != nil {
		return nil, err
	}
	var out []int
	for i := range c.members {
		if signed(bitmap, i) == want {
			out = append(out, i)
		}
	}
	return out, nil
}

// Bitmap returns the signer bitmap, ceil(Len()/8) bytes long, with the bits of the given
// member indices set. Repeated indices are allowed. It returns an error wrapping
// [ErrInvalidArgument] for an index out of range.
func (c *Committee) Bitmap(signers []int) ([]byte, error) {
	n := len(c.members)
	out := make([]byte, (n+7)/8)
	for _, i := range signers {
		if i < 0 || i >= n {
			return nil, fmt.Errorf("%w: signer %d of %d members", ErrInvalidArgument, i, n)
		}
		out[i/8] |= 1 << (i % 8)
	}
	return out, nil
}
