package rscode

import "math/bits"

// work is a set of planar shards of equal width laid out in one buffer.
type work struct {
	buf   []byte
	width int     // bytes per shard, a multiple of 64
	ptrs  []*byte // one per shard, for the gather and scatter layers
	// The layout of the caller memory behind the gather and scatter pointers: runs of run
	// 64-byte blocks with gap bytes between them. Zero run means one contiguous span.
	run, gap int
	// Stand-ins for padding shards when the runs have gaps (see workBuf).
	zeros, junk []byte
}

// padIn returns the gather pointer of padding shard i, a zero input: the work shard itself
// (which the caller zeroed) for contiguous pointers, else the shared zero buffer, which
// covers the span with its gaps.
func (w *work) padIn(i int) *byte {
	if w.gap == 0 {
		return &w.buf[i*w.width]
	}
	return &w.zeros[0]
}

// padOut returns the scatter pointer of an output past the recovery shards, whose value is
// dropped: work shard i for contiguous pointers, else the shared junk buffer.
func (w *work) padOut(i int) *byte {
	if w.gap == 0 {
		return &w.buf[i*w.width]
	}
	return &w.junk[0]
}

// runs returns the run and gap of the gather and scatter pointers (see layerKernels).
func (w *work) runs() (int, int) {
	if w.run == 0 {
		return w.width / 64, 0
	}
	return w.run, w.gap
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
	lk := layers
	h := size / 2
	// Two layers at a time: layer h on (x0,x2),(x1,x3), then layer h/2 on (x0,x1),(x2,x3).
	// A block's second half is computed even past trunc; those outputs are unspecified.
	for ; h >= 2; h /= 4 {
		d := h / 2
		if lk != nil {
			x := w.buf[pos*w.width:]
			lk.fft4(x, x, d*w.width, (trunc+2*h-1)/(2*h), offset+d-1, d)
			continue
		}
		for b := 0; b < trunc; b += 2 * h {
			t02 := skew[offset+b+h-1]
			t01 := skew[offset+b+d-1]
			t23 := skew[offset+b+h+d-1]
			i := pos + b
			fft4(w.span(i, d), w.span(i+d, d), w.span(i+h, d), w.span(i+h+d, d), t02, t01, t23)
		}
	}
	if h == 1 {
		if lk != nil {
			x := w.buf[pos*w.width:]
			lk.fft2(x, x, w.width, (trunc+1)/2, offset, 2)
			return
		}
		for b := 0; b < trunc; b += 2 {
			fftButterfly(w.shard(pos+b), w.shard(pos+b+1), skew[offset+b])
		}
	}
}

// ifft is the inverse of fft: it turns the values at ω_{offset+t}, t < size, held in shards
// [pos, pos+size), into novel-basis coefficients, in place. Shards at t >= trunc must be
// zero on entry.
func (w *work) ifft(pos, size, trunc, offset int) {
	w.ifftFrom(pos, size, trunc, offset, 1)
}

// ifftGather is ifft with the input value t (t < trunc rounded up to 4) read from in[t]
// instead of shard pos+t; the work shards must be zero from trunc rounded up to 4. It needs
// layer kernels and size >= 4.
func (w *work) ifftGather(pos, size, trunc, offset int, in []*byte) {
	run, gap := w.runs()
	layers.ifft4Gather(w.buf[pos*w.width:], w.width, (trunc+3)/4, in, offset, run, gap, false)
	w.ifftFrom(pos, size, trunc, offset, 4)
}

// fftScatter is fft of the coefficients in shards [from, from+size) with output t written to
// out[t] for every t < trunc rounded up to the last layer's block (2 or 4); shards [pos,
// pos+size) are scratch and may equal from. It needs layer kernels and size >= 2.
func (w *work) fftScatter(from, pos, size, trunc, offset int, out []*byte) {
	lk := layers
	run, gap := w.runs()
	src := from
	h := size / 2
	if bits.TrailingZeros(uint(size))%2 == 1 && size >= 8 {
		// An odd number of layers: the radix-2 one first, so that the last pass, which
		// writes the outputs, does two layers.
		lk.fft2(w.buf[pos*w.width:], w.buf[src*w.width:], h*w.width, 1, offset+h-1, size)
		src = pos
		h /= 2
	}
	for ; h >= 2; h /= 4 {
		d := h / 2
		count := (trunc + 2*h - 1) / (2 * h)
		if d == 1 {
			lk.fft4Scatter(w.buf[src*w.width:], w.width, count, out, offset, run, gap, false)
			return
		}
		lk.fft4(w.buf[pos*w.width:], w.buf[src*w.width:], d*w.width, count, offset+d-1, d)
		src = pos
	}
	lk.fft2Scatter(w.buf[src*w.width:], w.width, (trunc+1)/2, out, offset, run, gap)
}

// ifftFrom runs the layers of ifft from the one of half-block h.
func (w *work) ifftFrom(pos, size, trunc, offset, h int) {
	skew := &transforms().skew
	lk := layers
	// Two layers at a time: layer h on (x0,x1),(x2,x3), then layer 2h on (x0,x2),(x1,x3).
	// Quarter blocks past trunc hold zeros and stay consistent.
	for ; 4*h <= size; h *= 4 {
		if lk != nil {
			x := w.buf[pos*w.width:]
			lk.ifft4(x, x, h*w.width, (trunc+4*h-1)/(4*h), offset+h-1, h)
			continue
		}
		for b := 0; b < trunc; b += 4 * h {
			t01 := skew[offset+b+h-1]
			t23 := skew[offset+b+3*h-1]
			t02 := skew[offset+b+2*h-1]
			i := pos + b
			ifft4(w.span(i, h), w.span(i+h, h), w.span(i+2*h, h), w.span(i+3*h, h), t02, t01, t23)
		}
	}
	if h < size {
		if lk != nil {
			lk.ifft2(w.buf[pos*w.width:], h*w.width, (trunc+2*h-1)/(2*h), offset+h-1, 2*h)
			return
		}
		for b := 0; b < trunc; b += 2 * h {
			ifftButterfly(w.span(pos+b, h), w.span(pos+b+h, h), skew[offset+b+h-1])
		}
	}
}

// formalDerivative replaces the novel-basis coefficients of Q in shards [0, n) with those
// of Q + Q', keeping only the first l coefficients (l a power of two <= n); shards [l, n)
// are left unchanged. With the Cantor basis every W̄_j has derivative 1, so d/dx X_i is the
// sum of X_{i-2^b} over the bits b of i, and coefficient t of Q + Q' is the sum of X_t and
// of X_{t+2^b} over the bits b not set in t. Within [0, l) this runs as one XOR of a run of
// shards per index: for i with lowest set bit w, shards [i, i+w) are added to [i-w, i), in
// increasing i; then the terms from beyond l, X_{t+b} for the powers of two b >= l, are
// added as whole runs. The decoder evaluates the result only at erased points, where Q
// vanishes, so it reads Q' there.
func (w *work) formalDerivative(n, l int) {
	for i := 1; i < l; i++ {
		width := i & -i
		xorShard(w.span(i-width, width), w.span(i, width))
	}
	for b := l; b < n; b *= 2 {
		xorShard(w.span(0, l), w.span(b, l))
	}
}
