package rscode

// work is a set of planar shards of equal width laid out in one buffer.
type work struct {
	buf   []byte
	width int // bytes per shard, a multiple of 64
}

func (w *work) shard(i int) []byte {
	return w.buf[i*w.width : (i+1)*w.width : (i+1)*w.width]
}

// span returns shards [i, i+count) as one slice: shards are contiguous, and every kernel is
// element-wise, so a run of butterflies on consecutive shards is one kernel call.
func (w *work) span(i, count int) []byte {
	return w.buf[i*w.width : (i+count)*w.width : (i+count)*w.width]
}

func (w *work) zero(from, to int) {
	clear(w.buf[from*w.width : to*w.width])
}

// fft evaluates the polynomial whose novel-basis coefficients are shards [pos, pos+size)
// at the points ω_{offset+t}, t < size, in place. Only outputs t < trunc are computed;
// the others are left in an unspecified state. size is a power of two and offset a
// multiple of size.
func (w *work) fft(pos, size, trunc, offset int) {
	skew := &transforms().skew
	h := size / 2
	// Two layers at a time: layer h on (x0,x2),(x1,x3), then layer h/2 on (x0,x1),(x2,x3).
	// A block's second half is computed even past trunc; those outputs are unspecified.
	for ; h >= 2; h /= 4 {
		d := h / 2
		for b := 0; b < trunc; b += 2 * h {
			t02 := skew[offset+b+h-1]
			t01 := skew[offset+b+d-1]
			t23 := skew[offset+b+h+d-1]
			i := pos + b
			fft4(w.span(i, d), w.span(i+d, d), w.span(i+h, d), w.span(i+h+d, d), t02, t01, t23)
		}
	}
	if h == 1 {
		for b := 0; b < trunc; b += 2 {
			fftButterfly(w.shard(pos+b), w.shard(pos+b+1), skew[offset+b])
		}
	}
}

// ifft is the inverse of fft: it turns the values at ω_{offset+t}, t < size, held in shards
// [pos, pos+size), into novel-basis coefficients, in place. Shards at t >= trunc must be
// zero on entry.
func (w *work) ifft(pos, size, trunc, offset int) {
	skew := &transforms().skew
	h := 1
	// Two layers at a time: layer h on (x0,x1),(x2,x3), then layer 2h on (x0,x2),(x1,x3).
	// Quarter blocks past trunc hold zeros and stay consistent.
	for ; 4*h <= size; h *= 4 {
		for b := 0; b < trunc; b += 4 * h {
			t01 := skew[offset+b+h-1]
			t23 := skew[offset+b+3*h-1]
			t02 := skew[offset+b+2*h-1]
			i := pos + b
			ifft4(w.span(i, h), w.span(i+h, h), w.span(i+2*h, h), w.span(i+3*h, h), t02, t01, t23)
		}
	}
	if h < size {
		for b := 0; b < trunc; b += 2 * h {
			ifftButterfly(w.span(pos+b, h), w.span(pos+b+h, h), skew[offset+b+h-1])
		}
	}
}

// formalDerivative replaces the novel-basis coefficients of Q in shards [0, n) with those
// of Q + Q'. With the Cantor basis every W̄_j has derivative 1, so d/dx X_i is the sum of
// X_{i-2^b} over the bits b of i. Adding Q itself lets the whole computation run as one XOR
// of a run of shards per index: for i with lowest set bit w, shards [i, i+w) are added to
// [i-w, i), in increasing i. The decoder evaluates the result only at erased points, where
// Q vanishes, so it reads Q' there.
func (w *work) formalDerivative(n int) {
	for i := 1; i < n; i++ {
		width := i & -i
		xorShard(w.span(i-width, width), w.span(i, width))
	}
}
