package rscode

import (
	"fmt"
	"testing"
)

// The shapes of reed-solomon-simd's table in the project's codec reference.
var benchShapes = []struct{ k, m int }{{334, 666}, {667, 333}, {4, 6}, {7, 3}}
var benchSizes = []int{64, 1024, 16384}

func benchShards(count, size int) [][]byte {
	out := make([][]byte, count)
	for i := range out {
		out[i] = make([]byte, size)
		for j := range out[i] {
			out[i][j] = byte(i*31 + j*7)
		}
	}
	return out
}

func BenchmarkEncode(b *testing.B) {
	for _, sh := range benchShapes {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("%d:%d/%dB", sh.k, sh.m, size), func(b *testing.B) {
				c, _ := New(sh.k, sh.m)
				orig, rec := benchShards(sh.k, size), benchShards(sh.m, size)
				b.SetBytes(int64(sh.k * size))
				b.ReportAllocs()
				for b.Loop() {
					if err := c.Encode(size, orig, rec); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDecode loses the first min(k, m) originals and decodes from the first min(k, m)
// recovery shards plus the remaining originals, the maximum loss.
func BenchmarkDecode(b *testing.B) {
	for _, sh := range benchShapes {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("%d:%d/%dB", sh.k, sh.m, size), func(b *testing.B) {
				c, _ := New(sh.k, sh.m)
				orig, rec := benchShards(sh.k, size), benchShards(sh.m, size)
				if err := c.Encode(size, orig, rec); err != nil {
					b.Fatal(err)
				}
				lost := min(sh.k, sh.m)
				shards := make([][]byte, sh.k+sh.m)
				b.SetBytes(int64(sh.k * size))
				b.ReportAllocs()
				for b.Loop() {
					copy(shards[lost:sh.k], orig[lost:])
					clear(shards[:lost])
					copy(shards[sh.k:], rec[:lost])
					clear(shards[sh.k+lost:])
					if err := c.Reconstruct(size, shards); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkOddSymbol codes shards of 64 symbols of 302 bytes, the symbol size of a 64 MiB
// blob at n = 1000: four full planar blocks and a 46-byte tail per symbol, so the work
// buffer is filled block run by block run and tail by tail.
func BenchmarkOddSymbol(b *testing.B) {
	const k, m, sym = 334, 666, 302
	size := 64 * sym
	c, _ := New(k, m)
	orig, rec := benchShards(k, size), benchShards(m, size)
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(k * size))
		for b.Loop() {
			if err := c.Encode(sym, orig, rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-repair", func(b *testing.B) {
		// The last k recovery shards, as in a decode from repair slivers.
		shards := make([][]byte, k+m)
		dst := make([][]byte, k)
		for i := range dst {
			dst[i] = make([]byte, size)
		}
		b.SetBytes(int64(k * size))
		for b.Loop() {
			clear(shards)
			copy(shards[k+m-k:], rec[m-k:])
			if err := c.ReconstructInto(sym, shards, dst); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBlobShapes codes shards of the shapes redstuff's Encode hands the codec at
// n = 1000 for a 64 MiB blob (302-byte symbols): the column code over the 334 source rows
// (667 symbols each, 666 recovery rows) and the row code over the 667 source columns (334
// symbols each, 333 recovery columns). The shards are whole slivers, far larger than the
// caches, so the tiles read and write them at a stride as Encode does.
func BenchmarkBlobShapes(b *testing.B) {
	for _, sh := range []struct {
		name       string
		k, m, syms int
	}{{"columns", 334, 666, 667}, {"rows", 667, 333, 334}} {
		const sym = 302
		b.Run(sh.name, func(b *testing.B) {
			c, _ := New(sh.k, sh.m)
			orig, rec := benchShards(sh.k, sh.syms*sym), benchShards(sh.m, sh.syms*sym)
			b.SetBytes(int64(sh.k * sh.syms * sym))
			for b.Loop() {
				if err := c.Encode(sym, orig, rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
