package store

import (
	"sync"
	"unsafe"
)

// directAlign is the alignment of direct I/O: of the memory, the file offsets and the
// lengths of every read and write of a segment opened with O_DIRECT. 4096 is the logical
// block size of common devices and a multiple of the smaller ones'.
const directAlign = 4096

func alignDown(n int64) int64 { return n &^ (directAlign - 1) }

func alignUp(n int64) int64 { return (n + directAlign - 1) &^ (directAlign - 1) }

// alignedBytes returns a buffer of length 0 and capacity n rounded up to directAlign,
// starting at an address that is a multiple of directAlign.
func alignedBytes(n int) []byte {
	c := int(alignUp(int64(n)))
	b := make([]byte, c+directAlign)
	k := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (directAlign - 1))
	if k != 0 {
		k = directAlign - k
	}
	return b[k : k : k+c]
}

// isAligned reports whether b can be written with direct I/O as it is, padded within its
// capacity: it starts on a directAlign boundary and its capacity covers its length
// rounded up.
func isAligned(b []byte) bool {
	return cap(b) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(b)))&(directAlign-1) == 0 &&
		int64(cap(b)) >= alignUp(int64(len(b)))
}

// growAligned returns b (keeping its bytes) with room for n more bytes and the padding of
// a direct write after them, reallocating aligned if needed.
func growAligned(b []byte, n int) []byte {
	if int64(cap(b)) >= alignUp(int64(len(b)+n)) && (cap(b) == 0 || isAligned(b)) {
		return b
	}
	nb := alignedBytes(max(len(b)+n, 2*cap(b)))
	return append(nb, b...)
}

// sameStart reports whether a and b start at the same address (a read returned the
// buffer it was given, not a new one).
func sameStart(a, b []byte) bool {
	return cap(a) > 0 && cap(b) > 0 && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// readPool holds the aligned buffers of direct reads, which read the blocks enclosing a
// sliver before copying it to the caller's memory. Buffers larger than maxPooledRead are
// not kept.
var readPool sync.Pool

const maxPooledRead = 16 << 20

func getReadBuffer(n int) *[]byte {
	if b, ok := readPool.Get().(*[]byte); ok && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	}
	b := alignedBytes(n)[:n]
	return &b
}

func putReadBuffer(b *[]byte) {
	if cap(*b) <= maxPooledRead {
		readPool.Put(b)
	}
}
