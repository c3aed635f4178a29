package rscode

// Shards in the caller's layout carry consecutive symbols of symbolSize bytes; inside a
// symbol, full 64-byte blocks are planar and a final partial block of t bytes holds its t/2
// low bytes then its t/2 high bytes. The work buffers are planar throughout.
//
// Every operation is element-wise, so any bijection between a shard's elements and work
// positions does, as long as all shards use the same one. A shard is therefore seen as its
// full blocks (copied whole, block after block) and its symbol tails (gathered into planar
// blocks). When symbols have both, a tile covers whole symbols: its work shard holds the
// tile's full blocks followed by its tails, so every tile reads and writes each caller shard
// once, in one place. (Encode on the layer kernels does not copy the full blocks at all: the
// gather and scatter layers read and write them in place, see encodeRuns.)

// part is how a shard is tiled: by its full blocks (a unit is a 64-byte block; symbols are
// whole blocks), by its symbol tails (tail, a unit is one element; symbols are shorter than
// a block) or by whole symbols (mixed, a unit is one symbol: its full blocks then its tail).
type part struct {
	tail       bool
	mixed      bool
	symbolSize int
}

// split returns the block part and tail part of a mixed part, and the blocks and tail
// elements per symbol.
func (p part) split() (blockPart, tailPart, int, int) {
	return blockPart{symbolSize: p.symbolSize}, tailPart{tail: true, symbolSize: p.symbolSize},
		p.symbolSize / 64, p.symbolSize % 64 / 2
}

// units returns the number of units in a shard of size bytes.
func (p part) units(size int) int {
	if p.mixed {
		return size / p.symbolSize
	}
	if p.tail {
		return tailPart(p).units(size)
	}
	return blockPart(p).units(size)
}

// width returns the planar bytes needed for n units.
func (p part) width(n int) int {
	if p.mixed {
		bp, tp, per, h := p.split()
		return bp.width(n*per) + tp.width(n*h)
	}
	if p.tail {
		return tailPart(p).width(n)
	}
	return blockPart(p).width(n)
}

// contiguous reports whether units [u0, u1) of a shard are its bytes [64·u0, 64·u1) in
// planar layout: the full blocks of symbols made only of full blocks.
func (p part) contiguous() bool { return !p.tail && !p.mixed && p.symbolSize%64 == 0 }

// pack copies units [u0, u1) of shard src into planar buffer dst.
func (p part) pack(dst, src []byte, u0, u1 int) {
	if p.mixed {
		bp, tp, per, h := p.split()
		b := bp.width((u1 - u0) * per)
		bp.transfer(dst[:b], src, u0*per, u1*per, true)
		tp.transfer(dst[b:], src, u0*h, u1*h, true)
		return
	}
	if p.tail {
		tailPart(p).transfer(dst, src, u0, u1, true)
	} else {
		blockPart(p).transfer(dst, src, u0, u1, true)
	}
}

// unpack copies planar units back into units [u0, u1) of shard dst.
func (p part) unpack(dst, src []byte, u0, u1 int) {
	if p.mixed {
		bp, tp, per, h := p.split()
		b := bp.width((u1 - u0) * per)
		bp.transfer(src[:b], dst, u0*per, u1*per, false)
		tp.transfer(src[b:], dst, u0*h, u1*h, false)
		return
	}
	if p.tail {
		tailPart(p).transfer(src, dst, u0, u1, false)
	} else {
		blockPart(p).transfer(src, dst, u0, u1, false)
	}
}

// blockPart is the full 64-byte blocks of every symbol; a unit is one block.
type blockPart struct {
	tail       bool
	mixed      bool
	symbolSize int
}

func (p blockPart) units(size int) int { return size / p.symbolSize * (p.symbolSize / 64) }
func (p blockPart) width(n int) int    { return n * 64 }

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
type tailPart struct {
	tail       bool
	mixed      bool
	symbolSize int
}

func (p tailPart) half() int          { return p.symbolSize % 64 / 2 }
func (p tailPart) units(size int) int { return size / p.symbolSize * p.half() }
func (p tailPart) width(n int) int    { return (n + 31) / 32 * 64 }

// transfer moves tail elements in runs that stay within one symbol's tail and one planar
// block: the low bytes of a run are contiguous on both sides, and so are the high bytes.
func (p tailPart) transfer(planar, shard []byte, u0, u1 int, toPlanar bool) {
	h := p.half()
	base := p.symbolSize / 64 * 64
	if p.symbolSize == 2 {
		p.transferPairs(planar, shard, u0, u1, toPlanar)
		return
	}
	if base == 0 && h < shortTail {
		p.transferShort(planar, shard, u0, u1, toPlanar)
		return
	}
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

// shortTail is the half-tail below which symbols without full blocks are moved an element
// at a time: their runs are so short that computing each run costs more than its bytes.
const shortTail = 16

// transferShort is transfer for symbols shorter than 2·shortTail bytes, an element at a
// time.
func (p tailPart) transferShort(planar, shard []byte, u0, u1 int, toPlanar bool) {
	h, s := p.half(), p.symbolSize
	sym, q := u0/h, u0%h
	for d := 0; d < u1-u0; d++ {
		pl := d>>5<<6 | d&31
		lo := sym*s + q
		if toPlanar {
			planar[pl], planar[pl+32] = shard[lo], shard[lo+h]
		} else {
			shard[lo], shard[lo+h] = planar[pl], planar[pl+32]
		}
		if q++; q == h {
			q = 0
			sym++
		}
	}
}

// transferPairs is transfer for 2-byte symbols (every blob below about 445 KB at n = 1000),
// where each run is one element: the shard's bytes alternate low and high, so they are
// moved a byte at a time instead of by two one-byte copies per element.
func (p tailPart) transferPairs(planar, shard []byte, u0, u1 int, toPlanar bool) {
	for d0 := 0; d0 < u1-u0; d0 += 32 {
		n := min(32, u1-u0-d0)
		blk := planar[d0*2 : d0*2+64 : d0*2+64]
		src := shard[(u0+d0)*2 : (u0+d0+n)*2]
		if toPlanar {
			for i := 0; i < n; i++ {
				blk[i], blk[32+i] = src[2*i], src[2*i+1]
			}
		} else {
			for i := 0; i < n; i++ {
				src[2*i], src[2*i+1] = blk[i], blk[32+i]
			}
		}
	}
}

// parts returns how shards with the given symbol size are tiled: one part, the block, tail
// or mixed part.
func parts(symbolSize int) (ps [2]part, n int) {
	switch {
	case symbolSize%64 == 0:
		ps[0] = part{symbolSize: symbolSize}
	case symbolSize < 64:
		ps[0] = part{tail: true, symbolSize: symbolSize}
	default:
		ps[0] = part{mixed: true, symbolSize: symbolSize}
	}
	return ps, 1
}
