//go:build !amd64 || purego

package blake2batch

// bestKernel returns the fastest kernel that this machine can run: without
// assembly, the generic one.
func bestKernel() kernel { return kernelGeneric }

// available reports whether kernel k can run on this machine: only the
// generic one can, without assembly.
func available(k kernel) bool { return k == kernelGeneric }

// sumSIMD is never called without assembly: active is always
// kernelGeneric.
func sumSIMD(k kernel, dst [][Size]byte, b *batch) {
	panic("blake2batch: no such kernel: " + k.String())
}
