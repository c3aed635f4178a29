//go:build amd64 && !purego

package rscode

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/cpu"
)

//go:noescape
func mulAddGFNI(x, y *byte, n int, mats *gfniMatrices)

//go:noescape
func mulGFNI(x *byte, n int, mats *gfniMatrices)

//go:noescape
func fftGFNI(x, y *byte, n int, mats *gfniMatrices)

//go:noescape
func ifftGFNI(x, y *byte, n int, mats *gfniMatrices)

//go:noescape
func fft4GFNI(x0, x1, x2, x3 *byte, n int, m02, m01, m23 *gfniMatrices)

//go:noescape
func ifft4GFNI(x0, x1, x2, x3 *byte, n int, m02, m01, m23 *gfniMatrices)

// gfniOrZero returns the matrices of a twiddle, all zero for the zero twiddle (modulus).
func gfniOrZero(logM uint16) *gfniMatrices {
	if logM == modulus {
		return &zeroMatrices
	}
	return gfniFor(logM)
}

var zeroMatrices gfniMatrices

//go:noescape
func fft4RunGFNI(dst, src *byte, n, count int, mp **gfniMatrices, q int)

//go:noescape
func ifft4RunGFNI(dst, src *byte, n, count int, mp **gfniMatrices, q int)

//go:noescape
func fft2RunGFNI(dst, src *byte, n, count int, mp **gfniMatrices, stride int)

//go:noescape
func ifft2RunGFNI(x *byte, n, count int, mp **gfniMatrices, stride int)

//go:noescape
func ifft4GatherGFNI(dst *byte, n, count int, src **byte, mp **gfniMatrices, run, gap int, sum bool)

//go:noescape
func fft4ScatterGFNI(src *byte, n, count int, dst **byte, mp **gfniMatrices, run, gap int, reuse bool)

//go:noescape
func fft2ScatterGFNI(src *byte, n, count int, dst **byte, mp **gfniMatrices, run, gap int)

// gfniLayers runs whole layers with the matrices of the skew table (see gfniSkew).
var gfniLayers = &layerKernels{
	fft4: func(dst, src []byte, n, count, skewPos, q int) {
		if count > 0 && n > 0 {
			_, _ = dst[4*n*count-1], src[4*n*count-1]
			fft4RunGFNI(&dst[0], &src[0], n, count, &gfniSkew(skewPos + (count-1)*4*q + 2*q + 1)[skewPos], q)
		}
	},
	ifft4: func(dst, src []byte, n, count, skewPos, q int) {
		if count > 0 && n > 0 {
			_, _ = dst[4*n*count-1], src[4*n*count-1]
			ifft4RunGFNI(&dst[0], &src[0], n, count, &gfniSkew(skewPos + (count-1)*4*q + 2*q + 1)[skewPos], q)
		}
	},
	fft2: func(dst, src []byte, n, count, skewPos, stride int) {
		if count > 0 && n > 0 {
			_, _ = dst[2*n*count-1], src[2*n*count-1]
			fft2RunGFNI(&dst[0], &src[0], n, count, &gfniSkew(skewPos + (count-1)*stride + 1)[skewPos], stride)
		}
	},
	ifft2: func(x []byte, n, count, skewPos, stride int) {
		if count > 0 && n > 0 {
			_ = x[2*n*count-1]
			ifft2RunGFNI(&x[0], n, count, &gfniSkew(skewPos + (count-1)*stride + 1)[skewPos], stride)
		}
	},
	ifft4Gather: func(dst []byte, n, count int, src []*byte, skewPos, run, gap int, sum bool) {
		if count > 0 && n > 0 {
			checkRuns(n, run, gap)
			if sum {
				_ = dst[4*n-1]
			} else {
				_ = dst[4*n*count-1]
			}
			_ = src[4*count-1]
			ifft4GatherGFNI(&dst[0], n, count, &src[0], &gfniSkew(skewPos + 4*count)[skewPos], run, gap, sum)
		}
	},
	fft4Scatter: func(src []byte, n, count int, dst []*byte, skewPos, run, gap int, reuse bool) {
		if count > 0 && n > 0 {
			checkRuns(n, run, gap)
			if reuse {
				_ = src[4*n-1]
			} else {
				_ = src[4*n*count-1]
			}
			_ = dst[4*count-1]
			fft4ScatterGFNI(&src[0], n, count, &dst[0], &gfniSkew(skewPos + 4*count)[skewPos], run, gap, reuse)
		}
	},
	fft2Scatter: func(src []byte, n, count int, dst []*byte, skewPos, run, gap int) {
		if count > 0 && n > 0 {
			checkRuns(n, run, gap)
			_, _ = src[2*n*count-1], dst[2*count-1]
			fft2ScatterGFNI(&src[0], n, count, &dst[0], &gfniSkew(skewPos + 2*count)[skewPos], run, gap)
		}
	},
}

