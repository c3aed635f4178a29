package bcs

import "testing"

func BenchmarkRoundTrip(b *testing.B) {
	h := uint64(42)
	s := sample{A: 1, B: 2, C: 3, D: 4, E: true, F: make([]byte, 32), H: &h,
		I: shape{Kind: 2, Blob: make([]byte, 16)}, J: []uint16{1, 2, 3}, K: 300}
	var e Encoder
	s.encode(&e)
	b.SetBytes(int64(len(e.Out())))
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		s.encode(&e)
		d := NewDecoder(e.Out())
		decodeSample(d)
		if err := d.Finish(); err != nil {
			b.Fatal(err)
		}
	}
}
