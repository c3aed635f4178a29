//go:build amd64 && !purego

package rscode

import "golang.org/x/sys/cpu"

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
func mulAddAVX2(x, y *byte, n int, t *nibbleTables)

//go:noescape
func mulAVX2(x *byte, n int, t *nibbleTables)

//go:noescape
func fftAVX2(x, y *byte, n int, t *nibbleTables)

//go:noescape
func ifftAVX2(x, y *byte, n int, t *nibbleTables)

var gfniKernels = kernelSet{
	name: "gfni",
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
