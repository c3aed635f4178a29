package committee

import (
	"errors"
	"testing"
)

// FuzzWeightOfSigners checks that bitmap parsing never panics, accepts exactly the bitmaps the
// rules allow, and agrees with Signers.
func FuzzWeightOfSigners(f *testing.F) {
	f.Add(uint8(10), []byte{0xff, 0x03})
	f.Add(uint8(10), []byte{0xff, 0x04})
	f.Add(uint8(16), []byte{0xff, 0xff})
	f.Add(uint8(1), []byte{})
	f.Fuzz(func(t *testing.T, members uint8, bitmap []byte) {
		n := int(members)%64 + 1
		ms := make([]Member, n)
		for i := range ms {
			ms[i] = Member{NodeID: [32]byte{byte(i)}, Shards: []int{2 * i, 2*i + 1}}
		}
		c, err := New(0, 2*n, ms)
		if err != nil {
			t.Fatal(err)
		}
		w, err := c.WeightOfSigners(bitmap)
		valid := len(bitmap) <= (n+7)/8
		for i := n; i < 8*len(bitmap); i++ {
			if bitmap[i/8]>>(i%8)&1 == 1 {
				valid = false
			}
		}
		if valid != (err == nil) {
			t.Fatalf("%d members, bitmap %x: err = %v, want valid = %v", n, bitmap, err, valid)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidBitmap) {
				t.Fatalf("err = %v, want ErrInvalidBitmap", err)
			}
			return
		}
		signers, err := c.Signers(bitmap)
		if err != nil || 2*len(signers) != w {
			t.Fatalf("Signers = %v, %v; weight %d", signers, err, w)
		}
	})
}
