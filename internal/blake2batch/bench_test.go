package blake2batch

import (
	"fmt"
	"testing"

	"golang.org/x/crypto/blake2b"
)

// benchChunks is the number of messages per batch in the benchmarks: one
// Merkle leaf batch of a blob encoded for n = 1000 shards.
const benchChunks = 1000

// benchKernels runs f as a sub-benchmark for each kernel available, and
// for golang.org/x/crypto/blake2b hashing one message at a time as
// "xcrypto" (f is passed the kernel xcrypto for it). Compare the kernels
// with benchstat -col /kernel.
func benchKernels(b *testing.B, f func(b *testing.B, k kernel)) {
	for _, k := range kernels {
		if !available(k) {
			continue
		}
		b.Run("kernel="+k.String(), func(b *testing.B) {
			defer setKernel(k)()
			f(b, k)
		})
	}
	b.Run("kernel=xcrypto", func(b *testing.B) { f(b, xcrypto) })
}

// xcrypto stands for golang.org/x/crypto/blake2b in the benchmarks.
const xcrypto kernel = 255

// reportPerMessage reports the time per message of a batch of n messages.
func reportPerMessage(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/msg")
}

func BenchmarkSumPrefixed(b *testing.B) {
	for _, size := range []int{2, 32, 64, 302, 1024} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			data := make([]byte, benchChunks*size)
			for i := range data {
				data[i] = byte(i * 7)
			}
			dst := make([][Size]byte, benchChunks)
			benchKernels(b, func(b *testing.B, k kernel) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				if k == xcrypto {
					msg := make([]byte, 1+size)
					for b.Loop() {
						for i := range dst {
							msg[0] = 0
							copy(msg[1:], data[i*size:])
							dst[i] = blake2b.Sum256(msg)
						}
					}
				} else {
					for b.Loop() {
						SumPrefixed(dst, 0, data, size)
					}
				}
				reportPerMessage(b, benchChunks)
			})
		})
	}
}

func BenchmarkSumPairs(b *testing.B) {
	nodes := make([][Size]byte, 2*benchChunks)
	for i := range nodes {
		nodes[i][0] = byte(i)
	}
	dst := make([][Size]byte, benchChunks)
	benchKernels(b, func(b *testing.B, k kernel) {
		b.SetBytes(int64(len(nodes) * Size))
		b.ReportAllocs()
		if k == xcrypto {
			var msg [1 + 2*Size]byte
			for b.Loop() {
				for i := range dst {
					msg[0] = 1
					copy(msg[1:], nodes[2*i][:])
					copy(msg[1+Size:], nodes[2*i+1][:])
					dst[i] = blake2b.Sum256(msg[:])
				}
			}
		} else {
			for b.Loop() {
				SumPairs(dst, 1, nodes)
			}
		}
		reportPerMessage(b, benchChunks)
	})
}

func BenchmarkSum256(b *testing.B) {
	for _, size := range []int{3, 65, 1025} {
		msg := make([]byte, size)
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			b.Run("kernel=generic", func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					Sum256(msg)
				}
			})
			b.Run("kernel=xcrypto", func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					blake2b.Sum256(msg)
				}
			})
		})
	}
}
