package rscode

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// forEachKernel runs fn once per kernel set this CPU and build support, restoring the
// default afterwards.
func forEachKernel(t *testing.T, fn func(t *testing.T)) {
	def := kernelSet{name: kernelName, mulAdd: mulAddShard, fft: fftButterfly, ifft: ifftButterfly, mul: mulShard, fft4: fft4, ifft4: ifft4, layers: layers}
	defer useKernels(def)
	for _, k := range availableKernels() {
		useKernels(k)
		t.Run(k.name, fn)
	}
}

// Every SIMD kernel equals the pure-Go kernel on random blocks and constants.
func TestKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range availableKernels() {
		for trial := 0; trial < 300; trial++ {
			n := 64 * (1 + rng.IntN(5))
			logM := uint16(rng.IntN(modulus))
			if trial == 0 {
				logM = 0 // the constant 1
			}
			x, y := make([]byte, n), make([]byte, n)
			for i := range x {
				x[i], y[i] = byte(rng.Uint32()), byte(rng.Uint32())
			}
			check := func(op string, got, want []byte) {
				if !bytes.Equal(got, want) {
					t.Fatalf("%s %s differs from generic (n=%d logM=%d)", k.name, op, n, logM)
				}
			}
			gx, wx := bytes.Clone(x), bytes.Clone(x)
			k.mulAdd(gx, y, logM)
			mulAddGeneric(wx, y, logM)
			check("mulAdd", gx, wx)
			gx, wx = bytes.Clone(x), bytes.Clone(x)
			k.mul(gx, logM)
			mulGeneric(wx, logM)
			check("mul", gx, wx)
			t02, t01, t23 := logM, uint16(rng.IntN(modulus)), uint16(modulus)
			if trial%2 == 0 {
				t02, t23 = modulus, uint16(rng.IntN(modulus))
			}
			quad := func() [][]byte {
				q := make([][]byte, 4)
				for i := range q {
					q[i] = make([]byte, n)
					for j := range q[i] {
						q[i][j] = byte(rng.Uint32())
					}
				}
				return q
			}
			for _, pair := range []struct {
				name      string
				got, want func(x0, x1, x2, x3 []byte, t02, t01, t23 uint16)
			}{{"fft4", k.fft4, genericKernels.fft4}, {"ifft4", k.ifft4, genericKernels.ifft4}} {
				g := quad()
				w := [][]byte{bytes.Clone(g[0]), bytes.Clone(g[1]), bytes.Clone(g[2]), bytes.Clone(g[3])}
				pair.got(g[0], g[1], g[2], g[3], t02, t01, t23)
				pair.want(w[0], w[1], w[2], w[3], t02, t01, t23)
				for i := range g {
					check(pair.name, g[i], w[i])
				}
			}
			for _, lm := range []uint16{logM, modulus} {
				gx, gy, wx, wy := bytes.Clone(x), bytes.Clone(y), bytes.Clone(x), bytes.Clone(y)
				k.fft(gx, gy, lm)
				fftGeneric(wx, wy, lm)
				check("fft x", gx, wx)
				check("fft y", gy, wy)
				gx, gy, wx, wy = bytes.Clone(x), bytes.Clone(y), bytes.Clone(x), bytes.Clone(y)
				k.ifft(gx, gy, lm)
				ifftGeneric(wx, wy, lm)
				check("ifft x", gx, wx)
				check("ifft y", gy, wy)
			}
		}
	}
}

func TestVectorsAllKernels(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		t.Run("encode", TestVectorsEncode)
		t.Run("decode", TestVectorsDecode)
		t.Run("roundtrip", TestRoundTripRandomSubsets)
	})
}

// The whole-layer kernels (with their gather and scatter forms) give the same transforms as
// the block-by-block butterflies of the same kernel set.
func TestLayerKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	def := kernelSet{name: kernelName, mulAdd: mulAddShard, fft: fftButterfly, ifft: ifftButterfly, mul: mulShard, fft4: fft4, ifft4: ifft4, layers: layers}
	defer useKernels(def)
	for _, k := range availableKernels() {
		if k.layers == nil {
			continue
		}
		for trial := 0; trial < 200; trial++ {
			size := 1 << (2 + rng.IntN(8))
			offset := size * rng.IntN(8)
			trunc := 1 + rng.IntN(size)
			width := 64 * (1 + rng.IntN(3))
			fill := func() work {
				w := work{buf: make([]byte, 2*size*width), width: width}
				for i := 0; i < trunc*width; i++ {
					w.buf[i] = byte(rng.Uint32())
				}
				return w
			}
			blocks := func(fn func()) {
				plain := k
				plain.layers = nil
				useKernels(plain)
				fn()
				useKernels(k)
			}
			// ifft and fft in place.
			a := fill()
			b := work{buf: bytes.Clone(a.buf), width: width}
			useKernels(k)
			a.ifft(0, size, trunc, offset)
			a.fft(0, size, size, offset)
			blocks(func() { b.ifft(0, size, trunc, offset); b.fft(0, size, size, offset) })
			if !bytes.Equal(a.buf[:size*width], b.buf[:size*width]) {
				t.Fatalf("%s: ifft+fft size %d offset %d trunc %d differ", k.name, size, offset, trunc)
			}
			// ifftGather from separate shards, then fftScatter into separate shards.
			a = fill()
			b = work{buf: bytes.Clone(a.buf), width: width}
			in := make([]*byte, size)
			src := make([][]byte, size)
			for i := range src {
				src[i] = bytes.Clone(a.shard(i))
				in[i] = &src[i][0]
			}
			clear(a.buf)
			a.ifftGather(0, size, trunc, offset, in)
			out := make([]*byte, size)
			dst := make([][]byte, size)
			for i := range dst {
				dst[i] = make([]byte, width)
				out[i] = &dst[i][0]
			}
			a.fftScatter(0, size, size, trunc, offset+size, out)
			blocks(func() { b.ifft(0, size, trunc, offset); b.fft(0, size, trunc, offset+size) })
			for i := 0; i < trunc; i++ {
				if !bytes.Equal(dst[i], b.shard(i)) {
					t.Fatalf("%s: gather/scatter size %d offset %d trunc %d: output %d differs", k.name, size, offset, trunc, i)
				}
			}
		}
	}
}

