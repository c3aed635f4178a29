package rscode

import "sync/atomic"

// Per-constant tables for the SIMD kernels, built on first use and cached for the life of
// the process. Multiplication by a constant m is GF(2)-linear on the 16 bits of an element,
// so it is a 16×16 bit matrix; the kernels apply it to the low and high bytes separately.

// gfniMatrices holds, for the AVX-512 GFNI kernels, two 64-byte operands of
// VGF2P8AFFINEQB: [A A A A D D D D] and [B B B B C C C C], where A maps the input low byte
// to the output low byte, B the high to the low, C the low to the high and D the high to
// the high byte. Each is an 8×8 bit matrix in the instruction's qword layout.
type gfniMatrices [16]uint64

// nibbleTables holds, for the AVX2 kernels, eight 16-byte PSHUFB tables: the low then the
// high output byte of the product of m with each value of the four input nibbles.
type nibbleTables [128]byte

var (
	gfniCache   [fieldOrder]atomic.Pointer[gfniMatrices]
	nibbleCache [fieldOrder]atomic.Pointer[nibbleTables]
)

// columns returns the products of m with each of the 16 input bits.
func productColumns(logM uint16) [16]uint16 {
	f := field()
	var col [16]uint16
	for j := range col {
		col[j] = f.mulLog(uint16(1)<<j, logM)
	}
	return col
}

func gfniFor(logM uint16) *gfniMatrices {
	if t := gfniCache[logM].Load(); t != nil {
		return t
	}
	col := productColumns(logM)
	// matrix returns the qword whose byte 7-i selects the input bits of output bit i, for
	// input bits inShift..inShift+7 and output bits outShift..outShift+7.
	matrix := func(inShift, outShift int) uint64 {
		var q uint64
		for i := 0; i < 8; i++ {
			var row byte
			for j := 0; j < 8; j++ {
				if col[inShift+j]>>(outShift+i)&1 != 0 {
					row |= 1 << j
				}
			}
			q |= uint64(row) << (8 * (7 - i))
		}
		return q
	}
	a, b, c, d := matrix(0, 0), matrix(8, 0), matrix(0, 8), matrix(8, 8)
	t := &gfniMatrices{a, a, a, a, d, d, d, d, b, b, b, b, c, c, c, c}
	gfniCache[logM].Store(t)
	return t
}

func nibblesFor(logM uint16) *nibbleTables {
	if t := nibbleCache[logM].Load(); t != nil {
		return t
	}
	f := field()
	t := &nibbleTables{}
	for q := 0; q < 4; q++ {
		for v := 0; v < 16; v++ {
			p := f.mulLog(uint16(v)<<(4*q), logM)
			t[q*16+v] = byte(p)
			t[64+q*16+v] = byte(p >> 8)
		}
	}
	nibbleCache[logM].Store(t)
	return t
}
