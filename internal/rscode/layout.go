package rscode

// Shards in the caller's layout carry consecutive symbols of symbolSize bytes; inside a
// symbol, full 64-byte blocks are planar and a final partial block of t bytes holds its t/2
// low bytes then its t/2 high bytes. The work buffers are planar throughout. Elements are
// numbered across the shard, symbol after symbol, and a tile is a range of element numbers.

// elementPos returns the offsets of the low and high byte of element e of a shard.
func elementPos(e, symbolSize int) (lo, hi int) {
	half := symbolSize / 2
	sym, q := e/half, e%half
	base := sym * symbolSize
	full := symbolSize / 64 * 32
	if q < full {
		lo = base + q/32*64 + q%32
		return lo, lo + 32
	}
	tail := symbolSize % 64
	lo = base + symbolSize/64*64 + (q - full)
	return lo, lo + tail/2
}

// pack copies elements [e0, e1) of the shard src into the planar buffer dst, element e0
// landing at position 0. Bytes of dst past element e1-e0 are left as they are.
func pack(dst, src []byte, symbolSize, e0, e1 int) {
	if symbolSize%64 == 0 && e0%32 == 0 {
		n := (e1 - e0) * 2
		copy(dst[:n], src[e0*2:e0*2+n])
		return
	}
	transferElements(dst, src, symbolSize, e0, e1, true)
}

// unpack copies planar elements [0, e1-e0) of src back to elements [e0, e1) of the shard dst.
func unpack(dst, src []byte, symbolSize, e0, e1 int) {
	if symbolSize%64 == 0 && e0%32 == 0 {
		n := (e1 - e0) * 2
		copy(dst[e0*2:e0*2+n], src[:n])
		return
	}
	transferElements(src, dst, symbolSize, e0, e1, false)
}

// transferElements moves elements between a planar buffer and a shard in the caller's
// layout, shard to planar when toPlanar is set, planar to shard otherwise.
func transferElements(planar, shard []byte, symbolSize, e0, e1 int, toPlanar bool) {
	half := symbolSize / 2
	full := symbolSize / 64 * 32
	tail := symbolSize % 64
	e := e0
	for e < e1 {
		sym, q := e/half, e%half
		base := sym * symbolSize
		// The run of elements that share one segment (a full block or the tail).
		var segLo, hiOff, segLeft int
		if q < full {
			segLo = base + q/32*64 + q%32
			hiOff = 32
			segLeft = 32 - q%32
		} else {
			segLo = base + symbolSize/64*64 + (q - full)
			hiOff = tail / 2
			segLeft = half - q
		}
		run := min(segLeft, e1-e)
		d := e - e0
		if run == 32 && d%32 == 0 {
			pb := d / 32 * 64
			if toPlanar {
				copy(planar[pb:pb+64], shard[segLo:segLo+64])
			} else {
				copy(shard[segLo:segLo+64], planar[pb:pb+64])
			}
			e += run
			continue
		}
		for i := 0; i < run; i++ {
			di := d + i
			p := di/32*64 + di%32
			s := segLo + i
			if toPlanar {
				planar[p] = shard[s]
				planar[p+32] = shard[s+hiOff]
			} else {
				shard[s] = planar[p]
				shard[s+hiOff] = planar[p+32]
			}
		}
		e += run
	}
}