//go:noescape
func mulAddAVX2(x, y *byte, n int, t *nibbleTables)

//go:noescape
func mulAVX2(x *byte, n int, t *nibbleTables)

//go:noescape
func fftAVX2(x, y *byte, n int, t *nibbleTables)

//go:noescape
func ifftAVX2(x, y *byte, n int, t *nibbleTables)

var gfniKernels = kernelSet{
	name:   "gfni",
	layers: gfniLayers,
	mulAdd: func(x, y []byte, logM uint16) {
		if len(x) > 0 {
			mulAddGFNI(&x[0], &y[0], len(x), gfniFor(logM))
		}
	},
	mul: func(x []byte, logM uint16) {
		if len(x) > 0 {
			mulGFNI(&x[0], len(x), gfniFor(logM))
		}
	},
	fft: func(x, y []byte, logM uint16) {
		if logM == modulus {
			xorShard(y, x)
		} else if len(x) > 0 {
			fftGFNI(&x[0], &y[0], len(x), gfniFor(logM))
		}
	},
	ifft: func(x, y []byte, logM uint16) {
		if logM == modulus {
			xorShard(y, x)
		} else if len(x) > 0 {
			ifftGFNI(&x[0], &y[0], len(x), gfniFor(logM))
		}
	},
}

func init() {
	gfniKernels.fft4 = func(x0, x1, x2, x3 []byte, t02, t01, t23 uint16) {
		if len(x0) > 0 {
			fft4GFNI(&x0[0], &x1[0], &x2[0], &x3[0], len(x0), gfniOrZero(t02), gfniOrZero(t01), gfniOrZero(t23))
		}
	}
	gfniKernels.ifft4 = func(x0, x1, x2, x3 []byte, t02, t01, t23 uint16) {
		if len(x0) > 0 {
			ifft4GFNI(&x0[0], &x1[0], &x2[0], &x3[0], len(x0), gfniOrZero(t02), gfniOrZero(t01), gfniOrZero(t23))
		}
	}
}

var avx2Kernels = kernelSet{
	name: "avx2",
	mulAdd: func(x, y []byte, logM uint16) {
		if len(x) > 0 {
			mulAddAVX2(&x[0], &y[0], len(x), nibblesFor(logM))
		}
	},
	mul: func(x []byte, logM uint16) {
		if len(x) > 0 {
			mulAVX2(&x[0], len(x), nibblesFor(logM))
		}
	},
	fft: func(x, y []byte, logM uint16) {
		if logM == modulus {
			xorShard(y, x)
		} else if len(x) > 0 {
			fftAVX2(&x[0], &y[0], len(x), nibblesFor(logM))
		}
	},
	ifft: func(x, y []byte, logM uint16) {
		if logM == modulus {
			xorShard(y, x)
		} else if len(x) > 0 {
			ifftAVX2(&x[0], &y[0], len(x), nibblesFor(logM))
		}
	},
}

func hasGFNI() bool { return cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512GFNI }
func hasAVX2() bool { return cpu.X86.HasAVX2 }

// availableKernels lists the kernel sets this CPU can run, fastest first.
func availableKernels() []kernelSet {
	var ks []kernelSet
	if hasGFNI() {
		ks = append(ks, gfniKernels)
	}
	if hasAVX2() {
		ks = append(ks, avx2Kernels)
	}
	return append(ks, genericKernels)
}

func init() {
	avx2Kernels.fft4, avx2Kernels.ifft4 = radix2As4(avx2Kernels)
	useKernels(availableKernels()[0])
}

// skewGFNI[i] is the matrices of the twiddle skew[i] (the zero matrices for the zero
// twiddle), filled for i < skewGFNIDone. Entries never change once published, so the layer
// kernels read them without locking.
var (
	skewGFNI     [modulus]*gfniMatrices
	skewGFNIDone atomic.Int64
	skewGFNIMu   sync.Mutex
)

// gfniSkew returns the skew matrix table with at least its first limit entries filled.
func gfniSkew(limit int) *[modulus]*gfniMatrices {
	if int(skewGFNIDone.Load()) >= limit {
		return &skewGFNI
	}
	skewGFNIMu.Lock()
	defer skewGFNIMu.Unlock()
	done := int(skewGFNIDone.Load())
	if done < limit {
		// Fill whole 1024-entry chunks so that small domains share one build.
		end := min(modulus, (limit+1023)/1024*1024)
		skew := &transforms().skew
		for i := done; i < end; i++ {
			skewGFNI[i] = gfniOrZero(skew[i])
		}
		skewGFNIDone.Store(int64(end))
	}
	return &skewGFNI
}
