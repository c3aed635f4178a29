//go:build !amd64 || purego

package rscode

// availableKernels lists the kernel sets this build can run: only pure Go.
func availableKernels() []kernelSet { return []kernelSet{genericKernels} }

func init() { useKernels(genericKernels) }
