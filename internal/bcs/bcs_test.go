package bcs

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// TestEncoderKnown pins encodings, mostly the examples of the BCS
// specification in the Rust bcs crate.
func TestEncoderKnown(t *testing.T) {
	tests := []struct {
		name  string
		write func(e *Encoder)
		want  string
	}{
		{"u8", func(e *Encoder) { e.U8(0xab) }, "ab"},
		{"u16", func(e *Encoder) { e.U16(4660) }, "3412"},
		{"u32", func(e *Encoder) { e.U32(305419896) }, "78563412"},
		{"u64", func(e *Encoder) { e.U64(0x12345678ABCDEF00) }, "00efcdab78563412"},
		{"bool false", func(e *Encoder) { e.Bool(false) }, "00"},
		{"bool true", func(e *Encoder) { e.Bool(true) }, "01"},
		{"uleb 0", func(e *Encoder) { e.ULEB128(0) }, "00"},
		{"uleb 1", func(e *Encoder) { e.ULEB128(1) }, "01"},
		{"uleb 127", func(e *Encoder) { e.ULEB128(127) }, "7f"},
		{"uleb 128", func(e *Encoder) { e.ULEB128(128) }, "8001"},
		{"uleb 9487", func(e *Encoder) { e.ULEB128(9487) }, "8f4a"},
		{"uleb 16383", func(e *Encoder) { e.ULEB128(16383) }, "ff7f"},
		{"uleb 16384", func(e *Encoder) { e.ULEB128(16384) }, "808001"},
		{"uleb 2^21", func(e *Encoder) { e.ULEB128(1 << 21) }, "80808001"},
		{"uleb 2^28", func(e *Encoder) { e.ULEB128(1 << 28) }, "8080808001"},
		{"uleb 2^32-1", func(e *Encoder) { e.ULEB128(1<<32 - 1) }, "ffffffff0f"},
		{"len 1000", func(e *Encoder) { e.Len(1000) }, "e807"},
		{"len max", func(e *Encoder) { e.Len(MaxSequenceLen) }, "ffffffff07"},
		{"bytes empty", func(e *Encoder) { e.Bytes(nil) }, "00"},
		{"bytes", func(e *Encoder) { e.Bytes([]byte{0xc0, 0xde}) }, "02c0de"},
		{"fixed", func(e *Encoder) { e.Fixed([]byte{1, 2, 3}) }, "010203"},
		{"variant", func(e *Encoder) { e.Variant(2); e.Bytes([]byte("e")) }, "020165"},
		{"option none", func(e *Encoder) { e.Option(false) }, "00"},
		{"option some u8", func(e *Encoder) { e.Option(true); e.U8(8) }, "0108"},
		{
			// struct {boolean: true, bytes: [c0 de], label: "a"} from the bcs docs.
			"struct",
			func(e *Encoder) { e.Bool(true); e.Bytes([]byte{0xc0, 0xde}); e.Bytes([]byte("a")) },
			"0102c0de0161",
		},
		{
			"vector<u16>",
			func(e *Encoder) { e.Len(2); e.U16(1); e.U16(2) },
			"0201000200",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Encoder
			tt.write(&e)
			if got := hex.EncodeToString(e.Out()); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestEncoderReuse(t *testing.T) {
	buf := make([]byte, 0, 64)
	e := NewEncoder(buf[:0])
	e.U32(7)
	if &e.Out()[0] != &buf[:1][0] {
		t.Error("NewEncoder did not reuse the caller's buffer")
	}
	e.Reset()
	if len(e.Out()) != 0 {
		t.Errorf("after Reset, Out has %d bytes", len(e.Out()))
	}
	e.U8(1)
	if got := hex.EncodeToString(e.Out()); got != "01" {
		t.Errorf("after Reset and U8(1), got %s", got)
	}

	pre := NewEncoder([]byte{0xaa})
	pre.U8(0xbb)
	if got := hex.EncodeToString(pre.Out()); got != "aabb" {
		t.Errorf("NewEncoder must append to its buffer, got %s", got)
	}
}

func TestEncoderLenPanics(t *testing.T) {
	for _, n := range []int{-1, MaxSequenceLen + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Len(%d) did not panic", n)
				}
			}()
			var e Encoder
			e.Len(n)
		}()
	}
}

