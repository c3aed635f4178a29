package rscode

import "sync"

const (
	fieldBits  = 16
	fieldOrder = 1 << fieldBits // number of field elements
	modulus    = fieldOrder - 1 // order of the multiplicative group
	// polynomial is the field's modulus polynomial x^16 + x^5 + x^3 + x^2 + 1.
	polynomial = 0x1002D
)

// cantorBasis lists β_0..β_15 in polynomial-basis coordinates. The value v in a shard stands
// for the XOR of cantorBasis[b] over the set bits b of v.
var cantorBasis = [fieldBits]uint16{
	0x0001, 0xACCA, 0x3C0E, 0x163E, 0xC582, 0xED2E, 0x914C, 0x4012,
	0x6C98, 0x10D8, 0x6A72, 0xB900, 0xFDB8, 0xFB34, 0xFF38, 0x991E,
}

// gfTables are the logarithm and exponential tables of the field in Cantor coordinates,
// relative to the generator x of the polynomial representation. log[0] is unused.
type gfTables struct {
	log [fieldOrder]uint16
	exp [fieldOrder]uint16 // exp[i] for i in [0, modulus]; exp[modulus] == exp[0]
}

var (
	gfOnce sync.Once
	gf     *gfTables
)

func field() *gfTables {
	gfOnce.Do(func() { gf = buildField() })
	return gf
}

func buildField() *gfTables {
	// Powers of the generator in the polynomial basis.
	var polyExp [modulus]uint16
	polyLog := make([]uint16, fieldOrder)
	state := uint32(1)
	for i := 0; i < modulus; i++ {
		polyExp[i] = uint16(state)
		polyLog[state] = uint16(i)
		state <<= 1
		if state&fieldOrder != 0 {
			state ^= polynomial
		}
	}
	// Cantor coordinates -> polynomial basis (phi) and its inverse.
	phi := make([]uint16, fieldOrder)
	for v := 1; v < fieldOrder; v++ {
		low := v & -v
		b := 0
		for 1<<b != low {
			b++
		}
		phi[v] = phi[v&(v-1)] ^ cantorBasis[b]
	}
	phiInv := make([]uint16, fieldOrder)
	for v := 0; v < fieldOrder; v++ {
		phiInv[phi[v]] = uint16(v)
	}
	t := &gfTables{}
	for v := 1; v < fieldOrder; v++ {
		t.log[v] = polyLog[phi[v]]
	}
	for i := 0; i < modulus; i++ {
		t.exp[i] = phiInv[polyExp[i]]
	}
	t.exp[modulus] = t.exp[0]
	return t
}

// addMod returns (a + b) mod 65535 for a, b in [0, 65535], as a value in [0, 65535) except
// that 65535 may stand for 0.
func addMod(a, b uint16) uint16 {
	s := uint32(a) + uint32(b)
	return uint16(s + s>>16)
}

// mulLog multiplies the element a by the element whose logarithm is logB.
func (t *gfTables) mulLog(a uint16, logB uint16) uint16 {
	if a == 0 {
		return 0
	}
	return t.exp[addMod(t.log[a], logB)]
}

// mul multiplies two field elements.
func (t *gfTables) mul(a, b uint16) uint16 {
	if a == 0 || b == 0 {
		return 0
	}
	return t.exp[addMod(t.log[a], t.log[b])]
}

// inv returns the multiplicative inverse of a non-zero element.
func (t *gfTables) inv(a uint16) uint16 {
	return t.exp[modulus-t.log[a]]
}