// Symbols of full blocks and a tail are coded in place on the layer kernels, the gather and
// scatter layers stepping over the tails (encodeRuns). The recovery shards equal those of the
// next kernel set, which has no layer kernels and copies every symbol through the work
// buffer, for every tiling: whole
// symbols per tile, a symbol wider than a tile, and the one-layer-pair codes (chunk 4). No byte
// around a shard is written and the originals are left as they were.
func TestEncodeRunsAgree(t *testing.T) {
	ks := availableKernels()
	fast, plain := ks[0], ks[1] // plain: the next set, without layer kernels (AVX2 or pure Go)
	if fast.layers == nil || plain.layers != nil {
		t.Skip("no layer kernels on this CPU")
	}
	def := kernelSet{name: kernelName, mulAdd: mulAddShard, fft: fftButterfly, ifft: ifftButterfly, mul: mulShard, fft4: fft4, ifft4: ifft4, layers: layers}
	defer useKernels(def)
	rng := rand.New(rand.NewPCG(5, 6))
	const guard = 64
	// shards returns count shards of size bytes inside one buffer, each followed by guard
	// bytes of 0xA5, and the buffer.
	shards := func(count, size int, random bool) ([][]byte, []byte) {
		buf := make([]byte, count*(size+guard))
		for i := range buf {
			buf[i] = 0xA5
		}
		out := make([][]byte, count)
		for i := range out {
			out[i] = buf[i*(size+guard) : i*(size+guard)+size : i*(size+guard)+size]
			for j := range out[i] {
				if random {
					out[i][j] = byte(rng.Uint32())
				} else {
					out[i][j] = 0
				}
			}
		}
		return out, buf
	}
	for _, sh := range []struct{ k, m int }{{3, 5}, {5, 3}, {4, 9}, {20, 50}, {50, 20}, {334, 666}, {667, 333}} {
		c, err := New(sh.k, sh.m)
		if err != nil {
			t.Fatal(err)
		}
		// 66 and 130: one and two blocks with a 2-byte tail; 302: the 64 MiB symbol at n =
		// 1000; c.step*64+62: one block more than a tile, so a symbol spans tiles.
		for _, sym := range []int{66, 130, 302, c.step*64 + 62} {
			counts := []int{1, 5} // 5 symbols of 302 bytes are two tiles at k+m = 1000
			if sh.k+sh.m < 100 && sym < 1024 {
				counts = append(counts, c.step+1) // several tiles of whole symbols
			}
			for _, syms := range counts {
				size := sym * syms
				orig, origBuf := shards(sh.k, size, true)
				before := bytes.Clone(origBuf)
				got, gotBuf := shards(sh.m, size, false)
				useKernels(fast)
				if err := c.Encode(sym, orig, got); err != nil {
					t.Fatal(err)
				}
				useKernels(plain)
				want, _ := shards(sh.m, size, false)
				if err := c.Encode(sym, orig, want); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(origBuf, before) {
					t.Fatalf("k=%d m=%d symbol %d × %d: originals or their guards changed", sh.k, sh.m, sym, syms)
				}
				for j := range got {
					if !bytes.Equal(got[j], want[j]) {
						t.Fatalf("k=%d m=%d symbol %d × %d: recovery %d differs from the %s kernels", sh.k, sh.m, sym, syms, j, plain.name)
					}
					g := gotBuf[j*(size+guard)+size : (j+1)*(size+guard)]
					if !bytes.Equal(g, bytes.Repeat([]byte{0xA5}, guard)) {
						t.Fatalf("k=%d m=%d symbol %d × %d: guard after recovery %d written", sh.k, sh.m, sym, syms, j)
					}
				}
			}
		}
	}
}