func TestULEB128Decode(t *testing.T) {
	tests := []struct {
		in      string
		want    uint32
		wantErr error
	}{
		{"00", 0, nil},
		{"01", 1, nil},
		{"7f", 127, nil},
		{"8001", 128, nil},
		{"8f4a", 9487, nil},
		{"ff7f", 16383, nil},
		{"808001", 16384, nil},
		{"8080808001", 1 << 28, nil},
		{"ffffffff0f", 1<<32 - 1, nil},
		{"", 0, ErrTruncated},
		{"80", 0, ErrTruncated},
		{"ffffffff", 0, ErrTruncated},
		{"8000", 0, ErrNonCanonical},         // zero in two bytes
		{"8100", 0, ErrNonCanonical},         // one in two bytes
		{"ff8000", 0, ErrNonCanonical},       // 127 in three bytes
		{"8080808000", 0, ErrNonCanonical},   // zero in five bytes
		{"8080808010", 0, ErrNonCanonical},   // 2^32
		{"ffffffff1f", 0, ErrNonCanonical},   // 2^33-1
		{"808080808001", 0, ErrNonCanonical}, // 2^35, six bytes
		{"ffffffffff", 0, ErrNonCanonical},   // continuation after five bytes
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			in := unhex(t, tt.in)
			d := NewDecoder(in)
			got := d.ULEB128()
			err := d.Err()
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if got != 0 || d.Offset() != 0 {
					t.Errorf("failed read returned %d and consumed %d bytes", got, d.Offset())
				}
				return
			}
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
			if err := d.Finish(); err != nil {
				t.Errorf("Finish: %v", err)
			}
			var e Encoder
			e.ULEB128(got)
			if !bytes.Equal(e.Out(), in) {
				t.Errorf("re-encoded as %x", e.Out())
			}
		})
	}
}

func TestDecoderErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		read    func(d *Decoder)
		wantErr error
		wantMsg string // substring of the error message
	}{
		{"u8 empty", "", func(d *Decoder) { d.U8() }, ErrTruncated, "u8 at offset 0"},
		{"u16 short", "01", func(d *Decoder) { d.U16() }, ErrTruncated, "needs 2 bytes, 1 remain"},
		{"u32 short", "010203", func(d *Decoder) { d.U32() }, ErrTruncated, "u32"},
		{"u64 short", "01020304050607", func(d *Decoder) { d.U64() }, ErrTruncated, "u64"},
		{"u64 after u8", "aa01020304050607", func(d *Decoder) { d.U8(); d.U64() }, ErrTruncated, "offset 1"},
		{"bool 2", "02", func(d *Decoder) { d.Bool() }, ErrInvalidBool, "0x02 at offset 0"},
		{"bool ff", "ff", func(d *Decoder) { d.Bool() }, ErrInvalidBool, "0xff"},
		{"bool empty", "", func(d *Decoder) { d.Bool() }, ErrTruncated, "bool"},
		{"option 2", "02", func(d *Decoder) { d.Option() }, ErrInvalidVariant, "option tag 0x02"},
		{"option empty", "", func(d *Decoder) { d.Option() }, ErrTruncated, "option tag"},
		{"variant out of range", "0300", func(d *Decoder) { d.Variant(3) }, ErrInvalidVariant, "index 3 at offset 0, want < 3"},
		{"variant non-canonical", "8000", func(d *Decoder) { d.Variant(3) }, ErrNonCanonical, ""},
		{"len over max", "05", func(d *Decoder) { d.Len(4) }, ErrTooLong, "length 5 at offset 0 exceeds limit 4"},
		{"len over remaining", "03aabb", func(d *Decoder) { d.Len(10) }, ErrTruncated, "exceeds the 2 bytes that follow"},
		{"len 2^31", "8080808008", func(d *Decoder) { d.Len(1 << 40) }, ErrTooLong, ""},
		{"len 2^32-1", "ffffffff0f", func(d *Decoder) { d.Len(1 << 40) }, ErrTooLong, ""},
		{"len non-canonical", "8000", func(d *Decoder) { d.Len(10) }, ErrNonCanonical, ""},
		{"bytes over max", "03aabbcc", func(d *Decoder) { d.Bytes(2) }, ErrTooLong, "byte vector length 3"},
		{"bytes over remaining", "04aabbcc", func(d *Decoder) { d.Bytes(100) }, ErrTruncated, "byte vector"},
		{"bytes huge", "ffffffff07", func(d *Decoder) { d.Bytes(MaxSequenceLen) }, ErrTruncated, ""},
		{"fixed short", "aabb", func(d *Decoder) { d.Fixed(3) }, ErrTruncated, "fixed array"},
		{"trailing", "0102", func(d *Decoder) { d.U8(); d.Finish() }, ErrTrailingBytes, "1 bytes after offset 1"},
		{"failed by caller", "01", func(d *Decoder) { d.Fail(ErrInvalidVariant) }, ErrInvalidVariant, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(unhex(t, tt.in))
			tt.read(d)
			err := d.Err()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "bcs: ") || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error message %q: want prefix %q and substring %q", err, "bcs: ", tt.wantMsg)
			}
			if d.Finish() != err {
				t.Errorf("Finish returned a different error than Err")
			}
		})
	}
}

