package rscode

import (
	"bytes"
	"errors"
	"testing"

	"pgregory.net/rapid"
)

func walrusCounts(n int, primary bool) (k, m int) {
	f := (n - 1) / 3
	if primary {
		return n - 2*f, 2 * f
	}
	return n - f, f
}

func randomShards(t *rapid.T, count, size int, label string) [][]byte {
	out := make([][]byte, count)
	data := rapid.SliceOfN(rapid.Byte(), count*size, count*size).Draw(t, label)
	for i := range out {
		out[i] = data[i*size : (i+1)*size]
	}
	return out
}

func TestFieldTables(t *testing.T) {
	f := field()
	for _, a := range []uint16{1, 2, 3, 0x1234, 0xACCA, 0xFFFF} {
		for _, b := range []uint16{1, 5, 0x8000, 0x991E, 0xFFFF} {
			if got, want := f.mul(a, b), refMul(a, b); got != want {
				t.Fatalf("mul(%#x, %#x) = %#x, want %#x", a, b, got, want)
			}
		}
		if f.mul(a, f.inv(a)) != 1 {
			t.Fatalf("inv(%#x) is wrong", a)
		}
	}
}

// The formal derivative assumes every normalized subspace polynomial has derivative 1, a
// property of the Cantor basis: W_j'(x) is the product of the non-zero elements of the
// subspace spanned by β_0..β_{j-1}, and it must equal W_j(β_j).
func TestCantorDerivativeIsOne(t *testing.T) {
	f := field()
	for j := 1; j < fieldBits; j++ {
		prod := uint16(1)
		for v := 1; v < 1<<j; v++ {
			prod = f.mul(prod, uint16(v))
		}
		wj := uint16(1) << j // W_j(β_j) computed as Π_{t<2^j} (β_j + ω_t)
		w := uint16(1)
		for v := 0; v < 1<<j; v++ {
			w = f.mul(w, wj^uint16(v))
		}
		if prod != w {
			t.Fatalf("layer %d: W_j' = %#x but W_j(β_j) = %#x", j, prod, w)
		}
	}
}

func TestEncodeMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k := rapid.IntRange(1, 40).Draw(t, "k")
		m := rapid.IntRange(1, 40).Draw(t, "m")
		s := 2 * rapid.IntRange(1, 40).Draw(t, "s/2")
		c, err := New(k, m)
		if err != nil {
			t.Fatal(err)
		}
		orig := randomShards(t, k, s, "originals")
		rec := make([][]byte, m)
		for j := range rec {
			rec[j] = make([]byte, s)
		}
		if err := c.Encode(s, orig, rec); err != nil {
			t.Fatal(err)
		}
		want := refEncode(k, m, orig)
		for j := range rec {
			if !bytes.Equal(rec[j], want[j]) {
				t.Fatalf("recovery %d differs from the reference model (k=%d m=%d s=%d)", j, k, m, s)
			}
		}
	})
}

// A batch of c codewords in one call equals c separate calls.
func TestBatchEqualsSeparate(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k := rapid.IntRange(1, 70).Draw(t, "k")
		m := rapid.IntRange(1, 70).Draw(t, "m")
		s := 2 * rapid.IntRange(1, 70).Draw(t, "s/2")
		count := rapid.IntRange(1, 5).Draw(t, "count")
		c, _ := New(k, m)
		orig := randomShards(t, k, s*count, "originals")
		rec := make([][]byte, m)
		for j := range rec {
			rec[j] = make([]byte, s*count)
		}
		if err := c.Encode(s, orig, rec); err != nil {
			t.Fatal(err)
		}
		for w := 0; w < count; w++ {
			o := make([][]byte, k)
			for i := range o {
				o[i] = orig[i][w*s : (w+1)*s]
			}
			r := make([][]byte, m)
			for j := range r {
				r[j] = make([]byte, s)
			}
			if err := c.Encode(s, o, r); err != nil {
				t.Fatal(err)
			}
			for j := range r {
				if !bytes.Equal(r[j], rec[j][w*s:(w+1)*s]) {
					t.Fatalf("codeword %d recovery %d differs between batch and single", w, j)
				}
			}
		}
	})
}

