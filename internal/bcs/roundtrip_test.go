package bcs

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// sample is a small composite exercising every primitive, decoded and
// encoded the way callers of this package write their codecs.
type sample struct {
	A uint8
	B uint16
	C uint32
	D uint64
	E bool
	F []byte   // vector<u8>, at most maxF bytes
	G [3]byte  // [u8; 3]
	H *uint64  // Option<u64>
	I shape    // enum
	J []uint16 // vector<u16>, at most maxJ elements
	K uint32   // a bare ULEB128 value
}

// shape is an enum {Unit, Word(u32), Blob(vector<u8>)}.
type shape struct {
	Kind uint32
	Word uint32
	Blob []byte
}

const (
	maxF       = 64
	maxJ       = 16
	shapeKinds = 3
)

func (s *sample) encode(e *Encoder) {
	e.U8(s.A)
	e.U16(s.B)
	e.U32(s.C)
	e.U64(s.D)
	e.Bool(s.E)
	e.Bytes(s.F)
	e.Fixed(s.G[:])
	e.Option(s.H != nil)
	if s.H != nil {
		e.U64(*s.H)
	}
	e.Variant(s.I.Kind)
	switch s.I.Kind {
	case 1:
		e.U32(s.I.Word)
	case 2:
		e.Bytes(s.I.Blob)
	}
	e.Len(len(s.J))
	for _, v := range s.J {
		e.U16(v)
	}
	e.ULEB128(s.K)
}

func decodeSample(d *Decoder) sample {
	var s sample
	s.A = d.U8()
	s.B = d.U16()
	s.C = d.U32()
	s.D = d.U64()
	s.E = d.Bool()
	s.F = d.Bytes(maxF)
	copy(s.G[:], d.Fixed(len(s.G)))
	if d.Option() {
		v := d.U64()
		s.H = &v
	}
	s.I.Kind = d.Variant(shapeKinds)
	switch s.I.Kind {
	case 1:
		s.I.Word = d.U32()
	case 2:
		s.I.Blob = d.Bytes(maxF)
	}
	if n := d.Len(maxJ); n > 0 {
		s.J = make([]uint16, n)
		for i := range s.J {
			s.J[i] = d.U16()
		}
	}
	s.K = d.ULEB128()
	return s
}

func (s *sample) equal(o *sample) bool {
	return s.A == o.A && s.B == o.B && s.C == o.C && s.D == o.D && s.E == o.E &&
		bytes.Equal(s.F, o.F) && s.G == o.G &&
		(s.H == nil) == (o.H == nil) && (s.H == nil || *s.H == *o.H) &&
		s.I.Kind == o.I.Kind && s.I.Word == o.I.Word && bytes.Equal(s.I.Blob, o.I.Blob) &&
		len(s.J) == len(o.J) && func() bool {
		for i := range s.J {
			if s.J[i] != o.J[i] {
				return false
			}
		}
		return true
	}() && s.K == o.K
}

func sampleGen() *rapid.Generator[sample] {
	return rapid.Custom(func(t *rapid.T) sample {
		s := sample{
			A: rapid.Uint8().Draw(t, "A"),
			B: rapid.Uint16().Draw(t, "B"),
			C: rapid.Uint32().Draw(t, "C"),
			D: rapid.Uint64().Draw(t, "D"),
			E: rapid.Bool().Draw(t, "E"),
			F: rapid.SliceOfN(rapid.Byte(), 0, maxF).Draw(t, "F"),
			J: rapid.SliceOfN(rapid.Uint16(), 0, maxJ).Draw(t, "J"),
			K: rapid.Uint32().Draw(t, "K"),
		}
		copy(s.G[:], rapid.SliceOfN(rapid.Byte(), 3, 3).Draw(t, "G"))
		if rapid.Bool().Draw(t, "H?") {
			v := rapid.Uint64().Draw(t, "H")
			s.H = &v
		}
		s.I.Kind = rapid.Uint32Range(0, shapeKinds-1).Draw(t, "I.Kind")
		switch s.I.Kind {
		case 1:
			s.I.Word = rapid.Uint32().Draw(t, "I.Word")
		case 2:
			s.I.Blob = rapid.SliceOfN(rapid.Byte(), 0, maxF).Draw(t, "I.Blob")
		}
		return s
	})
}

// TestRoundTrip checks decode(encode(s)) == s and that the encoding is
// consumed exactly.
func TestRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := sampleGen().Draw(t, "s")
		var e Encoder
		s.encode(&e)
		d := NewDecoder(e.Out())
		got := decodeSample(d)
		if err := d.Finish(); err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !got.equal(&s) {
			t.Fatalf("round trip changed the value:\n got %+v\nwant %+v", got, s)
		}
	})
}

// TestULEB128RoundTrip checks every u32 bit length encodes minimally and
// decodes back.
func TestULEB128RoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		bits := rapid.IntRange(0, 32).Draw(t, "bits")
		v := uint32(rapid.Uint64Range(0, 1<<bits-1).Draw(t, "v"))
		var e Encoder
		e.ULEB128(v)
		wantLen := 1
		for x := v >> 7; x != 0; x >>= 7 {
			wantLen++
		}
		if len(e.Out()) != wantLen {
			t.Fatalf("ULEB128(%d) took %d bytes, want %d", v, len(e.Out()), wantLen)
		}
		d := NewDecoder(e.Out())
		if got := d.ULEB128(); got != v || d.Finish() != nil {
			t.Fatalf("decoded %d (%v), want %d", got, d.Err(), v)
		}
	})
}

