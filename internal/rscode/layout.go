package rscode

// Shards in the caller's layout carry consecutive symbols of symbolSize bytes; inside a
// symbol, full 64-byte blocks are planar and a final partial block of t bytes holds its t/2
// low bytes then its t/2 high bytes. The work buffers are planar throughout.
//
// Every operation is element-wise, so any bijection between a shard's elements and work
// positions does, as long as all shards use the same one. A shard is therefore processed in
// two independent parts: its full blocks (copied whole, block after block) and its symbol
// tails (gathered into planar blocks). Each part is tiled separately.

// part is one of the two parts of a shard.
type part interface {
	// units returns the number of units (blocks or tail elements) in a shard of size bytes.
	units(size int) int
	// width returns the planar bytes needed for n units.
	width(n int) int
	// pack copies units [u0, u1) of shard src into planar buffer dst.
	pack(dst, src []byte, u0, u1 int)
	// unpack copies planar units back into units [u0, u1) of shard dst.
	unpack(dst, src []byte, u0, u1 int)
}

// blockPart is the full 64-byte blocks of every symbol; a unit is one block.
type blockPart struct{ symbolSize int }

func (p blockPart) units(size int) int { return size / p.symbolSize * (p.symbolSize / 64) }
func (p blockPart) width(n int) int    { return n * 64 }

func (p blockPart) pack(dst, src []byte, u0, u1 int) { p.transfer(dst, src, u0, u1, true) }

func (p blockPart) unpack(dst, src []byte, u0, u1 int) { p.transfer(src, dst, u0, u1, false) }

// transfer moves blocks between planar (work) and shard, in runs of whole symbols' blocks.
func (p blockPart) transfer(planar, shard []byte, u0, u1 int, toPlanar bool) {
	per := p.symbolSize / 64
	if per*64 == p.symbolSize {
		// Symbols are whole blocks: the part is the shard itself.
		if toPlanar {
			copy(planar[:(u1-u0)*64], shard[u0*64:u1*64])
		} else {
			copy(shard[u0*64:u1*64], planar[:(u1-u0)*64])
		}
		return
	}
	for u := u0; u < u1; {
		sym, b := u/per, u%per
		run := min(per-b, u1-u)
		off := sym*p.symbolSize + b*64
		d := (u - u0) * 64
		if toPlanar {
			copy(planar[d:d+run*64], shard[off:off+run*64])
		} else {
			copy(shard[off:off+run*64], planar[d:d+run*64])
		}
		u += run
	}
}

// tailPart is the final partial block of every symbol; a unit is one element.
type tailPart struct{ symbolSize int }

func (p tailPart) half() int                        { return p.symbolSize % 64 / 2 }
func (p tailPart) units(size int) int               { return size / p.symbolSize * p.half() }
func (p tailPart) width(n int) int                  { return (n + 31) / 32 * 64 }
func (p tailPart) pack(dst, src []byte, u0, u1 int) { p.transfer(dst, src, u0, u1, true) }

func (p tailPart) unpack(dst, src []byte, u0, u1 int) { p.transfer(src, dst, u0, u1, false) }

// transfer moves tail elements in runs that stay within one symbol's tail and one planar
// block: the low bytes of a run are contiguous on both sides, and so are the high bytes.
func (p tailPart) transfer(planar, shard []byte, u0, u1 int, toPlanar bool) {
	h := p.half()
	base := p.symbolSize / 64 * 64
	for u := u0; u < u1; {
		sym, q := u/h, u%h
		d := u - u0
		lane := d % 32
		run := min(h-q, u1-u, 32-lane)
		lo := sym*p.symbolSize + base + q
		pl := d/32*64 + lane
		if toPlanar {
			copy(planar[pl:pl+run], shard[lo:lo+run])
			copy(planar[pl+32:pl+32+run], shard[lo+h:lo+h+run])
		} else {
			copy(shard[lo:lo+run], planar[pl:pl+run])
			copy(shard[lo+h:lo+h+run], planar[pl+32:pl+32+run])
		}
		u += run
	}
}

// parts returns the non-empty parts of shards of size bytes with the given symbol size.
func parts(symbolSize, size int) []part {
	var ps []part
	if symbolSize >= 64 {
		ps = append(ps, blockPart{symbolSize})
	}
	if symbolSize%64 != 0 {
		ps = append(ps, tailPart{symbolSize})
	}
	return ps
}