func TestRoundTripRandomSubsets(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var k, m int
		if rapid.Bool().Draw(t, "walrus") {
			n := rapid.IntRange(4, 300).Draw(t, "n")
			k, m = walrusCounts(n, rapid.Bool().Draw(t, "primary"))
		} else {
			k = rapid.IntRange(1, 600).Draw(t, "k")
			m = rapid.IntRange(1, 600).Draw(t, "m")
		}
		s := 2 * rapid.IntRange(1, 48).Draw(t, "s/2")
		count := rapid.IntRange(1, 3).Draw(t, "count")
		c, err := New(k, m)
		if err != nil {
			t.Fatal(err)
		}
		orig := randomShards(t, k, s*count, "originals")
		rec := make([][]byte, m)
		for j := range rec {
			rec[j] = make([]byte, s*count)
		}
		if err := c.Encode(s, orig, rec); err != nil {
			t.Fatal(err)
		}
		all := append(append([][]byte{}, orig...), rec...)
		perm := rapid.Permutation(rangeInts(k+m)).Draw(t, "order")
		have := rapid.IntRange(k, k+m).Draw(t, "present")
		shards := make([][]byte, k+m)
		for _, i := range perm[:have] {
			shards[i] = bytes.Clone(all[i])
		}
		short := make([][]byte, k+m)
		for _, i := range perm[:k-1] {
			short[i] = all[i]
		}
		if err := c.Reconstruct(s, short); !errors.Is(err, ErrTooFewShards) {
			t.Fatalf("decode from k-1 shards: err = %v, want ErrTooFewShards", err)
		}
		if err := c.ReconstructAll(s, shards); err != nil {
			t.Fatal(err)
		}
		for i := range all {
			if !bytes.Equal(shards[i], all[i]) {
				t.Fatalf("shard %d not restored (k=%d m=%d s=%d present=%d)", i, k, m, s, have)
			}
		}
	})
}

func rangeInts(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct{ k, m int }{{0, 1}, {1, 0}, {-1, 3}, {65536, 1}, {40000, 30000}, {1, 65536}} {
		if _, err := New(tc.k, tc.m); !errors.Is(err, ErrShardCount) {
			t.Errorf("New(%d, %d): err = %v, want ErrShardCount", tc.k, tc.m, err)
		}
	}
	c, _ := New(3, 2)
	mk := func(n, size int) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = make([]byte, size)
		}
		return out
	}
	cases := []struct {
		name string
		err  error
		run  func() error
	}{
		{"odd symbol", ErrSymbolSize, func() error { return c.Encode(3, mk(3, 6), mk(2, 6)) }},
		{"zero symbol", ErrSymbolSize, func() error { return c.Encode(0, mk(3, 6), mk(2, 6)) }},
		{"not multiple", ErrShardSize, func() error { return c.Encode(4, mk(3, 6), mk(2, 6)) }},
		{"empty shards", ErrShardSize, func() error { return c.Encode(2, mk(3, 0), mk(2, 0)) }},
		{"mismatched", ErrShardSize, func() error { return c.Encode(2, mk(3, 6), mk(2, 8)) }},
		{"too few originals", ErrShardCount, func() error { return c.Encode(2, mk(2, 6), mk(2, 6)) }},
		{"nil original", ErrShardsMissing, func() error { o := mk(3, 6); o[1] = nil; return c.Encode(2, o, mk(2, 6)) }},
		{"decode count", ErrShardCount, func() error { return c.Reconstruct(2, mk(4, 6)) }},
		{"decode too few", ErrTooFewShards, func() error { s := mk(5, 6); s[0], s[1], s[2] = nil, nil, nil; return c.Reconstruct(2, s) }},
		{"decode sizes", ErrShardSize, func() error { s := mk(5, 6); s[0] = nil; s[4] = make([]byte, 8); return c.Reconstruct(2, s) }},
		{"decode odd", ErrSymbolSize, func() error { s := mk(5, 6); s[0] = nil; return c.Reconstruct(1, s) }},
	}
	for _, tc := range cases {
		if err := tc.run(); !errors.Is(err, tc.err) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.err)
		}
	}
}

func FuzzReconstruct(f *testing.F) {
	f.Add(uint8(3), uint8(4), uint8(2), uint64(0x5), []byte("some original data here"))
	f.Add(uint8(10), uint8(1), uint8(5), uint64(0xffff), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, kk, mm, hs uint8, mask uint64, data []byte) {
		k, m, s := int(kk%20)+1, int(mm%20)+1, 2*(int(hs%8)+1)
		c, err := New(k, m)
		if err != nil {
			t.Fatal(err)
		}
		orig := make([][]byte, k)
		for i := range orig {
			orig[i] = make([]byte, s)
			for j := range orig[i] {
				if len(data) > 0 {
					orig[i][j] = data[(i*s+j)%len(data)] ^ byte(i)
				}
			}
		}
		rec := make([][]byte, m)
		for j := range rec {
			rec[j] = make([]byte, s)
		}
		if err := c.Encode(s, orig, rec); err != nil {
			t.Fatal(err)
		}
		all := append(append([][]byte{}, orig...), rec...)
		shards := make([][]byte, k+m)
		have := 0
		for i := range shards {
			if mask&(1<<(i%64)) != 0 {
				shards[i] = bytes.Clone(all[i])
				have++
			}
		}
		err = c.ReconstructAll(s, shards)
		if have < k {
			if !errors.Is(err, ErrTooFewShards) {
				t.Fatalf("err = %v with %d of %d shards", err, have, k)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range all {
			if !bytes.Equal(all[i], shards[i]) {
				t.Fatalf("shard %d differs", i)
			}
		}
	})
}
