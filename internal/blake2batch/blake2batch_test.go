package blake2batch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/blake2b"
)

// kernels lists every kernel; forEachKernel runs f as a subtest per
// kernel, skipping those this machine cannot run.
var kernels = []kernel{kernelGeneric, kernelAVX2, kernelAVX512}

func forEachKernel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, k := range kernels {
		t.Run(k.String(), func(t *testing.T) {
			if !available(k) {
				t.Skipf("kernel %s is not available on this machine or build", k)
			}
			defer setKernel(k)()
			f(t)
		})
	}
}

// setKernel makes the batch functions use k and returns a function that
// restores the previous kernel.
func setKernel(k kernel) (restore func()) {
	old := active
	active = k
	return func() { active = old }
}

// newRand returns a random source seeded from the clock, or from
// $BLAKE2BATCH_SEED to replay a failure, and logs the seed.
func newRand(t testing.TB) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BLAKE2BATCH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("BLAKE2BATCH_SEED: %v", err)
		}
	}
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, 0))
}

// randBytes returns n random bytes.
func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n+7)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:n:n]
}

// reference is the digest by golang.org/x/crypto of prefix ‖ msg.
func reference(prefix []byte, msg []byte) [Size]byte {
	return blake2b.Sum256(append(append([]byte(nil), prefix...), msg...))
}

// TestVectors pins the published Blake2b-256 digests of "" and "abc".
func TestVectors(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"", "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"},
		{"abc", "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"},
	} {
		got := Sum256([]byte(tc.in))
		if fmt.Sprintf("%x", got) != tc.want {
			t.Errorf("Sum256(%q) = %x, want %s", tc.in, got, tc.want)
		}
	}
}

func TestSum256(t *testing.T) {
	r := newRand(t)
	for n := 0; n <= 2100; n++ {
		msg := randBytes(r, n)
		if got, want := Sum256(msg), blake2b.Sum256(msg); got != want {
			t.Fatalf("Sum256 of %d bytes = %x, want %x", n, got, want)
		}
	}
}

// maxSize and maxCount bound the batches of TestSumPrefixed and
// TestSumMany: every message length up to maxSize, every batch size up to
// maxCount, which covers every partial group of 4 and 8 lanes.
const (
	maxSize  = 2100
	maxCount = 37
)

// corpus is random data shared by the tests, with the reference digests of
// its chunks: chunk i of size s is pool[i*s:(i+1)*s]; refs[p][s][i] is the
// x/crypto digest of byte(p) ‖ that chunk for p = 0 and 1, and refs[2][s][i]
// that of the chunk alone.
type corpus struct {
	pool []byte
	refs [3][][maxCount][Size]byte
}

var (
	corpusOnce sync.Once
	testCorpus corpus
)

// getCorpus returns the shared corpus, computing it on first use.
func getCorpus(t *testing.T) *corpus {
	corpusOnce.Do(func() {
		c := &testCorpus
		c.pool = randBytes(newRand(t), maxCount*maxSize)
		msg := make([]byte, 1+maxSize)
		for p := range c.refs {
			c.refs[p] = make([][maxCount][Size]byte, maxSize+1)
			for size := range maxSize + 1 {
				for i := range maxCount {
					chunk := c.pool[i*size : (i+1)*size]
					if p == 2 {
						c.refs[p][size][i] = blake2b.Sum256(chunk)
						continue
					}
					msg[0] = byte(p)
					copy(msg[1:], chunk)
					c.refs[p][size][i] = blake2b.Sum256(msg[:1+size])
				}
			}
		}
	})
	return &testCorpus
}

// counts returns the batch sizes tested for messages of size bytes: all of
// them for short messages and lengths next to a block boundary, a sample
// for the others (and in -short mode).
func counts(size int) []int {
	if !testing.Short() && (size <= 300 || size%blockSize <= 1 || size%blockSize == blockSize-1) {
		var s []int
		for n := 1; n <= maxCount; n++ {
			s = append(s, n)
		}
		return s
	}
	return []int{1, 3, 4, 5, 8, 9, 17, maxCount}
}

func TestSumPrefixed(t *testing.T) {
	c := getCorpus(t)
	forEachKernel(t, func(t *testing.T) {
		dst := make([][Size]byte, maxCount+1)
		for size := 1; size <= maxSize; size++ {
			for _, count := range counts(size) {
				prefix := count % 2
				clear(dst)
				SumPrefixed(dst, byte(prefix), c.pool[:count*size], size)
				for i := range count {
					if want := c.refs[prefix][size][i]; dst[i] != want {
						t.Fatalf("size %d, %d chunks, prefix %#x: digest %d = %x, want %x",
							size, count, prefix, i, dst[i], want)
					}
				}
				if dst[count] != ([Size]byte{}) {
					t.Fatalf("size %d, %d chunks: wrote past the chunks' digests", size, count)
				}
			}
		}
	})
}

func TestSumMany(t *testing.T) {
	c := getCorpus(t)
	forEachKernel(t, func(t *testing.T) {
		dst := make([][Size]byte, maxCount)
		msgs := make([][]byte, maxCount)
		for size := 0; size <= maxSize; size++ {
			// The messages are the chunks of the pool in reverse order, so
			// that lanes do not read consecutive memory; the reference of
			// message i is that of chunk count-1-i.
			for _, count := range counts(size) {
				for i := range count {
					j := count - 1 - i
					msgs[i] = c.pool[j*size : (j+1)*size]
				}
				SumMany(dst, msgs[:count])
				for i := range count {
					if want := c.refs[2][size][count-1-i]; dst[i] != want {
						t.Fatalf("size %d, %d messages: digest %d = %x, want %x", size, count, i, dst[i], want)
					}
				}
			}
		}
	})
}

