package blake2batch

import (
	"syscall"
	"testing"
)

// guarded returns a page of memory between two pages that fault when
// touched, so that a kernel reading before the start or past the end of its
// input crashes the test instead of reading a neighbour's bytes.
func guarded(t *testing.T) []byte {
	t.Helper()
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 3*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	for _, guard := range [][]byte{mem[:page], mem[2*page:]} {
		if err := syscall.Mprotect(guard, syscall.PROT_NONE); err != nil {
			t.Fatalf("mprotect: %v", err)
		}
	}
	return mem[page : 2*page : 2*page]
}

// TestGuardPages hashes batches that start right after, or end right
// before, memory that faults.
func TestGuardPages(t *testing.T) {
	c := getCorpus(t)
	forEachKernel(t, func(t *testing.T) {
		mem := guarded(t)
		dst := make([][Size]byte, maxCount)
		for size := 1; size <= min(len(mem), maxSize); size++ {
			if size > 300 && size%blockSize > 1 && size%blockSize < blockSize-1 {
				continue
			}
			for _, count := range []int{1, 2, 3, 5, 8, 9, 16, 17} {
				n := count * size
				if n > len(mem) {
					break
				}
				for _, data := range [][]byte{mem[:n], mem[len(mem)-n:]} {
					copy(data, c.pool[:n])
					SumPrefixed(dst, 1, data, size)
					for i := range count {
						if want := c.refs[1][size][i]; dst[i] != want {
							t.Fatalf("size %d, %d chunks: digest %d = %x, want %x", size, count, i, dst[i], want)
						}
					}
					msgs := make([][]byte, count)
					for i := range msgs {
						msgs[i] = data[i*size : (i+1)*size]
					}
					SumMany(dst, msgs)
					for i := range count {
						if want := c.refs[2][size][i]; dst[i] != want {
							t.Fatalf("size %d, %d messages: digest %d = %x, want %x", size, count, i, dst[i], want)
						}
					}
				}
			}
		}
	})
}
