package merkle

import (
	"fmt"
	"testing"
)

var sinkNode Node

func BenchmarkLeafHash(b *testing.B) {
	for _, size := range []int{2, 64, 1024} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			data := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				sinkNode = LeafHash(data)
			}
		})
	}
}

// BenchmarkHasherLeafHash covers the streaming path used for leaves longer
// than 4 KiB (Walrus symbols reach 65534 bytes).
func BenchmarkHasherLeafHash(b *testing.B) {
	for _, size := range []int{1024, 65534} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			data := make([]byte, size)
			var h Hasher
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				sinkNode = h.LeafHash(data)
			}
		})
	}
}

// BenchmarkLeafHashes hashes one sliver's worth of leaves: 1000 symbols.
func BenchmarkLeafHashes(b *testing.B) {
	for _, size := range []int{2, 64, 1024} {
		b.Run(fmt.Sprintf("1000x%dB", size), func(b *testing.B) {
			data := make([]byte, 1000*size)
			dst := make([]Node, 0, 1000)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				dst = LeafHashes(dst[:0], data, size)
			}
		})
	}
}

func BenchmarkInnerHash(b *testing.B) {
	l, r := LeafHash([]byte("l")), LeafHash([]byte("r"))
	b.SetBytes(2 * Size)
	b.ReportAllocs()
	for b.Loop() {
		sinkNode = InnerHash(l, r)
	}
}

// BenchmarkRoot computes the root over 1000 leaf hashes (n = 1000 shards);
// bytes/s counts the leaf hashes consumed.
func BenchmarkRoot(b *testing.B) {
	leaves := distinctLeaves(1000, 5)
	b.Run("Root", func(b *testing.B) {
		b.SetBytes(int64(len(leaves) * Size))
		b.ReportAllocs()
		for b.Loop() {
			sinkNode = Root(leaves)
		}
	})
	b.Run("RootInto", func(b *testing.B) {
		scratch := make([]Node, ScratchLen(len(leaves)))
		b.SetBytes(int64(len(leaves) * Size))
		b.ReportAllocs()
		for b.Loop() {
			sinkNode = RootInto(scratch, leaves)
		}
	})
	b.Run("New", func(b *testing.B) {
		b.SetBytes(int64(len(leaves) * Size))
		b.ReportAllocs()
		for b.Loop() {
			sinkNode = New(leaves).Root()
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	leaves := distinctLeaves(1000, 6)
	tree := New(leaves)
	p, _ := tree.Proof(333)
	root := tree.Root()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Verify(root, leaves[333], 333, len(leaves)); err != nil {
			b.Fatal(err)
		}
	}
}