// TestDecoderSticky checks that after an error nothing is consumed and
// every read returns a zero value.
func TestDecoderSticky(t *testing.T) {
	d := NewDecoder(unhex(t, "02 01 02 03 04 05 06 07 08 09"))
	if d.Bool() || d.Err() == nil {
		t.Fatal("Bool accepted 0x02")
	}
	first := d.Err()
	if d.Offset() != 0 || d.Remaining() != 10 {
		t.Fatalf("failed Bool consumed input: offset %d, remaining %d", d.Offset(), d.Remaining())
	}
	if d.U8() != 0 || d.U16() != 0 || d.U32() != 0 || d.U64() != 0 || d.ULEB128() != 0 ||
		d.Len(10) != 0 || d.Bytes(10) != nil || d.Fixed(1) != nil || d.Variant(5) != 0 || d.Option() {
		t.Error("read after error returned a non-zero value")
	}
	d.Fail(errors.New("later"))
	if d.Err() != first || d.Offset() != 0 {
		t.Errorf("error or offset changed after the first error: %v, offset %d", d.Err(), d.Offset())
	}
}

func TestDecoderValues(t *testing.T) {
	in := unhex(t, "ab 3412 78563412 00efcdab78563412 01 00 02c0de 010203 0108 00 0201 e807")
	d := NewDecoder(in)
	if v := d.U8(); v != 0xab {
		t.Errorf("U8 = %#x", v)
	}
	if v := d.U16(); v != 4660 {
		t.Errorf("U16 = %d", v)
	}
	if v := d.U32(); v != 305419896 {
		t.Errorf("U32 = %d", v)
	}
	if v := d.U64(); v != 0x12345678ABCDEF00 {
		t.Errorf("U64 = %#x", v)
	}
	if !d.Bool() || d.Bool() {
		t.Error("Bool")
	}
	b := d.Bytes(2)
	if !bytes.Equal(b, []byte{0xc0, 0xde}) {
		t.Errorf("Bytes = %x", b)
	}
	// The result aliases the input but cannot be appended into it.
	if &b[0] != &in[18] {
		t.Error("Bytes copied instead of aliasing the input")
	}
	_ = append(b, 0xff)
	if in[20] != 0x01 {
		t.Error("appending to a Bytes result overwrote the input")
	}
	if f := d.Fixed(3); !bytes.Equal(f, []byte{1, 2, 3}) {
		t.Errorf("Fixed = %x", f)
	}
	if !d.Option() || d.U8() != 8 || d.Option() {
		t.Error("Option")
	}
	if v := d.Variant(3); v != 2 {
		t.Errorf("Variant = %d", v)
	}
	if v := d.ULEB128(); v != 1 {
		t.Errorf("ULEB128 = %d", v)
	}
	if n := d.Len(1000); n != 0 || !errors.Is(d.Err(), ErrTruncated) {
		// e807 = 1000 elements, but no bytes follow.
		t.Errorf("Len = %d, err %v; want ErrTruncated", n, d.Err())
	}
	if d.Remaining() != 2 {
		t.Errorf("Remaining = %d, want 2", d.Remaining())
	}
}

func TestDecoderEmpty(t *testing.T) {
	d := NewDecoder(nil)
	if err := d.Finish(); err != nil {
		t.Errorf("Finish on empty input: %v", err)
	}
	d = NewDecoder([]byte{0})
	if b := d.Bytes(0); len(b) != 0 || d.Err() != nil {
		t.Errorf("Bytes(0) on 00 = %x, %v", b, d.Err())
	}
	if d.Finish() != nil {
		t.Error(d.Err())
	}
}

func TestDecoderNegativePanics(t *testing.T) {
	for name, f := range map[string]func(d *Decoder){
		"Len":   func(d *Decoder) { d.Len(-1) },
		"Bytes": func(d *Decoder) { d.Bytes(-1) },
		"Fixed": func(d *Decoder) { d.Fixed(-1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s(-1) did not panic", name)
				}
			}()
			f(NewDecoder([]byte{0}))
		}()
	}
}

// TestULEB128Len: the computed length is what the encoder writes, at every group boundary.
func TestULEB128Len(t *testing.T) {
	for _, v := range []int{0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 1<<21 - 1, 1 << 21, 1<<28 - 1, 1 << 28, 1<<32 - 1} {
		var e Encoder
		e.ULEB128(uint32(v))
		if got, want := ULEB128Len(v), len(e.Out()); got != want {
			t.Errorf("ULEB128Len(%d) = %d, encoder writes %d bytes", v, got, want)
		}
	}
}
