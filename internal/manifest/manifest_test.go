package manifest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"pgregory.net/rapid"
)

// sample returns a valid manifest of n chunks of chunkSize bytes, the last last bytes.
func sample(n int, chunkSize, last uint64) *Manifest {
	m := &Manifest{ChunkSize: chunkSize, Size: uint64(n-1)*chunkSize + last}
	for i := range n {
		c := Chunk{Size: chunkSize}
		c.BlobID[0], c.BlobID[31] = byte(i), byte(i>>8)
		m.Chunks = append(m.Chunks, c)
	}
	m.Chunks[n-1].Size = last
	m.Hash[0], m.Hash[31] = 0xaa, 0x55
	return m
}

func mustEncode(t testing.TB, m *Manifest) []byte {
	t.Helper()
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVector pins the encoding of a small manifest byte for byte.
func TestVector(t *testing.T) {
	b := mustEncode(t, sample(2, 4, 3))
	want := []byte{0x89, 'W', 'M', 'F', '\r', '\n', 0x1a, '\n', 1, 1, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 4, // chunk size
		0, 0, 0, 0, 0, 0, 0, 7, // file size
		0, 0, 0, 2} // chunks
	want = append(want, 0xaa)
	want = append(want, make([]byte, 30)...)
	want = append(want, 0x55)
	for i, size := range []byte{4, 3} {
		id := make([]byte, 32)
		id[0] = byte(i)
		want = append(want, id...)
		want = append(want, 0, 0, 0, 0, 0, 0, 0, size)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("encoding\n got %x\nwant %x", b, want)
	}
}

func TestRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 300).Draw(t, "chunks")
		chunk := rapid.Uint64Range(1, 1<<40).Draw(t, "chunkSize")
		last := rapid.Uint64Range(1, chunk).Draw(t, "last")
		m := &Manifest{ChunkSize: chunk, Size: uint64(n-1)*chunk + last}
		copy(m.Hash[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "hash"))
		for i := range n {
			c := Chunk{Size: chunk}
			if i == n-1 {
				c.Size = last
			}
			copy(c.BlobID[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "id"))
			m.Chunks = append(m.Chunks, c)
		}
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != HeaderSize+n*ChunkEntrySize {
			t.Fatalf("length %d", len(b))
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if got.ChunkSize != m.ChunkSize || got.Size != m.Size || got.Hash != m.Hash || len(got.Chunks) != n {
			t.Fatalf("decoded %+v, want %+v", got, m)
		}
		for i := range n {
			if got.Chunks[i] != m.Chunks[i] {
				t.Fatalf("chunk %d: %+v, want %+v", i, got.Chunks[i], m.Chunks[i])
			}
		}
		// Every proper prefix is rejected as invalid, never decoded.
		cut := rapid.IntRange(0, len(b)-1).Draw(t, "cut")
		if _, err := Decode(b[:cut]); err == nil {
			t.Fatalf("a prefix of %d of %d bytes decoded", cut, len(b))
		}
	})
}

func TestDecodeRejects(t *testing.T) {
	good := mustEncode(t, sample(3, 10, 5))
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrNotManifest},
		{"user data", []byte("hello, world"), ErrNotManifest},
		{"magic only", Magic[:], ErrInvalid},
		{"truncated header", good[:40], ErrInvalid},
		{"truncated chunks", good[:len(good)-1], ErrInvalid},
		{"trailing byte", append(bytes.Clone(good), 0), ErrInvalid},
		{"version 2", edit(func(b []byte) []byte { b[8] = 2; return b }), ErrInvalid},
		{"version 0", edit(func(b []byte) []byte { b[8] = 0; return b }), ErrInvalid},
		{"unknown hash", edit(func(b []byte) []byte { b[9] = 2; return b }), ErrInvalid},
		{"reserved", edit(func(b []byte) []byte { b[11] = 1; return b }), ErrInvalid},
		{"zero chunk size", edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[12:], 0); return b }), ErrInvalid},
		{"size too large for chunks", edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[20:], 31); return b }), ErrInvalid},
		{"size too small", edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[20:], 20); return b }), ErrInvalid},
		{"zero chunks", edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[28:], 0); return b[:HeaderSize] }), ErrInvalid},
		{"too many chunks", edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[28:], MaxChunks+1); return b }), ErrInvalid},
		{"count beyond data", edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[28:], 4); return b }), ErrInvalid},
		{"middle chunk short", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint64(b[HeaderSize+ChunkEntrySize+IDSize:], 9)
			return b
		}), ErrInvalid},
		{"last chunk wrong", edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[len(b)-8:], 6); return b }), ErrInvalid},
		{"last chunk empty", edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[len(b)-8:], 0); return b }), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(tt.b)
			if !errors.Is(err, tt.want) || m != nil {
				t.Fatalf("Decode = %v, %v; want %v", m, err, tt.want)
			}
		})
	}
}

func TestEncodeRejectsInvalid(t *testing.T) {
	for _, m := range []*Manifest{
		{},
		{ChunkSize: 10, Size: 10},
		{ChunkSize: 10, Size: 15, Chunks: []Chunk{{Size: 10}}},
		{ChunkSize: 10, Size: 15, Chunks: []Chunk{{Size: 5}, {Size: 10}}},
	} {
		if _, err := m.Encode(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Encode(%+v) = %v, want ErrInvalid", m, err)
		}
	}
}

// FuzzDecode checks that Decode never panics, accepts only what Encode produces, and that
// whatever it accepts encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, m := range []*Manifest{sample(1, 1, 1), sample(2, 4, 3), sample(5, 1<<25, 17), sample(3, 10, 10)} {
		b := mustEncode(f, m)
		f.Add(b)
		f.Add(b[:len(b)-1])
		f.Add(b[:HeaderSize])
	}
	f.Add([]byte{})
	f.Add(Magic[:])
	f.Add([]byte("plain user data that is not a manifest"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if m != nil {
				t.Fatal("a manifest with an error")
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrNotManifest) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			if HasMagic(b) == errors.Is(err, ErrNotManifest) {
				t.Fatalf("ErrNotManifest for data with the magic, or the reverse: %v", err)
			}
			return
		}
		again, err := m.Encode()
		if err != nil {
			t.Fatalf("decoded manifest does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("decode/encode changed the bytes")
		}
	})
}
