package rscode

import "sync"

// transformTables hold the twiddle factors of the additive FFT and the transformed
// logarithm table used to evaluate erasure locators.
//
// skew[b + 2^j - 1] is the logarithm of W̄_j(ω_b) for every layer j and every block start b
// that is a multiple of 2^(j+1), where W_j(x) = Π_{t<2^j} (x - ω_t) and W̄_j = W_j / W_j(ω_{2^j})
// (the normalized subspace polynomial of the novel polynomial basis of Lin, Chung and Han).
// A zero factor (only b = 0) is stored as modulus.
type transformTables struct {
	skew [modulus]uint16
}

var (
	transformOnce sync.Once
	transform     *transformTables

	// logWalsh[a] is the Walsh–Hadamard transform (mod 65535) of the logarithm table
	// restricted to the first 2^a positions, with log(0) taken as 0.
	logWalshOnce [fieldBits + 1]sync.Once
	logWalsh     [fieldBits + 1][]uint16
)

func transforms() *transformTables {
	transformOnce.Do(func() { transform = buildTransform(field()) })
	return transform
}

func buildTransform(t *gfTables) *transformTables {
	// w[j][i] = W_j(β_i); in Cantor coordinates β_i is the value 1<<i. W_0(x) = x and
	// W_{j+1}(x) = W_j(x) · (W_j(x) + W_j(β_j)) because W_j is additive.
	var w [fieldBits][fieldBits]uint16
	for i := 0; i < fieldBits; i++ {
		w[0][i] = 1 << i
	}
	for j := 0; j+1 < fieldBits; j++ {
		for i := 0; i < fieldBits; i++ {
			w[j+1][i] = t.mul(w[j][i], w[j][i]^w[j][j])
		}
	}
	// norm[j][i] = W̄_j(β_i).
	var norm [fieldBits][fieldBits]uint16
	for j := 0; j < fieldBits; j++ {
		inv := t.inv(w[j][j])
		for i := 0; i < fieldBits; i++ {
			norm[j][i] = t.mul(w[j][i], inv)
		}
	}
	tt := &transformTables{}
	for j := 0; j < fieldBits; j++ {
		h := 1 << j
		for b := 0; b+h-1 < modulus; b += 2 * h {
			var v uint16
			for i := j + 1; i < fieldBits; i++ {
				if b&(1<<i) != 0 {
					v ^= norm[j][i]
				}
			}
			if v == 0 {
				tt.skew[b+h-1] = modulus
			} else {
				tt.skew[b+h-1] = t.log[v]
			}
		}
	}
	return tt
}

// logWalshTable returns the transformed logarithm table for a domain of 2^a positions.
func logWalshTable(a int) []uint16 {
	logWalshOnce[a].Do(func() {
		t := field()
		n := 1 << a
		lw := make([]uint16, n)
		for i := 1; i < n; i++ {
			lw[i] = t.log[i] % modulus
		}
		fwht(lw)
		logWalsh[a] = lw
	})
	return logWalsh[a]
}

// fwht computes the Walsh–Hadamard transform of data (length a power of two) with
// arithmetic mod 65535. Inputs and outputs are in [0, 65535).
func fwht(data []uint16) {
	n := len(data)
	for h := 1; h < n; h <<= 1 {
		for b := 0; b < n; b += 2 * h {
			for i := b; i < b+h; i++ {
				x, y := uint32(data[i]), uint32(data[i+h])
				s := x + y
				if s >= modulus {
					s -= modulus
				}
				d := x + modulus - y
				if d >= modulus {
					d -= modulus
				}
				data[i], data[i+h] = uint16(s), uint16(d)
			}
		}
	}
}

// erasureLogs fills out (length 2^a) with, for every position i of the domain, the
// logarithm of Π_{j erased, j != i} (ω_i - ω_j): for a known position that is the value of
// the erasure locator e(x) = Π_{j erased} (x - ω_j) at ω_i, and for an erased position the
// value of its formal derivative e'(ω_i). erased[i] is 1 for an erased position, else 0.
func erasureLogs(out []uint16, erased []uint16, a int) {
	copy(out, erased)
	fwht(out)
	lw := logWalshTable(a)
	for i := range out {
		out[i] = uint16(uint32(out[i]) * uint32(lw[i]) % modulus)
	}
	fwht(out)
	// Two transforms multiply by 2^a; 2^16 ≡ 1 (mod 65535), so multiply by 2^(16-a).
	scale := uint32(1) << (fieldBits - a) % modulus
	for i := range out {
		out[i] = uint16(uint32(out[i]) * scale % modulus)
	}
}
