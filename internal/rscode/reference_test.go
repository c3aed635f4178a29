package rscode

import "sync"

// A plain polynomial-evaluation model of the code, independent of the transform machinery:
// field products by carry-less multiplication, points by the Cantor map, and Lagrange
// interpolation. It follows the definition in the package documentation word for word.

var (
	refOnce   sync.Once
	refPhi    []uint16 // Cantor coordinates -> polynomial basis
	refPhiInv []uint16
)

func refInit() {
	refOnce.Do(func() {
		refPhi = make([]uint16, fieldOrder)
		refPhiInv = make([]uint16, fieldOrder)
		for v := 0; v < fieldOrder; v++ {
			var p uint16
			for b := 0; b < fieldBits; b++ {
				if v&(1<<b) != 0 {
					p ^= cantorBasis[b]
				}
			}
			refPhi[v] = p
		}
		for v := 0; v < fieldOrder; v++ {
			refPhiInv[refPhi[v]] = uint16(v)
		}
	})
}

// refPolyMul multiplies in the polynomial basis.
func refPolyMul(a, b uint16) uint16 {
	var r uint32
	for i := 0; i < fieldBits; i++ {
		if b&(1<<i) != 0 {
			r ^= uint32(a) << i
		}
	}
	for i := 31; i >= fieldBits; i-- {
		if r&(1<<i) != 0 {
			r ^= polynomial << (i - fieldBits)
		}
	}
	return uint16(r)
}

// refMul multiplies two elements given in Cantor coordinates.
func refMul(a, b uint16) uint16 {
	refInit()
	return refPhiInv[refPolyMul(refPhi[a], refPhi[b])]
}

func refInv(a uint16) uint16 {
	// a^(2^16-2) by square and multiply.
	r, x := uint16(1), a
	for e := fieldOrder - 2; e > 0; e >>= 1 {
		if e&1 != 0 {
			r = refMul(r, x)
		}
		x = refMul(x, x)
	}
	return r
}

// refEval evaluates at x the polynomial of degree < len(xs) through the points (xs, ys).
// In Cantor coordinates the point ω_t is the value t, and subtraction is XOR.
func refEval(xs, ys []uint16, x uint16) uint16 {
	var sum uint16
	for i := range xs {
		if ys[i] == 0 {
			continue
		}
		num, den := uint16(1), uint16(1)
		for l := range xs {
			if l == i {
				continue
			}
			num = refMul(num, x^xs[l])
			den = refMul(den, xs[i]^xs[l])
		}
		sum ^= refMul(ys[i], refMul(num, refInv(den)))
	}
	return sum
}

// refElement reads element q of a shard of symbolSize bytes per the crate's layout.
func refElement(shard []byte, q int) (lo, hi int) {
	s := len(shard)
	if q < s/64*32 {
		lo = q/32*64 + q%32
		return lo, lo + 32
	}
	t := s % 64
	lo = s/64*64 + (q - s/64*32)
	return lo, lo + t/2
}

// refEncode computes the recovery symbols of one codeword whose symbols are s bytes.
func refEncode(k, m int, originals [][]byte) [][]byte {
	s := len(originals[0])
	K, M := nextPow2(k), nextPow2(m)
	rec := make([][]byte, m)
	for j := range rec {
		rec[j] = make([]byte, s)
	}
	for q := 0; q < s/2; q++ {
		lo, hi := refElement(originals[0], q)
		val := func(i int) uint16 { return uint16(originals[i][lo]) | uint16(originals[i][hi])<<8 }
		out := make([]uint16, m)
		if K < M {
			xs, ys := make([]uint16, K), make([]uint16, K)
			for i := 0; i < K; i++ {
				xs[i] = uint16(i)
				if i < k {
					ys[i] = val(i)
				}
			}
			for j := 0; j < m; j++ {
				out[j] = refEval(xs, ys, uint16(K+j))
			}
		} else {
			for first := 0; first < k; first += M {
				xs, ys := make([]uint16, M), make([]uint16, M)
				for i := 0; i < M; i++ {
					xs[i] = uint16(M + first + i)
					if first+i < k {
						ys[i] = val(first + i)
					}
				}
				for j := 0; j < m; j++ {
					out[j] ^= refEval(xs, ys, uint16(j))
				}
			}
		}
		for j := range out {
			rec[j][lo] = byte(out[j])
			rec[j][hi] = byte(out[j] >> 8)
		}
	}
	return rec
}
