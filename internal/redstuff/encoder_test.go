package redstuff_test

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
	"pgregory.net/rapid"
)

// freshEncode encodes blob with a Config and Encoder that have never encoded anything.
func freshEncode(t fataler, n int, blob []byte) *redstuff.EncodedBlob {
	t.Helper()
	cfg, err := redstuff.NewConfig(n)
	if err != nil {
		t.Fatalf("NewConfig(%d): %v", n, err)
	}
	enc, err := cfg.NewEncoder().Encode(blob)
	if err != nil {
		t.Fatalf("fresh Encode(%d bytes, n=%d): %v", len(blob), n, err)
	}
	return enc
}

// sameEncoding reports whether two encodings have equal metadata and slivers.
func sameEncoding(a, b *redstuff.EncodedBlob) bool {
	return reflect.DeepEqual(a.Metadata, b.Metadata) && reflect.DeepEqual(a.Pairs, b.Pairs)
}

// cloneEncoded deep-copies an encoding, so that later writes into its buffers show.
func cloneEncoded(e *redstuff.EncodedBlob) *redstuff.EncodedBlob {
	out := &redstuff.EncodedBlob{Metadata: cloneMetadata(e.Metadata), Pairs: make([]redstuff.SliverPair, len(e.Pairs))}
	for i, p := range e.Pairs {
		out.Pairs[i] = redstuff.SliverPair{Index: p.Index, Primary: *cloneSliver(&p.Primary), Secondary: *cloneSliver(&p.Secondary)}
	}
	return out
}

// TestPropEncoderReuse checks that buffer reuse never changes output: one Encoder runs a
// random sequence of Encode and ComputeMetadata calls over three blobs of different sizes
// (so its buffers grow, shrink in use and hold stale data) and a random worker count per
// call; every result equals a fresh encoder's, and every EncodedBlob it returned earlier is
// unchanged at the end (the caller owns it).
func TestPropEncoderReuse(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n, maxLen := drawShape(t)
		blobs := [][]byte{drawBlob(t, maxLen), drawBlob(t, maxLen), drawBlob(t, maxLen)}
		want := make([]*redstuff.EncodedBlob, len(blobs))
		for i, b := range blobs {
			want[i] = freshEncode(t, n, b)
		}
		cfg, err := redstuff.NewConfig(n)
		if err != nil {
			t.Fatalf("NewConfig(%d): %v", n, err)
		}
		e := cfg.NewEncoder()
		type held struct {
			blob int
			enc  *redstuff.EncodedBlob
		}
		var kept []held
		steps := rapid.IntRange(3, 8).Draw(t, "steps")
		for s := 0; s < steps; s++ {
			i := rapid.IntRange(0, len(blobs)-1).Draw(t, "blob")
			cfg.Parallelism = rapid.IntRange(1, 4).Draw(t, "parallelism")
			orig := bytes.Clone(blobs[i])
			if rapid.Bool().Draw(t, "metadataOnly") {
				m, err := e.ComputeMetadata(blobs[i])
				if err != nil {
					t.Fatalf("step %d: ComputeMetadata(blob %d): %v", s, i, err)
				}
				if !reflect.DeepEqual(m, want[i].Metadata) {
					t.Fatalf("step %d: ComputeMetadata(blob %d) differs from a fresh encoder's", s, i)
				}
			} else {
				got, err := e.Encode(blobs[i])
				if err != nil {
					t.Fatalf("step %d: Encode(blob %d): %v", s, i, err)
				}
				if !sameEncoding(got, want[i]) {
					t.Fatalf("step %d: Encode(blob %d) differs from a fresh encoder's", s, i)
				}
				kept = append(kept, held{i, got})
			}
			if !bytes.Equal(blobs[i], orig) {
				t.Fatalf("step %d: the encoder modified its input", s)
			}
		}
		for k, h := range kept {
			if !sameEncoding(h.enc, want[h.blob]) {
				t.Fatalf("encoding %d (blob %d) changed after later calls on its Encoder", k, h.blob)
			}
		}
	})
}

// TestEncoderSliversOwnedByCaller writes into every sliver an Encoder returned and checks
// that the Encoder's next results are still right: it never reads or reuses them.
func TestEncoderSliversOwnedByCaller(t *testing.T) {
	for _, n := range []int{4, 10, 31} {
		t.Run(fmt.Sprint("n=", n), func(t *testing.T) {
			cfg, err := redstuff.NewConfig(n)
			if err != nil {
				t.Fatal(err)
			}
			blob := makeBlob(5000, "random", uint64(n))
			want := cloneEncoded(freshEncode(t, n, blob))
			e := cfg.NewEncoder()
			for round := 0; round < 3; round++ {
				got, err := e.Encode(blob)
				if err != nil {
					t.Fatal(err)
				}
				if !sameEncoding(got, want) {
					t.Fatalf("round %d: encoding differs from a fresh encoder's", round)
				}
				blob = bytes.Clone(blob) // the systematic slivers alias the blob
				for _, p := range got.Pairs {
					for i := range p.Primary.Data {
						p.Primary.Data[i] ^= 0xa5
					}
					for i := range p.Secondary.Data {
						p.Secondary.Data[i] ^= 0x5a
					}
				}
				m, err := e.ComputeMetadata(blob)
				if err != nil {
					t.Fatal(err)
				}
				if m.BlobID != want.Metadata.BlobID {
					t.Fatalf("round %d: blob ID %s after the caller wrote its slivers, want %s", round, m.BlobID, want.Metadata.BlobID)
				}
			}
		})
	}
}