func TestSumPairs(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		r := newRand(t)
		for count := 0; count <= 70; count++ {
			for _, prefix := range []byte{0x00, 0x01, 0xff} {
				nodes := make([][Size]byte, 2*count)
				for i := range nodes {
					copy(nodes[i][:], randBytes(r, Size))
				}
				want := make([][Size]byte, count)
				for i := range want {
					want[i] = reference([]byte{prefix}, append(nodes[2*i][:], nodes[2*i+1][:]...))
				}
				dst := make([][Size]byte, count)
				SumPairs(dst, prefix, nodes)
				for i := range want {
					if dst[i] != want[i] {
						t.Fatalf("%d pairs, prefix %#x: digest %d = %x, want %x", count, prefix, i, dst[i], want[i])
					}
				}
				// In place: the level's digests replace its first half.
				SumPairs(nodes, prefix, nodes)
				for i := range want {
					if nodes[i] != want[i] {
						t.Fatalf("%d pairs in place, prefix %#x: digest %d = %x, want %x", count, prefix, i, nodes[i], want[i])
					}
				}
			}
		}
	})
}

// TestKernelsAgree checks that every kernel computes the generic kernel's
// digests.
func TestKernelsAgree(t *testing.T) {
	r := newRand(t)
	sizes := []int{1, 2, 31, 32, 63, 64, 65, 126, 127, 128, 129, 255, 256, 257, 302, 1024}
	for _, size := range sizes {
		for _, count := range []int{1, 7, 8, 9, 33} {
			data := randBytes(r, count*size)
			var want [][Size]byte
			for _, k := range kernels {
				if !available(k) {
					continue
				}
				restore := setKernel(k)
				got := make([][Size]byte, count)
				SumPrefixed(got, 0x00, data, size)
				restore()
				if want == nil {
					want = got
					continue
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("size %d, %d chunks: kernel %s digest %d = %x, generic %x", size, count, k, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"SumPrefixed size 0", func() { SumPrefixed(make([][Size]byte, 1), 0, nil, 0) }},
		{"SumPrefixed ragged", func() { SumPrefixed(make([][Size]byte, 2), 0, make([]byte, 5), 2) }},
		{"SumPrefixed short dst", func() { SumPrefixed(make([][Size]byte, 1), 0, make([]byte, 4), 2) }},
		{"SumPairs odd", func() {
			//lint:ignore SA5012 the odd length is the point of the test
			SumPairs(make([][Size]byte, 2), 1, make([][Size]byte, 3))
		}},
		{"SumPairs short dst", func() { SumPairs(make([][Size]byte, 1), 1, make([][Size]byte, 4)) }},
		{"SumMany unequal", func() { SumMany(make([][Size]byte, 2), [][]byte{{1}, {1, 2}}) }},
		{"SumMany short dst", func() { SumMany(make([][Size]byte, 1), [][]byte{{1}, {2}}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			tc.f()
		})
	}
}

func TestEmptyBatches(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		SumPrefixed(nil, 0, nil, 3)
		SumPairs(nil, 1, nil)
		SumMany(nil, nil)
	})
}

func TestAllocs(t *testing.T) {
	data := make([]byte, 1000*64)
	nodes := make([][Size]byte, 2000)
	msgs := make([][]byte, 100)
	for i := range msgs {
		msgs[i] = data[i*64 : (i+1)*64]
	}
	dst := make([][Size]byte, 1000)
	forEachKernel(t, func(t *testing.T) {
		for name, f := range map[string]func(){
			"Sum256":      func() { dst[0] = Sum256(data[:300]) },
			"SumPrefixed": func() { SumPrefixed(dst, 0, data[:999*64], 64) },
			"SumPairs":    func() { SumPairs(dst, 1, nodes[:1998]) },
			"SumMany":     func() { SumMany(dst, msgs[:99]) },
		} {
			if n := testing.AllocsPerRun(10, f); n != 0 {
				t.Errorf("%s allocates %v times per call", name, n)
			}
		}
	})
}

// FuzzSumPrefixed checks every kernel against x/crypto. The chunk size is
// taken modulo the data length, and the data cut to a multiple of it, so
// that every input makes a valid batch.
func FuzzSumPrefixed(f *testing.F) {
	f.Add(byte(0), []byte("abc"), uint16(1))
	f.Add(byte(1), bytes.Repeat([]byte{0xa5}, 64*9), uint16(64))
	f.Add(byte(0), bytes.Repeat([]byte{7}, 127*5), uint16(127))
	f.Add(byte(0), bytes.Repeat([]byte{7}, 128*3), uint16(128))
	f.Fuzz(func(t *testing.T, prefix byte, data []byte, size uint16) {
		if len(data) == 0 {
			return
		}
		n := 1 + int(size)%len(data)
		data = data[:len(data)/n*n]
		for _, k := range kernels {
			if !available(k) {
				continue
			}
			restore := setKernel(k)
			dst := make([][Size]byte, len(data)/n)
			SumPrefixed(dst, prefix, data, n)
			restore()
			for i := range dst {
				if want := reference([]byte{prefix}, data[i*n:(i+1)*n]); dst[i] != want {
					t.Fatalf("kernel %s, size %d, chunk %d: %x, want %x", k, n, i, dst[i], want)
				}
			}
		}
	})
}