// TestTruncationAlwaysFails checks that every strict prefix of a valid
// encoding is rejected, so a decoder never accepts a cut-short message.
func TestTruncationAlwaysFails(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := sampleGen().Draw(t, "s")
		var e Encoder
		s.encode(&e)
		full := e.Out()
		cut := rapid.IntRange(0, len(full)-1).Draw(t, "cut")
		d := NewDecoder(full[:cut])
		decodeSample(d)
		if err := d.Finish(); !errors.Is(err, ErrTruncated) {
			t.Fatalf("prefix of %d/%d bytes: err = %v, want ErrTruncated", cut, len(full), err)
		}
	})
}

var sentinels = []error{ErrTruncated, ErrNonCanonical, ErrTooLong, ErrTrailingBytes, ErrInvalidBool, ErrInvalidVariant}

func checkDecoderError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if !strings.HasPrefix(err.Error(), "bcs: ") {
		t.Fatalf("error %q lacks the bcs: prefix", err)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %q wraps no sentinel", err)
}

// FuzzDecoder drives a Decoder over arbitrary data with an arbitrary
// sequence of reads and checks the Decoder's invariants: no panic, offsets
// only grow and stay in range, failed reads consume nothing and return zero
// values, errors are sticky and wrap a sentinel, and results respect limits
// and alias the right bytes of the input.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	f.Add([]byte{5, 3, 6, 2, 7, 9}, []byte{0x80, 0x00, 0x03, 1, 2, 3})
	f.Add([]byte{4, 4, 4, 11}, []byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	var e Encoder
	h := uint64(9)
	s := sample{A: 1, F: []byte("hi"), H: &h, I: shape{Kind: 2, Blob: []byte{7}}, J: []uint16{1, 2}}
	s.encode(&e)
	f.Add([]byte{0, 1, 2, 3, 4, 6, 8, 10, 9, 6, 4, 3}, e.Out())

	f.Fuzz(func(t *testing.T, ops, data []byte) {
		d := NewDecoder(data)
		for i := 0; i < len(ops); i++ {
			// Ops that take a size use the next op byte as that size.
			arg := 0
			if i+1 < len(ops) {
				arg = int(ops[i+1])
			}
			before, errBefore := d.Offset(), d.Err()
			var zero bool // whether the read returned a zero value
			var got []byte
			size := -1 // for reads of a known byte size
			switch ops[i] % 12 {
			case 0:
				zero, size = d.U8() == 0, 1
			case 1:
				zero, size = d.U16() == 0, 2
			case 2:
				zero, size = d.U32() == 0, 4
			case 3:
				zero, size = d.U64() == 0, 8
			case 4:
				zero, size = !d.Bool(), 1
			case 5:
				zero = d.ULEB128() == 0
			case 6:
				n := d.Len(arg)
				if n > arg || n > d.Remaining() {
					t.Fatalf("Len(%d) = %d with %d bytes remaining", arg, n, d.Remaining())
				}
				zero = n == 0
				i++
			case 7:
				got = d.Bytes(arg)
				if len(got) > arg {
					t.Fatalf("Bytes(%d) returned %d bytes", arg, len(got))
				}
				zero = got == nil
				i++
			case 8:
				got = d.Fixed(arg % 40)
				zero, size = got == nil, arg%40
				i++
			case 9:
				zero = d.Variant(uint32(arg)) == 0
				i++
			case 10:
				zero = !d.Option()
			case 11:
				d.Finish()
				zero = true
			}
			after := d.Offset()
			if after < before || after > len(data) || d.Remaining() != len(data)-after {
				t.Fatalf("op %d: offset %d -> %d, remaining %d, input %d bytes", ops[i], before, after, d.Remaining(), len(data))
			}
			if got != nil {
				if cap(got) != len(got) || !bytes.Equal(got, data[after-len(got):after]) {
					t.Fatalf("op %d: result %x is not the last %d bytes consumed", ops[i], got, len(got))
				}
			}
			err := d.Err()
			checkDecoderError(t, err)
			switch {
			case errBefore != nil:
				if err != errBefore || after != before || !zero {
					t.Fatalf("op %d after error: err %v, offset %d -> %d, zero %v", ops[i], err, before, after, zero)
				}
			case err != nil:
				if after != before || !zero {
					t.Fatalf("op %d failed (%v) but consumed %d bytes or returned non-zero", ops[i], err, after-before)
				}
			case size >= 0 && after-before != size:
				t.Fatalf("op %d consumed %d bytes, want %d", ops[i], after-before, size)
			}
		}
		err := d.Finish()
		checkDecoderError(t, err)
		if err == nil && d.Remaining() != 0 {
			t.Fatal("Finish accepted trailing bytes")
		}
	})
}

// FuzzReencode decodes arbitrary bytes as a sample and, when that succeeds,
// checks that encoding the result reproduces the input exactly: the decoder
// accepts only canonical encodings.
func FuzzReencode(f *testing.F) {
	for _, s := range []sample{
		{},
		{A: 0xff, B: 0xffff, C: 1 << 31, D: 1<<64 - 1, E: true, F: make([]byte, maxF), K: 1<<32 - 1},
		{F: []byte("walrus"), G: [3]byte{1, 2, 3}, I: shape{Kind: 1, Word: 77}, J: []uint16{1, 0x100}, K: 128},
	} {
		var e Encoder
		s.encode(&e)
		f.Add(e.Out())
	}
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0x80}, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(data)
		s := decodeSample(d)
		if err := d.Finish(); err != nil {
			checkDecoderError(t, err)
			return
		}
		var e Encoder
		s.encode(&e)
		if !bytes.Equal(e.Out(), data) {
			t.Fatalf("accepted non-canonical input\n  in  %x\n  out %x", data, e.Out())
		}
	})
}