// TestConfigEncodeConcurrent runs Config.Encode and Config.ComputeMetadata from several
// goroutines on one Config (which shares one cached Encoder) and checks every result.
func TestConfigEncodeConcurrent(t *testing.T) {
	const n = 13
	cfg, err := redstuff.NewConfig(n)
	if err != nil {
		t.Fatal(err)
	}
	blobs := make([][]byte, 4)
	want := make([]*redstuff.EncodedBlob, len(blobs))
	for i := range blobs {
		blobs[i] = makeBlob(1000+3000*i, "random", uint64(i))
		want[i] = freshEncode(t, n, blobs[i])
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(blobs))
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range blobs {
				i := (g + k) % len(blobs)
				if g%2 == 0 {
					got, err := cfg.Encode(blobs[i])
					if err != nil || !sameEncoding(got, want[i]) {
						errs <- fmt.Errorf("goroutine %d: Encode(blob %d) differs from a fresh encoder's (err %v)", g, i, err)
					}
				} else {
					m, err := cfg.ComputeMetadata(blobs[i])
					if err != nil || !reflect.DeepEqual(m, want[i].Metadata) {
						errs <- fmt.Errorf("goroutine %d: ComputeMetadata(blob %d) differs from a fresh encoder's (err %v)", g, i, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestEncoderRecycle checks that Encode into recycled sliver buffers (holding a previous
// encoding's bytes) gives the same encoding as a fresh encoder, for blobs that shrink and
// grow, and that Recycle empties what it takes.
func TestEncoderRecycle(t *testing.T) {
	const n = 10
	cfg, err := redstuff.NewConfig(n)
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.NewEncoder()
	for step, size := range []int{7000, 100, 7000, 6999, 1, 0, 20000} {
		blob := makeBlob(size, "random", uint64(step))
		want := freshEncode(t, n, blob)
		got, err := e.Encode(blob)
		if err != nil {
			t.Fatal(err)
		}
		if !sameEncoding(got, want) {
			t.Fatalf("step %d (%d bytes): encoding into recycled buffers differs from a fresh encoder's", step, size)
		}
		e.Recycle(got)
		if got.Pairs != nil {
			t.Fatalf("step %d: Recycle left the pairs in place", step)
		}
		e.Recycle(got) // a second time: ignored
	}
}

// A recycled encoding of a large blob is not reused for a much smaller one (its buffers
// would stay pinned by the small encodings that follow), while one of a similar size is,
// and it stays for the next large one.
func TestEncoderRecycleDropsOversized(t *testing.T) {
	const n = 10
	cfg, err := redstuff.NewConfig(n)
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.NewEncoder()
	// secData returns where the secondary slivers' shared buffer starts.
	secData := func(eb *redstuff.EncodedBlob) *byte { return &eb.Pairs[n-1].Secondary.Data[0] }
	big, err := e.Encode(makeBlob(50000, "random", 1))
	if err != nil {
		t.Fatal(err)
	}
	bigBuf := secData(big)
	e.Recycle(big)
	similar, err := e.Encode(makeBlob(49000, "random", 2))
	if err != nil {
		t.Fatal(err)
	}
	if secData(similar) != bigBuf {
		t.Fatal("an encoding of a similar size did not reuse the recycled buffers")
	}
	e.Recycle(similar)
	small := makeBlob(1000, "random", 3)
	got, err := e.Encode(small)
	if err != nil {
		t.Fatal(err)
	}
	if secData(got) == bigBuf {
		t.Fatal("an encoding of a blob 50 times smaller reused the recycled buffers of a large one")
	}
	if !sameEncoding(got, freshEncode(t, n, small)) {
		t.Fatal("the small encoding differs from a fresh encoder's")
	}
	// The large buffers stay: recycling the small encoding keeps the larger set, which the
	// next large encoding takes; ReleaseRecycled drops them.
	e.Recycle(got)
	large, err := e.Encode(makeBlob(48000, "random", 4))
	if err != nil {
		t.Fatal(err)
	}
	if secData(large) != bigBuf {
		t.Fatal("after a small encoding, a large one did not reuse the recycled large buffers")
	}
	e.Recycle(large)
	if e.RecycledBytes() == 0 {
		t.Fatal("no recycled bytes held after a recycle")
	}
	e.ReleaseRecycled()
	if got := e.RecycledBytes(); got != 0 {
		t.Fatalf("%d recycled bytes held after ReleaseRecycled", got)
	}
	// A recycled set too small for the next blob is dropped.
	small2, err := e.Encode(makeBlob(1000, "random", 5))
	if err != nil {
		t.Fatal(err)
	}
	e.Recycle(small2)
	if _, err := e.Encode(makeBlob(50000, "random", 6)); err != nil {
		t.Fatal(err)
	}
	if got := e.RecycledBytes(); got != 0 {
		t.Fatalf("a larger encoding left %d bytes of a too small recycled set held", got)
	}
}
