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

func init() { useKernels(availableKernels()[0]) }
